"""A baseline that keeps up with a sequence: slow drift followed, a moved camera noticed.

Pure and sequential (each frame's verdict depends on what came before), with
time from frame timestamps only, so replay, rescore and the live monitor agree.

- **Drift**: while the person has sat calmly (evidence well under the
  threshold) for a while, the zero of the slouch evidence follows their frames
  slowly, so someone who settles into the chair after calibrating is not
  judged against their first seconds. The drift is bounded (a fraction of the
  threshold), so a slouch well past the threshold is always still caught, and
  it never moves while the person is drifting or slouching.
- **Setup change**: when the camera or laptop moves, the shoulders and the head
  jump together in the image (both spans scale by the same factor, or both
  shift) and stay. A slouch moves the head against the shoulders instead. After
  a change, frames are undecided (never good or bad) until the baseline has
  re-anchored on a few seconds of the new view, or the person recalibrates.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posturecam.core.sustained import ACTIVE, SustainedDrop
from posturecam.core.temporal import Event, from_known

SETUP_CHANGED = "setup_changed"
_NONE: list = []  # shared "no events" (never appended to): most frames have none
REANCHORED = "baseline_reanchored"
_NO_DROP = (math.nan, 0.0)  # the sustained drop's output when it does not judge


@dataclass(frozen=True)
class AdaptSettings:
    """Knobs of the moving baseline, in seconds and evidence-threshold fractions."""

    drift_tau_s: float = 300.0  # time constant of following drift; 0 = never follow
    settle_s: float = 20.0  # calm this long before drift is followed
    calm_below: float = 0.5  # |severity| under which a frame counts as calm
    max_drift: float = 0.5  # the furthest the zero may move, as a fraction of the threshold
    setup_scale: float = 0.2  # both spans change by this factor (log): the camera moved
    setup_shift: float = 0.5  # or the shoulders shift this many shoulder widths...
    setup_together: float = 0.07  # ...while head and shoulders scale alike (log difference)
    setup_turn_deg: float = 10.0  # ...and the body has not turned (a turn shrinks spans too)
    setup_hold_s: float = 10.0  # and the new view holds this long
    reanchor_s: float = 8.0  # steady frames of the new view that re-anchor the baseline
    reference_tau_s: float = 30.0  # how fast the reference view follows calm frames

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not (isinstance(value, (int, float)) and not isinstance(value, bool)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdaptSettings:
        return from_known(cls, data, "baseline")


# Where the body sits in the image: (log shoulder span, log ear span, shoulder
# midpoint x and y / image width, shoulder yaw in degrees). A plain tuple: the
# tracker runs once per frame over recordings of a million frames.
View = tuple[float, float, float, float, float]


def jumped(view: View, ref: View, s: AdaptSettings) -> bool:
    """Head and shoulders moved together, far, without the body turning: the camera moved."""
    d_sh = view[0] - ref[0]
    if (
        abs((view[1] - ref[1]) - d_sh) >= s.setup_together
        or abs(view[4] - ref[4]) > s.setup_turn_deg
    ):
        return False
    if abs(d_sh) > s.setup_scale:
        return True
    return math.hypot(view[2] - ref[2], view[3] - ref[3]) > s.setup_shift * math.exp(ref[0])


@dataclass
class BaselineTracker:
    """``update`` once per judged frame; ``reset`` after a recalibration or a pause."""

    limit: float  # the slouch evidence's threshold (drift is bounded by a share of it)
    settings: AdaptSettings = field(default_factory=AdaptSettings)

    def __post_init__(self) -> None:
        self._drop = SustainedDrop()
        self.reset()

    def accept_upright(self) -> bool:
        """The person says they sit upright now (feedback): the sustained drop re-anchors."""
        accepted = self._drop.accept()
        if accepted:
            self.drop = _NO_DROP
        return accepted

    def reset(self) -> None:
        self._drop.reset()
        self.drop = _NO_DROP  # the sustained drop's severity and credit at the last frame
        self.offset = 0.0  # the evidence's moving zero
        self._anchor_offset = 0.0  # where the zero was set: drift is bounded around it
        self._calm_s = 0.0
        self._last_t: float | None = None
        self._ref: View | None = None
        self._pending_since: float | None = None
        self._changed_at: float | None = None  # a setup change waits for re-anchoring
        self._anchor: list[tuple[float, float, View]] = []
        self.max_offset = 0.0
        self._shift_for: View | None = None
        self._shift_lim = 0.0
        self._pull_dt, self._pull = math.nan, (0.0, 0.0)

    def _shift_px(self, ref: View) -> float:
        """The shift (in image widths) that counts as a moved camera for this reference."""
        if ref is not self._shift_for:
            self._shift_for, self._shift_lim = ref, self.settings.setup_shift * math.exp(ref[0])
        return self._shift_lim

    @property
    def sustained(self) -> float:
        """The sustained drop's severity at the last frame (NaN: not judged)."""
        return self.drop[0]

    @property
    def credit(self) -> float:
        """How long the sustained drop says the slouch has held, in seconds."""
        return self.drop[1]

    @property
    def waiting(self) -> bool:
        """True after a setup change, until the baseline has re-anchored."""
        return self._changed_at is not None

    def update(
        self,
        t_s: float,
        evidence: float,
        view: View | None,
        carried_over: bool = False,
        drop: float = math.nan,
        given: float = 0.0,
    ) -> tuple[float, list[Event]]:
        """The evidence to judge this frame by (NaN: undecided) and any events.

        ``drop``: the frame's input to the sustained drop (in units of its line);
        its severity and credit are left in ``drop`` (``sustained``, ``credit``).
        ``given``: how much of it the recline correction gave back (``judge.given_back``).
        """
        self._step_drop(t_s, drop, carried_over, given)
        s = self.settings
        last = self._last_t
        dt = 0.0 if last is None or t_s < last else t_s - last
        self._last_t = t_s
        if dt > 5.0:  # a gap (sleep, pause): nothing about it is known
            self._calm_s, self._pending_since = 0.0, None
        if view is None or evidence != evidence:  # NaN: cannot measure
            if view is None:  # nobody (or no shoulders) to see: a jump cannot be holding
                self._pending_since = None
            return (math.nan if self._changed_at is not None else evidence - self.offset), _NONE
        if self._changed_at is not None:
            events: list[Event] = []
            return self._reanchor(t_s, evidence, view, events), events
        ref = self._ref
        # Cheap necessary test first (|dx| + |dy| bounds the shift): most frames stop here.
        if (
            ref is not None
            and (
                abs(view[0] - ref[0]) > s.setup_scale
                or abs(view[2] - ref[2]) + abs(view[3] - ref[3])
                > (self._shift_lim if ref is self._shift_for else self._shift_px(ref))
            )
            and jumped(view, ref, s)
        ):
            if self._pending_since is None:
                self._pending_since = t_s
            if t_s - self._pending_since < s.setup_hold_s:
                return evidence - self.offset, _NONE
            self._changed_at, self._anchor = t_s, []
            since = round(self._pending_since, 3)
            return math.nan, [Event(t_s, SETUP_CHANGED, {"since_s": since})]
        self._pending_since = None
        judged = evidence - self.offset
        # Not calm (no pull): near the threshold, or a sustained drop going on.
        if carried_over or abs(judged) >= s.calm_below * self.limit or self.drop[0] > ACTIVE:
            if not carried_over:
                self._calm_s = 0.0
                if ref is None:
                    self._ref = view
            return judged, _NONE
        self._calm_s += dt
        self._follow(dt, evidence, view)
        return judged, _NONE

    def _step_drop(self, t_s: float, drop: float, carried_over: bool, given: float) -> None:
        if self._changed_at is None:
            self.drop = self._drop.update(t_s, drop, carried_over, given)
        elif self.drop is not _NO_DROP:  # a moved camera: the drop starts over with it
            self._drop.reset()
            self.drop = _NO_DROP

    def _pulls(self, dt: float) -> tuple[float, float]:
        """How far one frame ``dt`` after the last pulls the reference view and the zero.

        Frames mostly come at one rate, so the pair is kept for the last ``dt``.
        """
        if dt != self._pull_dt:
            s = self.settings
            a = 1.0 - math.exp(-dt / s.reference_tau_s) if s.reference_tau_s > 0 else 1.0
            alpha = 1.0 - math.exp(-dt / s.drift_tau_s) if s.drift_tau_s > 0 else 0.0
            self._pull_dt, self._pull = dt, (a, alpha)
        return self._pull

    def _follow(self, dt: float, evidence: float, view: View) -> None:
        """A calm frame: the reference view follows it, and after settling so does the zero."""
        s, ref = self.settings, self._ref
        a, alpha = self._pull if dt == self._pull_dt else self._pulls(dt)
        if ref is None:
            self._ref = view
        elif dt > 0:
            self._ref = (
                ref[0] + a * (view[0] - ref[0]),
                ref[1] + a * (view[1] - ref[1]),
                ref[2] + a * (view[2] - ref[2]),
                ref[3] + a * (view[3] - ref[3]),
                ref[4] + a * (view[4] - ref[4]),
            )
        if s.drift_tau_s > 0 and self._calm_s >= s.settle_s and dt > 0:
            bound = s.max_drift * self.limit
            low, high = self._anchor_offset - bound, self._anchor_offset + bound
            self.offset = min(max(self.offset + alpha * (evidence - self.offset), low), high)
            self.max_offset = max(self.max_offset, abs(self.offset - self._anchor_offset))

    def _reanchor(self, t_s: float, evidence: float, view: View, events: list[Event]) -> float:
        """Collect steady frames of the new view; then take them as the new zero."""
        s = self.settings
        if self._anchor and jumped(view, self._anchor[-1][2], s):
            self._anchor = []  # still moving: start over
        self._anchor.append((t_s, evidence, view))
        if t_s - self._anchor[0][0] >= s.reanchor_s:
            self.offset = float(np.median([e for _, e, _ in self._anchor]))
            self._anchor_offset = self.offset
            self._ref = self._anchor[-1][2]
            waited = t_s - (self._changed_at or t_s)
            self._changed_at, self._anchor, self._calm_s = None, [], 0.0
            events.append(
                Event(
                    t_s, REANCHORED, {"after_s": round(waited, 1), "offset": round(self.offset, 4)}
                )
            )
        return math.nan


