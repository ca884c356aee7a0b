"""Live capture: fresh frames only, and a camera that is busy, lost, covered or frozen.

A scripted fake camera stands in for the device and a manual clock for time,
so no test waits for real backoff; only the RealtimeVideo tests run at real
time, on a one-second clip generated into tmp_path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from posturecam.core.types import Frame
from posturecam.errors import SourceError
from posturecam.frames.capture import (
    BLACK,
    BUSY,
    ENDED,
    FROZEN,
    LOST,
    OK,
    RELEASED,
    STARTING,
    LiveCapture,
    open_live,
)
from posturecam.frames.devices import PlaybackClock, RealtimeVideo
from posturecam.frames.image_checks import BLACK_REASON, frozen_reason

H, W = 48, 64


class ManualClock:
    """Time that moves only when the test says so."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


class Scene:
    """What the fake camera sees; a test changes ``mode`` while the capture runs.

    Modes: live (a new noisy image per grab), black (shutter closed),
    still (the same image forever) and unplugged (grabs and opens fail).
    """

    def __init__(self) -> None:
        self.mode = "live"
        self.grabs = 0
        self.retrieves = 0
        self.allow_open = threading.Event()
        self.allow_open.set()
        self._still = np.random.default_rng(99).integers(40, 200, (H, W, 3), dtype=np.uint8)

    def image(self, n: int) -> np.ndarray:
        if self.mode == "black":
            img = np.zeros((H, W, 3), np.uint8)
        elif self.mode == "still":
            return self._still.copy()
        else:
            img = np.random.default_rng(n).integers(40, 200, (H, W, 3), dtype=np.uint8)
        img[0, 0] = (n % 256, n // 256 % 256, 0)  # the grab number, read back by frame_number()
        return img


def frame_number(frame: Frame) -> int:
    assert frame.image is not None
    b, g, _ = frame.image[0, 0]
    return int(b) + 256 * int(g)


class FakeCamera:
    """A device that counts grabs and decodes the image of its latest grab on retrieve()."""

    def __init__(self, scene: Scene, opened: bool = True) -> None:
        self.scene = scene
        self.opened = opened
        self.released = False
        self.current = 0
        self.grab_threads: set[str] = set()

    def isOpened(self) -> bool:  # OpenCV's spelling
        return self.opened and not self.released

    def grab(self) -> bool:
        self.grab_threads.add(threading.current_thread().name)
        if self.released or self.scene.mode == "unplugged":
            return False
        self.scene.grabs += 1
        self.current = self.scene.grabs
        return True

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        self.scene.retrieves += 1
        return True, self.scene.image(self.current)

    def release(self) -> None:
        self.released = True


class Opener:
    """Opens fake cameras; fails (raising first, if asked) while the scene does not allow it."""

    def __init__(self, scene: Scene, raise_first: int = 0) -> None:
        self.scene = scene
        self.raise_first = raise_first
        self.calls = 0
        self.devices: list[FakeCamera] = []

    def __call__(self) -> FakeCamera:
        self.calls += 1
        if self.calls <= self.raise_first:
            raise OSError("device or resource busy")
        ok = self.scene.allow_open.is_set() and self.scene.mode != "unplugged"
        device = FakeCamera(self.scene, opened=ok)
        self.devices.append(device)
        return device


def wait_until(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def capture_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("posturecam-capture")]


@pytest.fixture
def scene() -> Scene:
    return Scene()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_capture(scene: Scene, clock: ManualClock) -> Iterator[Callable[..., LiveCapture]]:
    made: list[LiveCapture] = []

    def make(opener: Opener | None = None, **kwargs: object) -> LiveCapture:
        kwargs.setdefault("backoff", (0.01, 0.02))
        cap = LiveCapture(opener or Opener(scene), "cam", clock=clock, **kwargs)  # type: ignore[arg-type]
        made.append(cap)
        return cap

    yield make
    for cap in made:
        cap.release()


# --------------------------------------------------------------------------- fresh frames


def test_latest_returns_frames_grabbed_after_the_call_never_twice(scene, clock, make_capture):
    opener = Opener(scene)
    cap = make_capture(opener)
    cap.start()
    frames = []
    for k in range(5):
        clock.t = 0.5 * k
        time.sleep(0.02)  # the grabber runs ahead meanwhile: old frames exist
        grabbed_before = scene.grabs
        frame = cap.latest(1.0)
        assert frame is not None and frame.ok
        assert frame_number(frame) > grabbed_before
        frames.append(frame)

    numbers = [frame_number(f) for f in frames]
    assert numbers == sorted(set(numbers))
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert [f.t_s for f in frames] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])
    assert {f.name for f in frames} == {"cam"}
    assert cap.health.status == OK
    # Only requested frames are decoded.
    assert scene.retrieves == 5
    # Every device call happened on the grabber thread.
    assert opener.devices[0].grab_threads == {"posturecam-capture cam"}


