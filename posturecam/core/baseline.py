"""Baseline statistics: the robust centre and spread of each metric over upright frames.

Pure numpy. Collecting the frames (a camera window, a folder) lives in
``posturecam.live.calibration``; this module only turns metrics into a baseline
and says, with a CalibrationError, what was wrong with the frames.
"""

from __future__ import annotations

import numpy as np

from posturecam.core.geometry import FRONT, METRICS, MetricTable
from posturecam.core.rules import DEFAULT_RULES, EVIDENCE, Baseline, MetricStats
from posturecam.errors import CalibrationError

MIN_DETECTED = 0.9  # share of calibration frames with a person
MIN_MEASURED = 0.8  # share of those where the deciding metrics are measurable
MIN_FRAMES = 3
# How long a calibration measures unless told: a few breaths, sitting still (live and replay).
WINDOW_S = 8.0
# Robust relative spread of the deciding metric above which the person was not
# sitting still (about three times what steady sitting gives).
MAX_STEADY_SPREAD = {"head_height": 0.12, "neck_inclination": 12.0}
MIN_SAME_VIEW = 0.9
# A slouch example counts as a different posture when the median of its frames stands
# this many standard errors from upright's (about one chance in 700 for a person who
# did not move), counting at most INDEPENDENT_PER_S frames per second of a take.
DISTINCT_K = 3.0
INDEPENDENT_PER_S = 2.0


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
