"""What the app's tests share: fakes (a camera that keeps delivering until it is released,
a notifier that remembers, synthetic postures, a saved profile, fast settings), a running
app on them, and a user's clicks and typing through pytest-qt's ``qtbot``.

The fixtures are imported by the test modules that use them, under their ``*_fixture``
names (``from appfakes import fake_app_fixture  # noqa: F401``): a ``conftest.py`` here
would take the module name ``conftest`` from tests/conftest.py, which tests import from.
``QT_QPA_PLATFORM=offscreen`` is set on import, before pytest-qt makes the QApplication,
so a plain ``python -m pytest`` needs no display; offscreen has no system tray, so these
tests also cover the fallback window.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pytest

from posturecam.core.types import Frame
from posturecam.frames.capture import ENDED, OK, Health

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
IMG = np.full((480, 640, 3), 128, np.uint8)  # mid grey: not "too dark"


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


def menu_click(qtbot, menu, text: str) -> None:
    """Open ``menu`` and click its entry ``text`` with the mouse, as a user would."""
    from PySide6.QtCore import QPoint, Qt

    menu.popup(QPoint(0, 0))  # opening it may fill it afresh (the Profile menu does)
    qtbot.waitExposed(menu)
    action = next(a for a in menu.actions() if a.text() == text)
    assert action.isVisible() and action.isEnabled(), f"{text!r} cannot be clicked"
    with qtbot.waitSignal(action.triggered, timeout=2000):
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def type_into(qtbot, editor, text: str) -> None:
    """Replace what a line or spin box holds by typing ``text``, as a user would."""
    from PySide6.QtCore import Qt

    editor.setFocus()
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    if text:
        qtbot.keyClicks(editor, text)


# ---------------------------------------------------------------------- fixtures


def _delete_every_widget(app: Any) -> None:
    """Delete every Qt object while the QApplication still exists.

    Left to the interpreter's final garbage collection, PySide6 wrappers die after
    the application and the process crashes on its way out (exit code 134/139).
    """
    from PySide6.QtCore import QEvent

    for widget in app.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    gc.collect()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()


@pytest.fixture(scope="session", name="qapp")
def qapp_fixture(qapp: Any) -> Iterator[Any]:
    """pytest-qt's application; closing a window (the dashboard) must not quit it."""
    qapp.setQuitOnLastWindowClosed(False)
    yield qapp
    _delete_every_widget(qapp)


class FakeApp:
    """The real AppController and Monitor on a fake camera and model, without a tray."""

    def __init__(self, qtbot: Any, spans: Any, **kw: Any) -> None:
        from posturecam.app.controller import AppController

        self.qtbot = qtbot
        self.captures: list = []
        self.notifier = RecordingNotifier()
        self.reports: list[tuple[str, dict]] = []
        self.quit_called = 0
        locked = kw.pop("screen_locked", None)
        options = {k: kw.pop(k) for k in ("windows", "lock_source") if k in kw}
        cfg = kw.pop("cfg", None) or fast_settings()
        self.controller = AppController(
            cfg,
            fake_start_for(self.captures, self.notifier, spans, screen_locked=locked, **kw),
            tray_available=False,
            on_quit=self._quit,
            listeners=[lambda k, d: self.reports.append((k, d))],
            screen_locked=locked,
            **options,
        )

    def _quit(self) -> None:
        self.quit_called += 1

    @property
    def state(self) -> str:
        return self.controller.model.state

    def wait_state(self, *states: str, timeout_s: float = 10.0) -> None:
        """Let Qt run until the tray's model shows one of ``states``."""
        self.qtbot.waitUntil(lambda: self.state in states, timeout=int(timeout_s * 1000))

    def kinds(self, kind: str) -> list[dict]:
        return [d for k, d in self.reports if k == kind]

    def stop(self) -> None:
        self.controller.quit()
        self.qtbot.waitUntil(lambda: self.quit_called > 0, timeout=10_000)


@pytest.fixture(name="fake_app")
def fake_app_fixture(qtbot: Any) -> Iterator[Callable[..., FakeApp]]:
    """Makes a started FakeApp (``start=False``: not yet); each is quit after the test."""
    made: list[FakeApp] = []

    def make(spans: Any, *, start: bool = True, **kw: Any) -> FakeApp:
        app = FakeApp(qtbot, spans, **kw)
        made.append(app)
        if start:
            app.controller.start()
        return app

    yield make
    for app in made:
        if not app.quit_called:
            app.stop()
