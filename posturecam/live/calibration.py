"""Make a baseline from frames of the person sitting upright, or say what to fix."""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Iterable

import numpy as np
from tqdm import tqdm

from posturecam.core.baseline import (
    DISTINCT_K,
    MIN_DETECTED,
    MIN_FRAMES,
    deciding_metric,
    make_baseline,
    samples_of,
)
from posturecam.core.judge import (
    JudgeSettings,
    limits,
    slouch_evidence,
    upright_spread,
)
from posturecam.core.types import Frame
from posturecam.errors import CalibrationError
from posturecam.frames.engine import LandmarkLog, measure, run_pose
from posturecam.frames.pose import IMAGE, VIDEO, PoseEstimator
from posturecam.frames.sources import open_source
from posturecam.profiles import Profile


def collect(
    source: str | int,
    make_estimator: Callable[[str], PoseEstimator],
    seconds: float | None = None,
    frames: int | None = None,
    stills: bool = False,
    fps: float | None = None,
    progress: bool = True,
    countdown: float = 3.0,
    prompt: str = "Sit upright and look at the screen",
) -> tuple[LandmarkLog, str]:
    """Run the model over the calibration frames: a time window, a frame count or all stills."""
    with open_source(source, fps=fps, stills=stills) as src:
        if src.kind == "camera" and countdown > 0:
            for left in range(int(countdown), 0, -1):
                print(f"{prompt}... {left}", file=sys.stderr, flush=True)
                time.sleep(1.0)
        limit_s = None if (stills and seconds is None) or frames is not None else (seconds or 8.0)
        chosen: Iterable[Frame] = src
        if limit_s is not None:
            chosen = itertools.takewhile(lambda f: f.t_s < limit_s, chosen)
        if frames is not None:
            chosen = itertools.islice(chosen, frames)
        estimator = make_estimator(IMAGE if stills else VIDEO)
        try:
            with tqdm(
                desc="calibrating",
                unit="frame",
                total=frames,
                disable=not progress or None,
                leave=False,
            ) as bar:
                log = run_pose(chosen, estimator, on_frame=lambda _f: bar.update())
        finally:
            estimator.close()
        return log, src.name


def calibrate(
    log: LandmarkLog,
    name: str,
    source_name: str,
    view: str | None = None,
    model_variant: str = "",
    settings: JudgeSettings | None = None,
    stills: bool = False,
) -> Profile:
    """Turn calibration landmarks into a profile (not yet saved).

    Chosen stills may be few (even one photo); a live calibration may not.
    """
    table = measure(log, view)
    chosen, stats = make_baseline(table, view, 1 if stills else MIN_FRAMES)
    sizes = [(int(w), int(h)) for w, h in zip(log.width, log.height, strict=True) if w]
    size = max(set(sizes), key=sizes.count) if sizes else (0, 0)
    return Profile(
        name=name,
        view=chosen,
        metrics=stats,
        image_size=size,
        model_variant=model_variant,
        frames=int(log.analysed.sum()),
        source=source_name,
        settings=settings or JudgeSettings(),
        examples={"upright": samples_of(table, chosen)},
    )


def add_slouch(profile: Profile, log: LandmarkLog, stills: bool = False) -> Profile:
    """Two-point calibration: the person's own slouch, kept beside the upright frames.

    Refused (nothing saved) when the slouch frames cannot be measured or do
    not differ from upright beyond what the upright frames already vary.
    """
    table = measure(log, profile.view)
    seen = table.view == profile.view
    n = len(table)
    if n < (1 if stills else MIN_FRAMES) or seen.mean() < MIN_DETECTED:
        raise CalibrationError(
            f"a person was found in only {int(seen.sum())} of {n} slouch frames: stay in the "
            "frame, head and both shoulders showing, and try the slouch step again."
        )
    samples = samples_of(table, profile.view)
    with_slouch = profile.with_examples("slouch", samples)
    settings = profile.settings
    # Distinct from upright: beyond three upright spreads (and the noise floor).
    spread = upright_spread(profile.baseline(), settings)
    distinct = max(settings.floor, DISTINCT_K * (spread if np.isfinite(spread) else 0.0))
    base = with_slouch.baseline()
    ev = (
        slouch_evidence(samples, base.centres(), settings.weights, settings.combine)
        if samples
        else np.array([])
    )
    ev = ev[np.isfinite(ev)]
    if ev.size == 0:
        raise CalibrationError(
            "your head and shoulders were not measurable in the slouch frames: face the "
            "camera, keep them in view, and try the slouch step again."
        )
    if float(np.median(ev)) <= distinct:
        raise CalibrationError(
            "your slouch looked like your upright posture (the difference was within how "
            "much you moved while upright): sit the way you do when tired, head and shoulders "
            "dropped, and try again; or calibrate without the slouch step."
        )
    return with_slouch


def describe(profile: Profile) -> str:
    """A short, human report of what the baseline says."""
    key = deciding_metric(profile.view)
    stats = profile.metrics[key]
    lines = [
        f"baseline '{profile.name}': {profile.view} view, {profile.frames} frames from "
        f"{profile.source}, {profile.image_size[0]}x{profile.image_size[1]}",
        f"  {key}: {stats.centre:.3f} (spread {stats.spread:.3f})",
    ]
    for name in ("neck_height", "shoulder_tilt", "torso_inclination"):
        if name in profile.metrics and name != key:
            s = profile.metrics[name]
            lines.append(f"  {name}: {s.centre:.3f} (spread {s.spread:.3f})")
    lim = limits(profile.baseline(), profile.settings)
    if np.isfinite(lim.slouch):
        how = {
            "spread": "from how much you moved while upright",
            "two-point": "between your upright and your slouch",
            "feedback": "moved by your feedback",
        }[lim.placed_by]
        lines.append(f"  slouch threshold: {lim.slouch:.3f} ({how})")
    return "\n".join(lines)
