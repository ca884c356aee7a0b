"""The devices live capture reads: a camera opened with our requests, or a video as a webcam.

``live_device`` says which of them a source spec names (a camera index or a
video file), refusing what can never become one.

``open_camera`` asks a camera for a small mode, compressed frames and a
one-frame driver buffer; ``RealtimeVideo`` plays a file at real time (frames
come when due, late ones are dropped) for tests, demos and CPU benchmarks.
Both are opened by ``capture.LiveCapture`` on its own thread, again after trouble.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from posturecam.errors import SourceError
from posturecam.frames.imaging import IMAGE_EXTENSIONS, quiet_opencv

_SEEK_AFTER_S = 1.0  # RealtimeVideo seeks instead of decoding its way through longer gaps


class Device(Protocol):
    """The part of ``cv2.VideoCapture`` that live capture uses (fakes implement just this)."""

    def isOpened(self) -> bool: ...  # OpenCV's spelling

    def grab(self) -> bool: ...

    def retrieve(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...


# What the monitor asks a camera for: a small mode (benchmarks/resolution.py measures
# what smaller pictures cost the judgement), compressed frames where the camera offers
# them (less USB bandwidth; decoded only when the monitor takes a frame), and a driver
# buffer of one frame so the frame taken is the newest. All are requests: a camera
# that cannot honour one keeps its own setting, and frames are resized as they come.
CAMERA_MODE = (640, 480)
CAMERA_FOURCC = "MJPG"


def camera_requests(mode: tuple[int, int] = CAMERA_MODE) -> list[tuple[int, float]]:
    """The (property, value) pairs set on a freshly opened camera, in order."""
    width, height = mode
    return [
        (cv2.CAP_PROP_FOURCC, float(cv2.VideoWriter_fourcc(*CAMERA_FOURCC))),
        (cv2.CAP_PROP_FRAME_WIDTH, float(width)),
        (cv2.CAP_PROP_FRAME_HEIGHT, float(height)),
        (cv2.CAP_PROP_BUFFERSIZE, 1.0),
    ]


def open_camera(index: int, mode: tuple[int, int] = CAMERA_MODE) -> Callable[[], Device]:
    """An opener for camera ``index``; LiveCapture calls it on its own thread."""

    def _open() -> Device:
        with quiet_opencv():
            cap = cv2.VideoCapture(index)
            if cap.isOpened():
                for prop, value in camera_requests(mode):
                    cap.set(prop, value)
        return cap

    return _open


class PlaybackClock:
    """Wall position of a real-time video, shared by every reopening of it (like live TV)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._t0: float | None = None
        self._lock = threading.Lock()

    def position(self) -> float:
        """Seconds since the first call: the first call starts playback."""
        with self._lock:
            now = self._clock()
            if self._t0 is None:
                self._t0 = now
            return now - self._t0


class RealtimeVideo:
    """A video file that behaves like a webcam: frames come when due, late ones are dropped.

    ``grab()`` sleeps until the next frame's container time and skips frames
    whose time has passed; a reopened file seeks to the current playback
    position. At the end of the file ``grab()`` returns False and ``ended``
    is True. Used for tests, demos and CPU benchmarks of the live path.
    """

    def __init__(
        self,
        path: str | Path,
        clock: Callable[[], float] = time.monotonic,
        *,
        playback: PlaybackClock | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = Path(path)
        self.ended = False
        self._sleep = sleep
        self._playback = playback if playback is not None else PlaybackClock(clock)
        self._ts = 0.0
        self._last_ts = -math.inf
        with quiet_opencv():
            cap = cv2.VideoCapture(str(self.path))
        self._cap: cv2.VideoCapture | None = cap
        if not cap.isOpened():
            return
        fps = cap.get(cv2.CAP_PROP_FPS)
        self._fps = fps if math.isfinite(fps) and 0 < fps <= 1000 else 30.0
        self._period = 1.0 / self._fps
        position = self._playback.position()  # the first open starts playback
        if position > self._period:
            cap.set(cv2.CAP_PROP_POS_MSEC, position * 1000.0)

    def isOpened(self) -> bool:  # OpenCV's spelling
        return self._cap is not None and bool(self._cap.isOpened())

    def grab(self) -> bool:
        cap = self._cap
        if cap is None or self.ended or not cap.isOpened():
            return False
        while True:
            now = self._playback.position()
            if not cap.grab():
                self.ended = True
                return False
            ts = self._stamp(cap)
            if ts + self._period > now:
                break
            if now - ts > _SEEK_AFTER_S:  # far behind: jump instead of decoding every frame
                cap.set(cv2.CAP_PROP_POS_MSEC, now * 1000.0)
        delay = ts - self._playback.position()
        if delay > 0:
            self._sleep(delay)
        self._ts = ts
        return True

    def _stamp(self, cap: cv2.VideoCapture) -> float:
        """Container time of the grabbed frame, or frame number / fps if the container lies."""
        ts = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if not math.isfinite(ts) or ts <= self._last_ts:
            ts = max(cap.get(cv2.CAP_PROP_POS_FRAMES) - 1, 0) / self._fps
            if ts <= self._last_ts:
                ts = self._last_ts + self._period
        self._last_ts = ts
        return ts

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        if self._cap is None:
            return False, None
        ok, image = self._cap.retrieve()
        return bool(ok), image

    def timestamp_s(self) -> float:
        """Container time of the current frame, seconds."""
        return self._ts

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def video_opener(
    path: str | Path, clock: Callable[[], float] = time.monotonic
) -> Callable[[], Device]:
    """An opener whose RealtimeVideo reopenings share one playback clock."""
    playback = PlaybackClock(clock)

    def _open() -> Device:
        return RealtimeVideo(path, clock, playback=playback)

    return _open


def live_device(
    spec: str | int, clock: Callable[[], float] = time.monotonic
) -> tuple[Callable[[], Device], str]:
    """The opener and name of the live source ``spec`` names: a camera index or a video file.

    A camera is not probed here: if it is busy, the capture says so and keeps
    retrying. A video is checked now, since retrying cannot fix it.
    """
    if isinstance(spec, bool):
        raise SourceError(f"invalid live source {spec!r}; give a camera index or a video file")
    if isinstance(spec, int) or re.fullmatch(r"[0-9]+", str(spec).strip()):
        index = int(spec)
        if index < 0:
            raise SourceError(f"camera index must be 0 or more, got {index}")
        return open_camera(index), f"camera {index}"
    path = Path(spec).expanduser()
    if path.is_dir():
        raise SourceError(
            f"{spec} is a folder, not a live source; use `posturecam replay` for image folders"
        )
    if not path.is_file():
        raise SourceError(
            f"no such video file or camera: {spec}; give a camera index (0, 1, ...) or a video file"
        )
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise SourceError(
            f"{spec} is a single image, not a live source; use `posturecam replay` on a folder "
            "of images"
        )
    with quiet_opencv():
        probe = cv2.VideoCapture(str(path))
        opened = probe.isOpened()
        probe.release()
    if not opened:
        raise SourceError(
            f"cannot open video {path}: not a video file, or its codec is unsupported"
        )
    return video_opener(path, clock), path.name
