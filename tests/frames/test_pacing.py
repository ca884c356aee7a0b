"""The one camera stack as an iterator of Frame: pacing, the end, waiting, and CameraSource."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

from posturecam.cli import advice
from posturecam.core.types import Frame
from posturecam.errors import CameraUnavailable
from posturecam.frames import devices
from posturecam.frames.capture import BUSY, ENDED, OK, RELEASED, Health, LiveCapture
from posturecam.frames.image_checks import BLACK_REASON
from posturecam.frames.pacing import paced
from posturecam.frames.sources import CameraSource, open_source

H, W = 48, 64


def _frame(index: int, t_s: float) -> Frame:
    return Frame(np.full((H, W, 3), 100, np.uint8), t_s, index, "cam")


class FakeLive:
    """Hands out scripted answers: a Frame, or a Health when no frame comes; then it ends."""

    def __init__(self, script: list[Frame | Health]) -> None:
        self.script = list(script)
        self._health = Health(OK, "ok")
        self.calls = 0

    def latest(self, timeout: float) -> Frame | None:
        self.calls += 1
        item = self.script.pop(0) if self.script else Health(ENDED, "ended")
        if isinstance(item, Health):
            self._health = item
            return None
        self._health = Health(OK, "ok")
        return item

    @property
    def health(self) -> Health:
        return self._health


def test_paced_yields_every_frame_until_the_source_ends_and_tells_why_it_waits():
    busy = Health(BUSY, "cannot open cam: close the other app")
    live = FakeLive([_frame(0, 0.0), busy, _frame(1, 0.1), _frame(2, 0.2)])
    heard: list[Health] = []
    waits: list[float] = []
    got = list(paced(live, None, on_wait=heard.append, wait=waits.append))
    assert [f.index for f in got] == [0, 1, 2]
    assert heard == [busy]
    # latest() answered at once: the wait makes up the rest of its timeout, so no spinning.
    assert len(waits) == 1 and 0.9 < waits[0] <= 1.0


def test_paced_takes_frames_at_the_chosen_rate_by_frame_time():
    live = FakeLive([_frame(k, k / 10) for k in range(21)])  # 10 frames/s for 2 s
    waits: list[float] = []
    got = list(paced(live, 2.0, wait=waits.append))
    # Due every 0.5 s; the first frame within a quarter interval of its due time is taken.
    assert [f.t_s for f in got] == pytest.approx([0.0, 0.4, 0.9, 1.4, 1.9])
    assert all(0.0 <= w <= 0.45 for w in waits)  # 0.9 of the interval at most


@pytest.mark.parametrize("status", [ENDED, RELEASED])
def test_paced_ends_when_the_capture_ended_or_was_released(status):
    live = FakeLive([_frame(0, 0.0), Health(status, "gone"), _frame(1, 0.1)])
    assert [f.index for f in paced(live, wait=lambda _s: None)] == [0]


def test_paced_ends_when_stopped():
    stop = threading.Event()
    live = FakeLive([_frame(k, k / 10) for k in range(100)])
    got = []
    for frame in paced(live, stop=stop, wait=lambda _s: None):
        got.append(frame)
        if len(got) == 3:
            stop.set()
    assert len(got) == 3 and live.calls == 3


# --------------------------------------------------------------------------- CameraSource


class FakeVideoCapture:
    """Stands in for cv2.VideoCapture(index): a camera whose lens a test can cover."""

    covered = threading.Event()
    opens = True

    def __init__(self, index: int) -> None:
        self.index = index
        self.count = itertools.count()
        self.released = False

    def isOpened(self) -> bool:  # OpenCV's spelling
        return type(self).opens and not self.released

    def set(self, prop: int, value: float) -> bool:
        return True

    def grab(self) -> bool:
        time.sleep(0.005)
        return not self.released

    def retrieve(self) -> tuple[bool, np.ndarray]:
        if type(self).covered.is_set():
            return True, np.zeros((H, W, 3), np.uint8)
        n = next(self.count)
        return True, np.random.default_rng(n).integers(40, 200, (H, W, 3), dtype=np.uint8)

    def release(self) -> None:
        self.released = True


@pytest.fixture
def fake_camera(monkeypatch):
    FakeVideoCapture.covered.clear()
    FakeVideoCapture.opens = True
    monkeypatch.setattr(devices.cv2, "VideoCapture", FakeVideoCapture)
    return FakeVideoCapture


def test_a_camera_source_is_the_live_capture_timed_from_its_first_frame(fake_camera):
    with open_source(0) as src:
        assert isinstance(src, CameraSource) and src.kind == "camera"
        assert src.name == "camera 0" and src.timestamp_source == "monotonic"
        assert isinstance(src._capture, LiveCapture)
        frames = list(itertools.islice(src, 3))
    assert frames[0].t_s == 0.0
    assert frames[0].t_s < frames[1].t_s < frames[2].t_s
    assert [f.index for f in frames] == [0, 1, 2]
    assert all(f.ok for f in frames)


def test_a_covered_camera_gives_skipped_frames_as_during_monitor(fake_camera):
    with open_source("0", fps=50) as src:
        first = next(iter(src))
        fake_camera.covered.set()
        later = list(itertools.islice(src, 2))
    assert first.ok
    assert [f.skip_reason for f in later] == [BLACK_REASON, BLACK_REASON]
    assert all(f.image is None for f in later)


def test_a_camera_that_cannot_open_fails_at_once_and_is_released(fake_camera):
    fake_camera.opens = False
    started = time.perf_counter()
    with pytest.raises(CameraUnavailable) as exc:
        open_source(3)
    assert advice.render(exc.value).endswith("or try another --source index")
    assert time.perf_counter() - started < 5
    assert not [t for t in threading.enumerate() if t.name == "posturecam-capture camera 3"]


def test_wait_open_says_whether_the_first_open_worked(fake_camera):
    opened = LiveCapture(lambda: FakeVideoCapture(0), "cam")
    opened.start()
    try:
        assert opened.wait_open(2.0) is True
    finally:
        opened.release()

    class Closed(FakeVideoCapture):
        def isOpened(self) -> bool:
            return False

    closed = LiveCapture(lambda: Closed(0), "cam", backoff=(5.0,))
    closed.start()
    try:
        assert closed.wait_open(2.0) is False
        assert closed.health.status == BUSY
    finally:
        closed.release()
