"""Make a baseline from frames of the person sitting upright, or say what to fix."""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Iterable

import numpy as np
from tqdm import tqdm

from posturecam.engine import LandmarkLog, measure, run_pose
from posturecam.errors import CalibrationError
from posturecam.geometry import FRONT, METRICS, MetricTable
from posturecam.judge import (
    DEFAULT_RULES,
    EVIDENCE,
    Baseline,
    JudgeSettings,
    MetricStats,
    limits,
    slouch_evidence,
    upright_spread,
)
from posturecam.pose import IMAGE, VIDEO, PoseEstimator
from posturecam.profiles import Profile
from posturecam.sources import open_source
from posturecam.types import Frame

MIN_DETECTED = 0.9  # share of calibration frames with a person
MIN_MEASURED = 0.8  # share of those where the deciding metrics are measurable
MIN_FRAMES = 3
# Robust relative spread of the deciding metric above which the person was not
# sitting still (about three times what steady sitting gives).
MAX_STEADY_SPREAD = {"head_height": 0.12, "neck_inclination": 12.0}
MIN_SAME_VIEW = 0.9
# A slouch example counts as a different posture beyond this many upright spreads
# (about 3 standard deviations: not the upright cluster's own noise).
DISTINCT_K = 3.0


def robust_stats(values: np.ndarray) -> MetricStats:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return MetricStats(float("nan"), float("nan"), 0)
    centre = float(np.median(v))
    spread = float(1.4826 * np.median(np.abs(v - centre)))
    return MetricStats(centre, spread, int(v.size))


def deciding_metric(view: str) -> str:
    return "head_height" if view == FRONT else "neck_inclination"


def make_baseline(
    metrics: MetricTable, view: str | None = None, min_frames: int = MIN_FRAMES
) -> tuple[str, dict[str, MetricStats]]:
    """Robust centre and spread of every metric, after checking the frames are usable.

    Raises CalibrationError naming what the person should change; nothing is
    saved in that case.
    """
    n = len(metrics)
    if n < min_frames:
        raise CalibrationError(
            f"only {n} calibration frame(s); calibrate for longer (at least a few seconds)."
        )
    seen = metrics.view != ""
    found = float(seen.mean())
    if found < MIN_DETECTED:
        raise CalibrationError(
            f"a person was found in only {found:.0%} of calibration frames (need "
            f"{MIN_DETECTED:.0%}): move into the frame so your head and both shoulders show, "
            "add light, and try again."
        )
    views = metrics.view[seen]
    chosen = view or max(set(views), key=lambda v: int(np.count_nonzero(views == v)))
    same = float(np.mean(views == chosen))
    if same < MIN_SAME_VIEW:
        raise CalibrationError(
            f"the camera view changed during calibration ({same:.0%} {chosen}): keep still, "
            "facing the camera (or side-on for a side view), and try again."
        )
    key = deciding_metric(chosen)
    measured = float(np.isfinite(metrics[key][seen]).mean())
    if measured < MIN_MEASURED:
        what = "ears, nose and shoulders" if chosen == FRONT else "ear, shoulder and hip"
        raise CalibrationError(
            f"your {what} were measurable in only {measured:.0%} of frames: face the camera, "
            "keep them in view and uncovered (hair, hood, headphones), add light, and try again."
        )
    stats = {name: robust_stats(metrics[name][seen]) for name in METRICS}
    key_stats = stats[key]
    steady = key_stats.spread / abs(key_stats.centre) if chosen == FRONT else key_stats.spread
    if steady > MAX_STEADY_SPREAD[key]:
        raise CalibrationError(
            f"you moved a lot during calibration ({key} varied by {steady:.2f}): sit upright "
            "and still, then try again."
        )
    return chosen, {k: v for k, v in stats.items() if k in used_metrics(chosen) and v.n > 0}


def used_metrics(view: str) -> set[str]:
    """Metrics a baseline keeps: what judgement, evidence and setup checks read."""
    used = {r.metric for r in DEFAULT_RULES.values() if r.view == view} | {"ear_span"}
    if view == FRONT:
        used |= set(EVIDENCE) | {"shoulder_span", "shoulder_x", "shoulder_y"}
    return used


def samples_of(metrics: MetricTable, view: str, limit: int = 400) -> dict[str, np.ndarray]:
    """The frames' values of the evidence metrics, kept with a baseline (at most ``limit``)."""
    seen = metrics.view == view
    keep = set(EVIDENCE) if view == FRONT else set()
    return {k: np.asarray(metrics[k][seen][-limit:], float) for k in sorted(keep)}


def baseline_of(
    metrics: MetricTable, view: str | None = None, min_frames: int = MIN_FRAMES
) -> Baseline:
    """``make_baseline`` plus the calibration frames themselves, for threshold placement."""
    chosen, stats = make_baseline(metrics, view, min_frames)
    return Baseline(chosen, stats, upright=samples_of(metrics, chosen))


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
