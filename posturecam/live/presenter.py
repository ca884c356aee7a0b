"""What the person sees of the live monitor: the terminal status line, the preview window's
overlay, and the reports a listener (the desktop app) hears. Presents; never decides."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol, TextIO

import numpy as np

from posturecam.core.temporal import Step
from posturecam.core.types import Frame, Landmarks
from posturecam.frames.capture import OK, Health
from posturecam.live.overlay import OverlayInfo, draw_overlay
from posturecam.live.scoring import FrameVerdict
from posturecam.text import format_duration

# What a listener (the desktop app) hears: ``listener(kind, data)`` from the monitor's thread.
# Kinds: "step" (a judged frame), "held" (paused/snoozed), "camera" (no frame: health),
# "event" (as logged), "log" (the session log's notices), "calibrating", "calibrated",
# "calibration_failed", "feedback".
Listener = Callable[[str, dict[str, Any]], None]


class StatusLine:
    """One line in the terminal, rewritten in place on a tty; changes only, on a pipe."""

    def __init__(self, stream: TextIO, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self._last = ""
        self._width = 0

    def show(self, text: str) -> None:
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
            self.stream.flush()
        elif text != self._last:
            self.stream.write(text + "\n")
            self.stream.flush()
        self._last = text

    def clear(self) -> None:
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
        self._last = ""

    def message(self, text: str) -> None:
        """A line that stays (alerts, camera problems): clear the status line first."""
        self.clear()
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last = ""


class Preview(Protocol):
    """What the loop needs of a preview window (posturecam.live.preview.PreviewWindow)."""

    def show(self, image: np.ndarray) -> str | None: ...
    def poll(self) -> str | None: ...
    def close(self) -> None: ...


def status_text(state: str, score: float, slouched_s: float, health: Health) -> str:
    """The status line of a judged frame: state, score, slouched today, camera trouble."""
    shown = "--" if math.isnan(score) else f"{score:3.0f}"
    note = "" if health.status == OK else f" | {health.message}"
    return (
        f"posturecam: {state:<9} score {shown} | slouched today {format_duration(slouched_s)}{note}"
    )


class Presenter:
    """The status line, the optional preview and the optional listener, kept in step."""

    def __init__(
        self, status: StatusLine, preview: Preview | None = None, listener: Listener | None = None
    ) -> None:
        self.status = status
        self.preview = preview
        self.listener = listener

    def tell(self, kind: str, /, **data: Any) -> None:
        if self.listener is not None:
            self.listener(kind, data)

    def message(self, text: str) -> None:
        self.status.message(text)

    def show(self, text: str) -> None:
        self.status.show(text)

    def judged(
        self,
        frame: Frame,
        landmarks: Landmarks,
        verdict: FrameVerdict,
        step: Step,
        slouched_s: float,
        health: Health,
    ) -> str | None:
        """Present one judged frame; the preview's key command pressed meanwhile, if any."""
        camera = "" if health.status == OK else health.message
        score = None if math.isnan(verdict.score) else verdict.score
        self.status.show(status_text(step.state, verdict.score, slouched_s, health))
        self.tell(
            "step",
            state=step.state,
            score=score,
            issues=verdict.issues,
            view=verdict.view,
            slouched_today_s=slouched_s,
            camera=camera,
        )
        if self.preview is None or frame.image is None:
            return None
        info = OverlayInfo(step.state, score, verdict.view, verdict.metrics, camera, slouched_s)
        return self.preview.show(draw_overlay(frame.image, landmarks, info))

    def held(self, state: str) -> str | None:
        """Tell of a paused or snoozed moment; a key command, if any (the status line
        follows once the key is handled: ``show_held``)."""
        self.tell("held", state=state)
        return self.poll()

    def show_held(self, state: str) -> None:
        self.status.show(f"posturecam: {state}")

    def no_frame(self, health: Health) -> str | None:
        """Present a moment without a frame (camera trouble); a key command, if any."""
        self.tell("camera", status=health.status, message=health.message)
        return self.poll()

    def poll(self) -> str | None:
        return self.preview.poll() if self.preview is not None else None

    def close(self) -> None:
        if self.preview is not None:
            self.preview.close()
