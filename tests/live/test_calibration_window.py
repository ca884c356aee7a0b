"""The one calibration window: which frames a calibration measures, from any frame iterator."""

from __future__ import annotations

import numpy as np
import pytest
from factories import FakePose, blank_frames, front_pose
from test_pacing import FakeLive

from posturecam.core.types import Frame
from posturecam.frames.capture import BUSY, LOST, Health
from posturecam.frames.pacing import paced
from posturecam.live.calibration import (
    WINDOW_S,
    calibrate,
    calibration_window,
    window,
    window_for,
)


def _shifted(frames: list[Frame], dt: float) -> list[Frame]:
    return [Frame(f.image, f.t_s + dt, f.index, f.name) for f in frames]


@pytest.mark.parametrize(
    ("seconds", "frames", "stills", "expected"),
    [
        (None, None, False, (WINDOW_S, None)),  # the default window
        (3.0, None, False, (3.0, None)),
        (3.0, 10, False, (None, 10)),  # a frame count wins
        (None, None, True, (None, None)),  # chosen stills: all of them
        (2.0, None, True, (2.0, None)),
    ],
)
def test_window_for_is_the_one_rule(seconds, frames, stills, expected):
    assert window_for(seconds, frames, stills) == expected


def test_the_window_counts_from_the_first_frame_not_from_zero():
    frames = _shifted(blank_frames(40, fps=2.0), 100.0)  # a manifest starting at 100 s
    chosen = list(window(frames, seconds=8.0))
    assert [f.t_s - 100.0 for f in chosen] == [k / 2 for k in range(16)]


def test_the_window_by_count_and_without_bounds():
    frames = blank_frames(10)
    assert [f.index for f in window(frames, None, 4)] == [0, 1, 2, 3]
    assert len(list(window(frames, None, None))) == 10
    assert list(window([], 8.0)) == []


def test_calibration_window_over_a_live_capture_waits_through_trouble_and_ends_with_it():
    frames = blank_frames(30, fps=5.0)  # 6 s of camera at 5 frames/s
    busy = Health(BUSY, "cannot open camera 0")
    live = FakeLive([*frames[:3], busy, *frames[3:]])
    heard: list[Health] = []
    seen: list[int] = []
    pose = FakePose(lambda _f: front_pose(rng=np.random.default_rng(0)))
    log = calibration_window(
        paced(live, 5.0, wait=lambda _s: None, on_wait=heard.append),
        pose,
        seconds=2.0,
        on_frame=lambda f: seen.append(f.index),
    )
    assert list(log.frame) == seen == list(range(10))
    assert heard == [busy]
    assert not pose.closed  # the estimator is the caller's


def test_a_window_of_upright_frames_makes_a_profile():
    pose = FakePose(lambda f: front_pose(rng=np.random.default_rng(f.index), jitter=1.0))
    log = calibration_window(blank_frames(40, fps=5.0), pose)
    assert len(log) == 40  # 8 s at 5 frames/s
    profile = calibrate(log, "desk", "synthetic")
    assert profile.view == "front" and profile.frames == 40


# --------------------------------------------------------------------------- calibrate command


def test_calibrate_says_once_per_change_why_the_camera_sends_nothing(capsys):
    from posturecam.cli.calibrate import _Waiting

    waiting = _Waiting()
    busy = Health(BUSY, "cannot open camera 0: close the other app using the camera")
    for health in (busy, busy, Health(LOST, "camera 0 stopped sending frames"), busy):
        waiting.tell(health)
    assert capsys.readouterr().err.splitlines() == [
        "calibration waiting: cannot open camera 0: close the other app using the camera",
        "calibration waiting: camera 0 stopped sending frames",
        "calibration waiting: cannot open camera 0: close the other app using the camera",
    ]


def test_a_covered_camera_during_calibrate_is_cannot_measure_as_during_monitor(
    monkeypatch, capsys, tmp_path
):
    from test_pacing import FakeVideoCapture

    from posturecam import cli
    from posturecam.cli import args as cli_args
    from posturecam.frames import devices, model

    FakeVideoCapture.opens = True
    FakeVideoCapture.covered.set()  # the privacy shutter is closed
    monkeypatch.setattr(devices.cv2, "VideoCapture", FakeVideoCapture)
    monkeypatch.setattr(
        model, "resolve", lambda *a, **k: model.ResolvedModel(tmp_path / "m.task", "full", "cache")
    )
    pose = FakePose(lambda _f: front_pose(rng=np.random.default_rng(0)))
    monkeypatch.setattr(cli_args, "estimator", lambda _path: lambda _mode: pose)
    try:
        code = cli.main(["calibrate", "--source", "0", "--seconds", "0.5", "--no-progress",
                         "--profile", str(tmp_path / "desk.json")])  # fmt: skip
    finally:
        FakeVideoCapture.covered.clear()
    err = capsys.readouterr().err
    assert code == 2
    assert "a person was found in only 0%" in err  # black frames are skipped, never judged
    assert pose.calls == [] and pose.closed
    assert not (tmp_path / "desk.json").exists()
