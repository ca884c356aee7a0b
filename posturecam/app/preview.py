"""The setup's live preview: a thread that reads the camera, runs the model and hands the
picture (as a QImage, never saved) with its landmarks and framing hints to the GUI."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from posturecam.app.framing import brightness, framing_hints
from posturecam.core.types import Frame, Landmarks
from posturecam.errors import PosturecamError
from posturecam.frames.capture import LiveCapture
from posturecam.frames.engine import LandmarkLog, run_pose
from posturecam.frames.pose import PoseEstimator

MAX_FPS = 10.0
_BLACK = np.zeros((1, 1, 3), np.uint8)


@dataclass(frozen=True)
class Seen:
    """One preview frame's measurements: what calibration needs, without the picture."""

    t_s: float
    index: int
    width: int
    height: int
    landmarks: Landmarks


def to_qimage(image: np.ndarray) -> QImage:
    """A deep copy of a BGR frame as a QImage (the frame's buffer is not kept)."""
    h, w = image.shape[:2]
    data = np.ascontiguousarray(image)
    return QImage(data.data, w, h, data.strides[0], QImage.Format.Format_BGR888).copy()


class _Replay:
    """A pose 'estimator' that returns landmarks already found: calibration without a
    second model pass, and without keeping any image."""

    def __init__(self, seen: list[Seen]) -> None:
        self._by_index = {s.index: s.landmarks for s in seen}

    def detect(self, frame: Frame) -> Landmarks:
        return self._by_index[frame.index]

    def close(self) -> None:
        pass


def landmark_log(seen: list[Seen]) -> LandmarkLog:
    """The LandmarkLog `calibrate` takes, from the preview's measurements."""
    frames = [
        Frame(np.broadcast_to(_BLACK, (s.height, s.width, 3)), s.t_s, s.index, "setup")
        for s in seen
    ]
    return run_pose(frames, _Replay(seen))


class PreviewWorker(QThread):
    """Camera -> model -> (QImage, Seen, hints) at up to MAX_FPS, until stopped."""

    pending = Signal()  # frames wait in the queue (as in worker.py: no payload in the signal)
    health = Signal(str, str)  # capture status, message (no frame this time)
    failed = Signal(str)  # the source cannot be opened at all

    def __init__(
        self,
        open_source: Callable[[], LiveCapture],
        make_estimator: Callable[[], PoseEstimator],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._open_source = open_source
        self._make_estimator = make_estimator
        self._stop = threading.Event()
        self._queue: queue.SimpleQueue[tuple[QImage, Seen, list[str]]] = queue.SimpleQueue()
        self.pending.connect(self.deliver)
        # GUI-thread callbacks (QImage, Seen, hints), called by deliver().
        self.on_seen: list[Callable[[QImage, Seen, list[str]], Any]] = []

    def deliver(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if not self._stop.is_set():
                for callback in self.on_seen:
                    callback(*item)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        try:
            capture = self._open_source()
        except PosturecamError as exc:
            self.failed.emit(str(exc))
            return
        try:
            estimator = self._make_estimator()
        except PosturecamError as exc:
            capture.close()
            self.failed.emit(str(exc))
            return
        try:
            capture.start()
            self._loop(capture, estimator)
        finally:
            capture.release()
            capture.close()
            estimator.close()

    def _loop(self, capture: LiveCapture, estimator: PoseEstimator) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            frame = capture.latest(timeout=0.5)
            if frame is None or frame.image is None:
                health = capture.health
                message = frame.skip_reason if frame is not None else health.message
                self.health.emit(health.status, message)
                self._stop.wait(0.2)
                continue
            lm = estimator.detect(frame)
            h, w = frame.image.shape[:2]
            hints = framing_hints(lm, w, h, brightness(frame.image))
            self._queue.put((to_qimage(frame.image), Seen(frame.t_s, frame.index, w, h, lm), hints))
            self.pending.emit()
            self._stop.wait(max(0.0, 1.0 / MAX_FPS - (time.monotonic() - began)))
