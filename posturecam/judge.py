"""Judge posture against the person's own baseline: named issues, a score, a verdict.

Pure and vectorised over frames. A frame whose metrics cannot be measured is
undecided (NaN score, empty verdict), never good or bad.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from posturecam.geometry import FRONT, SIDE, MetricTable


@dataclass(frozen=True)
class IssueRule:
    """One named deviation: which metric, which direction, how far is too far.

    ``relative`` rules compare ``(value - centre) / centre`` (scale-free
    ratios); absolute rules compare ``value - centre`` (degrees, offsets).
    The threshold is ``max(floor, noise_k * spread) / sensitivity``, so a
    noisy calibration widens it but a steady one never makes it twitchy.
    """

    metric: str
    direction: int  # +1: too high is bad, -1: too low is bad, 0: either way
    floor: float
    relative: bool
    slouch: bool  # counts towards the slouched verdict and the score
    view: str


DEFAULT_RULES: dict[str, IssueRule] = {
    # Front view (laptop camera). head_drop decides slouching: the nose falls
    # towards the shoulder line when the head drops, pitches or pokes forward.
    "head_drop": IssueRule("head_height", -1, 0.12, True, True, FRONT),
    "head_forward": IssueRule("neck_height", -1, 0.25, True, False, FRONT),
    "leaning_in": IssueRule("ear_span", +1, 0.15, True, False, FRONT),
    "side_lean": IssueRule("lateral_offset", 0, 0.15, False, False, FRONT),
    "shoulder_tilt": IssueRule("shoulder_tilt", 0, 6.0, False, False, FRONT),
    "head_tilt": IssueRule("head_tilt", 0, 10.0, False, False, FRONT),
    # Side view.
    "forward_head": IssueRule("neck_inclination", +1, 10.0, False, True, SIDE),
    "trunk_flexion": IssueRule("torso_inclination", +1, 10.0, False, True, SIDE),
}


@dataclass(frozen=True)
class JudgeSettings:
    """Knobs of judgement; stored in every profile so a replay can be reproduced."""

    noise_k: float = 3.0
    sensitivity: dict[str, float] = field(default_factory=dict)  # issue -> multiplier

    def threshold(self, issue: str, spread: float, centre: float) -> float:
        rule = DEFAULT_RULES[issue]
        noise = spread / abs(centre) if rule.relative and centre else spread
        base = max(rule.floor, self.noise_k * (noise if np.isfinite(noise) else 0.0))
        return base / self.sensitivity.get(issue, 1.0)

    def with_sensitivity(self, **values: float) -> JudgeSettings:
        unknown = set(values) - set(DEFAULT_RULES)
        if unknown:
            raise ValueError(f"unknown issue(s) {sorted(unknown)}; known: {sorted(DEFAULT_RULES)}")
        if any(not v > 0 for v in values.values()):
            raise ValueError("sensitivity must be greater than 0")
        return replace(self, sensitivity={**self.sensitivity, **values})

    def to_dict(self) -> dict:
        return {"noise_k": self.noise_k, "sensitivity": dict(self.sensitivity)}

    @classmethod
    def from_dict(cls, data: dict) -> JudgeSettings:
        settings = cls(noise_k=float(data.get("noise_k", 3.0)))
        return settings.with_sensitivity(
            **{k: float(v) for k, v in data.get("sensitivity", {}).items()}
        )


@dataclass(frozen=True)
class MetricStats:
    centre: float
    spread: float  # robust standard deviation (1.4826 * MAD)
    n: int


@dataclass(frozen=True, eq=False)
class Judgement:
    score: np.ndarray  # (N,) 0-100, NaN when undecided
    slouched: np.ndarray  # (N,) 1.0 / 0.0 / NaN
    issues: np.ndarray  # (N,) str, ";"-joined issue names
    head_scale: np.ndarray  # (N,) ear span relative to the baseline
    worst: np.ndarray  # (N,) worst slouch deviation over its threshold; NaN when undecided
    severity: dict[str, np.ndarray]  # issue -> deviation / threshold (>1 means present)


def deviation(values: np.ndarray, rule: IssueRule, stats: MetricStats) -> np.ndarray:
    """Signed deviation in the rule's bad direction (positive = worse)."""
    diff = values - stats.centre
    if rule.relative:
        diff = diff / abs(stats.centre) if stats.centre else np.full_like(values, np.nan)
    if rule.direction == 0:
        return np.abs(diff)
    return diff * rule.direction


def issue_names(severity: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Per frame, the ";"-joined names of the issues over their threshold ("" for none).

    Vectorised for long recordings: each frame's set of issues becomes a bit
    code, and every possible code's joined names are built once, in rule order.
    """
    names = list(severity)
    codes = np.zeros(n, np.intp)
    for bit, name in enumerate(names):
        codes |= (severity[name] > 1.0).astype(np.intp) << bit  # NaN is not over
    joined = np.empty(1 << len(names), dtype=object)
    joined[:] = [
        ";".join(name for bit, name in enumerate(names) if code >> bit & 1)
        for code in range(joined.size)
    ]
    return joined[codes]


def judge(
    metrics: MetricTable,
    baseline: dict[str, MetricStats],
    view: str,
    settings: JudgeSettings | None = None,
) -> Judgement:
    """Compare every frame with the baseline; only the baseline's view is judged."""
    settings = settings or JudgeSettings()
    n = len(metrics)
    severity: dict[str, np.ndarray] = {}
    for issue, rule in DEFAULT_RULES.items():
        stats = baseline.get(rule.metric)
        if rule.view != view or stats is None or not np.isfinite(stats.centre):
            continue
        limit = settings.threshold(issue, stats.spread, stats.centre)
        with np.errstate(invalid="ignore"):
            severity[issue] = deviation(metrics[rule.metric], rule, stats) / limit

    slouch_keys = [k for k in severity if DEFAULT_RULES[k].slouch]
    worst = np.full(n, np.nan)
    if slouch_keys:
        stacked = np.vstack([severity[k] for k in slouch_keys])
        measurable = ~np.all(np.isnan(stacked), axis=0)
        worst[measurable] = np.nanmax(stacked[:, measurable], axis=0)
    # 100 = as calibrated, 50 = at the threshold, 0 = twice the threshold or worse.
    score = np.clip(100.0 * (1.0 - worst / 2.0), 0.0, 100.0)
    slouched = np.where(np.isnan(worst), np.nan, (worst > 1.0).astype(float))

    issues = issue_names(severity, n)

    ear = baseline.get("ear_span")
    head_scale = (
        metrics["ear_span"] / ear.centre
        if ear is not None and np.isfinite(ear.centre) and ear.centre > 0
        else np.full(n, np.nan)
    )
    return Judgement(score, slouched, issues, head_scale, worst, severity)
