"""Judge posture against the person's own baseline: named issues, a score, a verdict.

Pure and vectorised over frames. A frame whose metrics cannot be measured is
undecided (NaN score, empty verdict), never good or bad.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from posturecam.core.geometry import FRONT, MetricTable
from posturecam.core.rules import (
    DEFAULT_RULES,
    EVIDENCE,
    FEEDBACK_MARGIN,
    FRONT_SLOUCH,
    Baseline,
    IssueRule,
    JudgeSettings,
    MetricStats,
    Samples,
)
from posturecam.core.sustained import CLEAR


@dataclass(frozen=True)
class Limits:
    """Where judgement draws its lines for one baseline: what the report draws too."""

    slouch: float  # threshold of the front view's combined evidence (EVIDENCE units)
    issues: dict[str, float]  # issue -> threshold on its rule's deviation
    placed_by: str  # "spread", "clear" (a sequence's lowest), "two-point", "feedback" or "side"


@dataclass(frozen=True, eq=False)
class Judgement:
    score: np.ndarray  # (N,) 0-100, NaN when undecided
    slouched: np.ndarray  # (N,) 1.0 / 0.0 / NaN
    issues: np.ndarray  # (N,) str, ";"-joined issue names
    head_scale: np.ndarray  # (N,) ear span relative to the baseline
    worst: np.ndarray  # (N,) worst slouch deviation over its threshold; NaN when undecided
    severity: dict[str, np.ndarray]  # issue -> deviation / threshold (>1 means present)
    evidence: np.ndarray  # (N,) front view's combined slouch evidence; NaN otherwise
    limit: float  # its threshold (NaN in side view)
    drop: np.ndarray  # (N,) the ears' drop towards the shoulders, in EVIDENCE units; NaN otherwise
    receded: np.ndarray  # (N,) how far head and shoulders moved away from the camera (>= 0)


def deviation(values: np.ndarray, rule: IssueRule, stats: MetricStats) -> np.ndarray:
    """Signed deviation in the rule's bad direction (positive = worse)."""
    diff = values - stats.centre
    if rule.relative:
        diff = diff / abs(stats.centre) if stats.centre else np.full_like(values, np.nan)
    if rule.direction == 0:
        return np.abs(diff)
    return diff * rule.direction


def slouch_evidence(
    values: dict[str, np.ndarray],
    centres: dict[str, float | np.ndarray],
    weights: dict[str, float],
    combine: str = "mean",
) -> np.ndarray:
    """Each metric's deviation in EVIDENCE units (1.0 = a clear slouch), combined.

    ``mean``: weighted mean. ``min``: the least of them, so every metric must
    agree (a glance drops the nose but not the ears), and NaN wherever one of
    them cannot be measured. ``mean``: NaN where the main metric (the largest
    weight) cannot be measured, so a frame is never judged on side evidence alone.
    """
    used = [(m, w) for m, w in weights.items() if w > 0 and m in centres]
    if not used:
        return np.full(len(next(iter(values.values()))), np.nan)
    main = max(used, key=lambda mw: mw[1])[0]
    total = np.zeros_like(np.asarray(values[main], float))
    weight = np.zeros_like(total)
    least = np.full_like(total, np.inf)
    for metric, w in used:
        ev = EVIDENCE[metric]
        centre = centres[metric]
        diff = np.asarray(values[metric], float) - centre
        if ev.relative:
            with np.errstate(invalid="ignore", divide="ignore"):
                diff = diff / np.abs(centre)
        d = diff * ev.direction / ev.unit
        ok = np.isfinite(d)
        total += np.where(ok, w * d, 0.0)
        weight += np.where(ok, w, 0.0)
        least = np.where(ok, np.minimum(least, d), least)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / weight if combine == "mean" else np.where(np.isinf(least), np.nan, least)
    out[~np.isfinite(np.asarray(values[main], float))] = np.nan
    if combine == "min":
        for metric, _ in used:  # every metric must be there to agree
            out[~np.isfinite(np.asarray(values[metric], float))] = np.nan
    return out


