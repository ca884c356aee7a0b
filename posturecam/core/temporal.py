"""Turn per-frame verdicts into a calm, time-based story: states, alerts, away, breaks.

Time always comes from frame timestamps (``t_s``), never from frame counts or
the wall clock, so a replay at any frame rate and the live monitor agree.
Undecided frames (cannot measure) neither count as slouching nor reset it.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

UPRIGHT = "upright"
DRIFTING = "drifting"
SLOUCHING = "slouching"
ALERT = "alert"
AWAY = "away"
UNDECIDED = "undecided"
STATES = (UPRIGHT, DRIFTING, SLOUCHING, ALERT, AWAY, UNDECIDED)

CUE, STRETCH, BREAK = "cue", "stretch", "break"


@dataclass(frozen=True)
class TemporalSettings:
    """Every timing knob, in seconds; the defaults suit a day beside a laptop."""

    smoothing_s: float = 1.0  # EMA time constant of the slouch severity
    enter: float = 1.0  # smoothed severity above which a frame counts as slouched
    exit: float = 0.8  # ...and below which it counts as upright again (hysteresis)
    drifting_s: float = 10.0  # slouched this long -> slouching
    persistence_s: float = 60.0  # slouched this long -> alert
    recovery_s: float = 5.0  # sitting up for less than this does not reset the count
    cooldown_s: float = 600.0  # no repeat alert within this while still slouched
    escalation_window_s: float = 3600.0  # repeated alerts within this escalate
    away_s: float = 5.0  # no person this long -> away (timers reset)
    break_after_s: float | None = 3000.0  # continuous presence before a break reminder
    max_gap_s: float = 5.0  # longer gaps between frames are not counted as elapsed time

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if value is not None and not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if self.exit > self.enter:
            raise ValueError("exit must not be above enter (hysteresis)")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemporalSettings:
        return from_known(cls, data, "temporal")


def from_known(cls: Any, data: dict[str, Any], what: str) -> Any:
    """A settings dataclass from a table, refusing keys it does not know (typos)."""
    known = set(cls.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown {what} setting(s) {sorted(unknown)}; known: {sorted(known)}")
    return cls(**data)


@dataclass(frozen=True)
class Event:
    t_s: float
    type: str  # "state", "alert", "away", "back", "break"
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"t_s": round(self.t_s, 3), "type": self.type, **self.data}


class Step(NamedTuple):
    """What the machine says about one frame (a tuple: one is made for every frame)."""

    state: str
    smoothed: float  # smoothed severity (NaN when undecided)
    slouch_s: float  # slouched time counted in the current episode
    events: tuple[Event, ...]


class PostureTimeline:
    """The temporal state machine: ``update`` once per frame, ``reset`` to start over."""

    def __init__(self, settings: TemporalSettings | None = None) -> None:
        self.settings = settings or TemporalSettings()
        self.reset()

    def reset(self) -> None:
        self._state = UPRIGHT
        self._smoothed = math.nan
        self._raw = math.nan
        self._slouched = False
        self._slouch_s = 0.0
        self._recover_s = 0.0
        self._last_t: float | None = None
        self._absent_since: float | None = None
        self._away = False
        self._presence_s = 0.0
        self._alerted = False  # an alert fired in the current episode
        self._last_alert: float | None = None
        self._alerts: deque[float] = deque()
        self._issues: Counter[str | tuple[str, ...]] = Counter()  # issue sets this episode
        self.time_in: Counter[str] = Counter()

    @property
    def state(self) -> str:
        return AWAY if self._away else self._state

    def _set_state(self, new: str, t: float, events: list[Event]) -> None:
        if new != self._state:
            events.append(Event(t, "state", {"from": self._state, "to": new}))
            self._state = new

    def _episode_over(self) -> None:
        self._slouch_s = 0.0
        self._recover_s = 0.0
        self._alerted = False
        self._issues.clear()

    def update(
        self,
        t_s: float,
        present: bool | None,
        severity: float,
        issues: str | tuple[str, ...] = (),
        credit_s: float = 0.0,
    ) -> Step:
        """Advance to a frame at ``t_s``.

        ``present``: a person was detected (None: the frame itself was unusable,
        which says nothing about presence). ``severity``: the worst slouch
        deviation over its threshold (>1 = slouched), NaN when undecided.
        ``issues``: the frame's issue names, as a tuple or ";"-joined.
        ``credit_s``: how long the evidence itself says a slouch has already
        lasted (a windowed measure that is late by design); a slouched frame's
        count is at least this.
        """
        events: list[Event] = []
        label = self.advance(t_s, present, severity, issues, events, credit_s)
        smoothed = math.nan if label in (AWAY, UNDECIDED) else self._smoothed
        return Step(label, smoothed, self._slouch_s, tuple(events))

    def advance(
        self,
        t_s: float,
        present: bool | None,
        severity: float,
        issues: str | tuple[str, ...],
        events: list[Event],
        credit_s: float = 0.0,
    ) -> str:
        """``update`` without the Step: the frame's state, its events appended to ``events``.

        What ``follow`` runs over a recording (no Step per frame to build and discard).
        """
        s = self.settings
        last = self._last_t
        dt = 0.0 if last is None else t_s - last
        if dt < 0:
            raise ValueError(f"time went backwards: {t_s} after {last}")
        if dt > s.max_gap_s:
            dt = s.max_gap_s
        self._last_t = t_s

        if not present:
            if present is not None:
                self._absent(t_s, events)
            label = AWAY if self._away else UNDECIDED
            self.time_in[label] += dt
            return label
        self._present(t_s, dt, events)
        if severity != severity:  # NaN: undecided
            self.time_in[UNDECIDED] += dt
            return UNDECIDED

        before = self._smoothed
        self._smooth(severity, dt)
        line = s.exit if self._slouched else s.enter
        was = self._slouched
        self._slouched = self._smoothed > line

        if self._slouched:
            counted = dt
            if not was and before == before and self._smoothed != before:
                # Count from where the smoothed curve crossed the line, not the last frame.
                frac = min(max((line - before) / (self._smoothed - before), 0.0), 1.0)
                counted = (1.0 - frac) * dt
            if credit_s > self._slouch_s + counted:  # the evidence dates it further back
                counted = credit_s - self._slouch_s
            self._slouched_for(t_s, counted, issues, events)
        elif self._state != UPRIGHT:
            self._recover_s += dt
            if self._recover_s >= s.recovery_s:
                self._set_state(UPRIGHT, t_s, events)
                self._episode_over()
        self.time_in[self._state] += dt
        return self._state

    def _present(self, t_s: float, dt: float, events: list[Event]) -> None:
        """A person is there: back after being away, and a break reminder when one is due."""
        s = self.settings
        if self._away:
            self._away = False
            gone = t_s - (self._absent_since if self._absent_since is not None else t_s)
            events.append(Event(t_s, "back", {"away_s": round(gone, 3)}))
        self._absent_since = None
        self._presence_s += dt
        if s.break_after_s is not None and self._presence_s >= s.break_after_s:
            events.append(Event(t_s, "break", {"present_s": round(self._presence_s, 1)}))
            self._presence_s = 0.0

    def _smooth(self, severity: float, dt: float) -> None:
        """Exponential smoothing with a trapezoid input and exact decay: the same at any rate."""
        tau = self.settings.smoothing_s
        if math.isnan(self._smoothed) or tau == 0:
            self._smoothed = severity
        else:
            alpha = 1.0 - math.exp(-dt / tau)
            held = severity if math.isnan(self._raw) else (self._raw + severity) / 2
            self._smoothed += alpha * (held - self._smoothed)
        self._raw = severity

    def _absent(self, t_s: float, events: list[Event]) -> None:
        """Nobody in the frame: after ``away_s`` the person is away and timers start over."""
        if self._absent_since is None:
            self._absent_since = t_s
        if not self._away and t_s - self._absent_since >= self.settings.away_s:
            self._away = True
            events.append(Event(t_s, "away", {"since_s": round(self._absent_since, 3)}))
            self._set_state(UPRIGHT, t_s, events)
            self._episode_over()
            self._smoothed = self._raw = math.nan
            self._slouched = False
            self._presence_s = 0.0

    def _slouched_for(
        self, t_s: float, counted: float, issues: str | tuple[str, ...], events: list[Event]
    ) -> None:
        """Slouched time adds up; past the persistence an alert falls due (then a cooldown)."""
        s = self.settings
        self._slouch_s += counted
        self._recover_s = 0.0
        self._issues[issues] += 1
        due = self._slouch_s >= s.persistence_s and (
            not self._alerted
            or (self._last_alert is not None and t_s - self._last_alert >= s.cooldown_s)
        )
        if due:
            events.append(self._alert(t_s))
            self._set_state(ALERT, t_s, events)
        elif self._state != ALERT:
            slouching = self._slouch_s >= s.drifting_s
            self._set_state(SLOUCHING if slouching else DRIFTING, t_s, events)

    def _alert(self, t_s: float) -> Event:
        s = self.settings
        while self._alerts and t_s - self._alerts[0] > s.escalation_window_s:
            self._alerts.popleft()
        self._alerts.append(t_s)
        level = (CUE, STRETCH, BREAK)[min(len(self._alerts), 3) - 1]
        self._alerted = True
        self._last_alert = t_s
        top = _top_issues(self._issues)
        return Event(
            t_s,
            "alert",
            {
                "level": level,
                "slouched_s": round(self._slouch_s, 1),
                "issues": top,
                "alerts_this_hour": len(self._alerts),
            },
        )


@dataclass(frozen=True, eq=False)
class Story:
    """The temporal layer's account of a whole recording."""

    states: list[str]
    events: list[Event]
    time_in: dict[str, float]


