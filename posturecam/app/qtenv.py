"""Keep OpenCV's bundled Qt out of PySide6's way (Qt-free; call before QApplication).

Importing cv2 from the opencv-python wheels points QT_QPA_PLATFORM_PLUGIN_PATH and
QT_QPA_FONTDIR at cv2's own Qt folder; PySide6 would then load the other Qt's
platform plugins and abort. The app never uses cv2.imshow, so those are dropped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

OPENCV_QT_VARS = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR", "QT_PLUGIN_PATH")
NO_DISPLAY = (
    "no graphical session: the desktop app needs a display (DISPLAY or WAYLAND_DISPLAY); "
    "use `posturecam monitor` in a terminal instead"
)


def _inside_opencv(value: str) -> bool:
    parts = {p.lower() for part in value.split(os.pathsep) if part for p in Path(part).parts}
    return "cv2" in parts


def drop_opencv_qt(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Remove the Qt variables that point into cv2's folder; returns the names removed."""
    env = os.environ if environ is None else environ
    removed = [name for name in OPENCV_QT_VARS if _inside_opencv(env.get(name, ""))]
    for name in removed:
        del env[name]
    return removed


def prepare() -> list[str]:
    """Import cv2 now (its import sets the variables, once per process), then drop them.

    Also set up MediaPipe's pose modules before PySide6 is imported: PySide6's import
    hook touches modules' attributes, which runs the package __init__ files posturecam
    defers (pose.py) and pulls in matplotlib, about 40 MB the app never uses.
    """
    import cv2  # noqa: F401

    from posturecam.frames import pose

    pose._pose_api()  # private, but the deferral's own entry point: run early on purpose
    return drop_opencv_qt()


def display_problem(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Why no window can be shown here, or None (Linux and BSDs only; others always have one)."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return None
    if env.get("QT_QPA_PLATFORM") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY
