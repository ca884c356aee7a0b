"""Live scoring of one frame: metrics and judgement against the profile, the session's moving
baseline, and the timeline, through the same geometry, judgement and temporal layer as replay."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from posturecam.core.adapt import AdaptSettings, BaselineTracker, views_of
from posturecam.core.geometry import FRONT, MetricTable, compute_metrics
from posturecam.core.judge import given_back, judge, limits, sequence_inputs, with_evidence
from posturecam.core.rules import JudgeSettings
from posturecam.core.temporal import Event, PostureTimeline, Step, TemporalSettings
from posturecam.core.types import Frame, LandmarkBatch, Landmarks
from posturecam.live.states import SLOUCHED
from posturecam.profiles import Profile


@dataclass(frozen=True)
class FrameVerdict:
    """One frame judged: what the overlay shows and the timeline consumes."""

    present: bool | None  # None: the frame itself was unusable
    worst: float  # NaN: cannot measure
    score: float  # NaN: cannot measure
    issues: tuple[str, ...]
    view: str
    metrics: dict[str, float]
    carried_over: bool = False  # landmarks reused from an earlier frame: the model did not run
    events: tuple[Event, ...] = ()  # the moving baseline's (setup changed, re-anchored)
    credit_s: float = 0.0  # how long the sustained drop says the slouch has held


def judge_frame(
    frame: Frame,
    landmarks: Landmarks,
    profile: Profile,
    settings: JudgeSettings,
    tracker: BaselineTracker | None = None,
    carried_over: bool = False,
) -> FrameVerdict:
    """Metrics and judgement of one frame against the profile (a batch of one).

    ``tracker`` is the session's moving baseline: the same rules replay applies.
    """
    if frame.image is None or not landmarks.detected:
        events: tuple[Event, ...] = ()
        if tracker is not None:  # replay's tracker sees these frames too: so must this one
            events = tuple(tracker.update(frame.t_s, math.nan, None, carried_over)[1])
        present = None if frame.image is None else False
        return FrameVerdict(present, math.nan, math.nan, (), "", {}, carried_over, events)
    batch = LandmarkBatch.stack([landmarks])
    table: MetricTable = compute_metrics(batch, np.array([frame.image.shape[1]]), profile.view)
    verdict = judge(table, profile.baseline(), profile.view, settings, sequence=True)
    events: tuple[Event, ...] = ()
    credit = 0.0
    if tracker is not None and np.isfinite(verdict.limit):
        view = views_of(table.values)[0]
        evidence, drop = sequence_inputs(verdict, settings)
        given = float(given_back(verdict, settings)[0])
        moved, new = tracker.update(
            frame.t_s, float(evidence[0]), view, carried_over, float(drop[0]), given
        )
        verdict = with_evidence(verdict, np.array([moved]), np.array([tracker.sustained]))
        events, credit = tuple(new), tracker.credit
    issues = str(verdict.issues[0])
    return FrameVerdict(
        present=True,
        worst=float(verdict.worst[0]),
        score=float(verdict.score[0]),
        issues=tuple(issues.split(";")) if issues else (),
        view=str(table.view[0]),
        metrics={k: float(v[0]) for k, v in table.values.items()},
        carried_over=carried_over,
        events=events,
        credit_s=credit,
    )


@dataclass(frozen=True)
class ScoringOptions:
    """How the live monitor judges: the same settings replay takes."""

    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    judge: JudgeSettings | None = None  # None: the profile's own settings
    adapt: AdaptSettings = field(default_factory=AdaptSettings)


class LiveScorer:
    """Judges frames one at a time into a timeline; ``restart`` begins a fresh one."""

    def __init__(self, options: ScoringOptions | None = None) -> None:
        self.options = options or ScoringOptions()
        self.timeline = PostureTimeline(self.options.temporal)
        self._tracker: BaselineTracker | None = None
        self._tracker_key: tuple[int, JudgeSettings] | None = None

    def settings(self, profile: Profile) -> JudgeSettings:
        """The judge settings in force: the monitor's, else the profile's own."""
        return self.options.judge or profile.settings

    def score(
        self, frame: Frame, landmarks: Landmarks, carried: bool, profile: Profile
    ) -> tuple[FrameVerdict, Step]:
        """Judge one frame and move the timeline on to it."""
        tracker = self._baseline_tracker(profile)
        verdict = judge_frame(frame, landmarks, profile, self.settings(profile), tracker, carried)
        step = self.timeline.update(
            frame.t_s, verdict.present, verdict.worst, verdict.issues, verdict.credit_s
        )
        return verdict, step

    @property
    def slouched_s(self) -> float:
        """Slouched time in the current timeline."""
        return sum(self.timeline.time_in[s] for s in SLOUCHED)

    def accept_upright(self) -> bool:
        """ "Not slouching": the sustained drop takes the person's current level as upright."""
        return self._tracker is not None and self._tracker.accept_upright()

    def restart(self) -> Counter[str]:
        """A fresh timeline and moving baseline (after a pause, a gap or recalibration);
        the time the old timeline counted in each state."""
        time_in = self.timeline.time_in
        self.timeline = PostureTimeline(self.options.temporal)
        self._tracker = None
        return time_in

    def _baseline_tracker(self, profile: Profile) -> BaselineTracker | None:
        """The session's moving baseline, new whenever the profile or its threshold changes."""
        if profile.view != FRONT:
            return None
        settings = self.settings(profile)
        key = (id(profile), settings)
        if self._tracker is None or self._tracker_key != key:  # not per frame: per profile
            limit = limits(profile.baseline(), settings, sequence=True).slouch
            if self._tracker is None or self._tracker.limit != limit:
                self._tracker = BaselineTracker(limit, self.options.adapt)
            self._tracker_key = key
        return self._tracker
