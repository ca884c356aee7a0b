"""Analyse a landmark log: the frames table's columns, the states and the coached events.

What replay and rescore both write, from the same engine as the live monitor:
scoring (``scoring.score``), the timeline's states, and the events the coach
turns into advice. No model, no files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from posturecam.core.coach import Coach
from posturecam.core.geometry import METRICS
from posturecam.core.temporal import follow
from posturecam.frames.engine import LandmarkLog
from posturecam.research.options import ReplayOptions, ScoringOptions, scoring_of
from posturecam.research.scoring import Scored, score


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything scored from a landmark log: what replay and rescore write."""

    scored: Scored
    columns: dict[str, Any]
    events: list[dict[str, Any]]
    time_in: dict[str, float] | None


def analyse(log: LandmarkLog, options: ScoringOptions | ReplayOptions) -> Analysis:
    """Metrics, judgement, states and coached events of a log; no model, no files."""
    options = scoring_of(options)
    scored = score(log, options)
    metrics, verdict = scored.metrics, scored.judgement
    # True/False whether a person was found; None when the frame itself was unusable.
    detected, analysed = log.landmarks.detected.tolist(), log.analysed.tolist()
    present = [bool(d) if a else None for d, a in zip(detected, analysed, strict=True)]
    columns: dict[str, Any] = {
        "frame": log.frame,
        "t_s": log.t_s,
        "source": log.name,
        "detected": present,
        "view": metrics.view,
        **{name: metrics[name] for name in METRICS},
        "reason": metrics.reason,
    }
    story = None
    if verdict is not None:
        followed = scored.followed
        credit = followed.credit if followed is not None else None
        story = follow(log.t_s, present, verdict.worst, verdict.issues, options.temporal, credit)
        zero = (
            scored.followed.offset
            if scored.followed is not None
            else np.where(np.isfinite(verdict.evidence), 0.0, np.nan)
        )
        columns.update(
            head_scale=verdict.head_scale,
            evidence=verdict.evidence,
            evidence_zero=zero,
            score=verdict.score,
            slouched=verdict.slouched,
            state=story.states,
            issues=verdict.issues,
            sustained=(followed.sustained if followed is not None else np.full(len(log), np.nan)),
        )
    happened = list(story.events) if story else []
    if scored.followed is not None:
        # Stable by time: the baseline's events come before the timeline's at one instant.
        happened = sorted(scored.followed.events + happened, key=lambda e: e.t_s)
    coach = Coach()
    events = [coach.advise(e).to_dict() for e in happened]
    return Analysis(scored, columns, events, story.time_in if story else None)
