"""Baseline statistics and judgement on seeded synthetic landmarks (no model)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from factories import front_pose, side_pose

from posturecam.core.baseline import MAX_STEADY_SPREAD, baseline_of, make_baseline, robust_stats
from posturecam.core.geometry import FRONT, SIDE, MetricTable, compute_metrics
from posturecam.core.judge import (
    issue_names,
    judge,
    limits,
    metric_bands,
    receded,
    sequence_inputs,
    slouch_evidence,
    with_evidence,
)
from posturecam.core.rules import (
    DEFAULT_CAP,
    DEFAULT_FLOOR,
    DEFAULT_RECLINE,
    DEFAULT_RULES,
    DEFAULT_SLOUCH_K,
    DEFAULT_SUSTAINED,
    DEFAULT_WEIGHTS,
    EVIDENCE,
    Baseline,
    JudgeSettings,
    MetricStats,
)
from posturecam.core.temporal import TemporalSettings, follow
from posturecam.core.types import LM, LandmarkBatch, Landmarks
from posturecam.errors import CalibrationError

NOSE = 0.75  # front_pose default nose_height (in shoulder widths)
HEAD = NOSE / math.sqrt(0.7)  # head_height of front_pose with the default ear ratio


# --------------------------------------------------------------------------- helpers


def table(poses: list[Landmarks], width: float = 640.0, view: str | None = None) -> MetricTable:
    return compute_metrics(LandmarkBatch.stack(poses), width, view)


def concat(*tables: MetricTable) -> MetricTable:
    return MetricTable(
        values={k: np.concatenate([t[k] for t in tables]) for k in tables[0].values},
        view=np.concatenate([t.view for t in tables]),
        reason=np.concatenate([t.reason for t in tables]),
    )


def upright(n: int, seed: int = 0, jitter: float = 2.0, **kw) -> list[Landmarks]:
    """Upright sitting: 2 px landmark noise on a 200 px shoulder width."""
    rng = np.random.default_rng(seed)
    return [front_pose(jitter=jitter, rng=rng, **kw) for _ in range(n)]


def with_visibility(lm: Landmarks, indices, value: float) -> Landmarks:
    vis = lm.visibility.copy()
    vis[list(indices)] = value
    return Landmarks(lm.xy, lm.z, vis, vis.copy(), lm.world, lm.image_size)


def side_seq(n: int, seed: int = 0, neck: float = 10.0, torso: float = 5.0, **kw):
    """Side-on sitting with about 1.5 degrees of wobble in each angle."""
    rng = np.random.default_rng(seed)
    return [
        side_pose(
            neck_inclination=neck + rng.normal(0, 1.5),
            torso_inclination=torso + rng.normal(0, 1.5),
            **kw,
        )
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def front_baseline() -> tuple[str, dict[str, MetricStats]]:
    return make_baseline(table(upright(120, seed=1)))


@pytest.fixture(scope="module")
def side_baseline() -> tuple[str, dict[str, MetricStats]]:
    return make_baseline(table(side_seq(120, seed=2)))


# --------------------------------------------------------------------------- robust_stats


def test_robust_stats_ignores_outliers_and_nan():
    s = robust_stats(np.array([1.0, 2.0, 3.0, 4.0, 100.0, np.nan]))
    assert s.centre == 3.0
    assert s.spread == pytest.approx(1.4826)  # MAD of |-2,-1,0,1,97| is 1
    assert s.n == 5


def test_robust_stats_spread_estimates_gaussian_sigma():
    v = np.random.default_rng(3).normal(10.0, 0.5, 20_000)
    s = robust_stats(v)
    assert s.centre == pytest.approx(10.0, abs=0.02)
    assert s.spread == pytest.approx(0.5, rel=0.03)


def test_robust_stats_of_nothing_is_nan_with_zero_count():
    for values in (np.array([]), np.array([np.nan, np.nan])):
        s = robust_stats(values)
        assert math.isnan(s.centre) and math.isnan(s.spread) and s.n == 0


def test_robust_stats_of_constant_has_zero_spread():
    s = robust_stats(np.full(10, 0.9))
    assert (s.centre, s.spread, s.n) == (0.9, 0.0, 10)


# --------------------------------------------------------------------------- upright never slouched


def test_long_upright_sequence_with_jitter_and_sway_is_never_slouched():
    rng = np.random.default_rng(42)
    fps, n = 15.0, 4500  # five minutes
    poses = []
    for i in range(n):
        t = i / fps
        poses.append(
            front_pose(
                nose_height=NOSE * (1 + 0.02 * math.sin(2 * math.pi * t / 47)),
                neck_height=0.55 * (1 + 0.02 * math.sin(2 * math.pi * t / 31)),
                shoulder_width=200.0 * (1 + 0.04 * math.sin(2 * math.pi * t / 73)),
                center=(
                    320 + 30 * math.sin(2 * math.pi * t / 40),
                    330 + 10 * math.sin(2 * math.pi * t / 23),
                ),
                lateral=0.03 * math.sin(2 * math.pi * t / 37),
                jitter=2.0,
                rng=rng,
            )
        )
    metrics = table(poses)
    calib = MetricTable(
        values={k: v[: int(8 * fps)] for k, v in metrics.values.items()},
        view=metrics.view[: int(8 * fps)],
        reason=metrics.reason[: int(8 * fps)],
    )
    view, stats = make_baseline(calib)
    assert view == FRONT
    verdict = judge(metrics, stats, view)
    assert verdict.slouched.shape == (n,)
    # Thresholds sit near a still person's own noise (so subtle slouchers are
    # caught): a rare noisy frame may cross; the timeline must never leave upright.
    assert np.mean(verdict.slouched) < 0.01
    assert not np.isnan(verdict.score).any()
    assert np.median(verdict.score) > 85
    assert {i for i in verdict.issues if i} <= {"head_drop"}
    present = [True] * n
    story = follow(np.arange(n) / fps, present, verdict.worst, verdict.issues, TemporalSettings())
    assert set(story.states) == {"upright"}
    assert np.allclose(verdict.head_scale, 1.0, atol=0.15)  # +-4% zoom plus jitter


# --------------------------------------------------------------------------- front slumps


def test_head_dropped_by_a_quarter_is_slouched(front_baseline):
    view, stats = front_baseline
    slumped = upright(60, seed=5, nose_height=NOSE * 0.75)
    verdict = judge(table(slumped, view=FRONT), stats, view)
    assert np.all(verdict.slouched == 1.0)
    assert np.all(verdict.score < 50)
    assert all("head_drop" in s.split(";") for s in verdict.issues)
    assert np.all(verdict.worst > 1.0)
    assert np.allclose(verdict.worst, verdict.severity["head_drop"])


def test_head_dropped_by_five_percent_is_not_slouched(front_baseline):
    view, stats = front_baseline
    slight = upright(60, seed=6, nose_height=NOSE * 0.95)
    verdict = judge(table(slight, view=FRONT), stats, view)
    assert np.all(verdict.slouched == 0.0)
    assert np.all(verdict.score > 50)
    assert not any("head_drop" in s for s in verdict.issues)


def test_score_falls_as_the_head_drops(front_baseline):
    view, stats = front_baseline
    drops = [1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6]
    poses = [front_pose(nose_height=NOSE * d) for d in drops]
    verdict = judge(table(poses, view=FRONT), stats, view)
    assert np.all(np.diff(verdict.score) <= 0)
    assert verdict.score[0] == pytest.approx(100, abs=5)
    assert verdict.score[-1] == 0.0
    assert list(verdict.slouched) == [0, 0, 0, 1, 1, 1, 1]  # floor: a 12% drop


def test_sitting_taller_than_baseline_is_not_bad(front_baseline):
    view, stats = front_baseline
    verdict = judge(table([front_pose(nose_height=NOSE * 1.3)], view=FRONT), stats, view)
    assert verdict.slouched[0] == 0.0
    assert verdict.score[0] == 100.0
    assert verdict.issues[0] == ""


def test_head_scale_is_ear_span_relative_to_baseline(front_baseline):
    view, stats = front_baseline
    near = front_pose(shoulder_width=240.0)  # leaning in: everything 20% bigger
    verdict = judge(table([near], view=FRONT), stats, view)
    assert verdict.head_scale[0] == pytest.approx(1.2, abs=0.03)
    assert "leaning_in" in verdict.issues[0]
    assert verdict.slouched[0] == 0.0  # closer is not slouching by itself


# --------------------------------------------------------------------------- side view


def test_side_baseline_is_side_view(side_baseline):
    view, stats = side_baseline
    assert view == SIDE
    assert stats["neck_inclination"].centre == pytest.approx(10.0, abs=1.0)
    assert "head_height" not in stats


@pytest.mark.parametrize("facing,near", [("right", "left"), ("left", "right")])
def test_forward_head_in_side_view_is_slouched(side_baseline, facing, near):
    view, stats = side_baseline
    poked = side_seq(40, seed=7, neck=30.0, facing=facing, near=near)
    verdict = judge(table(poked), stats, view)
    assert np.all(verdict.slouched == 1.0)
    assert all("forward_head" in s.split(";") for s in verdict.issues)
    assert np.all(verdict.score < 50)


def test_reclining_in_side_view_is_not_slouched(side_baseline):
    view, stats = side_baseline
    for neck in (10.0, 0.0, -10.0):
        reclined = side_seq(40, seed=8, neck=neck, torso=-15.0)
        verdict = judge(table(reclined), stats, view)
        assert np.all(verdict.slouched == 0.0), neck
        assert set(verdict.issues) == {""}


def test_trunk_flexion_in_side_view_is_slouched(side_baseline):
    view, stats = side_baseline
    bent = side_seq(20, seed=9, torso=25.0)
    verdict = judge(table(bent), stats, view)
    assert np.all(verdict.slouched == 1.0)
    assert all("trunk_flexion" in s for s in verdict.issues)


def test_only_the_baseline_view_is_judged(front_baseline):
    _, stats = front_baseline
    verdict = judge(table(side_seq(5, neck=40.0)), stats, SIDE)
    assert np.isnan(verdict.score).all()
    assert np.isnan(verdict.slouched).all()
    assert verdict.severity == {}


# --------------------------------------------------------------------------- undecided frames


def test_frames_without_person_or_visibility_are_undecided(front_baseline):
    view, stats = front_baseline
    poses = [
        front_pose(),
        Landmarks.empty((640, 480)),
        front_pose(visibility=0.2),
        with_visibility(front_pose(), (LM.LEFT_EAR, LM.RIGHT_EAR), 0.1),
        with_visibility(front_pose(neck_height=0.55, nose_height=NOSE * 0.6), (LM.NOSE,), 0.1),
        front_pose(nose_height=NOSE * 0.6),
    ]
    metrics = table(poses, view=FRONT)
    verdict = judge(metrics, stats, view)
    undecided = [1, 2, 3, 4]
    assert np.isnan(verdict.score[undecided]).all()
    assert np.isnan(verdict.slouched[undecided]).all()
    assert list(verdict.issues[undecided]) == [""] * 4
    assert verdict.slouched[0] == 0.0 and verdict.slouched[5] == 1.0
    assert np.isnan(verdict.worst[undecided]).all()
    assert verdict.worst[0] < 1.0 < verdict.worst[5]
    assert metrics.reason[1] == "no person detected"


# geometry.near_side averages an all-NaN row for the empty frame (cosmetic numpy warning).
@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
def test_side_frame_with_hip_hidden_is_still_decided_on_the_neck(side_baseline):
    view, stats = side_baseline
    lm = side_pose(neck_inclination=35.0)
    hidden = with_visibility(lm, (LM.LEFT_HIP, LM.RIGHT_HIP), 0.1)
    verdict = judge(table([hidden, Landmarks.empty((720, 1280))], view=SIDE), stats, view)
    assert verdict.slouched[0] == 1.0
    assert verdict.issues[0] == "forward_head"
    assert np.isnan(verdict.slouched[1]) and verdict.issues[1] == ""


def test_judging_nothing_gives_empty_arrays(front_baseline):
    view, stats = front_baseline
    verdict = judge(table([], view=FRONT), stats, view)
    assert verdict.score.shape == verdict.slouched.shape == verdict.issues.shape == (0,)


# --------------------------------------------------------------------------- thresholds


def test_threshold_uses_floor_for_a_steady_baseline():
    s = JudgeSettings()
    assert s.threshold("head_drop", 0.0, HEAD) == pytest.approx(0.12)
    assert s.threshold("forward_head", 0.0, 10.0) == pytest.approx(10.0)
    assert s.threshold("head_drop", float("nan"), HEAD) == pytest.approx(0.12)


def test_threshold_widens_with_a_noisy_baseline():
    s = JudgeSettings()
    # relative rule: noise is spread / centre
    assert s.threshold("head_drop", 0.1 * HEAD, HEAD) == pytest.approx(0.3)
    # absolute rule (degrees)
    assert s.threshold("forward_head", 5.0, 12.0) == pytest.approx(15.0)
    assert JudgeSettings(noise_k=2.0).threshold("forward_head", 6.0, 0.0) == pytest.approx(12.0)


def test_noisy_baseline_tolerates_more_than_a_steady_one():
    metrics = table([front_pose(nose_height=NOSE * 0.92)], view=FRONT)
    steady = {"head_height": MetricStats(HEAD, 0.0, 100)}
    noisy = {"head_height": MetricStats(HEAD, 0.02 * HEAD, 100)}
    assert judge(metrics, steady, FRONT).slouched[0] == 1.0
    assert judge(metrics, noisy, FRONT).slouched[0] == 0.0
    # Evidence 0.08 / unit 0.3; threshold slouch_k x spread (0.02 / unit 0.3), under the cap.
    unit, k = EVIDENCE["head_height"].unit, JudgeSettings().slouch_k
    severity = (0.08 / unit) / (k * 0.02 / unit)
    assert judge(metrics, noisy, FRONT).score[0] == pytest.approx(100 * (1 - severity / 2))


def test_a_restless_calibration_cannot_hide_a_clear_slump():
    """However wide the calibration spread, the one-point threshold stops at ``cap``."""
    metrics = table([front_pose(nose_height=NOSE * 0.75)], view=FRONT)
    restless = {"head_height": MetricStats(HEAD, 0.1 * HEAD, 100)}  # 5 spreads: 1.67 units
    verdict = judge(metrics, restless, FRONT)
    assert verdict.limit == pytest.approx(JudgeSettings().cap)
    assert verdict.slouched[0] == 1.0
    uncapped = JudgeSettings(cap=10.0)
    assert judge(metrics, restless, FRONT, uncapped).slouched[0] == 0.0


def test_min_needs_every_metric_of_the_evidence():
    """With "min", a frame missing one metric cannot show that both agree: undecided."""
    values = {"ear_height": np.array([0.5, np.nan]), "head_height": np.array([np.nan, 0.5])}
    centres = {"ear_height": 0.6, "head_height": 0.8}
    w = {"ear_height": 1.0, "head_height": 1.0}
    assert np.isnan(slouch_evidence(values, centres, w, "min")).all()
    assert np.isfinite(slouch_evidence(values, centres, w, "mean")[0])


def test_sensitivity_tightens_and_loosens():
    stats = {"head_height": MetricStats(HEAD, 0.0, 100)}  # steady: the noise floor decides
    floor_drop = JudgeSettings().floor * EVIDENCE["head_height"].unit  # 1.5% of head_height
    slight = table([front_pose(nose_height=NOSE * (1 - 0.7 * floor_drop))], view=FRONT)
    clear = table([front_pose(nose_height=NOSE * (1 - 1.6 * floor_drop))], view=FRONT)
    default = JudgeSettings()
    strict = default.with_sensitivity(head_drop=2.0)
    lax = default.with_sensitivity(head_drop=0.5)
    base = Baseline(FRONT, stats)
    assert limits(base, strict).slouch == pytest.approx(default.floor / 2)
    assert limits(base, lax).slouch == pytest.approx(default.floor * 2)
    assert judge(slight, stats, FRONT, default).slouched[0] == 0.0
    assert judge(slight, stats, FRONT, strict).slouched[0] == 1.0
    assert judge(clear, stats, FRONT, default).slouched[0] == 1.0
    assert judge(clear, stats, FRONT, lax).slouched[0] == 0.0
    assert default.sensitivity == {}  # settings are immutable


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_non_positive_sensitivity_raises(value):
    with pytest.raises(ValueError, match="greater than 0"):
        JudgeSettings().with_sensitivity(head_drop=value)


def test_unknown_issue_raises():
    with pytest.raises(ValueError, match=r"unknown issue.*slouchiness"):
        JudgeSettings().with_sensitivity(slouchiness=1.5)
    with pytest.raises(ValueError, match="unknown issue"):
        JudgeSettings.from_dict({"sensitivity": {"nope": 1.0}})


def test_settings_round_trip():
    s = JudgeSettings(noise_k=2.5).with_sensitivity(head_drop=1.5, forward_head=0.8)
    d = s.to_dict()
    assert d == {
        "noise_k": 2.5,
        "sensitivity": {"head_drop": 1.5, "forward_head": 0.8},
        "weights": dict(DEFAULT_WEIGHTS),
        "floor": DEFAULT_FLOOR,
        "slouch_k": DEFAULT_SLOUCH_K,
        "combine": "min",
        "cap": DEFAULT_CAP,
        "recline": DEFAULT_RECLINE,
        "sustained": DEFAULT_SUSTAINED,
    }
    assert JudgeSettings.from_dict(d) == s
    assert JudgeSettings.from_dict({}) == JudgeSettings()
    assert JudgeSettings.from_dict(JudgeSettings().to_dict()) == JudgeSettings()


def test_every_rule_has_a_positive_floor_and_a_known_view():
    for name, rule in DEFAULT_RULES.items():
        assert rule.floor > 0, name
        assert rule.view in (FRONT, SIDE), name
        assert rule.direction in (-1, 0, 1), name


# --------------------------------------------------------------------------- make_baseline


def test_make_baseline_succeeds_on_clean_upright_frames():
    view, stats = make_baseline(table(upright(60, seed=11)))
    assert view == FRONT
    hh = stats["head_height"]
    assert hh.centre == pytest.approx(HEAD, rel=0.02)
    assert 0 < hh.spread < 0.05
    assert hh.n == 60
    assert "ear_span" in stats
    assert not any(DEFAULT_RULES[k].view == SIDE for k in DEFAULT_RULES if k in stats)
    assert all(s.n > 0 and math.isfinite(s.centre) for s in stats.values())


def test_make_baseline_tolerates_a_few_missed_frames():
    poses = upright(50, seed=12) + [Landmarks.empty((640, 480))] * 3
    view, stats = make_baseline(table(poses))
    assert view == FRONT and stats["head_height"].n == 50


def test_make_baseline_too_few_frames():
    with pytest.raises(CalibrationError, match="only 2 calibration frame") as err:
        make_baseline(table(upright(2)))
    assert "longer" in str(err.value)


def test_make_baseline_person_rarely_found():
    poses = upright(8, seed=13) + [Landmarks.empty((640, 480))] * 2  # 80%
    with pytest.raises(CalibrationError, match="80%") as err:
        make_baseline(table(poses))
    msg = str(err.value)
    assert "move into the frame" in msg
    assert "light" in msg


def test_make_baseline_nobody_at_all():
    with pytest.raises(CalibrationError, match=r"0%.*move into the frame"):
        make_baseline(table([Landmarks.empty((640, 480))] * 10))


def test_make_baseline_view_changing():
    metrics = concat(table(upright(16, seed=14)), table(side_seq(4, seed=14)))
    with pytest.raises(CalibrationError, match="view changed") as err:
        make_baseline(metrics)
    assert "80% front" in str(err.value)
    assert "keep still" in str(err.value)


def test_make_baseline_ears_not_measurable():
    poses = upright(10, seed=15) + [
        with_visibility(p, (LM.LEFT_EAR, LM.RIGHT_EAR), 0.2) for p in upright(10, seed=16)
    ]
    with pytest.raises(CalibrationError, match="measurable in only 50%") as err:
        make_baseline(table(poses))
    msg = str(err.value)
    assert "ears" in msg and "uncovered" in msg and "light" in msg


def test_make_baseline_side_parts_not_measurable():
    poses = [with_visibility(p, (LM.LEFT_EAR, LM.RIGHT_EAR), 0.1) for p in side_seq(10)]
    with pytest.raises(CalibrationError, match="ear, shoulder and hip"):
        make_baseline(table(poses))


def test_make_baseline_unsteady_front():
    rng = np.random.default_rng(17)
    poses = [front_pose(nose_height=rng.uniform(0.45, 1.05)) for _ in range(40)]
    with pytest.raises(CalibrationError, match="moved a lot") as err:
        make_baseline(table(poses))
    assert "head_height" in str(err.value)
    assert "sit upright" in str(err.value)


def test_make_baseline_unsteady_side():
    rng = np.random.default_rng(18)
    poses = [side_pose(neck_inclination=rng.uniform(-20, 45)) for _ in range(40)]
    with pytest.raises(CalibrationError, match=r"moved a lot.*neck_inclination"):
        make_baseline(table(poses))


def test_steadiness_limit_is_wide_compared_with_jitter():
    _, stats = make_baseline(table(upright(200, seed=19)))
    hh = stats["head_height"]
    assert hh.spread / hh.centre < MAX_STEADY_SPREAD["head_height"] / 3


def test_make_baseline_min_frames_can_be_lowered_for_stills():
    view, stats = make_baseline(table([front_pose()]), min_frames=1)
    assert view == FRONT
    assert stats["head_height"].spread == 0.0


def test_make_baseline_forced_view_is_used():
    metrics = concat(table(side_seq(18, seed=20)), table(upright(2, seed=20)))
    view, stats = make_baseline(metrics, SIDE)
    assert view == SIDE and "neck_inclination" in stats


# --------------------------------------------------------------------------- issue names


def issue_names_frame_by_frame(severity: dict[str, np.ndarray], n: int) -> np.ndarray:
    """The per-frame loop judge() used before it was vectorised: the reference."""
    names = list(severity)
    issues = np.full(n, "", dtype=object)
    if names:
        present = np.vstack([np.nan_to_num(severity[k], nan=0.0) > 1.0 for k in names])
        for i in np.flatnonzero(present.any(axis=0)):
            issues[i] = ";".join(k for k, on in zip(names, present[:, i], strict=True) if on)
    return issues


@pytest.mark.parametrize("count", [0, 1, 2, 5, len(DEFAULT_RULES)])
def test_vectorised_issue_names_equal_the_frame_by_frame_loop(count):
    rng = np.random.default_rng(count)
    n = 5000
    names = list(rng.permutation(list(DEFAULT_RULES)))[:count]  # any order of rules
    severity = {}
    for name in names:
        values = rng.uniform(0.0, 2.0, n)
        special = rng.choice([np.nan, np.inf, -np.inf, 1.0, np.nextafter(1.0, 2.0)], n)
        odd = rng.random(n) < 0.1
        values[odd] = special[odd]
        values[rng.random(n) < 0.2] = np.nan
        values[rng.random(n) < 0.02] = 1.0  # at the threshold is not over it
        severity[name] = values
    got = issue_names(severity, n)
    want = issue_names_frame_by_frame(severity, n)
    assert got.dtype == object and got.shape == (n,)
    assert got.tolist() == want.tolist()
    assert all(type(v) is str for v in got)
    if count >= 2:
        assert len(set(got.tolist())) > count  # combinations really occur


def test_issue_names_follow_rule_order_and_skip_undecided():
    severity = {
        "head_drop": np.array([2.0, 0.5, np.nan, 1.0, 3.0]),
        "leaning_in": np.array([1.5, 1.5, 2.0, np.nan, np.inf]),
    }
    assert issue_names(severity, 5).tolist() == [
        "head_drop;leaning_in",
        "leaning_in",
        "leaning_in",
        "",
        "head_drop;leaning_in",
    ]
    assert issue_names({}, 3).tolist() == ["", "", ""]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"cap": 0.01}, "cap must be a number >= floor"),
        ({"cap": float("nan")}, "cap must be"),
        ({"floor": 0.0}, "floor must be a number > 0"),
        ({"combine": "max"}, "combine must be one of"),
    ],
)
def test_bad_evidence_settings_are_refused(data, message):
    with pytest.raises(ValueError, match=message):
        JudgeSettings.from_dict(data)


# --------------------------------------------------------------------------- metric_bands


def test_metric_bands_are_where_judge_changes_its_verdict(front_baseline):
    """Just inside a band the head_drop evidence is under its limit; just outside, over."""
    view, stats = front_baseline
    base = Baseline(view, stats)
    bands = metric_bands(base)
    lim = limits(base)
    assert set(DEFAULT_WEIGHTS) <= set(bands)
    for metric in DEFAULT_WEIGHTS:
        centre, low, high = bands[metric]
        assert high is None and low is not None and low < centre == stats[metric].centre
        ev = EVIDENCE[metric]
        assert low == pytest.approx(centre * (1 - lim.slouch * ev.unit))
    # An issue rule's band: the relative threshold times the centre, both ways for "either".
    tilt = bands["shoulder_tilt"]
    step = lim.issues["shoulder_tilt"]
    assert tilt[1] == pytest.approx(tilt[0] - step) and tilt[2] == pytest.approx(tilt[0] + step)


def test_metric_bands_take_a_recorded_slouch_limit_and_none_for_a_weighted_mean(front_baseline):
    view, stats = front_baseline
    base = Baseline(view, stats)
    given = metric_bands(base, slouch=0.3)["head_height"]
    assert given[1] == pytest.approx(stats["head_height"].centre * (1 - 0.3 * 0.30))
    mean = JudgeSettings(combine="mean")
    assert "head_height" not in metric_bands(base, mean)


def test_metric_bands_of_a_side_baseline_have_no_front_evidence(side_baseline):
    view, stats = side_baseline
    bands = metric_bands(Baseline(view, stats))
    assert "head_height" not in bands and "neck_inclination" in bands
    assert bands["neck_inclination"][1] is None  # only too high is bad


# --------------------------------------------------------------------------- sequences


def test_receded_is_the_spans_shrink_and_never_negative():
    values = {
        "ear_span": np.array([0.10, 0.09, 0.11, np.nan]),
        "shoulder_span": np.array([0.30, 0.27, 0.33, 0.30]),
    }
    got = receded(values, {"ear_span": 0.10, "shoulder_span": 0.30})
    assert got[0] == 0.0
    assert got[1] == pytest.approx(-math.log(0.9))  # both 10% smaller: moved away
    assert got[2] == 0.0  # nearer: a slump is never discounted
    assert got[3] == 0.0  # cannot measure: no discount
    assert (receded(values, {}) == 0.0).all()


def test_a_sequence_gives_back_what_reclining_explains():
    base = baseline_of(table(upright(12)), FRONT, min_frames=1)
    # The person moved back: the whole figure 10% smaller about the image centre.
    far = front_pose(shoulder_width=180.0, nose_height=NOSE)
    v = judge(table([far]), base, FRONT)
    assert v.receded[0] == pytest.approx(-math.log(0.9), rel=0.1)
    ev, drop = sequence_inputs(v, JudgeSettings())
    assert ev[0] == pytest.approx(v.evidence[0] - v.receded[0])
    assert drop[0] == pytest.approx((v.drop[0] - v.receded[0]) / DEFAULT_SUSTAINED)
    ev_off, drop_off = sequence_inputs(v, JudgeSettings(recline=0.0, sustained=0.0))
    assert ev_off[0] == v.evidence[0] and np.isnan(drop_off).all()


def test_the_sustained_drop_can_decide_a_frame_the_evidence_does_not():
    base = baseline_of(table(upright(12)), FRONT, min_frames=1)
    v = judge(table(upright(3, seed=4)), base, FRONT)
    assert (v.slouched == 0).all()
    moved = with_evidence(v, v.evidence, np.array([1.5, np.nan, 0.2]))
    assert list(moved.slouched) == [1.0, 0.0, 0.0]  # NaN: the evidence alone decides
    assert "head_drop" in moved.issues[0]
    undecided = with_evidence(v, np.array([np.nan, 0.0, 0.0]), np.array([2.0, 0.0, 0.0]))
    assert np.isnan(undecided.slouched[0])  # no evidence: undecided, whatever the drop says