class WaitingCamera(FakeCamera):
    """A camera whose grab() waits for its next frame, as a driver's does, unless frames
    came while nobody grabbed: up to ``queue`` of them wait in the driver's buffers."""

    period = 0.01
    queue = 3

    def __init__(self, scene: Scene) -> None:
        super().__init__(scene)
        self.queued: list[float] = []  # times the queued frames were taken
        self.due = time.monotonic() + self.period  # the next frame's time
        self.taken: list[float] = []  # when the frame of each grab was taken

    def grab(self) -> bool:
        now = time.monotonic()
        while self.due <= now:  # frames came while nobody grabbed: the driver keeps a few
            if len(self.queued) < self.queue:
                self.queued.append(self.due)
            self.due += self.period
        if self.queued:
            self.taken.append(self.queued.pop(0))
        else:
            time.sleep(self.due - now)
            self.taken.append(self.due)
            self.due += self.period
        return super().grab()


def test_a_request_skips_the_frames_the_driver_queued_meanwhile(scene, make_capture):
    # The frame taken is newer than the request, though the driver queued older ones.
    cams: list[WaitingCamera] = []

    class Open(Opener):
        def __call__(self) -> FakeCamera:
            cams.append(WaitingCamera(self.scene))
            return cams[-1]

    cap = make_capture(Open(scene))
    cap.start()
    for _ in range(3):
        time.sleep(0.1)  # frames queue up in the driver meanwhile
        asked = time.monotonic()
        frame = cap.latest(1.0)
        assert frame is not None and frame.ok
        assert cams[0].taken[frame_number(frame) - 1] >= asked
    assert scene.retrieves == 3  # the skipped frames were never decoded


@pytest.mark.parametrize("waits", [False, True])
def test_between_requests_the_camera_is_only_probed(scene, make_capture, monkeypatch, waits):
    # Nobody asks for frames: a grab now and then says the camera is still there; a
    # grab per camera frame (100 a second here) woke the thread for nothing.
    monkeypatch.setattr("posturecam.frames.capture._IDLE_PROBE_S", 0.1)

    class Open(Opener):
        def __call__(self) -> FakeCamera:
            return WaitingCamera(self.scene) if waits else FakeCamera(self.scene)

    cap = make_capture(Open(scene))
    cap.start()
    assert cap.latest(1.0) is not None
    grabs = scene.grabs
    time.sleep(1.0)
    assert 3 <= scene.grabs - grabs <= 15
    assert cap.health.status == OK


def test_release_does_not_wait_for_the_idle_probe(scene, make_capture, monkeypatch):
    # Between requests the grabber sleeps until its next probe; pausing must wake it.
    monkeypatch.setattr("posturecam.frames.capture._IDLE_PROBE_S", 5.0)
    cap = make_capture()
    cap.start()
    assert cap.latest(1.0) is not None
    time.sleep(0.05)  # the grabber is in its probe wait now
    started = time.monotonic()
    cap.release()
    assert time.monotonic() - started < 1.0
    assert not capture_threads()


def test_t_s_is_strictly_increasing_even_when_the_clock_stands_still(make_capture):
    cap = make_capture()
    cap.start()
    times = [cap.latest(1.0).t_s for _ in range(3)]
    assert times[0] < times[1] < times[2]


def test_latest_times_out_with_none_when_not_started(make_capture):
    cap = make_capture()
    assert cap.health.status == STARTING
    assert cap.latest(1.0) is None


