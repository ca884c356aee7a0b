"""Score a landmark log: its metrics, the baseline it is judged against, the judgement.

The baseline is the choice in the options: a saved profile (whose view the
recording must fit), a window at the start of the recording, or none. A front
view sequence's baseline then follows slow drift (the moving baseline). No
model and no files here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from posturecam.core.adapt import SETUP_CHANGED, Followed, follow_baseline
from posturecam.core.baseline import WINDOW_S, baseline_of
from posturecam.core.geometry import FRONT, MetricTable, detect_view, dominant_view
from posturecam.core.judge import (
    Judgement,
    given_back,
    judge,
    limits,
    sequence_inputs,
    with_evidence,
)
from posturecam.core.rules import Baseline, JudgeSettings
from posturecam.errors import CalibrationError
from posturecam.frames.engine import LandmarkLog, measure
from posturecam.profiles import Profile, check_fits
from posturecam.research.options import (
    NoBaseline,
    ProfileBaseline,
    ReplayOptions,
    ScoringOptions,
    WindowBaseline,
    scoring_of,
)

STILLS_UNJUDGED = "unrelated stills with no --profile: metrics only, no judgement"


@dataclass(frozen=True, eq=False)
class Scored:
    """Metrics and judgement of a landmark log, plus how the baseline was chosen."""

    metrics: MetricTable
    judgement: Judgement | None
    baseline: dict[str, Any]
    warnings: list[str]
    followed: Followed | None = None  # a sequence's moving baseline


def _calibration_mask(log: LandmarkLog, window: WindowBaseline) -> tuple[np.ndarray, str]:
    analysed = log.analysed
    if window.frames is not None:
        order = np.cumsum(analysed)
        return analysed & (order <= window.frames), f"first {window.frames} frames"
    seconds = window.seconds or WINDOW_S
    start = log.t_s[0] if len(log) else 0.0
    return analysed & (log.t_s < start + seconds), f"first {seconds:g} s"


def _profile_fits(log: LandmarkLog, profile: Profile, view: str | None) -> list[str]:
    """Warnings when the recording's own view (unless forced) or size differ from the profile's."""
    if view is None:
        found = detect_view(log.landmarks)
        view = dominant_view(found) if (found != "").any() else None
    known = log.width != 0  # 0: the frame could not be read
    width, height = log.width[known], log.height[known]
    one_size = width.size and (width == width[0]).all() and (height == height[0]).all()
    return check_fits(profile, view, (int(width[0]), int(height[0])) if one_size else None)


def _from_window(
    log: LandmarkLog, metrics: MetricTable, window: WindowBaseline, view: str | None
) -> tuple[Baseline | None, dict[str, Any], str]:
    """The baseline of the recording's start and its record; or None, and a warning why not."""
    mask, described = _calibration_mask(log, window)
    sub = MetricTable(
        values={k: v[mask] for k, v in metrics.values.items()},
        view=metrics.view[mask],
        reason=metrics.reason[mask],
    )
    try:
        base = baseline_of(sub, view)
    except CalibrationError as exc:
        warning = f"no baseline from the {described} of the recording: {exc}"
        return None, {"kind": "none", "error": str(exc)}, warning
    record = {"kind": "recording", "window": described, "frames": int(mask.sum())}
    return base, {**record, "view": base.view}, ""


def _baseline_record(base: Baseline, settings: JudgeSettings, sequence: bool) -> dict[str, Any]:
    """The baseline's statistics, settings and limits, as summary.json records them."""
    lim = limits(base, settings, sequence)
    return {
        "metrics": {
            k: {"centre": round(v.centre, 6), "spread": round(v.spread, 6)}
            for k, v in base.stats.items()
        },
        "settings": settings.to_dict(),
        "limits": {
            "slouch_evidence": None if np.isnan(lim.slouch) else round(lim.slouch, 6),
            "placed_by": lim.placed_by,
            "issues": {k: round(v, 6) for k, v in lim.issues.items()},
        },
    }


def score(log: LandmarkLog, options: ScoringOptions | ReplayOptions) -> Scored:
    """Metrics, baseline and judgement for a landmark log; the model is not needed here."""
    options = scoring_of(options)
    choice, view, warnings = options.baseline, options.view, []
    if isinstance(choice, ProfileBaseline):
        warnings += _profile_fits(log, choice.profile, view)
        view = choice.profile.view
    metrics = measure(log, view)
    if isinstance(choice, NoBaseline) or (
        options.stills and isinstance(choice, WindowBaseline) and choice.is_default
    ):
        if not isinstance(choice, NoBaseline):
            warnings.append(STILLS_UNJUDGED)
        return Scored(metrics, None, {"kind": "none"}, warnings)
    if isinstance(choice, ProfileBaseline):
        profile = choice.profile
        base, settings = profile.baseline(), options.judge or profile.settings
        baseline = {
            "kind": "profile",
            "profile": choice.ref or profile.name,
            "view": profile.view,
            "created": profile.created,
        }
    else:
        found, baseline, warning = _from_window(log, metrics, choice, view)
        if found is None:
            return Scored(metrics, None, baseline, [*warnings, warning])
        base, settings = found, options.judge or JudgeSettings()
    baseline.update(_baseline_record(base, settings, not options.stills))
    verdict = judge(metrics, base, base.view, settings, sequence=not options.stills)
    if options.stills or base.view != FRONT or not np.isfinite(verdict.limit):
        return Scored(metrics, verdict, baseline, warnings)
    evidence, drop = sequence_inputs(verdict, settings)
    followed = follow_baseline(
        log.t_s,
        evidence,
        metrics.values,
        verdict.limit,
        options.adapt,
        drop=drop,
        given=given_back(verdict, settings),
    )
    baseline["moving"] = {
        "max_offset": round(followed.max_offset, 6),
        "final_offset": round(float(followed.offset[-1]), 6) if len(log) else 0.0,
        "setup_changes": sum(e.type == SETUP_CHANGED for e in followed.events),
        "settings": options.adapt.to_dict(),
    }
    judged = with_evidence(verdict, followed.evidence, followed.sustained)
    return Scored(metrics, judged, baseline, warnings, followed)
