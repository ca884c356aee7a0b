import numpy as np
import pytest
from factories import front_pose, side_pose
from hypothesis import given, settings
from hypothesis import strategies as st

from posturecam.core.geometry import (
    FRONT,
    SIDE,
    compute_metrics,
    detect_view,
    dominant_view,
    near_side,
)
from posturecam.core.types import LM, LandmarkBatch, Landmarks


def batch(*items: Landmarks) -> LandmarkBatch:
    return LandmarkBatch.stack(list(items))


@pytest.mark.parametrize("neck,nose", [(0.3, 0.5), (0.55, 0.75), (0.8, 1.1)])
def test_front_metrics_read_back_known_values(neck, nose):
    m = compute_metrics(batch(front_pose(neck_height=neck, nose_height=nose)), 640, FRONT)
    assert m["neck_height"][0] == pytest.approx(neck)
    assert m["nose_height"][0] == pytest.approx(nose)
    assert m["head_height"][0] == pytest.approx(nose / np.sqrt(0.7))  # ear span 0.7 x shoulders
    assert m["lateral_offset"][0] == pytest.approx(0.0)
    assert m["shoulder_tilt"][0] == pytest.approx(0.0)
    assert m["head_forward_z"][0] == pytest.approx(-0.05)
    assert m["shoulder_span"][0] == pytest.approx(200 / 640)
    assert np.isnan(m["neck_inclination"][0])  # other view's metrics are not made up
    assert m.reason[0] == ""


def test_shoulder_tilt_sign_and_mirror_invariance():
    lm = front_pose()
    xy = lm.xy.copy()
    xy[LM.LEFT_SHOULDER, 1] += 20  # image-right shoulder lower
    tilted = Landmarks(xy, lm.z, lm.visibility, lm.presence, lm.world, lm.image_size)
    mirrored_xy = xy.copy()
    mirrored_xy[:, 0] = 640 - mirrored_xy[:, 0]
    mirrored = Landmarks(mirrored_xy, lm.z, lm.visibility, lm.presence, lm.world, lm.image_size)
    m = compute_metrics(batch(tilted, mirrored), 640, FRONT)
    assert m["shoulder_tilt"][0] == pytest.approx(np.degrees(np.arctan2(20, 200)))
    assert m["shoulder_tilt"][1] == pytest.approx(-m["shoulder_tilt"][0])
    assert m["neck_height"][1] == pytest.approx(m["neck_height"][0])


@settings(max_examples=50, deadline=None)
@given(
    scale=st.floats(0.2, 5.0),
    dx=st.floats(-500, 500),
    dy=st.floats(-500, 500),
    neck=st.floats(0.2, 1.0),
)
def test_front_metrics_invariant_to_scale_and_translation(scale, dx, dy, neck):
    base = front_pose(neck_height=neck, rng=np.random.default_rng(1), jitter=2.0)
    moved = Landmarks(
        base.xy * scale + (dx, dy),
        base.z * scale,
        base.visibility,
        base.presence,
        base.world,
        base.image_size,
    )
    a = compute_metrics(batch(base), 640, FRONT)
    b = compute_metrics(batch(moved), 640 * scale, FRONT)
    for name in (
        "neck_height",
        "nose_height",
        "ear_span",
        "shoulder_span",
        "shoulder_tilt",
        "head_tilt",
        "lateral_offset",
    ):
        assert b[name][0] == pytest.approx(a[name][0], rel=1e-6, abs=1e-9), name


def test_low_visibility_gives_nan_with_reason():
    lm = front_pose()
    vis = lm.visibility.copy()
    vis[[LM.LEFT_EAR, LM.RIGHT_EAR]] = 0.1
    hidden = Landmarks(lm.xy, lm.z, vis, lm.presence, lm.world, lm.image_size)
    m = compute_metrics(batch(hidden), 640, FRONT)
    assert np.isnan(m["neck_height"][0])
    assert np.isnan(m["head_tilt"][0])
    assert m["shoulder_tilt"][0] == pytest.approx(0.0)  # still measurable
    assert m.reason[0] == "ears not visible"


def test_empty_landmarks_are_never_a_posture():
    m = compute_metrics(batch(Landmarks.empty(), front_pose()), 640)
    assert all(np.isnan(v[0]) for v in m.values.values())
    assert m.view[0] == "" and m.reason[0] == "no person detected"
    assert m.view[1] == FRONT


def test_vectorised_matches_per_frame():
    rng = np.random.default_rng(7)
    poses = [front_pose(neck_height=rng.uniform(0.3, 0.8), jitter=3, rng=rng) for _ in range(50)]
    whole = compute_metrics(batch(*poses), 640, FRONT)
    for i, p in enumerate(poses[:10]):
        single = compute_metrics(batch(p), 640, FRONT)
        assert single["neck_height"][0] == pytest.approx(whole["neck_height"][i])


@pytest.mark.parametrize("near", ["left", "right"])
@pytest.mark.parametrize("facing", ["left", "right"])
@pytest.mark.parametrize("neck,torso", [(5.0, 0.0), (35.0, 12.0), (55.0, 25.0), (-5.0, -30.0)])
def test_side_metrics_use_the_near_side(near, facing, neck, torso):
    lm = side_pose(neck_inclination=neck, torso_inclination=torso, facing=facing, near=near)
    b = batch(lm)
    assert bool(near_side(b)[0]) == (near == "left")
    m = compute_metrics(b, 720, SIDE)
    assert m["neck_inclination"][0] == pytest.approx(neck, abs=1e-6)
    assert m["torso_inclination"][0] == pytest.approx(torso, abs=1e-6)
    assert m["ear_shoulder_hip"][0] == pytest.approx(180 - (neck - torso), abs=1e-6)
    assert np.isnan(m["neck_height"][0])


def test_view_detection():
    b = batch(front_pose(), side_pose(), Landmarks.empty())
    assert list(detect_view(b)) == [FRONT, SIDE, ""]
    assert dominant_view(np.array([SIDE, SIDE, FRONT, ""], dtype=object)) == SIDE
    assert dominant_view(np.array(["", ""], dtype=object)) == FRONT
    assert compute_metrics(batch(side_pose(), side_pose()), 720).view[0] == SIDE


def test_bad_view_rejected():
    with pytest.raises(ValueError, match="view"):
        compute_metrics(batch(front_pose()), 640, "top")
