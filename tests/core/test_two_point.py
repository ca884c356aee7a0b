"""Combined slouch evidence, two-point calibration and example frames in profiles (no model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from factories import front_pose
from test_cli import NOSE, fakes, make_folder, posture, recording, run  # noqa: F401  (the CLI's fake-model fixtures)

from posturecam import profiles
from posturecam.core.geometry import FRONT, compute_metrics
from posturecam.core.judge import limits, slouch_evidence
from posturecam.core.rules import MAX_EXAMPLES, Baseline, JudgeSettings, MetricStats
from posturecam.core.sustained import CLEAR
from posturecam.core.types import LandmarkBatch
from posturecam.errors import ProfileError


def metrics_of(poses):
    return compute_metrics(LandmarkBatch.stack(poses), 640.0, FRONT)


# --------------------------------------------------------------------------- evidence


def test_ears_tell_a_glance_down_from_a_slump():
    """A glance drops the nose, a slump drops the ears: ear evidence sees only the slump."""
    base = metrics_of([front_pose()])
    centres = {m: float(base[m][0]) for m in ("ear_height", "head_height")}
    # Nose down 30%, ears level.
    glance = metrics_of([front_pose(neck_height=0.55, nose_height=0.75 * 0.7)])
    slump = metrics_of([front_pose(neck_height=0.55 * 0.8, nose_height=0.75 * 0.8)])
    ears = {"ear_height": 1.0}
    nose = {"head_height": 1.0}
    assert slouch_evidence(glance.values, centres, ears)[0] == pytest.approx(0.0, abs=1e-9)
    assert slouch_evidence(glance.values, centres, nose)[0] > 0.9
    assert slouch_evidence(slump.values, centres, ears)[0] == pytest.approx(1.0, rel=0.01)


def test_evidence_is_undecided_when_the_main_metric_is_missing():
    values = {"head_height": np.array([np.nan, 0.9]), "ear_height": np.array([0.6, np.nan])}
    centres = {"head_height": 0.9, "ear_height": 0.6}
    ev = slouch_evidence(values, centres, {"head_height": 1.0, "ear_height": 0.5})
    assert np.isnan(ev[0]) and ev[1] == pytest.approx(0.0)


# --------------------------------------------------------------------------- placement


def _baseline(upright: float, slouch: list[float] | None = None, not_slouch=None) -> Baseline:
    rng = np.random.default_rng(0)
    up = 0.9 * (1 + upright * rng.standard_normal(40))
    kw = {}
    if slouch is not None:
        kw["slouch"] = {"head_height": 0.9 * (1 - np.asarray(slouch))}
    if not_slouch is not None:
        kw["not_slouch"] = {"head_height": 0.9 * (1 - np.asarray(not_slouch))}
    stats = {"head_height": MetricStats(float(np.median(up)), 0.0, 40)}
    return Baseline(FRONT, stats, upright={"head_height": up}, **kw)


def test_one_point_threshold_follows_the_calibration_spread():
    steady, wobbly = limits(_baseline(0.001)), limits(_baseline(0.02))
    assert steady.placed_by == wobbly.placed_by == "spread"
    assert steady.slouch == pytest.approx(JudgeSettings().floor)  # the noise floor decides
    assert wobbly.slouch > 2 * steady.slouch


def test_two_point_threshold_sits_between_upright_and_a_subtle_slouch():
    """A person who slouches by 5% gets a threshold under 5%, above their upright noise."""
    lim = limits(_baseline(0.005, slouch=[0.05] * 10 + [0.055] * 10))
    assert lim.placed_by == "two-point"
    unit = 0.3  # EVIDENCE["head_height"].unit
    assert 0.01 / unit < lim.slouch < 0.05 / unit


def test_in_a_sequence_two_point_never_lowers_the_threshold_into_upright_scatter():
    """Judged frame by frame for hours, a threshold inside the upright frames' scatter
    flags ordinary sitting; stills keep the threshold between the two clusters."""
    restless = _baseline(0.02, slouch=[0.05] * 10 + [0.055] * 10)
    one_point = limits(_baseline(0.02), sequence=True)
    stills, sequence = limits(restless), limits(restless, sequence=True)
    assert stills.placed_by == "two-point" and stills.slouch < one_point.slouch
    assert sequence.placed_by == one_point.placed_by != "two-point"
    assert sequence.slouch == one_point.slouch
    # A deep slouch raises it, in a sequence too.
    deep = _baseline(0.02, slouch=[0.25] * 10 + [0.26] * 10)
    assert limits(deep, sequence=True).placed_by == "two-point"
    assert limits(deep, sequence=True).slouch == limits(deep).slouch > one_point.slouch


def test_in_a_sequence_only_a_clear_slouch_counts_frame_by_frame():
    """A steady 8 s calibration puts the one-point threshold at the noise floor: right for
    stills, but a day's scatter is wider, and small drops are the sustained drop's."""
    steady = _baseline(0.001)
    settings = JudgeSettings()
    assert limits(steady).slouch == pytest.approx(settings.floor)
    seq = limits(steady, sequence=True)
    assert seq.placed_by == "clear"
    assert seq.slouch == pytest.approx(CLEAR * settings.sustained)
    off = JudgeSettings(sustained=0.0)  # no sustained drop: frames are all there is
    assert limits(steady, off, sequence=True).slouch == pytest.approx(settings.floor)


def test_feedback_raises_the_threshold_above_frames_called_upright():
    before = limits(_baseline(0.005))
    after = limits(_baseline(0.005, not_slouch=[0.06] * 20))
    assert after.placed_by == "feedback"
    assert after.slouch > 0.06 / 0.3 > before.slouch


# --------------------------------------------------------------------------- profiles


def test_examples_stay_bounded_newest_kept():
    p = profiles.Profile(
        "p", FRONT, {"head_height": MetricStats(0.9, 0.01, 10)}, (640, 480), "full", 10, "x"
    )
    for i in range(100):
        p = p.with_examples("slouch", {"head_height": np.full(7, float(i))})
    kept = p.examples["slouch"]["head_height"]
    assert kept.size == MAX_EXAMPLES and kept[-1] == 99.0
    with pytest.raises(ValueError, match="kind"):
        p.with_examples("bogus", {})


def test_version_1_profile_loads_and_is_upgraded_when_written(tmp_path):
    old = {
        "schema": "posturecam.profile",
        "version": 1,
        "name": "old",
        "created": "2024-05-01T09:30:00+00:00",
        "view": "front",
        "image_size": [640, 480],
        "model_variant": "full",
        "frames": 40,
        "source": "camera 0",
        "metrics": {"head_height": {"centre": 0.9, "spread": 0.01, "n": 40}},
        "settings": {"noise_k": 3.0, "sensitivity": {}},
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    loaded = profiles.load(path)
    assert loaded.examples == {}
    assert limits(loaded.baseline()).placed_by == "spread"
    assert json.loads(path.read_text())["version"] == 1  # untouched until written
    profiles.save(loaded, path)
    assert json.loads(path.read_text())["version"] == profiles.VERSION


@pytest.mark.parametrize(
    "examples",
    [
        {"bogus": {"head_height": [1.0]}},
        {"slouch": {"head_height": [True]}},
        {"slouch": {"head_height": ["x"]}},
        {"slouch": {"head_height": [1.0] * (MAX_EXAMPLES + 1)}},
        {"slouch": {"head_height": [1.0], "ear_height": [1.0, 2.0]}},
        {"slouch": [1.0]},
    ],
)
def test_hostile_examples_are_refused_and_the_file_kept(tmp_path, examples):
    p = profiles.Profile(
        "p", FRONT, {"head_height": MetricStats(0.9, 0.01, 10)}, (640, 480), "full", 10, "x"
    )
    data = {**p.to_dict(), "examples": examples}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    with pytest.raises(ProfileError, match="damaged"):
        profiles.load(path)
    assert path.read_bytes() == before


# --------------------------------------------------------------------------- the CLI


def test_calibrate_with_slouch_source_places_a_two_point_threshold(
    fakes,  # noqa: F811
    recording,  # noqa: F811
    tmp_path,
    capsys,
):
    slouch = make_folder(tmp_path / "slouch", n=10)
    target = tmp_path / "two.json"

    def fn(frame):
        # The second estimator runs the slouch phase: a 10% head drop, under the
        # old fixed 12% floor.
        if len(fakes.made) > 1:
            rng = np.random.default_rng(frame.index)
            return front_pose(nose_height=NOSE * 0.90, jitter=1.5, rng=rng, image_size=(64, 48))
        return posture(frame)

    fakes.fn = fn
    code, out, err = run(
        capsys, "calibrate", "--source", recording, "--seconds", "5", "--slouch-source", slouch,
        "--no-progress", "--profile", target,
    )  # fmt: skip
    assert code == 0, err
    saved = profiles.load(target)
    assert "slouch" in saved.examples
    assert limits(saved.baseline(), saved.settings).placed_by == "two-point"  # stills
    # The monitor judges a 10% head drop of a restless person when it holds, and says so.
    assert limits(saved.baseline(), saved.settings, sequence=True).placed_by != "two-point"
    assert "your slouch is a small one: the monitor catches it when it holds" in out


def test_a_slouch_like_upright_is_refused_and_nothing_written(
    fakes,  # noqa: F811
    recording,  # noqa: F811
    tmp_path,
    capsys,
):
    target = tmp_path / "same.json"
    code, _, err = run(
        capsys, "calibrate", "--source", recording, "--seconds", "5", "--slouch-source",
        recording, "--no-progress", "--profile", target,
    )  # fmt: skip
    assert code == 2
    assert err.startswith("posturecam: error: your slouch looked like your upright posture")
    assert len(err.strip().splitlines()) == 1
    assert not target.exists()


def test_with_slouch_on_a_recording_points_to_slouch_source(
    fakes,  # noqa: F811
    recording,  # noqa: F811
    tmp_path,
    capsys,
):
    code, _, err = run(
        capsys, "calibrate", "--source", recording, "--with-slouch", "--no-progress",
        "--profile", tmp_path / "x.json",
    )  # fmt: skip
    assert code == 2
    assert "give the slouch as --slouch-source PATH" in err
    assert fakes.made == [] and not (tmp_path / "x.json").exists()


# --------------------------------------------------------------------------- the slouch step


def _two_point_take(seed: int, drop: float | None):
    """An 8 s upright calibration of a simulated person, then 5 s of the slouch step:
    their own slouch ``drop`` deep (or, with None, still sitting upright)."""
    import simperson as sim

    from posturecam.live.calibration import add_slouch, calibrate

    person = sim.Person.sample(np.random.default_rng(seed))
    plans = [] if drop is None else [sim.SlouchPlan(15.0, drop, 30.0)]
    take = sim.simulate(40.0, seed, person=person, ordinary=False, slouches=plans)
    log = take.log
    upright = log.select(log.t_s < 8.0)
    profile = calibrate(upright, "sim", "simulation")
    return add_slouch(profile, log.select((log.t_s >= 22.0) & (log.t_s < 27.0)))


def test_a_subtle_slouch_is_accepted_as_the_slouch_step_and_sitting_still_is_not():
    """The slouch step compares two postures (the medians of two takes), not single
    frames: a real 5% slouch often stands out of the upright noise, sitting on never.

    Simulated people with sway and breathing: the per-frame rule this replaced
    accepted 6 of these 22 slouches. Of the rest, most are within the take's own
    noise (their median stands under 3 standard errors): asked to try again.
    """
    from posturecam.errors import CalibrationError

    accepted = refused_still = people = 0
    for seed in range(1, 25):
        try:
            _two_point_take(seed, 0.05)
            accepted += 1
        except CalibrationError:
            pass
        except ValueError:  # a body the simulation cannot slouch
            continue
        people += 1
        with pytest.raises(CalibrationError, match="looked like your upright posture"):
            _two_point_take(seed, None)
        refused_still += 1
    assert people >= 20 and refused_still == people
    assert accepted >= 0.45 * people
