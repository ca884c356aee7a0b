"""The temporal state machine: time from timestamps, calm alerts, away and breaks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posturecam.core.temporal import (
    ALERT,
    AWAY,
    DRIFTING,
    SLOUCHING,
    STATES,
    UNDECIDED,
    UPRIGHT,
    PostureTimeline,
    Story,
    TemporalSettings,
    follow,
)


def run(samples, settings=None):
    """samples: iterable of (t, present, severity). Returns (steps, events)."""
    tl = PostureTimeline(settings)
    steps = [tl.update(t, p, sev, ("head_drop",) if sev > 1 else ()) for t, p, sev in samples]
    events = [e for s in steps for e in s.events]
    return tl, steps, events


def timeline(duration, fps, severity_at, present_at=lambda t: True):
    n = int(duration * fps) + 1
    return [(i / fps, present_at(i / fps), severity_at(i / fps)) for i in range(n)]


def alerts(events):
    return [e for e in events if e.type == "alert"]


def test_alert_after_persistence_and_states_progress():
    _, steps, events = run(timeline(120, 2, lambda t: 2.0 if t >= 10 else 0.2))
    a = alerts(events)
    assert len(a) == 1
    assert 70 <= a[0].t_s <= 71.5  # 60 s after the slouch began, plus smoothing
    assert a[0].data["level"] == "cue" and a[0].data["issues"] == ["head_drop"]
    states = [s.state for s in steps]
    assert states[0] == UPRIGHT
    order = [st for i, st in enumerate(states) if i == 0 or st != states[i - 1]]
    assert order == [UPRIGHT, DRIFTING, SLOUCHING, ALERT]


@pytest.mark.parametrize("fps", [2, 5, 15, 30])
def test_same_alert_time_at_any_frame_rate(fps):
    _, _, ref = run(timeline(200, 30, lambda t: 2.0 if 20 <= t < 150 else 0.1))
    _, _, events = run(timeline(200, fps, lambda t: 2.0 if 20 <= t < 150 else 0.1))
    assert len(alerts(events)) == len(alerts(ref)) == 1
    assert abs(alerts(events)[0].t_s - alerts(ref)[0].t_s) <= 1 / fps + 1e-9


def test_brief_recovery_does_not_reset_but_a_real_one_does():
    # 40 s slouched, 3 s upright (under 5 s), 25 s slouched -> alert.
    brief = lambda t: 0.1 if 40 <= t < 43 else 2.0  # noqa: E731
    _, _, events = run(timeline(70, 2, brief))
    assert len(alerts(events)) == 1
    # Same, but 10 s upright in the middle: the count starts again.
    real = lambda t: 0.1 if 40 <= t < 50 else 2.0  # noqa: E731
    _, _, events = run(timeline(80, 2, real))
    assert alerts(events) == []


def test_undecided_frames_neither_count_nor_reset():
    # Slouched 0-40 s, undecided 40-100 s, slouched again 100-125 s.
    sev = lambda t: math.nan if 40 <= t < 100 else 2.0  # noqa: E731
    _, steps, events = run(timeline(125, 2, sev))
    a = alerts(events)
    assert len(a) == 1 and 119 <= a[0].t_s <= 122  # 40 s + 20 s more after the gap
    assert {s.state for s in steps[85:195]} == {UNDECIDED}


def test_cooldown_and_re_alert_after_sitting_up():
    settings = TemporalSettings(persistence_s=60, cooldown_s=600)
    # Slouched for 15 minutes straight: alert at ~60 s, then again at ~660 s.
    _, _, events = run(timeline(900, 1, lambda t: 2.0), settings)
    assert [round(e.t_s) for e in alerts(events)] == [60, 660]
    # Sit up for 10 s after the first alert, then slouch again: a new alert within 10 min.
    sev = lambda t: 0.1 if 100 <= t < 110 else 2.0  # noqa: E731
    _, _, events = run(timeline(200, 1, sev), settings)
    first, second = (e.t_s for e in alerts(events))
    assert round(first) == 60 and 170 <= second <= 172


def test_escalation_within_an_hour():
    # Episodes of 70 s slouched + 30 s upright, repeated: cue, stretch, break, break.
    sev = lambda t: 2.0 if (t % 100) < 70 else 0.1  # noqa: E731
    _, _, events = run(timeline(400, 1, sev))
    assert [e.data["level"] for e in alerts(events)] == ["cue", "stretch", "break", "break"]
    # Two hours apart: no escalation.
    sev2 = lambda t: 2.0 if (t % 7200) < 70 else 0.1  # noqa: E731
    _, _, events = run(timeline(7300, 1, sev2))
    assert [e.data["level"] for e in alerts(events)] == ["cue", "cue"]


def test_away_pauses_and_resets_then_back():
    present = lambda t: not (30 <= t < 60)  # noqa: E731
    tl = PostureTimeline()
    seq = timeline(120, 2, lambda t: 2.0, present)
    steps = [tl.update(t, p, s if p else math.nan) for t, p, s in seq]
    events = [e for s in steps for e in s.events]
    kinds = [e.type for e in events if e.type in ("away", "back")]
    assert kinds == ["away", "back"]
    away = next(e for e in events if e.type == "away")
    assert away.t_s == pytest.approx(35.0) and away.data["since_s"] == pytest.approx(30.0)
    back = next(e for e in events if e.type == "back")
    assert back.t_s == pytest.approx(60.0) and back.data["away_s"] == pytest.approx(30.0)
    assert steps[80].state == AWAY
    # 30 s slouched before leaving is forgotten: the alert comes 60 s after return.
    a = alerts(events)
    assert len(a) == 1 and 119.5 <= a[0].t_s <= 121
    assert tl.time_in[AWAY] == pytest.approx(25.0, abs=0.6)


def test_skipped_frames_do_not_make_anyone_away():
    tl = PostureTimeline()
    steps = [tl.update(t / 2, None, math.nan) for t in range(60)]
    assert all(s.state == UNDECIDED for s in steps)
    assert not any(s.events for s in steps)


def test_break_reminder_after_continuous_presence():
    settings = TemporalSettings(break_after_s=50 * 60)
    _, _, events = run(timeline(2 * 3600, 0.5, lambda t: 0.1), settings)
    breaks = [e for e in events if e.type == "break"]
    assert [round(e.t_s / 60) for e in breaks] == [50, 100]
    _, _, events = run(timeline(2 * 3600, 0.5, lambda t: 0.1), TemporalSettings(break_after_s=None))
    assert not [e for e in events if e.type == "break"]


def test_hysteresis_keeps_a_borderline_posture_from_flickering():
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.05, 2000)
    tl = PostureTimeline()
    flips = 0
    prev = None
    for i, n in enumerate(noise):
        sev = (1.2 if i < 1000 else 0.9) + n  # slouched, then just under the entry line
        step = tl.update(i * 0.5, True, sev)
        slouched = step.state in (DRIFTING, SLOUCHING, ALERT)
        flips += prev is not None and slouched != prev
        prev = slouched
    assert flips <= 2


def test_time_never_goes_backwards_and_settings_are_checked():
    tl = PostureTimeline()
    tl.update(5.0, True, 0.1)
    with pytest.raises(ValueError, match="backwards"):
        tl.update(4.0, True, 0.1)
    with pytest.raises(ValueError):
        TemporalSettings(persistence_s=-1)
    with pytest.raises(ValueError, match="hysteresis"):
        TemporalSettings(enter=1.0, exit=1.2)
    with pytest.raises(ValueError, match="unknown"):
        TemporalSettings.from_dict({"persistance_s": 3})
    assert TemporalSettings.from_dict(TemporalSettings().to_dict()) == TemporalSettings()


def test_reset_starts_over():
    tl = PostureTimeline()
    for i in range(200):
        tl.update(i * 0.5, True, 2.0)
    assert tl.state == ALERT
    tl.reset()
    assert tl.state == UPRIGHT and not tl.time_in


# --------------------------------------------------------------------------- follow()
# follow() runs PostureTimeline.update over arrays, passing each frame's issues as the
# ";"-joined text replays store; the live monitor passes tuples of names. These tests check
# that both forms tell the same story (counts, ties and order of alert issues included).


def reference_follow(t_s, present, worst, issues, settings=None) -> Story:
    """The live monitor's way: PostureTimeline.update frame by frame, issues as name tuples."""
    tl = PostureTimeline(settings)
    states, events = [], []
    for t, p, w, i in zip(t_s, present, worst, issues, strict=True):
        step = tl.update(float(t), p, float(w), tuple(i.split(";")) if i else ())
        states.append(step.state)
        events.extend(step.events)
    return Story(states, events, {k: round(tl.time_in.get(k, 0.0), 3) for k in STATES})


