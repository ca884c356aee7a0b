"""The one path every frame takes: source -> pose -> landmarks log -> metrics.

Running the model and scoring are separate steps, so a landmark log can be
re-scored with other settings without running the model again.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from posturecam.core.geometry import MetricTable, compute_metrics
from posturecam.core.types import NUM_LANDMARKS, Frame, LandmarkBatch, Landmarks
from posturecam.frames.pose import PoseEstimator


@dataclass(frozen=True, eq=False)
class LandmarkLog:
    """What the model saw in every frame of one source, skipped frames included."""

    frame: np.ndarray  # (N,) int
    t_s: np.ndarray  # (N,) float seconds
    name: np.ndarray  # (N,) str: image file name or video name
    skip_reason: np.ndarray  # (N,) str: "" for analysed frames
    width: np.ndarray  # (N,) int: analysed image width (0 when skipped)
    height: np.ndarray  # (N,) int
    landmarks: LandmarkBatch
    model_seconds: float = 0.0  # time spent inside the estimator

    def __len__(self) -> int:
        return int(self.frame.shape[0])

    @property
    def analysed(self) -> np.ndarray:
        return self.skip_reason == ""

    def select(self, keep: np.ndarray) -> LandmarkLog:
        """The frames where ``keep`` (a boolean mask) is true: one phase of a take."""
        b = self.landmarks
        return LandmarkLog(
            self.frame[keep], self.t_s[keep], self.name[keep], self.skip_reason[keep],
            self.width[keep], self.height[keep],
            LandmarkBatch(b.xy[keep], b.z[keep], b.visibility[keep], b.world[keep],
                          b.detected[keep]),
        )  # fmt: skip


def run_pose(
    frames: Iterable[Frame],
    estimator: PoseEstimator,
    on_frame: Callable[[Frame], None] | None = None,
) -> LandmarkLog:
    """Run the estimator over every usable frame; skipped frames keep their slot."""
    log = _LogBuilder()
    for frame in frames:
        if frame.image is None:
            log.skip(frame)
        else:
            t0 = time.perf_counter()
            lm = estimator.detect(frame)
            log.model_s += time.perf_counter() - t0
            log.add(frame, lm)
        if on_frame is not None:
            on_frame(frame)
    return log.build()


class _LogBuilder:
    """The rows of a LandmarkLog as they come (float32 per frame, as the model gives them)."""

    _NAN2 = np.full((NUM_LANDMARKS, 2), np.nan, np.float32)
    _NAN1 = np.full(NUM_LANDMARKS, np.nan, np.float32)
    _NAN3 = np.full((NUM_LANDMARKS, 3), np.nan, np.float32)
    _ZERO1 = np.zeros(NUM_LANDMARKS, np.float32)

    def __init__(self) -> None:
        self.idx: list[int] = []
        self.ts: list[float] = []
        self.names: list[str] = []
        self.skips: list[str] = []
        self.sizes: list[tuple[int, int]] = []
        self.xy: list[np.ndarray] = []
        self.z: list[np.ndarray] = []
        self.vis: list[np.ndarray] = []
        self.world: list[np.ndarray] = []
        self.detected: list[bool] = []
        self.model_s = 0.0

    def _slot(self, frame: Frame, skip: str, size: tuple[int, int]) -> None:
        self.idx.append(frame.index)
        self.ts.append(frame.t_s)
        self.names.append(frame.name)
        self.skips.append(skip)
        self.sizes.append(size)

    def skip(self, frame: Frame) -> None:
        self._slot(frame, frame.skip_reason, (0, 0))
        self.xy.append(self._NAN2)
        self.z.append(self._NAN1)
        self.vis.append(self._ZERO1)
        self.world.append(self._NAN3)
        self.detected.append(False)

    def add(self, frame: Frame, lm: Landmarks) -> None:
        assert frame.image is not None
        self._slot(frame, "", (frame.image.shape[1], frame.image.shape[0]))
        self.xy.append(lm.xy.astype(np.float32))
        self.z.append(lm.z.astype(np.float32))
        self.vis.append(lm.visibility.astype(np.float32))
        self.world.append(lm.world.astype(np.float32))
        self.detected.append(lm.detected)

    def build(self) -> LandmarkLog:
        batch = (
            LandmarkBatch(
                xy=np.stack(self.xy).astype(float),
                z=np.stack(self.z).astype(float),
                visibility=np.stack(self.vis).astype(float),
                world=np.stack(self.world).astype(float),
                detected=np.array(self.detected, bool),
            )
            if self.idx
            else LandmarkBatch.stack([])
        )
        size = np.array(self.sizes, int).reshape(-1, 2)
        return LandmarkLog(
            frame=np.array(self.idx, int),
            t_s=np.array(self.ts, float),
            name=np.array(self.names, dtype=object),
            skip_reason=np.array(self.skips, dtype=object),
            width=size[:, 0],
            height=size[:, 1],
            landmarks=batch,
            model_seconds=self.model_s,
        )


def measure(log: LandmarkLog, view: str | None = None) -> MetricTable:
    """Metrics for a landmark log; skipped frames get their skip reason."""
    width = np.where(log.width > 0, log.width, 1)
    table = compute_metrics(log.landmarks, width, view)
    reason = np.where(
        log.analysed, table.reason, np.char.add("skipped: ", log.skip_reason.astype(str))
    ).astype(object)
    return MetricTable(values=table.values, view=table.view, reason=reason)


_DONE = object()


def prefetch(frames: Iterable[Frame], depth: int = 4) -> Iterator[Frame]:
    """Decode the next frames on a second thread while the model runs on this one.

    OpenCV releases the GIL while decoding, so on two cores decoding hides
    behind inference. For recorded sources only: a camera wants the newest
    frame, not a queue of old ones.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        """Hand over unless the consumer has gone: never block on a queue nobody reads."""
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for frame in frames:
                if not put(frame):
                    return
            put(_DONE)
        except BaseException as exc:  # re-raised in the consumer
            put(exc)

    worker = threading.Thread(target=produce, name="posturecam-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
