"""What judgement compares against: issue rules, slouch evidence, settings and baselines.

Data and its validation only; ``posturecam.core.judge`` does the judging. Every
profile stores its ``JudgeSettings``, so a replay can be reproduced exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from posturecam.core.geometry import FRONT, SIDE


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
    # Front view (laptop camera). head_drop names the combined slouch evidence
    # (see EVIDENCE); its own metric is what the report traces.
    "head_drop": IssueRule("ear_height", -1, 0.12, True, True, FRONT),
    "head_forward": IssueRule("neck_height", -1, 0.25, True, False, FRONT),
    "leaning_in": IssueRule("ear_span", +1, 0.15, True, False, FRONT),
    "side_lean": IssueRule("lateral_offset", 0, 0.15, False, False, FRONT),
    "shoulder_tilt": IssueRule("shoulder_tilt", 0, 6.0, False, False, FRONT),
    "head_tilt": IssueRule("head_tilt", 0, 10.0, False, False, FRONT),
    # Side view.
    "forward_head": IssueRule("neck_inclination", +1, 10.0, False, True, SIDE),
    "trunk_flexion": IssueRule("torso_inclination", +1, 10.0, False, True, SIDE),
}
FRONT_SLOUCH = "head_drop"  # the front view's one slouch issue: the combined evidence


@dataclass(frozen=True)
class Evidence:
    """One metric's say in the front view's slouch evidence.

    ``unit`` is the deviation of a clear slouch in this metric, so metrics of
    different kinds (ratios, degrees) add up on one scale: 1.0 = a clear slouch.
    """

    metric: str
    direction: int  # -1: lower is worse
    relative: bool
    unit: float


EVIDENCE: dict[str, Evidence] = {
    "ear_height": Evidence("ear_height", -1, True, 0.20),
    "head_height": Evidence("head_height", -1, True, 0.30),
    "neck_height": Evidence("neck_height", -1, True, 0.20),
    "neck_angle": Evidence("neck_angle", +1, False, 8.0),
    "ear_span": Evidence("ear_span", +1, True, 0.12),
}
# A slump lowers the whole head towards the shoulders: the nose (head_height)
# and the ears (ear_height) both drop. A glance at the keyboard pitches the head
# about an axis near the ears, so it drops the nose far more than the ears; a
# head tipped back drops the ears but raises the nose. Requiring both ("min")
# keeps glances and nods out of the evidence (chosen from this, not from data;
# benchmarks/evaluate.py also reports letting the data choose the metrics).
DEFAULT_WEIGHTS: dict[str, float] = {"ear_height": 1.0, "head_height": 1.0}
DEFAULT_COMBINE = "min"
COMBINES = ("mean", "min")
# Chosen by benchmarks/evaluate.py on all development subjects from a fixed
# grid (it re-makes the choice without each subject it scores, and reports that
# figure): the one-point threshold is slouch_k calibration spreads, but never
# more than DEFAULT_CAP of a clear slouch, so a restless calibration cannot hide
# a slump more than half as deep as a clear one.
DEFAULT_SLOUCH_K = 5.0
DEFAULT_CAP = 0.5
# The smallest slouch evidence that is judged at all, in EVIDENCE units: three
# times the frame-to-frame landmark noise of the combined evidence measured on
# a still person (benchmarks/evaluate.py prints the measurement).
DEFAULT_FLOOR = 0.05
# Sequences only (a fixed camera, so a body that shrinks in the image moved away):
# evidence given back per unit of ``judge.receded``. In the simulated recline
# (tests/simperson.py) the evidence rises about as much as the spans shrink (log):
# 0.10-0.14 against 0.12-0.16, so 1.0 cancels it; a slump brings the head nearer and
# is never discounted. Stills are not corrected: between
# photos the camera moves, not the person.
DEFAULT_RECLINE = 1.0
# Sequences only: the line of the sustained drop (``core.sustained``), in EVIDENCE
# units of the ears' drop. The smallest slouch this tool is asked to catch lowers the
# nose by 4% of head height and the ears by about 2.7% of it (0.135 units); the line
# sits at two thirds of that, so a window's median crosses it within seconds.
DEFAULT_SUSTAINED = 0.09
# A "that was not a slouch" example's evidence must stay this far under the threshold.
FEEDBACK_MARGIN = 1.2
MAX_EXAMPLES = 200  # per label in a profile, newest kept


@dataclass(frozen=True)
class JudgeSettings:
    """Knobs of judgement; stored in every profile so a replay can be reproduced."""

    noise_k: float = 3.0  # issue rules: threshold = max(floor, noise_k * spread)
    sensitivity: dict[str, float] = field(default_factory=dict)  # issue -> multiplier
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    floor: float = DEFAULT_FLOOR  # slouch evidence: the smallest threshold
    slouch_k: float = DEFAULT_SLOUCH_K  # slouch evidence: threshold = slouch_k * spread
    combine: str = DEFAULT_COMBINE  # slouch evidence: "mean" or "min" of its metrics
    cap: float = DEFAULT_CAP  # slouch evidence: the largest one-point threshold
    recline: float = DEFAULT_RECLINE  # sequences: evidence given back per unit receded
    sustained: float = DEFAULT_SUSTAINED  # sequences: line of the sustained drop; 0 = off

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
        return {
            "noise_k": self.noise_k,
            "sensitivity": dict(self.sensitivity),
            "weights": dict(self.weights),
            "floor": self.floor,
            "slouch_k": self.slouch_k,
            "combine": self.combine,
            "cap": self.cap,
            "recline": self.recline,
            "sustained": self.sustained,
        }

    @classmethod
    def from_dict(cls, data: dict) -> JudgeSettings:
        weights = data.get("weights", DEFAULT_WEIGHTS)
        if not isinstance(weights, dict) or not weights:
            raise ValueError("weights must be a table of metric = weight")
        unknown = set(weights) - set(EVIDENCE)
        if unknown:
            raise ValueError(
                f"unknown evidence metric(s) {sorted(unknown)}; known: {sorted(EVIDENCE)}"
            )
        clean = {str(k): float(v) for k, v in weights.items()}
        if any(not (np.isfinite(v) and v >= 0) for v in clean.values()) or not any(clean.values()):
            raise ValueError("weights must be numbers >= 0, at least one above 0")
        noise_k = float(data.get("noise_k", 3.0))
        slouch_k = float(data.get("slouch_k", DEFAULT_SLOUCH_K))
        floor = float(data.get("floor", DEFAULT_FLOOR))
        cap = float(data.get("cap", DEFAULT_CAP))
        recline = float(data.get("recline", DEFAULT_RECLINE))
        sustained = float(data.get("sustained", DEFAULT_SUSTAINED))
        if not (np.isfinite(noise_k) and noise_k >= 0 and np.isfinite(slouch_k) and slouch_k >= 0):
            raise ValueError("noise_k and slouch_k must be numbers >= 0")
        if not (np.isfinite(floor) and floor > 0):
            raise ValueError("floor must be a number > 0")
        if not all(np.isfinite(v) and v >= 0 for v in (recline, sustained)):
            raise ValueError("recline and sustained must be numbers >= 0")
        if not (np.isfinite(cap) and cap >= floor):
            raise ValueError(f"cap must be a number >= floor ({floor:g})")
        combine = data.get("combine", DEFAULT_COMBINE)
        if combine not in COMBINES:
            raise ValueError(f"combine must be one of {COMBINES}, got {combine!r}")
        settings = cls(
            noise_k=noise_k,
            weights=clean,
            floor=floor,
            slouch_k=slouch_k,
            combine=combine,
            cap=cap,
            recline=recline,
            sustained=sustained,
        )
        return settings.with_sensitivity(
            **{k: float(v) for k, v in data.get("sensitivity", {}).items()}
        )


@dataclass(frozen=True)
class MetricStats:
    centre: float
    spread: float  # robust standard deviation (1.4826 * MAD)
    n: int


Samples = dict[str, np.ndarray]  # metric -> values of some frames (one row per frame)


@dataclass(frozen=True, eq=False)
class Baseline:
    """A person's own reference: upright statistics and, when known, example frames.

    ``upright`` holds the calibration frames' metrics; ``slouch`` the frames of
    a two-point calibration or "I am slouching now" feedback; ``not_slouch``
    frames the person said were not a slouch. Thresholds are placed from these
    (see ``limits``), so a person who slouches subtly gets a threshold that fits.
    """

    view: str
    stats: dict[str, MetricStats]
    upright: Samples = field(default_factory=dict)
    slouch: Samples = field(default_factory=dict)
    not_slouch: Samples = field(default_factory=dict)

    def centres(self) -> dict[str, float]:
        return {k: s.centre for k, s in self.stats.items() if np.isfinite(s.centre)}