def views_of(values: dict[str, np.ndarray]) -> list[View | None]:
    """Per frame, where the body sits (None where the spans cannot be measured)."""
    sh, ear = values["shoulder_span"], values["ear_span"]
    x, y, yaw = values["shoulder_x"], values["shoulder_y"], values["shoulder_yaw"]
    with np.errstate(invalid="ignore", divide="ignore"):
        ls, le = np.log(sh), np.log(ear)
    ok = np.isfinite(ls) & np.isfinite(le) & np.isfinite(x) & np.isfinite(y) & np.isfinite(yaw)
    rows = zip(ls.tolist(), le.tolist(), x.tolist(), y.tolist(), yaw.tolist(), strict=True)
    return [r if good else None for r, good in zip(rows, ok.tolist(), strict=True)]


@dataclass(frozen=True, eq=False)
class Followed:
    """A sequence's evidence after the moving baseline, with what it did."""

    evidence: np.ndarray  # NaN where undecided after a setup change
    offset: np.ndarray  # the evidence's zero at each frame
    events: list[Event]
    max_offset: float  # the furthest drift went from where the zero was set
    sustained: np.ndarray  # the sustained drop's severity (NaN: not judged)
    credit: np.ndarray  # ...and how long it says the slouch has held, in seconds


def follow_baseline(
    t_s: np.ndarray,
    evidence: np.ndarray,
    values: dict[str, np.ndarray],
    limit: float,
    settings: AdaptSettings | None = None,
    carried_over: np.ndarray | None = None,
    drop: np.ndarray | None = None,
    given: np.ndarray | None = None,
) -> Followed:
    """Run the tracker over a recording: the same rules, frame by frame, as live.

    ``drop``: per frame, the sustained drop's input in units of its line (None: off);
    ``given``: how much of that input the recline correction gave back.
    """
    tracker = BaselineTracker(limit, settings or AdaptSettings())
    events: list[Event] = []
    views = views_of(values)
    n = len(evidence)
    carried = carried_over.tolist() if carried_over is not None else [False] * n
    drops = drop.tolist() if drop is not None else [math.nan] * n
    gave = given.tolist() if given is not None else [0.0] * n
    update = tracker.update
    judged, zeros, dropped = [], [], []
    add_j, add_z, add_d = judged.append, zeros.append, dropped.append
    rows = zip(t_s.tolist(), evidence.tolist(), views, carried, drops, gave, strict=True)
    for t, e, v, c, d, r in rows:
        j, new = update(t, e, v, c, d, r)
        add_j(j)
        add_z(tracker.offset)
        add_d(tracker.drop)
        if new:
            events.extend(new)
    pairs = np.fromiter(itertools.chain.from_iterable(dropped), float, count=2 * n)
    severity, credit = pairs.reshape(n, 2).T
    return Followed(
        np.array(judged, float),
        np.array(zeros, float),
        events,
        tracker.max_offset,
        severity.copy(),
        credit.copy(),
    )
