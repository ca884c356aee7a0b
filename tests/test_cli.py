"""The command line end to end, with a fake pose estimator instead of MediaPipe."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from factories import FakePose, front_pose, side_pose

from posturecam import cli, profiles
from posturecam.cli import args as cli_args
from posturecam.core.geometry import METRICS
from posturecam.core.types import Frame, Landmarks
from posturecam.frames import model
from posturecam.research.outputs import read_frames_csv

NOSE = 0.75
SLUMP_AT_S = 10.0
FPS = 2.0
N_FRAMES = 40  # 20 s: upright for 10 s, slumped after
HEADER = [
    "frame",
    "t_s",
    "source",
    "detected",
    "view",
    *METRICS,
    "head_scale",
    "evidence",
    "evidence_zero",
    "score",
    "slouched",
    "state",
    "issues",
    "sustained",
    "reason",
]


def posture(frame: Frame) -> Landmarks:
    """Upright for the first 10 s, head dropped by 30% after; a little seeded jitter."""
    rng = np.random.default_rng(frame.index)
    nose = NOSE if frame.t_s < SLUMP_AT_S else NOSE * 0.7
    return front_pose(nose_height=nose, jitter=1.5, rng=rng, image_size=(64, 48))


def side_posture(frame: Frame) -> Landmarks:
    return side_pose(neck_inclination=10.0 if frame.t_s < SLUMP_AT_S else 35.0)


def make_folder(
    path: Path,
    n: int = N_FRAMES,
    fps: float = FPS,
    bad: tuple[int, ...] = (),
    size: tuple[int, int] = (64, 48),
    manifest: bool = True,
) -> Path:
    path.mkdir(parents=True)
    img = np.full((size[1], size[0], 3), 128, np.uint8)
    rows = ["file,t_s"]
    for i in range(n):
        name = f"frame_{i:03d}.jpg"
        if i in bad:
            (path / name).write_bytes(b"this is not an image")
        else:
            assert cv2.imwrite(str(path / name), img)
        rows.append(f"{name},{i / fps:.3f}")
    if manifest:
        (path / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


class Fakes:
    """Stands in for the model: records every estimator made and which mode it got."""

    def __init__(self) -> None:
        self.fn: Callable[[Frame], Landmarks] = posture
        self.made: list[tuple[Path, str, FakePose]] = []

    def __call__(self, model_path: Path, mode: str) -> FakePose:
        est = FakePose(self.fn)
        self.made.append((Path(model_path), mode, est))
        return est


@pytest.fixture
def fakes(monkeypatch, tmp_path) -> Fakes:
    f = Fakes()
    monkeypatch.setenv("POSTURECAM_MODEL", str(tmp_path / "dummy.task"))
    monkeypatch.setattr(
        model,
        "resolve",
        lambda *a, **k: model.ResolvedModel(Path("fake.task"), "full", "--model"),
    )
    monkeypatch.setattr(cli_args, "MediaPipePose", f)
    return f


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    return make_folder(tmp_path_factory.mktemp("rec") / "session")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def replay(capsys, src: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "replay", str(src), "--out", str(out), "--no-progress", *extra)


def rows_of(out: Path) -> list[dict[str, str]]:
    return read_frames_csv(out / "frames.csv")


def summary_of(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def assert_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    assert err.startswith("posturecam: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


# --------------------------------------------------------------------------- replay


def test_replay_writes_all_outputs(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = replay(capsys, recording, out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "events.jsonl",
        "frames.csv",
        "landmarks.npz",
        "summary.json",
    ]
    assert (out / "frames.csv").read_text(encoding="utf-8").splitlines()[0] == ",".join(HEADER)
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert all(e["type"] and e["t_s"] >= SLUMP_AT_S for e in events)  # nothing while upright
    assert "40 frames" in stdout and str(out / "frames.csv") in stdout

    rows = rows_of(out)
    assert len(rows) == N_FRAMES
    assert [float(r["t_s"]) for r in rows] == [i / FPS for i in range(N_FRAMES)]
    assert rows[0]["source"] == "frame_000.jpg"
    assert {r["detected"] for r in rows} == {"1"}
    assert {r["view"] for r in rows} == {"front"}
    for r in rows:
        assert r["head_height"] != "" and r["score"] != "" and r["state"] != ""
        slumped = float(r["t_s"]) >= SLUMP_AT_S
        assert r["slouched"] == ("1" if slumped else "0"), r
        assert ("head_drop" in r["issues"]) == slumped
        assert (float(r["score"]) < 50) == slumped

    s = summary_of(out)
    assert s["baseline"]["kind"] == "recording"
    assert s["baseline"]["window"] == "first 8 s"
    assert s["baseline"]["frames"] == 16  # t = 0 .. 7.5 s
    assert s["baseline"]["view"] == "front"
    assert s["source_path"] == str(recording.resolve())
    assert s["source_kind"] == "folder"
    assert s["mode"] == "video"
    assert s["frames"] == s["frames_analysed"] == s["frames_detected"] == N_FRAMES
    assert s["frames_skipped"] == 0 and s["skipped"] == []
    assert s["ignored_files"] == ["manifest.csv"]  # non-image files are listed as ignored
    assert s["duration_s"] == pytest.approx((N_FRAMES - 1) / FPS)
    assert s["view"] == "front"
    assert s["model"] == {"variant": "full", "path": "fake.task", "origin": "--model"}
    assert s["judgement"]["frames_decided"] == N_FRAMES
    assert s["judgement"]["share_slouched"] == pytest.approx(0.5)
    assert s["warnings"] == []

    [(path, mode, est)] = fakes.made
    assert path == Path("fake.task") and mode == "video"
    assert est.closed
    assert est.calls == list(range(N_FRAMES))


def test_replay_json_prints_the_summary(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = replay(capsys, recording, out, "--json")
    assert code == 0
    assert json.loads(stdout) == summary_of(out)


def test_baseline_frames(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = replay(capsys, recording, out, "--baseline-frames", "6")
    assert code == 0, err
    base = summary_of(out)["baseline"]
    assert base["kind"] == "recording"
    assert base["window"] == "first 6 frames"
    assert base["frames"] == 6
    assert rows_of(out)[-1]["slouched"] == "1"


def test_baseline_seconds(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = replay(capsys, recording, out, "--baseline-seconds", "4")
    assert code == 0, err
    base = summary_of(out)["baseline"]
    assert base["window"] == "first 4 s"
    assert base["frames"] == 8
    assert [r["slouched"] for r in rows_of(out)] == ["0"] * 20 + ["1"] * 20


def test_baseline_from_slumped_window_fails_softly(fakes, recording, tmp_path, capsys):
    """A baseline window the person moved in gives metrics only, with a warning."""
    out = tmp_path / "out"
    fakes.fn = lambda f: Landmarks.empty((64, 48)) if f.t_s < 5 else posture(f)
    code, _, err = replay(capsys, recording, out)
    assert code == 0
    s = summary_of(out)
    assert s["baseline"]["kind"] == "none"
    assert "move into the frame" in s["baseline"]["error"]
    assert "posturecam: warning: no baseline from the first 8 s" in err
    assert {r["score"] for r in rows_of(out)} == {""}


def test_no_baseline_gives_metrics_only(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = replay(capsys, recording, out, "--no-baseline")
    assert code == 0
    assert "warning" not in err
    rows = rows_of(out)
    for col in ("head_scale", "score", "slouched", "state", "issues"):
        assert {r[col] for r in rows} == {""}, col
    assert all(r["head_height"] for r in rows)
    s = summary_of(out)
    assert s["baseline"] == {"kind": "none"}
    assert s["judgement"] is None


def test_stills_without_baseline_warn_and_give_metrics_only(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = replay(capsys, recording, out, "--stills")
    assert code == 0
    assert "posturecam: warning: unrelated stills with no --profile: metrics only" in err
    assert {r["score"] for r in rows_of(out)} == {""}
    assert all(r["head_height"] for r in rows_of(out))
    s = summary_of(out)
    assert s["mode"] == "image"
    assert s["baseline"]["kind"] == "none"
    assert [m for _, m, _ in fakes.made] == ["image"]


def test_stills_with_explicit_baseline_are_judged(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = replay(capsys, recording, out, "--stills", "--baseline-frames", "5")
    assert code == 0, err
    assert "warning" not in err
    assert rows_of(out)[-1]["slouched"] == "1"


def test_folder_without_manifest_needs_fps(fakes, tmp_path, capsys):
    src = make_folder(tmp_path / "nomanifest", n=20, manifest=False)
    code, _, err = replay(capsys, src, tmp_path / "out")
    assert_error(code, err, "manifest.csv", "--fps")
    assert not (tmp_path / "out").exists()
    code, _, err = replay(capsys, src, tmp_path / "out", "--fps", "4")
    assert code == 0, err
    assert float(rows_of(tmp_path / "out")[-1]["t_s"]) == pytest.approx(19 / 4)


# --------------------------------------------------------------------------- calibrate + profile


def calibrate(capsys, src: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "calibrate", "--source", str(src), "--no-progress", *extra)


def test_calibrate_then_replay_with_profile(fakes, recording, tmp_path, capsys, _isolated_home):
    code, stdout, err = calibrate(capsys, recording, "--seconds", "5", "--profile", "laptop")
    assert code == 0, err
    path = _isolated_home / "calibration" / "laptop.json"
    assert path.is_file()
    assert f"saved {path}" in stdout
    assert "baseline 'laptop': front view, 10 frames" in stdout
    saved = profiles.load("laptop")
    assert saved.frames == 10 and saved.view == "front"
    assert saved.image_size == (64, 48)
    assert saved.model_variant == "full"
    assert saved.source == "session"

    out = tmp_path / "out"
    code, _, err = replay(capsys, recording, out, "--profile", "laptop")
    assert code == 0, err
    assert "warning" not in err
    s = summary_of(out)
    assert s["baseline"]["kind"] == "profile"
    assert s["baseline"]["profile"] == "laptop"
    assert s["baseline"]["view"] == "front"
    rows = rows_of(out)
    assert [r["slouched"] for r in rows] == ["0"] * 20 + ["1"] * 20


def test_calibrate_by_frames_to_explicit_path(fakes, recording, tmp_path, capsys):
    target = tmp_path / "profiles" / "desk.json"
    code, _, err = calibrate(capsys, recording, "--frames", "7", "--profile", str(target))
    assert code == 0, err
    loaded = profiles.load(target)
    assert loaded.name == "desk" and loaded.frames == 7
    code, _, err = replay(capsys, recording, tmp_path / "out", "--profile", str(target))
    assert code == 0, err
    assert summary_of(tmp_path / "out")["baseline"]["profile"] == str(target)


def test_profile_of_other_image_size_warns(fakes, recording, tmp_path, capsys):
    assert calibrate(capsys, recording, "--profile", "laptop")[0] == 0
    big = make_folder(tmp_path / "big", n=10, size=(96, 72))
    code, _, err = replay(capsys, big, tmp_path / "out", "--profile", "laptop")
    assert code == 0
    assert "posturecam: warning: profile 'laptop' was made at 64x48 but frames are 96x72" in err


def test_replay_with_missing_profile_fails_before_running(fakes, recording, tmp_path, capsys):
    code, _, err = replay(capsys, recording, tmp_path / "out", "--profile", "nothere")
    assert_error(code, err, "no profile at", "calibrate --profile nothere")
    assert fakes.made == []
    assert not (tmp_path / "out").exists()


def test_calibration_failure_exits_2_and_writes_no_profile(
    fakes, recording, capsys, _isolated_home
):
    fakes.fn = lambda f: Landmarks.empty((64, 48))
    code, stdout, err = calibrate(capsys, recording, "--seconds", "5", "--profile", "laptop")
    assert_error(code, err, "person was found in only 0%", "move into the frame")
    assert "saved" not in stdout
    assert not (_isolated_home / "calibration" / "laptop.json").exists()
    assert fakes.made[0][2].closed


def test_failed_calibration_keeps_the_old_profile(fakes, recording, capsys, _isolated_home):
    assert calibrate(capsys, recording, "--profile", "laptop")[0] == 0
    path = _isolated_home / "calibration" / "laptop.json"
    before = path.read_bytes()
    fakes.fn = lambda f: Landmarks.empty((64, 48))
    code, _, err = calibrate(capsys, recording, "--profile", "laptop")
    assert_error(code, err)
    assert path.read_bytes() == before


def test_calibrating_other_view_over_profile_needs_force(fakes, recording, capsys):
    assert calibrate(capsys, recording, "--profile", "laptop")[0] == 0
    fakes.fn = side_posture
    code, _, err = calibrate(capsys, recording, "--profile", "laptop")
    assert_error(code, err, "holds a front-view profile", "side-view")
    assert profiles.load("laptop").view == "front"
    code, _, err = calibrate(capsys, recording, "--profile", "laptop", "--force")
    assert code == 0, err
    assert profiles.load("laptop").view == "side"


def test_side_view_recording_is_judged_in_side_view(fakes, recording, tmp_path, capsys):
    fakes.fn = side_posture
    code, _, err = replay(capsys, recording, tmp_path / "out")
    assert code == 0, err
    rows = rows_of(tmp_path / "out")
    assert {r["view"] for r in rows} == {"side"}
    assert [r["slouched"] for r in rows] == ["0"] * 20 + ["1"] * 20
    assert "forward_head" in rows[-1]["issues"]
    assert summary_of(tmp_path / "out")["view"] == "side"


def test_forced_view_other_than_the_profile_is_refused(fakes, recording, tmp_path, capsys):
    fakes.fn = side_posture
    assert calibrate(capsys, recording, "--profile", "side")[0] == 0
    fakes.fn = posture
    out = tmp_path / "out"
    code, _, err = replay(capsys, recording, out, "--profile", "side", "--view", "front")
    assert_error(code, err, "calibrated in side view but this run is front view")
    assert not out.exists()


def test_calibrate_on_a_single_still(fakes, tmp_path, capsys):
    one = make_folder(tmp_path / "photo", n=1)
    code, _, err = calibrate(capsys, one, "--stills", "--profile", "photo")
    assert code == 0, err
    assert profiles.load("photo").frames == 1
    assert [m for _, m, _ in fakes.made] == ["image"]


def test_calibrate_live_needs_more_than_one_frame(fakes, tmp_path, capsys):
    one = make_folder(tmp_path / "photo", n=1)
    code, _, err = calibrate(capsys, one, "--profile", "photo")
    assert_error(code, err, "only 1 calibration frame")
    assert not profiles.profile_path("photo").exists()


# --------------------------------------------------------------------------- argument checking


@pytest.mark.parametrize(
    "flags",
    [
        ["--profile", "laptop", "--no-baseline"],
        ["--profile", "laptop", "--baseline-seconds", "3"],
        ["--baseline-frames", "5", "--baseline-seconds", "3"],
        ["--baseline-frames", "5", "--no-baseline"],
    ],
)
def test_mutually_exclusive_baseline_flags(fakes, recording, tmp_path, capsys, flags):
    with pytest.raises(SystemExit) as exc:
        cli.main(["replay", str(recording), "--out", str(tmp_path / "out"), *flags])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert fakes.made == []


@pytest.mark.parametrize(
    "flag,value",
    [
        ("--fps", "0"),
        ("--fps", "-2"),
        ("--fps", "fast"),
        ("--fps", "nan"),
        ("--baseline-frames", "0"),
        ("--baseline-frames", "-3"),
        ("--baseline-frames", "2.5"),
        ("--baseline-frames", "ten"),
        ("--baseline-seconds", "0"),
        ("--baseline-seconds", "-1"),
        ("--view", "top"),
    ],
)
def test_invalid_values_rejected(fakes, recording, tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as exc:
        cli.main(["replay", str(recording), "--out", str(tmp_path / "out"), flag, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert flag in err
    assert fakes.made == []


@pytest.mark.parametrize(
    "argv",
    [
        ["calibrate", "--seconds", "0"],
        ["calibrate", "--frames", "0"],
        ["replay", "somewhere"],  # --out is required
        ["model", "nonsense"],
        ["frobnicate"],
    ],
)
def test_other_bad_command_lines(fakes, capsys, argv):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_no_command_prints_help_and_returns_2(capsys):
    assert cli.main([]) == 2
    assert "usage: posturecam" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("posturecam ")


# --------------------------------------------------------------------------- skipped frames


def test_corrupt_image_is_recorded_and_the_run_goes_on(fakes, tmp_path, capsys):
    src = make_folder(tmp_path / "withbad", bad=(3, 25))
    out = tmp_path / "out"
    code, _, err = replay(capsys, src, out)
    assert code == 0, err
    rows = rows_of(out)
    assert len(rows) == N_FRAMES
    for i in (3, 25):
        r = rows[i]
        assert r["frame"] == str(i) and r["source"] == f"frame_{i:03d}.jpg"
        assert r["detected"] == ""
        assert r["view"] == "" and r["score"] == "" and r["slouched"] == ""
        assert r["reason"].startswith("skipped: "), r["reason"]
    assert rows[4]["detected"] == "1" and rows[26]["slouched"] == "1"
    s = summary_of(out)
    assert s["frames_skipped"] == 2
    assert s["frames_analysed"] == N_FRAMES - 2
    assert [(k["frame"], k["name"]) for k in s["skipped"]] == [
        (3, "frame_003.jpg"),
        (25, "frame_025.jpg"),
    ]
    assert all(k["reason"] for k in s["skipped"])
    assert "skipped frame 3 (frame_003.jpg)" in err
    est = fakes.made[0][2]
    assert 3 not in est.calls and 25 not in est.calls and len(est.calls) == N_FRAMES - 2


# --------------------------------------------------------------------------- output folders


def test_output_folder_of_another_run_is_protected(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    assert replay(capsys, recording, out)[0] == 0
    before = snapshot(out)
    other = make_folder(tmp_path / "other", n=20)
    code, _, err = replay(capsys, other, out)
    assert_error(code, err, "already holds the results of another run", "--force")
    assert str(recording.resolve()) in err
    assert snapshot(out) == before

    code, _, err = replay(capsys, other, out, "--force")
    assert code == 0, err
    s = summary_of(out)
    assert s["source_path"] == str(other.resolve())
    assert len(rows_of(out)) == 20


def test_same_source_may_be_rerun_into_its_folder(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    assert replay(capsys, recording, out)[0] == 0
    code, _, err = replay(capsys, recording, out)
    assert code == 0, err


def test_same_source_with_other_options_is_another_run(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    assert replay(capsys, recording, out)[0] == 0
    before = snapshot(out)
    code, _, err = replay(capsys, recording, out, "--baseline-frames", "4")
    assert_error(code, err, "other options", "--force", "rescore")
    assert snapshot(out) == before
    code, _, err = replay(capsys, recording, out, "--baseline-frames", "4", "--force")
    assert code == 0, err
    assert summary_of(out)["baseline"]["frames"] == 4


def test_unknown_frames_csv_is_protected(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "frames.csv").write_text("precious,data\n1,2\n", encoding="utf-8")
    code, _, err = replay(capsys, recording, out)
    assert_error(code, err, "frames.csv from an unknown run")
    assert (out / "frames.csv").read_text(encoding="utf-8") == "precious,data\n1,2\n"


def test_unrelated_files_in_empty_output_folder_are_kept(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert replay(capsys, recording, out)[0] == 0
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


# --------------------------------------------------------------------------- missing things


def test_missing_source_is_a_clear_error(fakes, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = replay(capsys, tmp_path / "nope", out)
    assert_error(code, err, "no such file or folder", str(tmp_path / "nope"))
    assert stdout == ""
    assert not out.exists()


def test_calibrate_missing_source_is_a_clear_error(fakes, tmp_path, capsys, _isolated_home):
    code, _, err = calibrate(capsys, tmp_path / "nope", "--profile", "laptop")
    assert_error(code, err, "no such file or folder")
    assert not (_isolated_home / "calibration" / "laptop.json").exists()


def test_model_verify_of_missing_file_names_the_remedies(tmp_path, capsys):
    missing = tmp_path / "missing.task"
    code, _, err = run(capsys, "model", "verify", "--model", str(missing))
    assert_error(code, err, str(missing), "does not exist", "POSTURECAM_MODEL", "--model PATH")


def test_model_path_with_bad_env_var_names_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("POSTURECAM_MODEL", str(tmp_path / "gone.task"))
    code, _, err = run(capsys, "model", "path")
    assert_error(code, err, "$POSTURECAM_MODEL", "gone.task", "does not exist")


def test_model_import_without_file_is_a_usage_error(capsys):
    code, _, err = run(capsys, "model", "import")
    assert_error(code, err, "usage: posturecam model import FILE")


def test_model_resolution_failure_stops_replay_before_reading(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("POSTURECAM_MODEL", str(tmp_path / "gone.task"))
    code, _, err = run(capsys, "replay", str(tmp_path), "--out", str(tmp_path / "o"))
    assert_error(code, err, "POSTURECAM_MODEL")
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- known bugs


def test_out_naming_an_existing_file_is_an_error(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out.txt"
    out.write_text("keep me", encoding="utf-8")
    code, _, err = replay(capsys, recording, out)
    assert_error(code, err, str(out))
    assert out.read_text(encoding="utf-8") == "keep me"


def test_replay_with_damaged_profile_is_an_error(fakes, recording, tmp_path, capsys):
    path = tmp_path / "damaged.json"
    assert calibrate(capsys, recording, "--profile", str(path))[0] == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    data["metrics"] = None
    path.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = replay(capsys, recording, tmp_path / "out", "--profile", str(path))
    assert_error(code, err, "incomplete or damaged")


def test_replay_with_profile_of_other_view_is_refused(fakes, recording, tmp_path, capsys):
    fakes.fn = side_posture
    assert calibrate(capsys, recording, "--profile", "side")[0] == 0
    fakes.fn = posture  # the recording is front view
    out = tmp_path / "out"
    code, _, err = replay(capsys, recording, out, "--profile", "side")
    assert_error(code, err, "calibrated in side view but this run is front view")


def test_frames_csv_numbers_are_finite_or_empty(fakes, recording, tmp_path, capsys):
    out = tmp_path / "out"
    assert replay(capsys, recording, out)[0] == 0
    for r in rows_of(out):
        for name in (*METRICS, "head_scale", "score"):
            if r[name]:
                assert math.isfinite(float(r[name])), (name, r[name])
