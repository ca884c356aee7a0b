"""The optional preview window: shows overlaid frames and turns key presses into commands.

OpenCV's Qt build aborts the whole process (it does not raise) when there is
no display, so the display is checked before any window call; a build without
GUI support raises ``cv2.error``, which becomes a ``PosturecamError`` too.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType

import cv2
import numpy as np

from posturecam.errors import PosturecamError, Remedy

QUIT, RECALIBRATE, SNOOZE, PAUSE = "quit", "recalibrate", "snooze", "pause"
KEYS: dict[int, str] = {
    ord("q"): QUIT,
    27: QUIT,  # Esc
    ord("c"): RECALIBRATE,
    ord("s"): SNOOZE,
    ord("p"): PAUSE,
}


def no_window() -> PosturecamError:
    """The error for a preview window that cannot open (the CLI words it with its flag)."""
    return PosturecamError(
        "cannot open a preview window (no display or OpenCV built without GUI support); ",
        Remedy("no_preview"),
    )


def key_command(key: int) -> str | None:
    """The command for a ``cv2.waitKey`` result; None for no key (-1) or an unused key.

    Only the low byte names the key (some backends add modifier bits), and
    Caps Lock must not disable the keys.
    """
    if key < 0:
        return None
    code = key & 0xFF
    if ord("A") <= code <= ord("Z"):
        code += ord("a") - ord("A")
    return KEYS.get(code)


def display_available() -> bool:
    """Whether a window could appear: always on Windows and macOS, else only with a display."""
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class PreviewWindow:
    """One OpenCV window, opened lazily on the first ``show`` and closed with ``close``."""

    def __init__(self, title: str = "posturecam") -> None:
        self.title = title
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def _ensure_open(self) -> None:
        if self._open:
            return
        if not display_available():
            raise no_window()
        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
        except cv2.error as exc:
            raise no_window() from exc
        self._open = True

    def _closed_by_user(self) -> bool:
        try:
            return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:  # some backends raise once the window is gone
            return True

    def _key(self) -> str | None:
        try:
            return key_command(cv2.waitKey(1))
        except cv2.error as exc:
            raise no_window() from exc

    def show(self, image: np.ndarray) -> str | None:
        """Display ``image``; the command for a key pressed meanwhile, QUIT if the window was
        closed (checked first, because ``imshow`` would silently open a new one)."""
        if self._open and self._closed_by_user():
            self._open = False
            return QUIT
        self._ensure_open()
        try:
            cv2.imshow(self.title, image)
        except cv2.error as exc:
            raise no_window() from exc
        return self._key()

    def poll(self) -> str | None:
        """Keep the window responsive without a new image (e.g. while paused)."""
        if not self._open:
            return None
        if self._closed_by_user():
            self._open = False
            return QUIT
        return self._key()

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)  # let the GUI loop actually remove the window
        except cv2.error:
            pass  # already gone: nothing left to close

    def __enter__(self) -> PreviewWindow:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