def test_device_timestamps_and_colour_layouts_are_used(scene, make_capture):
    class GrayStamped(FakeCamera):
        def retrieve(self):
            return True, np.full((100, 200), 30000 + self.current, np.uint16)

        def timestamp_s(self) -> float:
            return 100.0 + self.current / 10

    cap = make_capture(lambda: GrayStamped(scene), max_side=64)
    cap.start()
    frame = cap.latest(1.0)
    assert frame is not None and frame.ok
    assert frame.image.shape == (32, 64, 3) and frame.image.dtype == np.uint8
    assert frame.t_s == pytest.approx(100.0 + scene.grabs / 10, abs=0.11)
    assert frame.t_s > 100.0


# --------------------------------------------------------------------------- device trouble


def test_busy_camera_is_retried_with_backoff_until_it_opens(scene, make_capture):
    scene.allow_open.clear()
    opener = Opener(scene, raise_first=1)
    cap = make_capture(opener, backoff=(0.01, 0.3))
    cap.start()
    wait_until(lambda: opener.calls >= 2 and cap.health.retry_in_s is not None)
    health = cap.health
    assert health.status == BUSY
    assert "other app" in health.message
    assert 0 < health.retry_in_s <= 0.3
    assert cap.latest(0.05) is None
    assert all(d.released for d in opener.devices)  # unopened devices are released too

    scene.allow_open.set()
    frame = cap.latest(2.0)
    assert frame is not None and frame.ok
    assert cap.health.status == OK
    assert cap.health.retry_in_s is None
    assert opener.calls >= 3


def test_camera_lost_mid_session_comes_back(scene, clock, make_capture):
    opener = Opener(scene)
    cap = make_capture(opener)
    cap.start()
    first = cap.latest(1.0)
    assert first is not None

    scene.mode = "unplugged"
    wait_until(lambda: cap.health.status == LOST)
    assert "reconnect" in cap.health.message
    assert opener.devices[0].released
    assert cap.latest(0.05) is None
    wait_until(lambda: opener.calls >= 3)
    assert cap.health.status == LOST  # still lost while reopening fails

    clock.t = 5.0
    scene.mode = "live"
    again = cap.latest(2.0)
    assert again is not None and again.ok
    assert again.t_s == pytest.approx(5.0)
    assert again.t_s > first.t_s and again.index > first.index
    assert cap.health.status == OK


def test_black_image_is_skipped_and_reported_after_black_after_s(scene, clock, make_capture):
    opener = Opener(scene)
    cap = make_capture(opener, black_after_s=2.0)
    cap.start()
    assert cap.latest(1.0).ok

    scene.mode = "black"
    clock.t = 1.0
    frame = cap.latest(1.0)
    assert frame is not None and frame.image is None
    assert frame.skip_reason == BLACK_REASON
    assert cap.health.status == OK  # black for 0 s so far: not yet a shutter

    clock.t = 3.5
    frame = cap.latest(1.0)
    assert frame.skip_reason == BLACK_REASON
    assert cap.health.status == BLACK
    assert "shutter" in cap.health.message
    assert opener.calls == 1 and not opener.devices[0].released  # kept open: it may reopen

    scene.mode = "live"
    clock.t = 4.0
    frame = cap.latest(1.0)
    assert frame.ok
    assert cap.health.status == OK


def test_frozen_image_releases_and_reopens_the_camera(scene, clock, make_capture):
    opener = Opener(scene)
    cap = make_capture(opener, frozen_after_s=10.0)
    scene.mode = "still"
    cap.start()
    assert cap.latest(1.0).ok
    clock.t = 5.0
    assert cap.latest(1.0).ok  # identical, but not for long enough
    assert cap.health.status == OK

    clock.t = 11.0
    frame = cap.latest(1.0)
    assert frame.image is None
    assert (
        frame.skip_reason
        == frozen_reason(11.0)
        == ("camera image has not changed for 11 s (frozen)")
    )
    wait_until(lambda: opener.calls >= 2)
    assert opener.devices[0].released
    assert cap.health.status == FROZEN

    clock.t = 12.0  # still the same image after reopening: frozen again at once
    assert cap.latest(1.0).image is None
    wait_until(lambda: opener.calls >= 3)

    scene.mode = "live"
    clock.t = 13.0
    frame = cap.latest(1.0)
    assert frame.ok
    assert cap.health.status == OK


