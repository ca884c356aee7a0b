"""The simulated person (tests/simperson.py) does what the false-alarm benchmark relies on."""

from __future__ import annotations

import numpy as np
import pytest
import simperson as sp

from posturecam.core.geometry import compute_metrics
from posturecam.core.types import LM


def head_height(sim: sp.Simulation) -> np.ndarray:
    return compute_metrics(sim.log.landmarks, sp.WIDTH, "front")["head_height"]


def window(sim: sp.Simulation, a: float, b: float) -> np.ndarray:
    t = sim.log.t_s
    return (t >= a) & (t < b)


def test_same_seed_same_log_other_seed_another():
    a = sp.simulate(900, seed=7)
    b = sp.simulate(900, seed=7)
    c = sp.simulate(900, seed=8)
    np.testing.assert_array_equal(a.log.landmarks.xy, b.log.landmarks.xy)
    np.testing.assert_array_equal(a.log.landmarks.world, b.log.landmarks.world)
    np.testing.assert_array_equal(a.log.landmarks.detected, b.log.landmarks.detected)
    assert [e.t0 for e in a.episodes] == [e.t0 for e in b.episodes]
    assert not np.allclose(a.log.landmarks.xy, c.log.landmarks.xy, equal_nan=True)


def test_log_is_what_replay_reads():
    sim = sp.simulate(60, seed=1)
    log = sim.log
    assert len(log) == 120  # 2 frames/s
    np.testing.assert_allclose(np.diff(log.t_s), 0.5)
    assert log.analysed.all()
    assert set(log.width) == {640} and set(log.height) == {480}
    lm = log.landmarks
    assert lm.detected.all()
    hips = (lm.world[:, LM.LEFT_HIP] + lm.world[:, LM.RIGHT_HIP]) / 2
    np.testing.assert_allclose(hips, 0.0, atol=0.03)  # hip-centred, like MediaPipe
    assert np.all(lm.world[:, LM.LEFT_SHOULDER, 1] < -0.4)  # y down: shoulders above hips
    assert np.all(lm.visibility[:, LM.NOSE] > 0.95)
    assert np.all(lm.visibility[:, LM.LEFT_HIP] < 0.5)  # hips below the frame
    assert np.all(lm.xy[:, LM.LEFT_HIP, 1] > 480)
    # The person's left shoulder is on the image right.
    assert np.all(lm.xy[:, LM.LEFT_SHOULDER, 0] > lm.xy[:, LM.RIGHT_SHOULDER, 0])


@pytest.mark.parametrize(
    ("jitter", "background", "tol"),
    [(sp.Jitter.none(), False, 0.003), (sp.Jitter.nominal(), False, 0.01)],
)
def test_slouches_drop_head_height_as_requested(jitter, background, tol):
    plans = [sp.SlouchPlan(40.0, 0.05, 60.0), sp.SlouchPlan(160.0, 0.20, 60.0)]
    sim = sp.simulate(
        240, seed=3, jitter=jitter, slouches=plans, ordinary=False, background=background
    )
    hh = head_height(sim)
    upright = np.median(hh[window(sim, 0, 30)])
    for plan in plans:
        plateau = window(sim, plan.start_s + 10, plan.start_s + plan.duration_s - 10)
        ratio = np.median(hh[plateau]) / upright
        assert ratio == pytest.approx(1.0 - plan.drop, abs=tol)
    assert sim.slouch_starts == pytest.approx([40.0, 160.0])


def test_slouch_brings_the_head_down_forward_and_nearer():
    plans = [sp.SlouchPlan(30.0, 0.20, 60.0)]
    sim = sp.simulate(120, seed=2, jitter=sp.Jitter.none(), slouches=plans, ordinary=False)
    m = compute_metrics(sim.log.landmarks, sp.WIDTH, "front")
    up, down = window(sim, 0, 20), window(sim, 45, 80)
    assert np.median(m["neck_height"][down]) < np.median(m["neck_height"][up])
    assert np.median(m["ear_span"][down]) > np.median(m["ear_span"][up])  # nearer
    assert np.median(m["head_forward_z"][down]) < np.median(m["head_forward_z"][up])


def test_away_means_no_person():
    rng = np.random.default_rng(0)
    leave = sp.leave(rng, 60.0, duration=120.0)
    sim = sp.simulate(300, seed=4, episodes=[leave], ordinary=False)
    detected = sim.log.landmarks.detected
    assert detected[window(sim, 0, 55)].all()
    assert not detected[window(sim, 62, 178)].any()
    assert detected[window(sim, 185, 300)].all()
    gone = ~detected
    assert np.isnan(sim.log.landmarks.xy[gone]).all()
    assert (sim.log.landmarks.visibility[gone] == 0).all()


def test_glance_down_drops_the_nose_not_the_ears():
    rng = np.random.default_rng(0)
    glance = sp.glance_down(rng, 20.0, duration=10.0, pitch_deg=20.0)
    sim = sp.simulate(40, seed=5, jitter=sp.Jitter.none(), episodes=[glance], ordinary=False)
    xy = sim.log.landmarks.xy
    before, during = window(sim, 0, 15), window(sim, 22, 29)
    ears = (xy[:, LM.LEFT_EAR, 1] + xy[:, LM.RIGHT_EAR, 1]) / 2
    nose_drop = np.median(xy[during, LM.NOSE, 1]) - np.median(xy[before, LM.NOSE, 1])
    ear_drop = np.median(ears[during]) - np.median(ears[before])
    assert nose_drop > 20.0  # pixels, down
    assert abs(ear_drop) < nose_drop / 4


def test_strong_head_turn_hides_the_far_ear_a_little():
    rng = np.random.default_rng(0)
    chat = sp.talk(rng, 20.0, duration=60.0)
    sim = sp.simulate(100, seed=6, episodes=[chat], ordinary=False)
    vis = sim.log.landmarks.visibility
    during = window(sim, 30, 70)
    far = LM.LEFT_EAR if chat.deltas["head_yaw"] > 0 else LM.RIGHT_EAR
    near = LM.RIGHT_EAR if far == LM.LEFT_EAR else LM.LEFT_EAR
    assert np.all(vis[during, far] < 0.95)
    assert np.all(vis[during, near] > 0.95)


def test_day_schedule_keeps_the_calibration_steady_and_holds_every_movement():
    rng = np.random.default_rng(11)
    plan = sp.schedule(8 * 3600.0, rng)
    kinds = {e.kind for e in plan}
    assert kinds == {"turn", "glance", "drink", "stretch", "talk", "lean_back", "away"}
    assert min(e.t0 for e in plan) > sp.CALIBRATION_S
    # Nothing else happens during a chat or an absence.
    for ex in (e for e in plan if e.kind in sp.EXCLUSIVE):
        others = [e for e in plan if e is not ex and e.t0 < ex.t3 and e.t3 > ex.t0]
        assert others == []


def test_spaced_slouches_leave_ten_minutes_upright_between():
    plans, length = sp.spaced_slouches([0.05, 0.2, 0.05], np.random.default_rng(1))
    ends = [p.start_s + p.duration_s for p in plans]
    gaps = [b.start_s - a for a, b in zip(ends, plans[1:], strict=False)]
    assert min(gaps) >= 600.0
    assert length > ends[-1] + 600.0
