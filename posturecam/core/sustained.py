"""The sustained drop: a small slouch that holds, told from slow settling by its speed.

A subtle slouch lowers the ears by a couple of percent of head height: within one
frame's noise, and about as much as a person settles over an afternoon. But a slouch
happens in seconds and then holds, while settling takes many minutes. So the level
of the last ``window_s`` (the median of one-second means, in which glances and head
turns are a minority) is compared with the level of the ``reference_s`` before it.

A drop starts only as a step: at its change point the level must also stand 0.7 of a
line (where a drop ends) over the 15 s just before it, not only over the reference of
minutes before. A level that crept up over a couple of minutes was already most of the
way there (held-out simulated people got most of their false alerts from such creeps).
A crossing judged settling is then counted from where the level had crept to, until the
level is back under 0.7 of the line: tested again on every wobble, a creep was sooner or
later taken for a step by its noise alone. A drop back over the line within ``BACK_S`` of
being over it is the same drop after a dip, not a new crossing to test.

Once over the line, a drop holds until the level falls back under 0.7 of it (the
timeline's own exit is 0.8), so a head turn in the middle of a slouch does not end it.
The median lags a person who sits up by up to half a window, so a clear drop (three
lines deep) ends as soon as the last few seconds are back where the person sat; a
subtle one keeps the lag, because its noisy seconds fall back there now and then
(ending it on them, or judging each frame by its own drop, made subtle alerts late).
The reference learns only from calm seconds: not while the drop is over the line, not
from seconds far from it (a turned head, a stretch), never from frames the monitor
carried over without the model. It starts over after an absence or a gap, or when all
its seconds aged out while no drop from where the person sat was going on (a long lean
back or turn, and a drop that went on only once the reference had stopped learning), and
judges nothing until it has held a reference for ``arm_s`` (the calibration's own centre
is less certain than minutes of sitting: judged against it, 8 s calibrations of
simulated people raised false alerts).

Pure and sequential, with time from frame timestamps only, so replay, rescore and
the live monitor agree. Values are in units of the line (``JudgeSettings.sustained``).

A median is late by design: it crosses the line once most of the window is over it.
So when it does, the timeline is told how long the drop has held (``credit_s``) and
counts the persistence from there, not from the crossing.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass

ACTIVE = 0.8  # severity above which the drop counts as going on (the timeline's exit line)
LEAVE = 0.7  # a drop over the line holds until the level falls back under 0.7 of it
# ...but a clear drop (CLEAR lines at its deepest: twice the smallest slouch this tool is
# asked to catch, 1.5 lines) ends once the median of the last BACK_S seconds is back
# within LEAVE of the reference: a person who sat up is seen in seconds, not after half
# a window. Subtle drops keep the plain hysteresis: their seconds scatter back there.
CLEAR = 3.0
BACK_S = 5
# Seconds given back (reclining) UNLIKE lines more or less than the reference's seconds
# were do not teach it, for up to NEW_SEAT_S in a row (a lean back lasts minutes); after
# that, it is how the person sits now.
UNLIKE = 0.5
NEW_SEAT_S = 600
# A drop starts only as a step: the level must stand LEAVE over the STEP_S seconds just
# before its change point, not only over the reference of minutes before.
STEP_S = 15


@dataclass(frozen=True)
class SustainedSettings:
    """Knobs of the sustained drop, in seconds (``outlier`` in units of the line).

    Fixed for now (the line itself is ``JudgeSettings.sustained``, 0 turns it off).

    A window of 30 s: most glances and turns (2-10 s) stay a minority of it, and a
    change it dates back to its start still alerts within the persistence.
    """

    window_s: float = 30.0
    reference_s: float = 120.0
    arm_s: float = 60.0
    outlier: float = 3.0  # seconds this far from the reference do not teach it
    gap_s: float = 5.0  # no measurable frame this long: the person left, start over

    @property
    def reference_min_s(self) -> float:
        """Seconds of calm a reference needs before it is held: a quarter of its span."""
        return self.reference_s / 4

    @property
    def learn_s(self) -> float:
        """From a start (or a return) until small drops are judged: the window fills,
        the reference gathers its minimum, then it is held for ``arm_s``."""
        return self.window_s + self.reference_min_s + self.arm_s

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not (isinstance(value, (int, float)) and not isinstance(value, bool)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a number > 0, got {value!r}")


def _median(ordered: list[float]) -> float:
    """Median of an already sorted list (the windows keep theirs sorted: once a second)."""
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def _drop(ordered: list[float], value: float) -> None:
    del ordered[bisect_left(ordered, value)]


class SustainedDrop:
    """``update`` once per frame; ``reset`` after a recalibration, a pause or a moved camera."""

    def __init__(self, settings: SustainedSettings | None = None) -> None:
        self.settings = settings or SustainedSettings()
        self._gap = self.settings.gap_s
        self.reset()

    def reset(self) -> None:
        # second, mean, does not teach (active, or given back unlike the reference), given
        self._level: deque[tuple[int, float, bool, float]] = deque()
        self._ref: deque[tuple[int, float, float]] = deque()
        self._level_sorted: list[float] = []
        self._ref_sorted: list[float] = []
        self._before: deque[tuple[int, float]] = deque(maxlen=int(self.settings.window_s))
        self._second = 0
        self._end = -math.inf  # the current second's bucket ends here
        self._sum, self._count, self._given = 0.0, 0, 0.0
        self._ref_given: list[float] = []  # the reference seconds' give-back, sorted
        self._usual: float | None = None  # their median, once a reference was held
        self._unlike_s = 0  # seconds in a row given back unlike it
        self._last_seen = -math.inf
        self.reference = 0.0
        self._referenced_s = 0  # seconds for which a reference was held
        self._severity = math.nan
        self._peak = 0.0  # the deepest level of the drop going on (0: none)
        self._creep = 0.0  # how far the level had crept when its crossing was judged settling
        self._dropped_at = -math.inf  # the last second a drop went on, sitting as usual
        self._over_at = -math.inf  # the last second the severity was over the line
        self._out = (math.nan, 0.0)  # severity and credit, as update returns them

    def accept(self) -> bool:
        """The person says they sit upright now: the last window's level is the reference.

        A drop held against a reference that no longer says where the person sits (they
        settled, or came back sitting differently) would otherwise alert again and again.
        Its seconds become the reference's (judged from here, not learnt again); False when
        there is no window to take it from.
        """
        if not self._level:
            return False
        ref, given = self._ref, self._ref_given
        ref.clear()
        given.clear()
        for second, value, _untaught, old_given in self._level:
            ref.append((second, value, old_given))
            insort(given, old_given)
        self._ref_sorted = list(self._level_sorted)  # already sorted
        self.reference = _median(self._ref_sorted)
        self._usual, self._unlike_s = _median(given), 0
        self._referenced_s = max(self._referenced_s, int(self.settings.arm_s))
        self._level = deque((s, v, True, g) for s, v, _, g in self._level)  # taught already
        self._severity, self._peak = 0.0, 0.0
        self._out = (0.0, 0.0)
        return True

    @property
    def armed(self) -> bool:
        return self._referenced_s >= self.settings.arm_s

    def update(
        self, t_s: float, value: float, carried_over: bool = False, given: float = 0.0
    ) -> tuple[float, float]:
        """This frame's severity (level over reference, NaN until armed) and credit.

        ``value``: the frame's drop in units of the line (NaN: cannot measure).
        ``given``: how much of it the recline correction gave back (lines). That is a
        model, not a measurement: a second given back UNLIKE more (or less) than the
        reference's seconds were is judged, but does not teach the reference.
        ``credit``: how long the drop has already held, by the evidence (0 unless
        the severity is over 1): from its change point (``_onset_credit``); the
        window cannot date it further.
        Runs for every frame of a recording: the common case is a few comparisons.
        """
        if carried_over:
            return self._out
        last = self._last_seen
        if t_s - last > self._gap and last != -math.inf:
            self.reset()
        if value != value:  # NaN: cannot measure
            return self._out
        self._last_seen = t_s
        if not self._end - 1.0 <= t_s < self._end:  # a new second
            if self._count:
                self._close(self._second, self._sum / self._count, self._given / self._count)
            self._second = math.floor(t_s)
            self._end = self._second + 1.0
            self._sum, self._count, self._given = 0.0, 0, 0.0
        self._given += given
        self._sum += value
        self._count += 1
        return self._out

    def _close(self, second: int, mean: float, given: float = 0.0) -> None:
        """One second is complete: move the windows on, then level and reference."""
        s = self.settings
        active = self._severity > ACTIVE
        unlike = self._unlike(second, given, active)
        level, ref = self._level, self._ref  # after _unlike: it may have started over
        level.append((second, mean, active or unlike, given))
        insort(self._level_sorted, mean)
        while level[0][0] <= second - s.window_s:
            old, value, untaught, old_given = level.popleft()
            _drop(self._level_sorted, value)
            self._before.append((old, value))
            if not (untaught or active) and abs(value - self.reference) < s.outlier:
                ref.append((old, value, old_given))
                insort(self._ref_sorted, value)
                insort(self._ref_given, old_given)
        while ref and ref[0][0] <= second - s.window_s - s.reference_s:
            _, value, old_given = ref.popleft()
            _drop(self._ref_sorted, value)
            _drop(self._ref_given, old_given)
        if len(ref) >= s.reference_min_s:
            self.reference = _median(self._ref_sorted)
            self._referenced_s += 1
        if not self.armed or len(level) < s.window_s / 2:
            self._severity, self._out = math.nan, (math.nan, 0.0)
            return
        self._out = self._judge(second, _median(self._level_sorted) - self.reference)

    def _unlike(self, second: int, given: float, active: bool) -> bool:
        """Whether this second is given back unlike the reference's seconds (it does not
        teach then); starts over when the reference aged out with no drop from where the
        person sat going on."""
        s = self.settings
        if len(self._ref) >= s.reference_min_s:
            self._usual = _median(self._ref_given)
        unlike = self._usual is not None and abs(given - self._usual) >= UNLIKE
        self._unlike_s = self._unlike_s + 1 if unlike else 0
        if self._unlike_s > NEW_SEAT_S:  # not a lean back: the person sits like this now
            self._usual, unlike = given, False
        ref = self._ref
        if (
            active
            and not unlike
            and (
                second - self._dropped_at <= s.window_s  # the same drop, after a dip
                or (ref and ref[-1][0] >= second - s.window_s - s.reference_min_s)
            )
        ):
            # A drop from where the person sat keeps its reference. One that went on
            # when the reference had not learnt for a minute (back from two minutes
            # turned away) is judged against a seat they may have left: it ages out.
            self._dropped_at = second
        span = s.window_s + s.reference_s
        if (
            self.armed
            and second - self._dropped_at > span  # not a long slouch that outlived its reference
            and not (ref and ref[-1][0] > second - span)
        ):
            self._start_over(given)
            unlike = self._usual is not None and abs(given - self._usual) >= UNLIKE
        return unlike

    def _judge(self, second: int, raw: float) -> tuple[float, float]:
        """Severity and credit from the level over the reference (``raw``, in lines)."""
        was_over = self._severity >= 1.0
        if raw < LEAVE:
            self._creep = 0.0  # the level is back: a creep judged settling is over
        recent = self._recent() if self._peak >= CLEAR else math.nan
        if abs(recent) < LEAVE:
            # A clear drop, and the last seconds sit where the person sat: they sat up.
            severity = min(raw, recent)
        else:
            held = was_over and raw > LEAVE  # hysteresis: a turn is not sitting up
            severity = max(raw, 1.0) if held else raw
        if self._creep and not was_over:
            # Judged settling: counted from where the level had crept to, so each wobble
            # of a creep is not tested again as a step of its own.
            severity = raw - self._creep
        if raw < ACTIVE:  # the window itself is back: no drop going on
            self._peak = 0.0
        elif severity >= 1.0:
            self._peak = max(self._peak, raw)
        credit = self._onset_credit(second + 1, raw) if severity >= 1.0 else 0.0
        if severity >= 1.0 and not was_over and second - self._over_at > BACK_S:
            # (Back over within BACK_S: the same drop after a dip, not a new crossing. A
            # swaying person's noisy seconds can look sat up for a moment; tested as a
            # step then, the drop was measured against its own start and taken for a creep.)
            step = self._step(second + 1 - credit, raw)
            if step < LEAVE:  # a level that crept up, not a step: settling, not a slouch
                self._creep = raw - step
                severity, credit, self._peak = step, 0.0, 0.0
        self._severity = severity
        if severity >= 1.0:
            self._over_at = second
        return severity, credit

    def _start_over(self, given: float) -> None:
        """Every second of the reference aged out and none took its place, with no drop going
        on: the person leaned back, turned away or moved for minutes. Where they sat before
        says little about where they sit after (held-out simulated people came back a line
        off it and were alerted against it for an hour). So small drops are learnt again,
        as after an absence, but the usual give-back is kept: seconds still leaning back
        do not teach the new reference, and a new seat is accepted on the same clock.
        Unless the person has sat nearer than it for a while already: that is no lean
        back, and the usual give-back (half learnt from a mild lean back, for one
        simulated person) would keep them unjudged for 10 minutes.
        """
        usual, unlike_s = self._usual, self._unlike_s
        self.reset()
        nearer = usual is not None and given <= usual - UNLIKE
        if not (nearer and unlike_s >= self.settings.reference_min_s):
            self._usual, self._unlike_s = usual, unlike_s

    def _step(self, onset: float, raw: float) -> float:
        """How far the level stepped at its change point: over the seconds just before it.

        A slouch happens in seconds, so the level before its onset is where the person sat;
        a level that crept up over minutes was already most of the way there.
        """
        lo = onset - STEP_S
        seconds = itertools.chain(self._before, self._level)
        pre = sorted(entry[1] for entry in seconds if lo <= entry[0] < onset)
        return raw if len(pre) < STEP_S / 2 else raw - (_median(pre) - self.reference)

    def _recent(self) -> float:
        """The median of the last ``BACK_S`` seconds, over the reference."""
        last = sorted(entry[1] for entry in itertools.islice(reversed(self._level), BACK_S))
        return _median(last) - self.reference

    def _onset_credit(self, now: float, shift: float) -> float:
        """Time since the drop began: the change point of a step of the size it has now.

        CUSUM's maximum-likelihood onset for a step from the reference to ``shift``:
        each second counts by how far it sits above half the step (never less than
        half the line), so a noisy subtle slouch is dated from its start, not from
        its first run of seconds over the line. Seconds ``outlier`` lines under the
        reference are movements (a turn, a look up), as for the reference itself:
        they say nothing about when the drop began.
        """
        half = max(shift, 1.0) / 2
        below = -self.settings.outlier
        best, total, onset = -math.inf, 0.0, now
        for second, value, *_ in reversed(self._level):
            d = value - self.reference
            if d <= below:  # far under where the person sat: a turn or a look up, not sitting
                continue
            total += d - half
            if total > best:
                best, onset = total, second
        return min(self.settings.window_s, max(now - onset, 0.0))