def test_backoff_is_forgiven_after_a_while_of_good_frames(scene, clock, make_capture):
    scene.allow_open.clear()
    opener = Opener(scene)
    cap = make_capture(opener, backoff=(0.01, 0.01, 0.01, 5.0))
    cap.start()
    wait_until(lambda: opener.calls >= 3 and cap.health.retry_in_s is not None)
    scene.allow_open.set()
    assert cap.latest(1.0) is not None  # the next wait would be 5 s from here on ...
    clock.t = 11.0
    assert cap.latest(1.0) is not None  # ... until frames have flowed for 10 s

    scene.mode = "unplugged"
    wait_until(lambda: cap.health.status == LOST)
    scene.mode = "live"
    started = time.monotonic()
    assert cap.latest(2.0) is not None
    assert time.monotonic() - started < 1.0


def test_video_end_is_final(scene, make_capture):
    class Ending(FakeCamera):
        ended = False

        def grab(self) -> bool:
            if self.scene.grabs >= 3:
                self.ended = True
                return False
            return super().grab()

    devices: list[Ending] = []

    def opener() -> Ending:
        devices.append(Ending(scene))
        return devices[-1]

    cap = make_capture(opener)
    cap.start()
    frames = []
    while (frame := cap.latest(1.0)) is not None:
        frames.append(frame)
        assert len(frames) <= 3
    assert frames
    assert cap.health.status == ENDED
    assert len(devices) == 1 and devices[0].released
    started = time.monotonic()
    assert cap.latest(5.0) is None
    assert time.monotonic() - started < 0.1

    cap.start()  # starting again replays from now, which for this file is its end
    wait_until(lambda: len(devices) == 2 and not cap.latest(0.0))
    assert cap.health.status == ENDED


def test_release_stops_the_thread_and_start_resumes(scene, clock, make_capture):
    opener = Opener(scene)
    cap = make_capture(opener)
    cap.start()
    first = cap.latest(1.0)
    assert first is not None
    assert len(capture_threads()) == 1

    cap.release()
    assert opener.devices[0].released
    assert capture_threads() == []
    assert cap.health.status == RELEASED
    started = time.monotonic()
    assert cap.latest(1.0) is None
    assert time.monotonic() - started < 0.1

    clock.t = 2.0
    cap.start()
    second = cap.latest(1.0)
    assert second is not None and second.ok
    assert opener.calls == 2
    assert second.t_s == pytest.approx(2.0)
    assert second.index == first.index + 1


def test_context_manager_starts_and_releases(scene):
    opener = Opener(scene)
    with LiveCapture(opener, "cam", backoff=(0.01,)) as cap:
        assert cap.latest(1.0) is not None
    assert opener.devices[0].released
    assert capture_threads() == []


def test_release_interrupts_a_long_backoff(scene, make_capture):
    scene.allow_open.clear()
    opener = Opener(scene)
    cap = make_capture(opener, backoff=(30.0,))
    cap.start()
    wait_until(lambda: cap.health.retry_in_s is not None)
    started = time.monotonic()
    cap.release()
    assert time.monotonic() - started < 0.5
    assert capture_threads() == []


# --------------------------------------------------------------------------- real-time video


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """One second at 20 fps, every frame different and bright enough."""
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20, (W, H))
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    for _ in range(20):
        writer.write(rng.integers(40, 220, (H, W, 3), dtype=np.uint8))
    writer.release()
    return path


