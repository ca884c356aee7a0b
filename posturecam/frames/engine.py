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
from posturecam.core.types import NUM_LANDMARKS, Frame, LandmarkBatch
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


def run_pose(
    frames: Iterable[Frame],
    estimator: PoseEstimator,
    on_frame: Callable[[Frame], None] | None = None,
) -> LandmarkLog:
    """Run the estimator over every usable frame; skipped frames keep their slot."""
    idx: list[int] = []
    ts: list[float] = []
    names: list[str] = []
    skips: list[str] = []
    sizes: list[tuple[int, int]] = []
    n_lm = NUM_LANDMARKS
    xy: list[np.ndarray] = []
    z: list[np.ndarray] = []
    vis: list[np.ndarray] = []
    world: list[np.ndarray] = []
    detected: list[bool] = []
    model_s = 0.0
    nan2 = np.full((n_lm, 2), np.nan, np.float32)
    nan1 = np.full(n_lm, np.nan, np.float32)
    nan3 = np.full((n_lm, 3), np.nan, np.float32)
    zero1 = np.zeros(n_lm, np.float32)
    for frame in frames:
        idx.append(frame.index)
        ts.append(frame.t_s)
        names.append(frame.name)
        if frame.image is None:
            skips.append(frame.skip_reason)
            sizes.append((0, 0))
            xy.append(nan2)
            z.append(nan1)
            vis.append(zero1)
            world.append(nan3)
            detected.append(False)
        else:
            t0 = time.perf_counter()
            lm = estimator.detect(frame)
            model_s += time.perf_counter() - t0
            skips.append("")
            sizes.append((frame.image.shape[1], frame.image.shape[0]))
            xy.append(lm.xy.astype(np.float32))
            z.append(lm.z.astype(np.float32))
            vis.append(lm.visibility.astype(np.float32))
            world.append(lm.world.astype(np.float32))
            detected.append(lm.detected)
        if on_frame is not None:
            on_frame(frame)
    batch = (
        LandmarkBatch(
            xy=np.stack(xy).astype(float),
            z=np.stack(z).astype(float),
            visibility=np.stack(vis).astype(float),
            world=np.stack(world).astype(float),
            detected=np.array(detected, bool),
        )
        if idx
        else LandmarkBatch.stack([])
    )
    size = np.array(sizes, int).reshape(-1, 2)
    return LandmarkLog(
        frame=np.array(idx, int),
        t_s=np.array(ts, float),
        name=np.array(names, dtype=object),
        skip_reason=np.array(skips, dtype=object),
        width=size[:, 0],
        height=size[:, 1],
        landmarks=batch,
        model_seconds=model_s,
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