def _floats(values: Any) -> list[float]:
    return np.asarray(values, dtype=float).tolist()


def _items(values: Any) -> list[Any]:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _top_issues(seen: Counter[str | tuple[str, ...]]) -> list[str]:
    """The three most frequent issue names, given how often each issue set was seen.

    ``seen`` keeps its sets (tuples of names or ";"-joined text) in the order they
    first appeared, so adding up their names in that order gives the same counts
    and the same order of ties as counting every frame's names one by one.
    """
    names: Counter[str] = Counter()
    for key, count in seen.items():
        for name in key.split(";") if isinstance(key, str) else key:
            if name:
                names[name] += count
    return [name for name, _ in names.most_common(3)]


def follow(
    t_s: Any,
    present: Any,
    worst: Any,
    issues: Any,
    settings: TemporalSettings | None = None,
    credit: Any = None,
) -> Story:
    """Run a fresh timeline over per-frame arrays (present: True/False/None).

    ``credit``: per frame, how long the evidence says a slouch has lasted (see ``update``).

    The live monitor's rules, frame by frame: replays, rescores and the monitor
    share one state machine, so they cannot disagree.
    """
    times, severities = _floats(t_s), _floats(worst)
    presence, texts = _items(present), _items(issues)
    n = len(times)
    if not len(presence) == len(severities) == len(texts) == n:
        raise ValueError(
            "follow() needs one value per frame in every argument, got "
            f"{n} times, {len(presence)} presences, {len(severities)} severities and "
            f"{len(texts)} issue sets"
        )
    timeline = PostureTimeline(settings)
    advance = timeline.advance
    events: list[Event] = []
    if credit is None:
        states = [
            advance(t, p, w, text, events)
            for t, p, w, text in zip(times, presence, severities, texts, strict=True)
        ]
    else:
        credits = _floats(credit)
        if len(credits) != n:
            raise ValueError(f"follow() needs one credit per frame, got {len(credits)} for {n}")
        rows = zip(times, presence, severities, texts, credits, strict=True)
        states = [advance(t, p, w, text, events, c) for t, p, w, text, c in rows]
    return Story(states, events, {k: round(timeline.time_in.get(k, 0.0), 3) for k in STATES})
