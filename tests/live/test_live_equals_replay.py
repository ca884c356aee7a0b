"""The live monitor's per-frame path and replay's vectorised path judge a sequence alike.

Live: ``judge_frame`` one frame at a time, with one ``BaselineTracker`` (made as the
Monitor makes it) and one ``PostureTimeline``. Replay: ``analyse`` over the whole
landmark log. Both read the same simulated person, so every score, verdict, state
and event (the moving baseline's included) must agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pytest
import simperson as sim

from posturecam.core.adapt import (
    REANCHORED,
    SETUP_CHANGED,
    AdaptSettings,
    BaselineTracker,
    follow_baseline,
)
from posturecam.core.coach import Coach
from posturecam.core.geometry import FRONT
from posturecam.core.judge import judge, limits, sequence_inputs
from posturecam.core.temporal import PostureTimeline, TemporalSettings
from posturecam.core.types import Frame, Landmarks
from posturecam.frames.engine import LandmarkLog, measure
from posturecam.live.calibration import calibrate
from posturecam.live.scoring import judge_frame
from posturecam.profiles import Profile
from posturecam.research.replay import ReplayOptions, analyse

DURATION_S = 1200.0  # 20 simulated minutes at 2 frames/s
MOVE_AT_S = 600.0  # the camera move: halfway
# The defaults seldom let a jittery simulated person sit calm for 20 s in a row, so
# the zero would never move in a short run; these let it drift within minutes.
QUICK = AdaptSettings(settle_s=5.0, drift_tau_s=60.0)
IMAGE = np.zeros((480, 640, 3), np.uint8)  # only its width is read


# --------------------------------------------------------------------------- building blocks


def camera_moved(log: LandmarkLog, at_s: float, scale: float = 1.3) -> LandmarkLog:
    """Frames from ``at_s`` on as seen by a camera nearer the person: xy scaled about the centre."""
    later = log.t_s >= at_s
    xy = log.landmarks.xy.copy()
    centre = np.array([320.0, 240.0])
    xy[later] = centre + (xy[later] - centre) * scale
    return replace(log, landmarks=replace(log.landmarks, xy=xy))


def calibrated(log: LandmarkLog) -> Profile:
    """A profile from the first 8 s, as `posturecam calibrate` would make it."""
    return calibrate(log.select(log.t_s < log.t_s[0] + 8.0), "sim", "simperson")


def frames(log: LandmarkLog) -> list[tuple[Frame, Landmarks]]:
    """Each row of the log as the live monitor sees it: a frame and its landmarks."""
    lm = log.landmarks
    out = []
    for i in range(len(log)):
        frame = Frame(IMAGE, float(log.t_s[i]), int(log.frame[i]), str(log.name[i]))
        if not lm.detected[i]:
            out.append((frame, Landmarks.empty((int(log.width[i]), int(log.height[i])))))
            continue
        vis = lm.visibility[i]
        out.append(
            (
                frame,
                Landmarks(
                    xy=lm.xy[i],
                    z=lm.z[i],
                    visibility=vis,
                    presence=vis,
                    world=lm.world[i],
                    image_size=(int(log.width[i]), int(log.height[i])),
                ),
            )
        )
    return out


@dataclass
class Live:
    score: np.ndarray
    slouched: np.ndarray
    states: list[str]
    offset: np.ndarray  # the tracker's zero after each frame
    events: list[dict]  # coached, in the order the monitor hands them on
    tracker: BaselineTracker


def live(
    log: LandmarkLog,
    profile: Profile,
    carried: np.ndarray | None = None,
    temporal: TemporalSettings | None = None,
    adapt: AdaptSettings | None = None,
) -> Live:
    """The monitor's `_analyse`, frame by frame, without camera, model or session log."""
    settings = profile.settings
    assert profile.view == FRONT
    tracker = BaselineTracker(
        limits(profile.baseline(), settings, sequence=True).slouch, adapt or AdaptSettings()
    )
    timeline = PostureTimeline(temporal or TemporalSettings())
    coach = Coach()
    scores, slouched, states, offsets, events = [], [], [], [], []
    for i, (frame, landmarks) in enumerate(frames(log)):
        c = bool(carried[i]) if carried is not None else False
        verdict = judge_frame(frame, landmarks, profile, settings, tracker, carried_over=c)
        step = timeline.update(
            frame.t_s, verdict.present, verdict.worst, verdict.issues, verdict.credit_s
        )
        scores.append(verdict.score)
        slouched.append(math.nan if math.isnan(verdict.worst) else float(verdict.worst > 1.0))
        states.append(step.state)
        offsets.append(tracker.offset)
        events += [coach.advise(e).to_dict() for e in (*verdict.events, *step.events)]
    return Live(np.array(scores), np.array(slouched), states, np.array(offsets), events, tracker)


def where_they_differ(live_values: np.ndarray, replay_values: np.ndarray, t_s: np.ndarray) -> str:
    a, b = np.asarray(live_values, float), np.asarray(replay_values, float)
    bad = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    rows = np.flatnonzero(bad)[:5]
    return "; ".join(f"frame {i} t={t_s[i]:.1f}s live={a[i]!r} replay={b[i]!r}" for i in rows)


def assert_same(live_values, replay_values, t_s, what: str) -> None:
    a, b = np.asarray(live_values, float), np.asarray(replay_values, float)
    assert a.shape == b.shape
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    assert same.all(), f"{what} differ at {int((~same).sum())} frames: " + where_they_differ(
        a, b, t_s
    )


def times(events: list[dict], kind: str) -> list[float]:
    return [e["t_s"] for e in events if e["type"] == kind]