def assert_same_story(got: Story, want: Story) -> None:
    assert got.states == want.states
    assert got.events == want.events  # times, types and data (alert issues in order) alike
    assert [type(v) for e in got.events for v in e.data.values()] == [
        type(v) for e in want.events for v in e.data.values()
    ]
    assert got.time_in == want.time_in
    assert [type(v) for v in got.time_in.values()] == [type(v) for v in want.time_in.values()]
    assert list(got.time_in) == list(STATES)


ISSUE_NAMES = ("head_drop", "head_forward", "leaning_in", "side_lean")

gaps = st.one_of(
    st.just(0.0),
    st.floats(0.01, 2.0),  # ordinary frame intervals
    st.floats(5.0, 120.0),  # longer than max_gap_s: a stalled camera
)
severities = st.one_of(st.just(math.nan), st.floats(0.0, 1.5), st.floats(0.5, 4.0))
issue_sets = st.lists(st.sampled_from(ISSUE_NAMES), max_size=3, unique=True).map(";".join)
# A segment: one frame's values held for several frames, so slouches can persist.
segments = st.tuples(
    st.integers(1, 25),
    gaps,
    st.sampled_from([True, True, True, False, None]),
    severities,
    issue_sets,
)
temporal_settings = st.builds(
    lambda smoothing, enter, exit_share, times, brk, gap: TemporalSettings(
        smoothing_s=smoothing,
        enter=enter,
        exit=enter * exit_share,
        drifting_s=times[0],
        persistence_s=times[1],
        recovery_s=times[2],
        cooldown_s=times[3],
        escalation_window_s=times[4],
        away_s=times[5],
        break_after_s=brk,
        max_gap_s=gap,
    ),
    st.one_of(st.just(0.0), st.floats(0.0, 5.0)),
    st.floats(0.5, 2.0),
    st.floats(0.0, 1.0),
    st.lists(
        st.one_of(st.just(0.0), st.floats(0.0, 40.0), st.integers(0, 40)), min_size=6, max_size=6
    ),
    st.one_of(st.none(), st.just(0.0), st.floats(0.0, 200.0), st.integers(1, 100)),
    st.one_of(st.just(0.0), st.floats(0.0, 10.0), st.integers(0, 10)),  # ints: dt may be int
)


