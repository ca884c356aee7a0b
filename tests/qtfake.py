"""A small stand-in for pytest-qt (not installable here): one offscreen QApplication,
event-pumping waits, and a fake camera that keeps delivering until it is released."""

from __future__ import annotations

import atexit
import gc
import os
import threading
import time
from collections.abc import Callable, Iterable

import numpy as np

from posturecam.core.types import Frame
from posturecam.frames.capture import ENDED, OK, Health

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

IMG = np.full((480, 640, 3), 128, np.uint8)  # mid grey: not "too dark"


def qapp():
    """The process's QApplication (offscreen), created once."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(["posturecam-tests"])
        atexit.register(_teardown)
    app.setQuitOnLastWindowClosed(False)
    return app


def _teardown() -> None:
    """Delete every Qt object while the QApplication still exists.

    Left to the interpreter's final garbage collection, PySide6 wrappers die after
    the application and the process crashes on its way out (exit code 134/139).
    """
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in app.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    gc.collect()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()


def pump(seconds: float = 0.0) -> None:
    """Run the event loop for about ``seconds`` (at least once)."""
    app = qapp()
    end = time.monotonic() + seconds
    while True:
        app.processEvents()
        if time.monotonic() >= end:
            return
        time.sleep(0.005)


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Pump events until ``predicate()`` is true; fail with ``what`` after ``timeout``."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or predicate}")
        pump(0.01)


class LoopingCapture:
    """Plays named spans ("up", "down", "nobody") at ``step_s`` of frame time per call;
    after the script, repeats its last frame (``then_end``: reports the end instead)."""

    def __init__(self, spans: Iterable[tuple[str, int]], step_s: float = 0.5,
                 then_end: bool = False) -> None:  # fmt: skip
        self.names = [name for name, n in spans for _ in range(n)]
        self.step_s = step_s
        self.then_end = then_end
        self.index = 0
        self.starts = 0
        self.releases = 0
        self.closed = False
        self.running = False
        self._health = Health(OK, "ok")
        self._lock = threading.Lock()
        self.override: str | None = None  # a test switches the pose live ("down")

    def start(self) -> None:
        with self._lock:
            self.starts += 1
            self.running = True

    def release(self) -> None:
        with self._lock:
            if self.running:
                self.releases += 1
            self.running = False

    def close(self) -> None:
        self.release()
        self.closed = True

    @property
    def health(self) -> Health:
        return self._health

    def latest(self, timeout: float) -> Frame | None:
        assert self.running, "frames asked of a released camera"
        if self.index >= len(self.names) and self.then_end:
            self._health = Health(ENDED, "video finished")
            return None
        name = self.override or self.names[min(self.index, len(self.names) - 1)]
        frame = Frame(IMG, self.index * self.step_s, self.index, name)
        self.index += 1
        time.sleep(0.001)
        return frame


class RecordingNotifier:
    """A NotificationHub stand-in that remembers what it was asked to show."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def notify(self, title: str, body: str) -> bool:
        self.sent.append((title, body))
        return True


def posture(frame: Frame):
    """Synthetic landmarks by frame name: upright, head dropped ("down"), or nobody."""
    from factories import front_pose

    from posturecam.core.types import Landmarks

    if frame.name == "nobody":
        return Landmarks.empty()
    rng = np.random.default_rng(frame.index)
    if frame.name == "down":
        return front_pose(neck_height=0.35, nose_height=0.5, jitter=0.5, rng=rng)
    return front_pose(jitter=0.5, rng=rng)


def save_profile(name: str = "default"):
    """Calibrate on synthetic upright frames and save it as the user's profile ``name``."""
    from factories import FakePose

    from posturecam import profiles
    from posturecam.frames.engine import run_pose
    from posturecam.live.calibration import calibrate

    frames = [Frame(IMG, i / 5, i, "up") for i in range(40)]
    profile = calibrate(run_pose(frames, FakePose(posture)), name, "fake", None, "full")
    return profiles.save(profile, profiles.profile_path(name))


def fast_settings(persistence_s: float = 20.0, profile: str = "default"):
    """Settings whose monitor runs at 50 frames/s of wall time (frames step 0.5 s of t_s)."""
    from dataclasses import replace

    from posturecam.core.temporal import TemporalSettings
    from posturecam.settings import Settings

    cfg = Settings()
    monitor = cfg.monitor.updated(rate_hz=50.0, max_rate_hz=50.0, profile=profile)
    temporal = TemporalSettings(drifting_s=5.0, persistence_s=persistence_s)
    return replace(cfg, monitor=monitor, temporal=temporal)


def fake_start_for(captures: list, notifier: RecordingNotifier, spans, screen_locked=None, **kw):
    """A controller's ``start_for`` that runs the real Monitor on fakes; records captures."""
    from factories import FakePose

    from posturecam.app.assemble import live_monitor

    def start_for(cfg):
        def start(listener):
            capture = LoopingCapture(spans, **kw)
            captures.append(capture)
            return live_monitor(cfg, lambda mode: FakePose(posture), listener, capture=capture,
                                notifier=notifier, screen_locked=screen_locked)  # fmt: skip

        return start

    return start_for
