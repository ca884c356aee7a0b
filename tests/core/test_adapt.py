"""The moving baseline: drift followed within bounds, a moved camera noticed, slouches never."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import simperson as sim

from posturecam.core.adapt import (
    REANCHORED,
    SETUP_CHANGED,
    AdaptSettings,
    View,
    follow_baseline,
)
from posturecam.core.types import LandmarkBatch
from posturecam.frames.engine import LandmarkLog
from posturecam.research.replay import ReplayOptions, analyse

LIMIT = 0.2
HERE: View = (math.log(0.4), math.log(0.16), 0.5, 0.7, 5.0)


def run(evidence, views=None, fps=2.0, carried=None, settings=None):
    n = len(evidence)
    t = np.arange(n) / fps
    views = views or [HERE] * n
    values = {
        "shoulder_span": np.array([math.exp(v[0]) for v in views]),
        "ear_span": np.array([math.exp(v[1]) for v in views]),
        "shoulder_x": np.array([v[2] for v in views]),
        "shoulder_y": np.array([v[3] for v in views]),
        "shoulder_yaw": np.array([v[4] for v in views]),
    }
    return follow_baseline(
        t, np.asarray(evidence, float), values, LIMIT, settings, None if carried is None else
        np.asarray(carried)
    )  # fmt: skip


# --------------------------------------------------------------------------- drift


def test_slow_settling_is_followed_and_bounded():
    n = 2 * 60 * 30  # 30 minutes at 2 fps
    settle = np.linspace(0.0, 0.9 * LIMIT, n)  # sinks slowly to just under the threshold
    f = run(settle)
    judged = f.evidence
    assert f.offset[-1] > 0.3 * LIMIT  # the zero followed
    assert f.max_offset <= AdaptSettings().max_drift * LIMIT + 1e-12  # ...within its bound
    assert np.nanmax(judged) < 0.9 * LIMIT - 0.3 * LIMIT


def test_no_drift_while_slouching_or_drifting():
    f = run(np.full(2 * 60 * 20, 2.0 * LIMIT))
    assert np.all(f.offset == 0.0)
    np.testing.assert_allclose(f.evidence, 2.0 * LIMIT)


def test_drift_needs_settled_calm_first():
    s = AdaptSettings()
    wobble = np.tile(np.r_[np.full(10, 0.2 * LIMIT), np.full(2, 0.8 * LIMIT)], 400)
    f = run(wobble)  # never calm for settle_s in a row
    assert np.all(f.offset == 0.0)
    assert s.settle_s > 6


def test_sitting_taller_moves_the_zero_down_symmetrically():
    f = run(np.full(2 * 60 * 30, -0.4 * LIMIT))
    assert -0.5 * LIMIT <= f.offset[-1] < -0.2 * LIMIT


def test_carried_over_frames_never_move_the_baseline():
    n = 2 * 60 * 30
    f = run(np.full(n, 0.3 * LIMIT), carried=np.ones(n, bool))
    assert np.all(f.offset == 0.0)


def test_following_can_be_turned_off():
    f = run(np.full(2 * 60 * 30, 0.3 * LIMIT), settings=AdaptSettings(drift_tau_s=0.0))
    assert np.all(f.offset == 0.0)


# --------------------------------------------------------------------------- setup changes


def moved(view: View, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0, yaw=0.0) -> View:
    return (
        view[0] + math.log(scale),
        view[1] + math.log(scale),
        view[2] + dx,
        view[3] + dy,
        view[4] + yaw,
    )


def test_a_moved_camera_is_noticed_then_re_anchored():
    s = AdaptSettings()
    before, after = 120, 200
    views = [HERE] * before + [moved(HERE, scale=1.35, dy=0.1)] * after
    evidence = [0.0] * before + [0.7 * LIMIT] * after  # the new view reads differently
    f = run(evidence, views)
    kinds = [e.type for e in f.events]
    assert kinds == [SETUP_CHANGED, REANCHORED]
    changed, anchored = (e.t_s for e in f.events)
    assert changed == pytest.approx(before / 2 + s.setup_hold_s, abs=0.6)
    assert anchored - changed == pytest.approx(s.reanchor_s, abs=0.6)
    between = (np.arange(len(evidence)) / 2 >= changed) & (np.arange(len(evidence)) / 2 < anchored)
    assert np.all(np.isnan(f.evidence[between]))  # undecided, never good or bad
    assert f.evidence[-1] == pytest.approx(0.0)  # judged against the new view


def test_a_short_jump_is_not_a_setup_change():
    views = [HERE] * 40 + [moved(HERE, scale=1.4)] * 10 + [HERE] * 40
    assert run([0.0] * 90, views).events == []


def test_a_head_coming_forward_is_not_a_setup_change():
    """A slouch moves the head against the shoulders: ears grow, shoulders hardly do."""
    forward = (HERE[0] + 0.05, HERE[1] + 0.3, HERE[2], HERE[3] + 0.05, 5.0)
    f = run([0.0] * 60 + [3 * LIMIT] * 600, [HERE] * 60 + [forward] * 600)
    assert f.events == []


def test_turning_away_is_not_a_setup_change():
    turned = moved(HERE, scale=0.75, yaw=40.0)
    assert run([0.0] * 400, [HERE] * 60 + [turned] * 340).events == []


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="drift_tau_s"):
        AdaptSettings(drift_tau_s=-1)
    with pytest.raises(ValueError, match="unknown"):
        AdaptSettings.from_dict({"nope": 1})
    with pytest.raises(ValueError, match="number"):
        AdaptSettings(settle_s=True)


# --------------------------------------------------------------------------- simulated people


def _analyse(log):
    return analyse(log, ReplayOptions(baseline_seconds=8.0, progress=False))


@pytest.mark.parametrize("drop", [0.05, 0.20])
def test_simulated_slouches_are_never_setup_changes(drop):
    person = sim.Person.sample(np.random.default_rng(1))  # the benchmark's person
    plans, length = sim.spaced_slouches([drop, drop], np.random.default_rng(7))
    s = sim.simulate(length, 8, person=person, slouches=plans)
    events = _analyse(s.log).events
    assert not [e for e in events if e["type"] == SETUP_CHANGED]


def test_a_simulated_camera_move_is_noticed_and_raises_no_alert():
    s = sim.simulate(1200.0, 11, ordinary=False)
    log = s.log
    t = log.t_s
    later = t >= 600.0
    xy = log.landmarks.xy.copy()
    centre = np.array([320.0, 240.0])
    xy[later] = centre + (xy[later] - centre) * 1.3 + np.array([0.0, 30.0])  # laptop nearer
    lm = replace(log.landmarks, xy=xy)
    moved_log = LandmarkLog(
        log.frame, log.t_s, log.name, log.skip_reason, log.width, log.height,
        LandmarkBatch(lm.xy, lm.z, lm.visibility, lm.world, lm.detected),
    )  # fmt: skip
    a = _analyse(moved_log)
    kinds = [e["type"] for e in a.events]
    assert SETUP_CHANGED in kinds and REANCHORED in kinds
    assert "alert" not in kinds
    change = next(e for e in a.events if e["type"] == SETUP_CHANGED)
    assert 600.0 < change["t_s"] <= 600.0 + AdaptSettings().setup_hold_s + 1.0
    assert change["message"]