def expand(segs, as_arrays: bool):
    t, present, worst, issues = [], [], [], []
    now = 0.0
    for count, gap, p, w, i in segs:
        for _ in range(count):
            now += gap
            t.append(now)
            present.append(p)
            worst.append(w)
            issues.append(i)
    if as_arrays:  # replay passes numpy arrays; tests and the monitor pass lists
        return np.array(t), present, np.array(worst), np.array(issues, dtype=object)
    return t, present, worst, issues


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    segs=st.lists(segments, min_size=1, max_size=60),
    options=st.one_of(st.none(), temporal_settings),
    as_arrays=st.booleans(),
)
def test_follow_over_joined_issue_text_equals_the_timeline_fed_name_tuples(
    segs, options, as_arrays
):
    args = expand(segs, as_arrays)
    assert_same_story(follow(*args, options), reference_follow(*args, options))


def random_recording(rng: np.random.Generator, n: int):
    """Seeded stretches of upright, slouched, undecided, away and unusable frames."""
    t, present, worst, issues = [], [], [], []
    now = 0.0
    while len(t) < n:
        kind = rng.choice(["upright", "slouched", "undecided", "away", "skipped"])
        fps = rng.choice([2.0, 5.0, 15.0])
        for _ in range(int(rng.integers(1, 400))):
            now += 0.0 if rng.random() < 0.01 else (20.0 if rng.random() < 0.002 else 1 / fps)
            t.append(now)
            present.append(None if kind == "skipped" else kind != "away")
            level = {"upright": 0.3, "slouched": 1.6}.get(str(kind), math.nan)
            worst.append(level + rng.normal(0, 0.3))
            picked = [k for k in ISSUE_NAMES if rng.random() < 0.4] if level > 1 else []
            issues.append(";".join(picked))
    return np.array(t), present, np.array(worst), np.array(issues, dtype=object)


def test_follow_equals_the_live_timeline_on_long_recordings_with_every_kind_of_event():
    """Not vacuous: these recordings raise every event, repeat and tie alert issues."""
    rng = np.random.default_rng(7)
    quick = TemporalSettings(persistence_s=30.0, cooldown_s=60.0, break_after_s=300.0)
    types, levels = set(), set()
    for options in (None, quick, TemporalSettings(smoothing_s=0.0, break_after_s=None)):
        args = random_recording(rng, 20_000)
        got = follow(*args, options)
        assert_same_story(got, reference_follow(*args, options))
        types |= {e.type for e in got.events}
        levels |= {e.data["level"] for e in got.events if e.type == "alert"}
    assert types == {"state", "alert", "away", "back", "break"}
    assert levels == {"cue", "stretch", "break"}


def test_alert_issues_are_the_episodes_three_most_common_in_first_seen_order():
    settings = TemporalSettings(smoothing_s=0.0, drifting_s=1.0, persistence_s=4.0)
    # Frames 0-1: upright. Then slouched with issue sets whose names tie at 4 counts each,
    # except "z", which is the most common.
    sets = ["", "", "c;z", "b", "a;b", "z;a", "z;c", "z", "c", "a", "b;c"]
    t = [float(i) for i in range(len(sets))]
    worst = [0.1, 0.1] + [2.0] * (len(sets) - 2)
    got = follow(t, [True] * len(t), worst, sets, settings)
    want = reference_follow(t, [True] * len(t), worst, sets, settings)
    assert_same_story(got, want)
    alert = next(e for e in got.events if e.type == "alert")
    assert alert.t_s == 6.0 and alert.data["issues"] == ["z", "c", "b"]


def test_follow_raises_like_the_timeline():
    with pytest.raises(ValueError, match=r"time went backwards: 4\.0 after 5\.0"):
        follow([0.0, 5.0, 4.0], [True] * 3, [0.1] * 3, [""] * 3)
    with pytest.raises(ValueError, match="one value per frame"):
        follow([0.0, 1.0], [True], [0.1, 0.1], ["", ""])


def test_follow_of_nothing():
    story = follow(np.array([]), [], np.array([]), np.array([], dtype=object))
    assert story.states == [] and story.events == []
    assert story.time_in == dict.fromkeys(STATES, 0.0)
