"""Replay a recorded source through the model and the engine, and write its run folder.

The model runs once per frame (with decoding in a thread ahead of it); what it
saw is kept as a landmark recording beside the outputs, so ``rescore`` can
score the run again with other settings without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tqdm import tqdm

from posturecam.frames import model
from posturecam.frames.engine import LandmarkLog, prefetch, run_pose
from posturecam.frames.pose import IMAGE, VIDEO, MediaPipePose, PoseEstimator
from posturecam.frames.sources import open_source, resolve_path
from posturecam.research.analysis import Analysis, analyse
from posturecam.research.options import ReplayOptions
from posturecam.research.results import summarise, write_run
from posturecam.research.run_folder import RECORDING, RunFolder
from posturecam.research.scoring import Scored, score

__all__ = [
    "Analysis",
    "EstimatorFactory",
    "ReplayOptions",
    "ReplayResult",
    "Scored",
    "analyse",
    "replay",
    "score",
]


@dataclass(frozen=True, eq=False)
class ReplayResult:
    log: LandmarkLog
    scored: Scored
    summary: dict[str, Any]


EstimatorFactory = Callable[[str], PoseEstimator]


@dataclass(frozen=True, eq=False)
class _Seen:
    """What the model saw of a source, and how long it took."""

    log: LandmarkLog
    head: dict[str, Any]  # the source, as summary.json and the recording name it
    ignored: list[str]
    wall_s: float


def replay(
    source: str | Path,
    out_dir: str | Path,
    make_estimator: EstimatorFactory | None = None,
    options: ReplayOptions | None = None,
    model_info: dict[str, Any] | None = None,
    on_frame: Callable[[], None] | None = None,
    extra_summary: dict[str, Any] | None = None,
) -> ReplayResult:
    """Replay one source; writes its landmark recording and outputs, summary.json last.

    Without ``make_estimator`` the model is found as the command line finds it
    ($POSTURECAM_MODEL, the user cache, a verified download). ``on_frame`` is called
    after every frame (batch progress across processes); ``extra_summary`` is merged
    into summary.json (a batch's run key).
    """
    options = options or ReplayOptions()
    if make_estimator is None:
        make_estimator, found = _model_estimator(options.progress)
        model_info = model_info or found
    folder = RunFolder(out_dir)
    source_id = str(resolve_path(source)) if not str(source).isdigit() else str(source)
    run_key = (extra_summary or {}).get("run_key")
    created = folder.prepare(source_id, options.force, run_key)
    try:
        seen = _see(source, source_id, make_estimator, options, model_info, on_frame)
        analysis = analyse(seen.log, options)  # may refuse (a profile of another view)
        n = len(seen.log)
        timing = {
            "wall_s": round(seen.wall_s, 3),
            "model_s": round(seen.log.model_seconds, 3),
            "frames_per_s": round(n / seen.wall_s, 2) if seen.wall_s > 0 else None,
        }
        head = {**seen.head, "ignored_files": seen.ignored, "recording": RECORDING}
        tail = {**(extra_summary or {}), "timing": timing}
        summary = summarise(seen.log, analysis, head, options, tail)
        write_run(folder, seen.log, analysis, summary, options, record=seen.head)
    except BaseException:
        if created:
            folder.undo_create()
        raise
    return ReplayResult(log=seen.log, scored=analysis.scored, summary=summary)


def _model_estimator(progress: bool) -> tuple[EstimatorFactory, dict[str, Any]]:
    """The estimator factory of the model the command line would use, and its info."""
    resolved = model.resolve(progress=progress)
    info = {"variant": resolved.variant, "path": str(resolved.path), "origin": resolved.origin}
    return partial(MediaPipePose, resolved.path), info


def _see(
    source: str | Path,
    source_id: str,
    make_estimator: EstimatorFactory,
    options: ReplayOptions,
    model_info: dict[str, Any] | None,
    on_frame: Callable[[], None] | None,
) -> _Seen:
    """Run the model over every frame of ``source``."""
    scoring = options.scoring
    mode = IMAGE if scoring.stills else VIDEO
    started = time.perf_counter()
    with open_source(source, fps=scoring.fps, stills=scoring.stills) as src:
        estimator = make_estimator(mode)
        try:
            bar = tqdm(
                desc=f"replay {src.name}",
                unit="frame",
                disable=not options.progress or None,
                leave=False,
            )
            with bar:

                def tick(_frame: object) -> None:
                    bar.update()
                    if on_frame is not None:
                        on_frame()

                frames = prefetch(src) if src.kind != "camera" else src
                try:
                    log = run_pose(frames, estimator, on_frame=tick)
                finally:
                    if frames is not src:
                        frames.close()  # stop the decode thread before the source closes
        finally:
            estimator.close()
        head = {
            "source": src.name,
            "source_path": source_id,
            "source_kind": src.kind,
            "mode": mode,
            "model": model_info or {},
        }
        ignored = list(src.ignored)
    return _Seen(log, head, ignored, time.perf_counter() - started)
