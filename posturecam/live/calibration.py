"""Calibration: the one window of frames it measures, and the profile made from them.

``calibration_window`` is used by ``posturecam calibrate`` (any source), the
monitor's first run and its recalibration; ``calibrate`` and ``add_slouch``
turn the landmarks into a profile, or say what to fix.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from posturecam.core.baseline import (
    DISTINCT_K,
    INDEPENDENT_PER_S,
    MIN_DETECTED,
    MIN_FRAMES,
    WINDOW_S,
    deciding_metric,
    make_baseline,
    samples_of,
)
from posturecam.core.judge import limits, slouch_evidence, upright_spread
from posturecam.core.rules import JudgeSettings
from posturecam.core.types import Frame
from posturecam.errors import CalibrationError
from posturecam.frames.engine import LandmarkLog, measure, run_pose
from posturecam.frames.pose import PoseEstimator
from posturecam.profiles import Profile


def window_for(
    seconds: float | None, frames: int | None, stills: bool = False
) -> tuple[float | None, int | None]:
    """The (seconds, frame count) a calibration asked for measures: the one rule.

    A frame count wins over seconds; chosen stills without seconds are all used;
    otherwise the window is ``seconds`` long, ``WINDOW_S`` unless given.
    """
    if frames is not None:
        return None, frames
    if stills and seconds is None:
        return None, None
    return seconds or WINDOW_S, None


def window(
    frames: Iterable[Frame], seconds: float | None = WINDOW_S, count: int | None = None
) -> Iterator[Frame]:
    """The frames of a calibration window: ``seconds`` from the first frame's time and at
    most ``count`` frames (None: no bound of that kind)."""
    chosen: Iterator[Frame] = iter(frames)
    if seconds is not None:
        first = next(chosen, None)
        if first is None:
            return
        start = first.t_s
        chosen = itertools.takewhile(
            lambda f: f.t_s - start < seconds, itertools.chain([first], chosen)
        )
    if count is not None:
        chosen = itertools.islice(chosen, count)
    yield from chosen


def calibration_window(
    frames: Iterable[Frame],
    estimator: PoseEstimator,
    *,
    seconds: float | None = WINDOW_S,
    count: int | None = None,
    on_frame: Callable[[Frame], None] | None = None,
) -> LandmarkLog:
    """Run the estimator over the calibration window of ``frames`` (see ``window``).

    ``frames`` is any iterator of Frame: a recorded source, or a live capture
    through ``pacing.paced`` (which waits for frames, ends with the source and
    paces). ``on_frame`` follows progress; the prompt and countdown are the
    caller's, and so is the estimator, which stays open.
    """
    return run_pose(window(frames, seconds, count), estimator, on_frame=on_frame)


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
    if float(np.median(ev)) <= _distinct(profile, log, ev.size, stills):
        raise CalibrationError(
            "your slouch looked like your upright posture (on average it was too close to "
            "upright to tell apart from how you sway): sit the way you do when tired, head and "
            "shoulders dropped, and try again; or calibrate without the slouch step."
        )
    return with_slouch


def _distinct(profile: Profile, log: LandmarkLog, n_slouch: int, stills: bool) -> float:
    """How far the slouch frames' median evidence must stand from upright's (0) to count.

    A posture, not one frame, is compared: the difference of two medians, beyond
    ``DISTINCT_K`` of its standard errors (and the one-frame noise floor). Judged by the
    per-frame spread instead, a real -5% slouch of simulated people was refused 25
    times in 32. Frames less than half a second apart sway together, so a take counts
    for at most two frames a second.
    """
    settings = profile.settings
    spread = upright_spread(profile.baseline(), settings)
    if not np.isfinite(spread):
        return settings.floor
    upright = profile.examples.get("upright", {})
    n_up = len(next(iter(upright.values()))) if upright else profile.frames
    n_up = min(n_up, INDEPENDENT_PER_S * WINDOW_S)  # its span is not stored: the usual 8 s
    n_sl = float(n_slouch)
    if not stills and n_slouch > 1:
        t = log.t_s[np.isfinite(log.t_s)]
        span = float(t.max() - t.min()) if t.size else 0.0
        n_sl = min(n_slouch, max(2.0, INDEPENDENT_PER_S * span))
    # The standard error of a median is sqrt(pi / 2) times a mean's.
    se = math.sqrt(math.pi / 2) * spread * math.sqrt(1 / max(n_up, 1) + 1 / max(n_sl, 1))
    return max(settings.floor, DISTINCT_K * se)


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
    lim = limits(profile.baseline(), profile.settings, sequence=True)  # what the monitor uses
    if np.isfinite(lim.slouch):
        how = {
            "spread": "from how much you moved while upright",
            "clear": "a clear slouch: a smaller one counts when it holds",
            "two-point": "between your upright and your slouch",
            "feedback": "moved by your feedback",
        }[lim.placed_by]
        lines.append(f"  slouch threshold: {lim.slouch:.3f} ({how})")
        if lim.placed_by in ("spread", "clear") and profile.examples.get("slouch"):
            lines.append(
                "  your slouch is a small one: the monitor catches it when it holds for a "
                "while, not frame by frame"
            )
    return "\n".join(lines)
