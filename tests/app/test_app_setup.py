"""The guided setup: camera choice, framing hints from fake landmarks, countdown calibration,
the optional slouch step, a written profile; failures say why and write nothing."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6.QtWidgets")

from factories import FakePose, front_pose
from qtfake import LoopingCapture, posture, qapp, wait_until

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


OPEN: list = []


@pytest.fixture(autouse=True)
def _close_windows():
    yield
    while OPEN:
        OPEN.pop().close()  # stops the preview thread even when a test failed


def make(tmp_path, captures, spans=(("up", 10_000),), **kw):
    qapp()
    cfg = settings.Settings()
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
        cfg, tmp_path / "config.toml", open_source, lambda: FakePose(posture),
        cameras=lambda configured: [configured, "busy", "gone"],
        countdown_s=2, tick_ms=20, calibration_s=4.0, **kw,
    )  # fmt: skip
    window.opened = opened
    OPEN.append(window)
    return window


def test_walks_from_preview_through_calibration_and_slouch_to_a_profile(tmp_path):
    captures: list = []
    done: list = []
    window = make(tmp_path, captures, on_done=done.append)
    window.show()
    wait_until(lambda: GOOD in window.hint.text(), 10, "the framing to be good")
    assert window.view.image is not None and window.view.landmarks.detected
    window.calibrate_button.click()
    assert window.view.caption == "2"  # the countdown shows
    wait_until(lambda: window.phase == RESULT, 15, "the calibration")
    path = profiles.profile_path("default")
    assert path.exists() and window.saved_to == path
    assert "front view" in window.status.text() and "ready" in window.status.text()
    assert window.slouch_button.isVisible()
    captures[-1].override = "down"  # show the usual slouch
    window.slouch_button.click()
    wait_until(lambda: window.phase == RESULT and "slouch" in window.status.text(), 15)
    assert profiles.load(path).examples.get("slouch") is not None
    window.notify.setChecked(False)
    window.done_button.click()
    assert not window.isVisible() and done and done[0] is window.profile
    assert captures[-1].closed  # the preview let go of the camera
    assert settings.load(tmp_path / "config.toml").monitor.notify is False


def test_a_failed_calibration_says_why_and_writes_nothing(tmp_path):
    captures: list = []
    window = make(tmp_path, captures, spans=[("nobody", 10_000)])
    window.show()
    wait_until(lambda: "no one in view" in window.hint.text(), 10, "the 'no one' hint")
    window.calibrate_button.click()
    wait_until(lambda: "failed" in window.status.text(), 15, "the failure")
    assert "Nothing was saved" in window.status.text()
    assert not profiles.profile_path("default").exists()
    assert not window.done_button.isEnabled() and window.calibrate_button.isEnabled()
    window.close()
    assert captures[-1].closed


def test_a_busy_camera_is_said_and_another_can_be_chosen(tmp_path):
    captures: list = []
    window = make(tmp_path, captures)
    window.show()
    window.camera.setCurrentText("busy")
    wait_until(lambda: "camera busy: camera is busy" in window.hint.text(), 10, "busy")
    assert "Retry, or choose another camera" in window.hint.text()
    window.camera.setCurrentText("gone")
    wait_until(lambda: "no such video file or camera" in window.hint.text(), 10, "gone")
    window.camera.setCurrentText("0")
    wait_until(lambda: GOOD in window.hint.text(), 10, "the good camera")
    assert window.opened == ["0", "busy", "gone", "0"]
    window.retry.click()
    wait_until(lambda: GOOD in window.hint.text(), 10, "after retry")
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
