"""Research commands end to end with a fake model: rescore, report, Parquet."""

from __future__ import annotations

import json

import pytest
from test_cli import assert_error, fakes, make_folder, replay, run, summary_of  # noqa: F401

from posturecam.research import recording


@pytest.fixture
def run_dir(fakes, tmp_path, capsys):  # noqa: F811
    src = make_folder(tmp_path / "session", n=200)  # 100 s: upright 10 s, slumped after
    out = tmp_path / "results"
    code, _, err = replay(capsys, src, out)
    assert code == 0, err
    return out


def read(path):
    return path.read_bytes()


def test_replay_keeps_a_versioned_landmark_recording(run_dir):
    log, meta = recording.load(run_dir / "landmarks.npz")
    assert len(log) == 200 and meta["source_kind"] == "folder"
    assert summary_of(run_dir)["recording"] == "landmarks.npz"


def test_rescore_with_nothing_changed_reproduces_the_replay(fakes, run_dir, capsys):  # noqa: F811
    made = len(fakes.made)
    code, _, err = run(capsys, "rescore", run_dir)
    assert code == 0, err
    assert len(fakes.made) == made  # no model
    new = run_dir / "rescored"
    assert read(new / "frames.csv") == read(run_dir / "frames.csv")
    assert read(new / "events.jsonl") == read(run_dir / "events.jsonl")
    old, fresh = summary_of(run_dir), summary_of(new)
    for key in ("baseline", "alerts", "time_in_state_s", "judgement", "options"):
        assert fresh[key] == old[key], key
    assert fresh["rescored_from"] == str(run_dir.resolve())


def test_rescore_with_other_settings_changes_the_alerts(run_dir, tmp_path, capsys):
    settings = tmp_path / "s.toml"
    settings.write_text("[temporal]\npersistence_s = 20\ncooldown_s = 30\n", encoding="utf-8")
    code, _, err = run(capsys, "rescore", run_dir, "--settings", settings, "--out", tmp_path / "r")
    assert code == 0, err
    old = summary_of(run_dir)["alerts"]
    new = summary_of(tmp_path / "r")["alerts"]
    assert len(new) > len(old) >= 1
    assert new[0]["t_s"] < old[0]["t_s"]
    assert summary_of(tmp_path / "r")["options"]["temporal"]["persistence_s"] == 20


def test_rescore_against_a_profile(fakes, run_dir, tmp_path, capsys):  # noqa: F811
    src = make_folder(tmp_path / "calib", n=20)
    code, _, err = run(capsys, "calibrate", "--source", src, "--profile", "desk", "--no-progress")
    assert code == 0, err
    code, _, err = run(capsys, "rescore", run_dir, "--profile", "desk", "--out", tmp_path / "p")
    assert code == 0, err
    s = summary_of(tmp_path / "p")
    assert s["baseline"]["kind"] == "profile" and s["baseline"]["profile"] == "desk"
    assert (tmp_path / "p" / "profile.json").exists()
    # A rescore of that rescore repeats its choices with the copied profile, exactly.
    code, _, err = run(capsys, "rescore", tmp_path / "p", "--out", tmp_path / "q")
    assert code == 0, err
    assert read(tmp_path / "q" / "frames.csv") == read(tmp_path / "p" / "frames.csv")
    assert summary_of(tmp_path / "q")["baseline"] == s["baseline"]
    code, _, err = run(capsys, "rescore", run_dir, "--no-baseline", "--out", tmp_path / "n")
    assert code == 0, err
    assert summary_of(tmp_path / "n")["baseline"] == {"kind": "none"}


def test_rescore_of_a_truncated_recording_is_a_clear_error(run_dir, capsys):
    rec = run_dir / "landmarks.npz"
    rec.write_bytes(rec.read_bytes()[: rec.stat().st_size // 2])
    before = rec.read_bytes()
    code, _, err = run(capsys, "rescore", run_dir)
    assert_error(code, err, "landmarks.npz")
    assert rec.read_bytes() == before and not (run_dir / "rescored").exists()


def test_rescore_of_a_folder_without_a_run(tmp_path, capsys):
    code, _, err = run(capsys, "rescore", tmp_path)
    assert_error(code, err, "summary.json", "replay")
    code, _, err = run(capsys, "rescore", tmp_path / "nope")
    assert_error(code, err, "no such run folder")


def test_rescore_never_overwrites_its_own_input(run_dir, capsys):
    code, _, err = run(capsys, "rescore", run_dir, "--out", run_dir)
    assert_error(code, err, "another --out")


def test_report_from_the_command_line(run_dir, capsys):
    pytest.importorskip("matplotlib")
    code, _, err = run(capsys, "report", run_dir)
    assert code == 0, err
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html
    assert len(list(run_dir.glob("report_*.png"))) == 4  # score, decided, metrics, states


def test_replay_parquet_matches_csv(fakes, tmp_path, capsys):  # noqa: F811
    pytest.importorskip("pyarrow")
    from posturecam.research.outputs import read_frames

    src = make_folder(tmp_path / "s", n=30)
    code, _, err = replay(capsys, src, tmp_path / "o", "--parquet")
    assert code == 0, err
    csv_cols = read_frames(tmp_path / "o")
    pq_cols = read_frames(tmp_path / "o" / "frames.parquet")
    assert list(csv_cols) == list(pq_cols)
    for name, values in csv_cols.items():
        if values.dtype.kind == "f":
            assert values == pytest.approx(pq_cols[name], rel=1e-5, nan_ok=True), name
        else:
            assert list(values) == list(pq_cols[name]), name
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["options"]["view"] is None


def test_moving_baseline_and_setup_change_are_reproduced_by_rescore(
    fakes,  # noqa: F811
    tmp_path,
    capsys,
):
    """Drift and a moved camera are decided from landmarks alone, so rescore repeats them."""
    import numpy as np
    import simperson as sim

    from posturecam.core.types import Landmarks

    s = sim.simulate(900.0, 5, ordinary=False)
    b = s.log.landmarks
    xy = b.xy.copy()
    later = s.log.t_s >= 450.0
    centre = np.array([320.0, 240.0])
    xy[later] = centre + (xy[later] - centre) * 1.3  # the laptop was moved nearer

    def fn(frame):
        i = frame.index
        return Landmarks(xy[i], b.z[i], b.visibility[i], b.visibility[i], b.world[i], (640, 480))

    fakes.fn = fn
    src = make_folder(tmp_path / "sim", n=len(s.log), fps=2.0, size=(640, 480))
    out = tmp_path / "run"
    code, _, err = replay(capsys, src, out)
    assert code == 0, err
    events = [json.loads(x) for x in (out / "events.jsonl").read_text().splitlines()]
    kinds = [e["type"] for e in events]
    assert "setup_changed" in kinds and "baseline_reanchored" in kinds
    assert "alert" not in kinds
    assert summary_of(out)["baseline"]["moving"]["setup_changes"] == 1
    code, _, err = run(capsys, "rescore", out)
    assert code == 0, err
    assert read(out / "rescored" / "frames.csv") == read(out / "frames.csv")
    assert read(out / "rescored" / "events.jsonl") == read(out / "events.jsonl")
