"""Preview overlay drawing and the preview window (with OpenCV's GUI calls faked)."""

from __future__ import annotations

import types

import cv2
import numpy as np
import pytest
from factories import front_pose, side_pose

from posturecam.cli import advice
from posturecam.core.types import LM, Landmarks
from posturecam.errors import PosturecamError
from posturecam.live import overlay, preview
from posturecam.live.overlay import OverlayInfo, draw_overlay, panel_lines

INFO = OverlayInfo(
    state="slouching",
    score=42.4,
    view="front",
    metrics={"neck_height": 0.55321, "nose_height": float("nan"), "shoulder_tilt": -3.214},
    status="camera ok",
    slouched_today_s=754.0,
)


def noise(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A textured frame, so no drawn colour can match the background by chance."""
    rng = np.random.default_rng(seed)
    return rng.integers(60, 120, (height, width, 3), dtype=np.uint8)


def along(landmarks: Landmarks, a: LM, b: LM, image: np.ndarray) -> list[tuple[int, int]]:
    """Pixels (row, col) on the middle part of the segment a-b, in ``image`` coordinates."""
    w, h = landmarks.image_size
    factor = np.array([image.shape[1] / w, image.shape[0] / h])
    pa, pb = landmarks.xy[a] * factor, landmarks.xy[b] * factor
    points = [pa + t * (pb - pa) for t in np.linspace(0.25, 0.75, 7)]
    return [(round(p[1]), round(p[0])) for p in points]


def with_visibility(landmarks: Landmarks, index: LM, value: float) -> Landmarks:
    vis = landmarks.visibility.copy()
    vis[index] = value
    return Landmarks(
        xy=landmarks.xy,
        z=landmarks.z,
        visibility=vis,
        presence=landmarks.presence,
        world=landmarks.world,
        image_size=landmarks.image_size,
    )


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


# --- drawing -------------------------------------------------------------------------


def test_input_image_is_not_modified():
    image = noise(640, 480)
    before = image.copy()
    out = draw_overlay(image, front_pose(), INFO)
    assert np.array_equal(image, before)
    assert out is not image and out.shape == image.shape and out.dtype == np.uint8
    assert changed(out, image).any()


@pytest.mark.parametrize(
    "state, colour",
    [
        ("upright", overlay.GREEN),
        ("drifting", overlay.AMBER),
        ("slouching", overlay.RED),
        ("alert", overlay.RED),
        ("away", overlay.GREY),
        ("undecided", overlay.GREY),
        ("snoozed", overlay.GREY),
    ],
)
def test_front_lines_have_the_state_colour(state, colour):
    image = noise(640, 480)
    pose = front_pose()
    out = draw_overlay(image, pose, OverlayInfo(state, 80.0, "front", {}))
    segments = [
        (LM.LEFT_EAR, LM.LEFT_SHOULDER),
        (LM.RIGHT_EAR, LM.RIGHT_SHOULDER),
        (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER),
    ]
    for a, b in segments:
        for row, col in along(pose, a, b, image):
            assert tuple(out[row, col]) == colour, (a, b, row, col)


def test_state_colours_are_distinct():
    assert len({overlay.GREEN, overlay.AMBER, overlay.RED, overlay.GREY}) == 4
    assert overlay.state_colour("no_camera") == overlay.GREY


def test_landmarks_are_dotted_only_when_seen():
    image = noise(640, 480)
    pose = with_visibility(front_pose(), LM.NOSE, 0.2)
    out = draw_overlay(image, pose, INFO)
    eye = pose.xy[LM.LEFT_EYE].round().astype(int)
    nose = pose.xy[LM.NOSE].round().astype(int)
    assert tuple(out[eye[1], eye[0]]) == overlay.DOT
    assert np.array_equal(out[nose[1], nose[0]], image[nose[1], nose[0]])


def test_a_hidden_ear_drops_only_its_line():
    image = noise(640, 480)
    pose = with_visibility(front_pose(), LM.LEFT_EAR, 0.1)
    out = draw_overlay(image, pose, INFO)
    hidden = along(pose, LM.LEFT_EAR, LM.LEFT_SHOULDER, image)
    assert all(np.array_equal(out[r, c], image[r, c]) for r, c in hidden)
    kept = along(pose, LM.RIGHT_EAR, LM.RIGHT_SHOULDER, image)
    assert all(tuple(out[r, c]) == overlay.RED for r, c in kept)


@pytest.mark.parametrize("near", ["left", "right"])
def test_side_view_draws_the_near_side_only(near):
    pose = side_pose(near=near)
    image = noise(*pose.image_size)
    out = draw_overlay(image, pose, OverlayInfo("drifting", 70.0, "side", {}))
    if near == "left":
        ear, shoulder, hip = LM.LEFT_EAR, LM.LEFT_SHOULDER, LM.LEFT_HIP
        far = (LM.RIGHT_EAR, LM.RIGHT_SHOULDER, LM.RIGHT_HIP)
    else:
        ear, shoulder, hip = LM.RIGHT_EAR, LM.RIGHT_SHOULDER, LM.RIGHT_HIP
        far = (LM.LEFT_EAR, LM.LEFT_SHOULDER, LM.LEFT_HIP)
    for a, b in [(ear, shoulder), (shoulder, hip)]:
        assert all(tuple(out[r, c]) == overlay.AMBER for r, c in along(pose, a, b, image))
    for a, b in [(far[0], far[1]), (far[1], far[2])]:
        assert all(np.array_equal(out[r, c], image[r, c]) for r, c in along(pose, a, b, image))
    # No shoulder line across the body in side view.
    across = along(pose, LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, image)
    assert not any(tuple(out[r, c]) == overlay.AMBER for r, c in across[2:-2])


def test_panel_darkens_the_top_left_corner_only():
    image = np.full((480, 640, 3), 200, np.uint8)
    out = draw_overlay(image, front_pose(), INFO)
    corner = out[:8, :8].astype(int)
    assert np.all(corner < 200) and np.all(corner > 0)  # blended, not painted over
    assert np.array_equal(out[-40:, -40:], image[-40:, -40:])


def test_empty_landmarks_draw_a_panel_and_no_lines():
    image = noise(640, 480)
    out = draw_overlay(image, Landmarks.empty((640, 480)), OverlayInfo("away", None, "", {}))
    diff = changed(out, image)
    rows, cols = np.nonzero(diff)
    assert diff[:10, :10].all()  # the panel
    assert rows.max() < 480 // 2 and cols.max() < 640 // 2  # nothing drawn outside it


def test_nan_landmarks_and_metrics_do_not_crash():
    pose = front_pose()
    xy = pose.xy.copy()
    xy[LM.LEFT_EAR] = np.nan
    xy[LM.RIGHT_EAR] = (1e12, -1e12)
    broken = Landmarks(
        xy=xy,
        z=pose.z,
        visibility=pose.visibility,
        presence=pose.presence,
        world=pose.world,
        image_size=pose.image_size,
    )
    info = OverlayInfo("undecided", float("nan"), "front", {"neck_height": float("nan")})
    out = draw_overlay(noise(640, 480), broken, info)
    assert out.shape == (480, 640, 3)


@pytest.mark.parametrize("size", [(320, 240), (1280, 720)])
def test_landmarks_from_another_size_are_rescaled(size):
    pose = front_pose(image_size=(640, 480))
    image = noise(*size)
    out = draw_overlay(image, pose, INFO)
    for row, col in along(pose, LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, image):
        assert tuple(out[row, col]) == overlay.RED


def panel_height(out: np.ndarray, image: np.ndarray) -> int:
    column = changed(out, image)[:, 2]
    return int(np.argmin(column))  # first unchanged row below the panel


def test_text_scales_with_the_image():
    info = OverlayInfo("upright", 90.0, "front", {})
    empty = Landmarks.empty()
    sizes = {}
    for width, height in [(320, 240), (640, 480), (1280, 720)]:
        image = np.full((height, width, 3), 200, np.uint8)
        sizes[height] = panel_height(draw_overlay(image, empty, info), image)
    assert 0 < sizes[240] < sizes[480] < sizes[720]
    assert sizes[240] < 240 * 0.6  # a small frame still shows most of the picture


def test_bad_images_are_rejected():
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        draw_overlay(np.zeros((48, 64), np.uint8), Landmarks.empty(), INFO)
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        draw_overlay(np.zeros((48, 64, 3), np.float32), Landmarks.empty(), INFO)


def test_drawing_writes_nothing_to_disk(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def forbidden(*args, **kwargs):
        raise AssertionError("the overlay must not write images")

    monkeypatch.setattr(cv2, "imwrite", forbidden)
    draw_overlay(noise(640, 480), front_pose(), INFO)
    assert list(tmp_path.iterdir()) == []


# --- panel text ----------------------------------------------------------------------


def test_panel_lines_show_values_with_three_significant_digits():
    lines = panel_lines(INFO)
    assert lines == [
        "posture: slouching",
        "score: 42",
        "view: front",
        "neck_height: 0.553",
        "nose_height: --",
        "shoulder_tilt: -3.21",
        "camera ok",
        "slouched today: 13m",
    ]


def test_panel_lines_without_a_score_or_a_person():
    info = OverlayInfo("away", None, "", {"neck_height": float("nan")})
    lines = panel_lines(info, detected=False)
    assert "score: --" in lines
    assert "no person in view" in lines
    assert "neck_height: --" in lines
    assert not any(line.startswith("view:") for line in lines)
    assert "no person in view" not in panel_lines(INFO, detected=True)


@pytest.mark.parametrize(
    "value, text", [(0.55321, "0.553"), (165.24, "165"), (1234.5, "1.23e+03"), (None, "--")]
)
def test_values(value, text):
    assert overlay.format_value(value) == text


# --- preview window ------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, command",
    [
        (ord("q"), preview.QUIT),
        (ord("Q"), preview.QUIT),
        (27, preview.QUIT),
        (ord("c"), preview.RECALIBRATE),
        (ord("s"), preview.SNOOZE),
        (ord("S"), preview.SNOOZE),
        (ord("p"), preview.PAUSE),
        (0x100000 | ord("p"), preview.PAUSE),  # modifier bits from some backends
        (ord("x"), None),
        (-1, None),
    ],
)
def test_key_command(key, command):
    assert preview.key_command(key) == command


class FakeGui:
    """Stands in for OpenCV's window functions (this machine has no display)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.keys: list[int] = []
        self.visible = 1.0

    def namedWindow(self, title, flags=0):
        self.calls.append("namedWindow")

    def imshow(self, title, image):
        self.calls.append("imshow")

    def waitKey(self, delay=0):
        self.calls.append("waitKey")
        return self.keys.pop(0) if self.keys else -1

    def getWindowProperty(self, title, prop):
        self.calls.append("getWindowProperty")
        if isinstance(self.visible, Exception):
            raise self.visible
        return self.visible

    def destroyWindow(self, title):
        self.calls.append("destroyWindow")


@pytest.fixture
def gui(monkeypatch):
    fake = FakeGui()
    monkeypatch.setenv("DISPLAY", ":0")
    for name in ("namedWindow", "imshow", "waitKey", "getWindowProperty", "destroyWindow"):
        monkeypatch.setattr(cv2, name, getattr(fake, name))
    return fake


IMAGE = np.zeros((48, 64, 3), np.uint8)


def test_window_opens_lazily_and_reports_keys(gui):
    window = preview.PreviewWindow("test")
    assert gui.calls == [] and not window.is_open
    assert window.poll() is None and gui.calls == []  # nothing to poll before the first frame
    assert window.show(IMAGE) is None
    gui.keys = [ord("s")]
    assert window.show(IMAGE) == preview.SNOOZE
    assert gui.calls.count("namedWindow") == 1
    assert gui.calls.count("imshow") == 2


def test_poll_reads_keys_without_showing(gui):
    window = preview.PreviewWindow()
    window.show(IMAGE)
    gui.calls.clear()
    gui.keys = [ord("p")]
    assert window.poll() == preview.PAUSE
    assert window.poll() is None
    assert "imshow" not in gui.calls


@pytest.mark.parametrize("gone", [0.0, cv2.error("window gone")])
def test_closing_the_window_means_quit(gui, gone):
    window = preview.PreviewWindow()
    window.show(IMAGE)
    gui.visible = gone
    assert window.poll() == preview.QUIT
    assert not window.is_open


def test_show_does_not_reopen_a_window_the_user_closed(gui):
    window = preview.PreviewWindow()
    window.show(IMAGE)
    gui.calls.clear()
    gui.visible = 0.0
    assert window.show(IMAGE) == preview.QUIT
    assert "imshow" not in gui.calls


def test_close_and_context_manager(gui):
    with preview.PreviewWindow() as window:
        window.show(IMAGE)
    assert gui.calls.count("destroyWindow") == 1 and not window.is_open
    window.close()  # a second close does nothing
    assert gui.calls.count("destroyWindow") == 1
    gui.calls.clear()
    preview.PreviewWindow().close()  # never opened: no window calls at all
    assert gui.calls == []


@pytest.mark.parametrize("broken", ["namedWindow", "imshow"])
def test_no_gui_support_is_a_clear_error(gui, monkeypatch, broken):
    def fail(*args, **kwargs):
        raise cv2.error("The function is not implemented")

    monkeypatch.setattr(cv2, broken, fail)
    with pytest.raises(PosturecamError, match="run without the preview window") as info:
        preview.PreviewWindow().show(IMAGE)
    assert advice.render(info.value).endswith("; run without --preview")  # the CLI's words


def test_no_display_fails_before_touching_opencv(gui, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(preview, "sys", types.SimpleNamespace(platform="linux"))
    with pytest.raises(PosturecamError, match="no display"):
        preview.PreviewWindow().show(IMAGE)
    assert gui.calls == []  # Qt would abort the process, so OpenCV is never asked


def test_display_detection(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(preview, "sys", types.SimpleNamespace(platform="linux"))
    assert not preview.display_available()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert preview.display_available()
    monkeypatch.delenv("WAYLAND_DISPLAY")
    monkeypatch.setattr(preview, "sys", types.SimpleNamespace(platform="win32"))
    assert preview.display_available()
