"""The real model on real photos of people sitting well and badly."""

import numpy as np
import pytest
from realdata import load_labelled

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def frontal(datasets, model_path):
    return load_labelled(datasets / "frontal-desk-3subjects", model_path, view="front")


@pytest.fixture(scope="session")
def side(datasets, model_path):
    return load_labelled(datasets / "side-chair-1subject", model_path, view="side")


def test_person_found_in_nearly_every_frontal_photo(frontal):
    assert frontal.log.landmarks.detected.mean() > 0.97


def test_view_detected_automatically(datasets, model_path, frontal, side):
    from posturecam.core.geometry import detect_view

    front_views = detect_view(frontal.log.landmarks)
    assert np.mean(front_views[front_views != ""] == "front") > 0.95
    side_views = detect_view(side.log.landmarks)
    assert np.mean(side_views[side_views != ""] == "side") > 0.5


@pytest.mark.parametrize("subject", ["S1", "S2", "S3"])
def test_good_photos_have_higher_neck_height(frontal, subject):
    subj = frontal.column("subject") == subject
    label = frontal.column("label")
    nh = frontal.metrics["neck_height"]
    good = np.nanmean(nh[subj & (label == "good")])
    bad = np.nanmean(nh[subj & (label == "bad")])
    assert good > bad + 0.05, (subject, good, bad)


def test_hunchback_neck_inclination_exceeds_straight_by_10_degrees(side):
    posture = side.column("posture")
    cam = side.column("camera_side")
    incl = side.metrics["neck_inclination"]
    checked = 0
    for c in sorted(set(cam)):
        straight = incl[(cam == c) & (posture == "straight")]
        hunch = incl[(cam == c) & (posture == "hunchback")]
        assert straight.size and hunch.size
        assert not np.isnan(straight).any() and not np.isnan(hunch).any()
        for h in hunch:
            assert h >= straight.max() + 10, (c, h, straight)
            checked += 1
    assert checked >= 2


@pytest.fixture(scope="session")
def s4_sequence(datasets, model_path):
    """S4's two clips in order (good, then bad) through the model in VIDEO mode, 30 frames/s."""
    import csv

    import cv2

    from posturecam.core.types import Frame
    from posturecam.frames.engine import run_pose
    from posturecam.frames.pose import VIDEO, MediaPipePose

    root = datasets / "frontal-webcam-1subject"
    with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    frames = (
        Frame(cv2.imread(str(root / r["path"]), cv2.IMREAD_COLOR), i / 30.0, i, r["path"])
        for i, r in enumerate(rows)
    )
    with MediaPipePose(model_path, VIDEO) as pose:
        log = run_pose(frames, pose)
    return rows, log


def test_s4_slouched_clip_as_a_sequence_is_never_a_setup_change(s4_sequence):
    from posturecam.research.replay import ReplayOptions, analyse

    rows, log = s4_sequence
    a = analyse(log, ReplayOptions(baseline_frames=10, progress=False))
    assert not [e for e in a.events if e["type"] in ("setup_changed", "baseline_reanchored")]
    bad = np.array([r["label"] == "bad" for r in rows])
    slouched = np.array(a.columns["slouched"], float)
    assert np.nanmean(slouched[bad]) > 0.95