# --------------------------------------------------------------------------- the person


def person(seed: int) -> LandmarkLog:
    """Ordinary movements, one strong and one moderate slouch (3 min each)."""
    who = sim.Person.sample(np.random.default_rng(1))  # the benchmark's person
    plans = [sim.SlouchPlan(250.0, 0.20), sim.SlouchPlan(750.0, 0.12)]
    return sim.simulate(DURATION_S, seed, person=who, slouches=plans).log


@pytest.fixture(scope="module")
def person_log() -> LandmarkLog:
    # Seed 7: both slouches alert, turns, glances, drinks and a lean back; nobody leaves.
    return person(7)


def compare(
    log: LandmarkLog, profile: Profile, adapt: AdaptSettings | None = None
) -> tuple[Live, dict, list[dict]]:
    adapt = adapt or AdaptSettings()
    ours = live(log, profile, adapt=adapt)
    a = analyse(log, ReplayOptions(profile=profile, progress=False, adapt=adapt))
    cols, t = a.columns, log.t_s
    assert_same(ours.score, cols["score"], t, "scores")
    assert_same(ours.slouched, cols["slouched"], t, "slouched verdicts")
    differ = [i for i, (x, y) in enumerate(zip(ours.states, cols["state"], strict=True)) if x != y]
    assert not differ, "states differ at frames " + ", ".join(
        f"{i} (t={t[i]:.1f}s live={ours.states[i]} replay={cols['state'][i]})" for i in differ[:5]
    )
    assert_same(ours.offset, cols["evidence_zero"], t, "baseline offsets")
    assert times(ours.events, "alert") == times(a.events, "alert")
    for kind in (SETUP_CHANGED, REANCHORED):
        assert times(ours.events, kind) == times(a.events, kind)
    assert ours.events == a.events  # every event, its data and its words, in order
    return ours, cols, a.events


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("adapt", [AdaptSettings(), QUICK], ids=["default", "quick_drift"])
def test_a_slouching_person_is_judged_alike_live_and_in_replay(person_log, adapt):
    profile = calibrated(person_log)
    ours, cols, events = compare(person_log, profile, adapt)
    # The run means something: the strong slouch alerts and the timeline moved through states.
    alerts = times(events, "alert")
    assert any(250.0 < t < 450.0 for t in alerts) and any(750.0 < t < 950.0 for t in alerts)
    assert {"upright", "slouching", "alert"} <= set(cols["state"])
    assert not times(events, SETUP_CHANGED)
    if adapt is QUICK:
        assert np.nanmax(np.abs(ours.offset)) > 0.0  # the zero drifted, alike in both


def test_a_camera_move_is_noticed_and_re_anchored_at_the_same_time(person_log):
    profile = calibrated(person_log)
    _, _, events = compare(camera_moved(person_log, MOVE_AT_S), profile)
    changed, anchored = times(events, SETUP_CHANGED), times(events, REANCHORED)
    assert len(changed) == 1 and len(anchored) == 1
    # With turns and jitter the new view must hold setup_hold_s without a break: not prompt.
    assert MOVE_AT_S + AdaptSettings().setup_hold_s <= changed[0] < MOVE_AT_S + 120.0
    assert changed[0] < anchored[0]


def test_a_person_leaving_the_desk_is_judged_alike_live_and_in_replay():
    log = person(1)  # seed 1's ordinary movements include leaving the desk (571-656 s)
    assert (~log.landmarks.detected).any()
    compare(log, calibrated(log))


def _replay_followed(log: LandmarkLog, profile: Profile, carried: np.ndarray, adapt):
    """What replay's ``score`` does, with the carried-over frames it is not told about."""
    metrics = measure(log, profile.view)
    verdict = judge(metrics, profile.baseline(), profile.view, profile.settings, sequence=True)
    evidence, drop = sequence_inputs(verdict, profile.settings)
    return follow_baseline(
        log.t_s, evidence, metrics.values, verdict.limit, adapt, carried, drop=drop
    )


def test_carried_over_frames_move_the_baseline_alike(person_log):
    profile = calibrated(person_log)
    n = len(person_log)
    every_other = np.arange(n) % 2 == 1
    ours = live(person_log, profile, carried=every_other, adapt=QUICK)
    theirs = _replay_followed(person_log, profile, every_other, QUICK)
    assert_same(ours.offset, theirs.offset, person_log.t_s, "offsets with carried-over frames")
    assert ours.tracker.max_offset == theirs.max_offset
    assert np.nanmax(np.abs(theirs.offset)) > 0.0  # the zero did move, on the fresh frames
    # ...and the carried-over frames did not pull it: all-fresh frames move it otherwise.
    fresh = _replay_followed(person_log, profile, np.zeros(n, bool), QUICK)
    assert not np.array_equal(fresh.offset, theirs.offset)


@pytest.mark.parametrize("adapt", [AdaptSettings(), QUICK], ids=["default", "quick_drift"])
def test_a_run_of_only_carried_over_frames_never_moves_the_baseline(person_log, adapt):
    profile = calibrated(person_log)
    everything = np.ones(len(person_log), bool)
    theirs = _replay_followed(person_log, profile, everything, adapt)
    assert np.all(theirs.offset == 0.0) and theirs.max_offset == 0.0
    if adapt is QUICK:  # the same frames, fresh, do move it
        assert _replay_followed(person_log, profile, ~everything, adapt).max_offset > 0.0
        first = person_log.t_s < 600.0  # live on half the run: it is the slow path
        ours = live(person_log.select(first), profile, carried=everything[first], adapt=adapt)
        assert np.all(ours.offset == 0.0) and ours.tracker.max_offset == 0.0