def receded(values: dict[str, np.ndarray], centres: dict[str, float]) -> np.ndarray:
    """How far head and shoulders moved away from the camera since calibration.

    The log of how much both spans shrank (>= 0); 0 where they came nearer or
    cannot be measured. Reclining moves them away, a slump brings them nearer.
    """
    n = len(next(iter(values.values())))
    if "ear_span" not in centres or "shoulder_span" not in centres:
        return np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        shrink = -0.5 * (
            np.log(np.asarray(values["ear_span"], float) / centres["ear_span"])
            + np.log(np.asarray(values["shoulder_span"], float) / centres["shoulder_span"])
        )
    return np.where(np.isfinite(shrink), np.maximum(shrink, 0.0), 0.0)


def _robust_spread(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan")
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def _evidence_of(samples: Samples, baseline: Baseline, settings: JudgeSettings) -> np.ndarray:
    if not samples:
        return np.array([])
    n = len(next(iter(samples.values())))
    nan = np.full(n, np.nan)
    values = {m: np.asarray(samples.get(m, nan), float) for m in settings.weights}
    ev = slouch_evidence(values, baseline.centres(), settings.weights, settings.combine)
    return ev[np.isfinite(ev)]


def upright_spread(baseline: Baseline, settings: JudgeSettings) -> float:
    """Spread of the combined evidence over the calibration frames.

    Without stored frames (older profiles) the metrics' own spreads are added
    as if they moved together: the cautious, wider estimate.
    """
    weights = settings.weights
    ev = _evidence_of(baseline.upright, baseline, settings)
    if ev.size >= 3:
        return _robust_spread(ev)
    parts = [
        (
            w,
            baseline.stats[m].spread
            / (abs(baseline.stats[m].centre) if EVIDENCE[m].relative else 1.0)
            / EVIDENCE[m].unit,
        )
        for m, w in weights.items()
        if w > 0 and m in baseline.stats and baseline.stats[m].centre
    ]
    total = sum(w for w, _ in parts)
    return sum(w * s for w, s in parts if np.isfinite(s)) / total if total else float("nan")


def slouch_limit(
    baseline: Baseline, settings: JudgeSettings, sequence: bool = False
) -> tuple[float, str]:
    """The combined evidence's threshold and what placed it.

    One-point: ``slouch_k`` times the calibration spread, never over ``cap``
    nor under the noise floor. Two-point: between the upright centre (0) and the person's
    own slouch examples. Feedback moves it above frames the person called
    upright. Sensitivity of ``head_drop`` scales the result.

    ``sequence``: a recording or the live monitor, judged frame by frame for hours. There
    a frame alone counts only for a clear slouch, and two-point only raises that (a
    deep slouch). A subtle slouch's threshold sits inside the upright frames' own
    scatter: frame by frame it flagged 4-22% of the upright days of simulated people
    whose slouch step was accepted. A small slouch that holds is the sustained drop's
    (``core.sustained``), which averages that scatter away.
    """
    spread = upright_spread(baseline, settings)
    spread_thr = settings.slouch_k * (spread if np.isfinite(spread) else 0.0)
    thr = max(settings.floor, min(settings.cap, spread_thr))
    lowest = thr
    if sequence and settings.sustained > 0:
        # Under a clear slouch (CLEAR lines of the sustained drop), a sequence judges a
        # drop when it holds: an 8 s calibration's spread says little about a day's
        # scatter (one simulated person's two calibrations gave 0.05 and 0.48, and at
        # 0.05 a third of the day was flagged).
        lowest = max(thr, min(settings.cap, CLEAR * settings.sustained))
    how = "spread" if lowest == thr else "clear"
    slouch = _evidence_of(baseline.slouch, baseline, settings)
    if slouch.size:
        centre = float(np.median(slouch))
        # A calibration's few seconds show less of the upright wander than a day
        # does: take the wider spread the one-point rule assumes (its threshold
        # stands for three such spreads) before weighing the two clusters.
        s_up = thr / 3
        s_sl = max(_robust_spread(slouch) if slouch.size > 1 else 0.0, settings.floor / 3)
        # Between the two clusters, nearer the tighter one (equal spreads: halfway).
        between = max(settings.floor, centre * s_up / (s_up + s_sl))
        if not sequence or between >= lowest:
            lowest, how = between, "two-point"
    thr = lowest
    upright = _evidence_of(baseline.not_slouch, baseline, settings)
    if upright.size:
        need = float(np.quantile(upright, 0.9)) * FEEDBACK_MARGIN
        if need > thr:
            # Never above most of the person's own slouch examples.
            cap = float(np.quantile(slouch, 0.25)) if slouch.size else np.inf
            thr, how = min(need, max(cap, thr)), "feedback"
    return thr / settings.sensitivity.get(FRONT_SLOUCH, 1.0), how


def limits(
    baseline: Baseline, settings: JudgeSettings | None = None, sequence: bool = False
) -> Limits:
    """Every threshold judgement uses for this baseline (also drawn by the report);
    ``sequence``: for a recording or the live monitor, not stills (``slouch_limit``)."""
    settings = settings or JudgeSettings()
    issues = {}
    for issue, rule in DEFAULT_RULES.items():
        stats = baseline.stats.get(rule.metric)
        if rule.view != baseline.view or stats is None or not np.isfinite(stats.centre):
            continue
        if issue == FRONT_SLOUCH:
            continue  # judged by the combined evidence
        issues[issue] = settings.threshold(issue, stats.spread, stats.centre)
    if baseline.view != FRONT:
        return Limits(float("nan"), issues, "side")
    thr, how = slouch_limit(baseline, settings, sequence)
    return Limits(thr, issues, how)


Band = tuple[float, float | None, float | None]  # centre, lowest and highest accepted value


def metric_bands(
    baseline: Baseline, settings: JudgeSettings | None = None, slouch: float | None = None
) -> dict[str, Band]:
    """The range judgement accepts for every judged metric, in the metric's own units.

    The same rules as ``judge`` (what the report draws). ``slouch`` is the combined
    evidence's threshold when it is known from elsewhere (a run's recorded limit);
    by default ``limits`` places it. The evidence has a band per metric only when each
    metric must cross its own ("min", or a single metric); a weighted mean has none.
    Where two rules watch one metric, the nearer limit is the one that triggers.
    """
    settings = settings or JudgeSettings()
    lim = limits(baseline, settings)
    slouch = lim.slouch if slouch is None else slouch
    stats = baseline.stats
    rules = [(issue, DEFAULT_RULES[issue], lim.issues[issue]) for issue in lim.issues]
    used = [m for m, w in settings.weights.items() if w > 0 and m in stats]
    if np.isfinite(slouch) and (len(used) == 1 or settings.combine == "min"):
        for metric in used:
            ev = EVIDENCE[metric]
            rule = replace(
                DEFAULT_RULES[FRONT_SLOUCH],
                metric=metric,
                direction=ev.direction,
                relative=ev.relative,
            )
            rules.append((FRONT_SLOUCH, rule, slouch * ev.unit))
    bands: dict[str, Band] = {}
    for _issue, rule, threshold in rules:
        s = stats.get(rule.metric)
        if rule.view != baseline.view or s is None or not np.isfinite(s.centre):
            continue
        if rule.relative and s.centre == 0:
            continue
        step = threshold * abs(s.centre) if rule.relative else threshold
        low = s.centre - step if rule.direction <= 0 else None
        high = s.centre + step if rule.direction >= 0 else None
        if rule.metric in bands:
            _, old_low, old_high = bands[rule.metric]
            low = max((v for v in (low, old_low) if v is not None), default=None)
            high = min((v for v in (high, old_high) if v is not None), default=None)
        bands[rule.metric] = (s.centre, low, high)
    return bands


def issue_names(severity: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Per frame, the ";"-joined names of the issues over their threshold ("" for none).

    Vectorised for long recordings: each frame's set of issues becomes a bit
    code, and every possible code's joined names are built once, in rule order.
    """
    names = tuple(severity)
    codes = np.zeros(n, np.intp)
    for bit, name in enumerate(names):
        codes |= (severity[name] > 1.0).astype(np.intp) << bit  # NaN is not over
    return _joined_names(names)[codes]


@functools.lru_cache(maxsize=16)
def _joined_names(names: tuple[str, ...]) -> np.ndarray:
    """Every subset of ``names`` joined by ";", indexed by its bit code (built once)."""
    joined = np.empty(1 << len(names), dtype=object)
    joined[:] = [
        ";".join(name for bit, name in enumerate(names) if code >> bit & 1)
        for code in range(joined.size)
    ]
    joined.flags.writeable = False
    return joined


def judge(
    metrics: MetricTable,
    baseline: Baseline | dict[str, MetricStats],
    view: str,
    settings: JudgeSettings | None = None,
    sequence: bool = False,
) -> Judgement:
    """Compare every frame with the baseline; only the baseline's view is judged.

    ``sequence``: the frames are a recording or the live monitor (``limits``). A
    sequence's moving baseline (``adapt``) is applied after, by ``with_evidence``.
    """
    settings = settings or JudgeSettings()
    if not isinstance(baseline, Baseline):
        baseline = Baseline(view, dict(baseline))
    n = len(metrics)
    lim = limits(replace(baseline, view=view), settings, sequence)
    severity: dict[str, np.ndarray] = {}
    for issue, limit in lim.issues.items():
        rule = DEFAULT_RULES[issue]
        stats = baseline.stats[rule.metric]
        with np.errstate(invalid="ignore"):
            severity[issue] = deviation(metrics[rule.metric], rule, stats) / limit

    evidence, drop, away = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
    if view == FRONT:
        centres = baseline.centres()
        evidence = slouch_evidence(metrics.values, centres, settings.weights, settings.combine)
        severity[FRONT_SLOUCH] = evidence / lim.slouch
        if "ear_height" in centres:
            drop = slouch_evidence(metrics.values, centres, {"ear_height": 1.0})
        away = receded(metrics.values, centres)
    ear = baseline.stats.get("ear_span")
    head_scale = (
        metrics["ear_span"] / ear.centre
        if ear is not None and np.isfinite(ear.centre) and ear.centre > 0
        else np.full(n, np.nan)
    )
    return _verdict(severity, n, head_scale, evidence, lim.slouch, drop, away)


def _verdict(
    severity: dict[str, np.ndarray],
    n: int,
    head_scale: np.ndarray,
    evidence: np.ndarray,
    limit: float,
    drop: np.ndarray,
    away: np.ndarray,
) -> Judgement:
    """Score, verdict and issue names from each issue's severity."""
    slouch_keys = [k for k in severity if DEFAULT_RULES[k].slouch]
    worst = np.full(n, np.nan)
    if slouch_keys:
        stacked = np.vstack([severity[k] for k in slouch_keys])
        measurable = ~np.all(np.isnan(stacked), axis=0)
        worst[measurable] = np.nanmax(stacked[:, measurable], axis=0)
    # 100 = as calibrated, 50 = at the threshold, 0 = twice the threshold or worse.
    score = np.clip(100.0 * (1.0 - worst / 2.0), 0.0, 100.0)
    slouched = np.where(np.isnan(worst), np.nan, (worst > 1.0).astype(float))
    issues = issue_names({k: severity[k] for k in DEFAULT_RULES if k in severity}, n)
    return Judgement(
        score, slouched, issues, head_scale, worst, severity, evidence, limit, drop, away
    )


def sequence_inputs(verdict: Judgement, settings: JudgeSettings) -> tuple[np.ndarray, np.ndarray]:
    """What a sequence (one fixed camera) judges by: the evidence and the sustained drop.

    Both give back what reclining explains (``receded``, by ``settings.recline``); the drop
    is in units of its line (NaN when the sustained drop is off).
    """
    back = settings.recline * verdict.receded
    evidence = verdict.evidence - back
    if not settings.sustained > 0:
        return evidence, np.full(len(evidence), np.nan)
    return evidence, (verdict.drop - back) / settings.sustained


def given_back(verdict: Judgement, settings: JudgeSettings) -> np.ndarray:
    """Per frame, how much of the sustained drop's input reclining gave back, in its lines."""
    if not settings.sustained > 0:
        return np.zeros(len(verdict.receded))
    return settings.recline * verdict.receded / settings.sustained


def with_evidence(
    verdict: Judgement, evidence: np.ndarray, sustained: np.ndarray | None = None
) -> Judgement:
    """The same judgement with the front slouch evidence replaced (a sequence's view of it).

    ``evidence``: after the moving baseline; NaN makes the frame undecided (after a
    setup change nothing is judged, not even the other issues). ``sustained``: the
    sustained drop's severity (``core.sustained``); the slouch is the worse of the two.
    """
    undecided = np.isnan(evidence)
    severity = {
        k: np.where(undecided, np.nan, v) for k, v in verdict.severity.items() if k != FRONT_SLOUCH
    }
    slouch = evidence / verdict.limit
    if sustained is not None:
        with np.errstate(invalid="ignore"):
            slouch = np.where(undecided, np.nan, np.fmax(slouch, sustained))
    severity[FRONT_SLOUCH] = slouch
    return _verdict(
        severity,
        len(evidence),
        verdict.head_scale,
        evidence,
        verdict.limit,
        verdict.drop,
        verdict.receded,
    )
