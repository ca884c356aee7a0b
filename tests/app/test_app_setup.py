"""The guided setup: camera choice, framing hints from fake landmarks, countdown calibration,
the optional slouch step, a written profile; failures say why and write nothing."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6.QtWidgets")

from appfakes import LoopingCapture, posture, qapp_fixture  # noqa: F401 (a fixture)
from factories import FakePose, front_pose
from PySide6.QtCore import Qt

from posturecam import profiles, settings
from posturecam.app.framing import GOOD, framing_hints
from posturecam.app.preview import Seen, landmark_log
from posturecam.app.setup import RESULT, SetupWindow
from posturecam.core.types import Landmarks
from posturecam.errors import SourceError
from posturecam.frames.capture import BUSY, Health


class BusyCapture(LoopingCapture):
    """A camera another app holds: no frames, a health message."""

    def latest(self, timeout: float):
        self._health = Health(BUSY, "camera is busy in another app; retrying in 1 s")
        return None


LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def make(qtbot, tmp_path):
    """A setup window on fake cameras "0" (good), "busy" and "gone" (cannot be opened)."""

    def make_window(captures, spans=(("up", 10_000),), **kw):
        opened: list[str] = []

        def open_source(spec: str):
            opened.append(spec)
            if spec == "busy":
                capture = BusyCapture([("up", 1)])
            elif spec == "gone":
                raise SourceError("no such video file or camera: gone")
            else:
                capture = LoopingCapture(list(spans), step_s=0.5)
            captures.append(capture)
            return capture

        window = SetupWindow(
            settings.Settings(), tmp_path / "config.toml", open_source,
            lambda: FakePose(posture), cameras=lambda configured: [configured, "busy", "gone"],
            countdown_s=2, tick_ms=20, calibration_s=4.0, **kw,
        )  # fmt: skip
        window.opened = opened
        qtbot.addWidget(window)  # closed after the test: the preview thread stops even on failure
        return window

    return make_window


def hint_says(qtbot, window, text: str, timeout_s: float = 10.0) -> None:
    qtbot.waitUntil(lambda: text in window.hint.text(), timeout=int(timeout_s * 1000))


def test_walks_from_preview_through_calibration_and_slouch_to_a_profile(qtbot, make, tmp_path):
    captures: list = []
    done: list = []
    window = make(captures, on_done=done.append)
    window.show()
    hint_says(qtbot, window, GOOD)  # the framing is good
    assert window.view.image is not None and window.view.landmarks.detected
    qtbot.mouseClick(window.calibrate_button, LEFT)
    assert window.view.caption == "2"  # the countdown shows
    qtbot.waitUntil(lambda: window.phase == RESULT, timeout=15_000)  # the calibration
    path = profiles.profile_path("default")
    assert path.exists() and window.saved_to == path
    assert "front view" in window.status.text() and "ready" in window.status.text()
    assert window.slouch_button.isVisible()
    captures[-1].override = "down"  # show the usual slouch
    qtbot.mouseClick(window.slouch_button, LEFT)
    qtbot.waitUntil(lambda: window.phase == RESULT and "slouch" in window.status.text(),
                    timeout=15_000)  # fmt: skip
    assert profiles.load(path).examples.get("slouch") is not None
    qtbot.mouseClick(window.notify, LEFT)  # untick the notification
    assert not window.notify.isChecked()
    qtbot.mouseClick(window.done_button, LEFT)
    assert not window.isVisible() and done and done[0] is window.profile
    assert captures[-1].closed  # the preview let go of the camera
    assert settings.load(tmp_path / "config.toml").monitor.notify is False


def test_a_failed_calibration_says_why_and_writes_nothing(qtbot, make):
    captures: list = []
    window = make(captures, spans=[("nobody", 10_000)])
    window.show()
    hint_says(qtbot, window, "no one in view")
    qtbot.mouseClick(window.calibrate_button, LEFT)
    qtbot.waitUntil(lambda: "failed" in window.status.text(), timeout=15_000)
    assert "Nothing was saved" in window.status.text()
    assert not profiles.profile_path("default").exists()
    assert not window.done_button.isEnabled() and window.calibrate_button.isEnabled()
    window.close()
    assert captures[-1].closed


def test_a_busy_camera_is_said_and_another_can_be_chosen(qtbot, make):
    captures: list = []
    window = make(captures)
    window.show()
    qtbot.keyClick(window.camera, Qt.Key.Key_Down)  # the next camera: "busy"
    hint_says(qtbot, window, "camera busy: camera is busy")
    assert "Retry, or choose another camera" in window.hint.text()
    qtbot.keyClick(window.camera, Qt.Key.Key_Down)  # "gone"
    hint_says(qtbot, window, "no such video file or camera")
    qtbot.keyClick(window.camera, Qt.Key.Key_Home)  # back to "0"
    hint_says(qtbot, window, GOOD)  # the good camera
    assert window.opened == ["0", "busy", "gone", "0"]
    with qtbot.waitSignal(window.retry.clicked):
        qtbot.mouseClick(window.retry, LEFT)
    hint_says(qtbot, window, GOOD)  # after retry
    window.close()
    assert all(c.closed for c in captures)


W, H = 640, 480


@pytest.mark.parametrize(
    ("landmarks", "level", "hint"),
    [
        (front_pose(), 120.0, GOOD),
        (Landmarks.empty(), 120.0, "no one in view"),
        (front_pose(), 20.0, "more light"),
        (front_pose(center=(320.0, 490.0), shoulder_width=300), 120.0, "shoulders not in view"),
        (front_pose(shoulder_width=700), 120.0, "shoulders not in view"),
        (front_pose(shoulder_width=560, center=(320.0, 300.0)), 120.0, "too close"),
        (front_pose(shoulder_width=90), 120.0, "move closer"),
    ],
)
def test_framing_hints_from_landmarks(landmarks, level, hint):
    hints = framing_hints(landmarks, W, H, level)
    assert any(hint in h for h in hints), hints


def test_a_hidden_ear_asks_to_face_the_screen():
    lm = front_pose()
    vis = lm.visibility.copy()
    vis[7] = 0.1  # LEFT_EAR
    turned = Landmarks(lm.xy, lm.z, vis, lm.presence, lm.world, lm.image_size)
    assert any("face the screen" in h for h in framing_hints(turned, W, H, 120.0))


def test_calibration_log_keeps_no_image():
    seen = [Seen(i * 0.2, i, W, H, front_pose()) for i in range(5)]
    log = landmark_log(seen)
    assert list(log.width) == [W] * 5 and log.landmarks.detected.all()
    assert np.allclose(log.landmarks.xy[0], front_pose().xy)