def test_realtime_video_plays_at_real_time_and_ends(clip):
    cap = open_live(str(clip))
    assert cap.name == "clip.avi"
    started = time.monotonic()
    cap.start()
    arrivals, frames = [], []
    try:
        while (frame := cap.latest(1.0)) is not None:
            arrivals.append(time.monotonic() - started)
            frames.append(frame)
    finally:
        cap.release()
    elapsed = time.monotonic() - started
    assert 0.85 <= elapsed <= 2.0
    assert 10 <= len(frames) <= 20
    times = [f.t_s for f in frames]
    assert times == sorted(set(times)) and times[-1] <= 0.95 + 1e-6
    assert all(abs(t * 20 - round(t * 20)) < 1e-3 for t in times)  # container times, 1/20 s
    assert all(-0.02 <= a - t <= 0.35 for a, t in zip(arrivals, times, strict=True))
    assert cap.health.status == ENDED


def test_realtime_video_skips_late_frames_and_reopens_at_the_live_position(clip):
    clock = ManualClock()
    playback = PlaybackClock(clock)
    video = RealtimeVideo(clip, playback=playback, sleep=clock.advance)
    assert video.isOpened()
    assert video.grab() and video.timestamp_s() == 0.0
    assert video.grab() and video.timestamp_s() == pytest.approx(0.05)
    assert clock.t == pytest.approx(0.05)  # it slept until the frame was due
    ok, image = video.retrieve()
    assert ok and image.shape == (H, W, 3)

    clock.advance(0.32)  # behind: frames of the past are dropped
    assert video.grab()
    assert video.timestamp_s() == pytest.approx(0.35)
    video.release()

    clock.t = 0.72  # reopening joins the playback where it is now
    video = RealtimeVideo(clip, playback=playback, sleep=clock.advance)
    assert video.grab()
    assert video.timestamp_s() == pytest.approx(0.70)
    clock.t = 5.0
    assert not video.grab()
    assert video.ended
    video.release()


# --------------------------------------------------------------------------- open_live


def test_open_live_camera_index_is_not_opened_until_started():
    cap = open_live("0")
    assert cap.name == "camera 0"
    assert cap.health.status == STARTING
    assert open_live(2).name == "camera 2"


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: p / "missing.mp4", "no such video file or camera"),
        (lambda p: p, "posturecam replay"),
        (lambda p: _touch(p / "photo.jpg", b"\xff\xd8\xff"), "single image"),
        (lambda p: _touch(p / "notes.avi", b"not a video at all"), "cannot open video"),
    ],
    ids=["missing", "folder", "image", "not-a-video"],
)
def test_open_live_rejects_what_cannot_be_live(tmp_path, make, match):
    with pytest.raises(SourceError, match=match):
        open_live(str(make(tmp_path)))


def test_open_live_rejects_negative_and_bool():
    with pytest.raises(SourceError, match="0 or more"):
        open_live(-1)
    with pytest.raises(SourceError):
        open_live(True)


def _touch(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- camera requests


class RecordingCamera:
    """Stands in for cv2.VideoCapture: records what is asked of the device."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.requests: list[tuple[int, float]] = []

    def isOpened(self) -> bool:  # OpenCV's spelling
        return True

    def set(self, prop: int, value: float) -> bool:
        self.requests.append((prop, value))
        return True


def test_a_camera_is_asked_for_a_small_compressed_mode_and_a_one_frame_buffer(monkeypatch):
    import cv2

    from posturecam.frames import devices

    monkeypatch.setattr(devices.cv2, "VideoCapture", RecordingCamera)
    device = devices.open_camera(2)()
    assert device.index == 2
    asked = dict(device.requests)
    assert asked[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter_fourcc(*"MJPG")
    assert (asked[cv2.CAP_PROP_FRAME_WIDTH], asked[cv2.CAP_PROP_FRAME_HEIGHT]) == (640, 480)
    assert asked[cv2.CAP_PROP_BUFFERSIZE] == 1
    # The format comes before the size: some drivers offer small modes only in MJPG.
    props = [p for p, _ in device.requests]
    assert props.index(cv2.CAP_PROP_FOURCC) < props.index(cv2.CAP_PROP_FRAME_WIDTH)


def test_a_camera_that_does_not_open_is_asked_nothing(monkeypatch):
    from posturecam.frames import devices

    class Closed(RecordingCamera):
        def isOpened(self) -> bool:
            return False

    monkeypatch.setattr(devices.cv2, "VideoCapture", Closed)
    assert devices.open_camera(0)().requests == []
