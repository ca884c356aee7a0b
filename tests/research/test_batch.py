"""Batch replay: source globs, folder names, resume, failures, and parallel = serial."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest
from batch_fakes import SLUMPED_LEVEL, UPRIGHT_LEVEL, PixelPose, calls_made

from posturecam.cli import advice
from posturecam.core.rules import JudgeSettings
from posturecam.core.temporal import TemporalSettings
from posturecam.errors import PosturecamError
from posturecam.research import batch, batch_executors
from posturecam.research.batch import (
    BatchResult,
    ModelRef,
    expand_sources,
    plan,
    run_batch,
    run_key,
)
from posturecam.research.batch_task import REPORT_EVERY_FRAMES
from posturecam.research.replay import ReplayOptions

FAST = TemporalSettings(
    smoothing_s=0.5,
    drifting_s=1.0,
    persistence_s=3.0,
    recovery_s=1.0,
    cooldown_s=30.0,
    away_s=2.0,
    break_after_s=None,
)
OPTIONS = ReplayOptions(baseline_seconds=3.0, temporal=FAST)
MODEL_INFO = {"variant": "fake", "path": "", "origin": "test"}
SIZE = (64, 48)
# name -> (frames, seconds per frame, slumped between these times)
FOLDERS = {
    "alpha": (40, 0.5, (6.0, 99.0)),
    "beta": (30, 0.5, (4.0, 10.0)),
    "gamma": (24, 0.5, (99.0, 99.0)),
    "delta": (20, 0.5, (5.0, 99.0)),  # frames named d_000.jpg..., for failures mid-source
}
CLIP_FRAMES, CLIP_FPS, CLIP_SLUMP_S = 32, 4.0, 3.0
NAMES = ["alpha", "beta", "gamma", "clip", "delta"]
TOTAL_FRAMES = sum(n for n, _, _ in FOLDERS.values()) + CLIP_FRAMES


def _level(t_s: float, slump: tuple[float, float]) -> int:
    return SLUMPED_LEVEL if slump[0] <= t_s < slump[1] else UPRIGHT_LEVEL


def make_folder(path: Path, n: int, step: float, slump: tuple[float, float]) -> Path:
    path.mkdir(parents=True)
    rows = ["file,t_s"]
    prefix = "d" if path.name == "delta" else "frame"
    for i in range(n):
        name = f"{prefix}_{i:03d}.jpg"
        img = np.full((SIZE[1], SIZE[0], 3), _level(i * step, slump), np.uint8)
        assert cv2.imwrite(str(path / name), img)
        rows.append(f"{name},{i * step:.3f}")
    (path / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def make_video(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), CLIP_FPS, SIZE)
    assert writer.isOpened()
    for i in range(CLIP_FRAMES):
        level = _level(i / CLIP_FPS, (CLIP_SLUMP_S, 99.0))
        writer.write(np.full((SIZE[1], SIZE[0], 3), level, np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("sources")
    made = {name: make_folder(root / name, *spec) for name, spec in FOLDERS.items()}
    made["clip"] = make_video(root / "clip.avi")
    return {name: str(path) for name, path in made.items()}


@pytest.fixture(scope="module")
def serial(sources, tmp_path_factory) -> Path:
    """The reference: all four sources replayed in this process."""
    out = tmp_path_factory.mktemp("serial") / "out"
    result = run_batch(
        [sources[n] for n in NAMES], out, PixelPose(), OPTIONS, MODEL_INFO, progress=False
    )
    assert [i["status"] for i in result.items] == ["done"] * len(NAMES), result.items
    return out


def files_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "batch.json"
    }


def summary(folder: Path) -> dict:
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    data.pop("timing")
    return data


def assert_same_results(a: Path, b: Path, names: list[str] = NAMES) -> None:
    """Byte-identical outputs, except timing in summary.json and the landmark recording."""
    for name in names:
        files = sorted(p.name for p in (a / name).iterdir())
        assert files == sorted(p.name for p in (b / name).iterdir()), name
        assert {"frames.csv", "events.jsonl", "summary.json"} <= set(files)
        for file in files:
            if file == "summary.json":
                assert summary(a / name) == summary(b / name), name
            elif file.endswith(".npz"):
                with np.load(a / name / file) as x, np.load(b / name / file) as y:
                    assert sorted(x.files) == sorted(y.files)
                    for key in x.files:
                        if key != "model_seconds":  # a timing field
                            assert np.array_equal(
                                x[key], y[key], equal_nan=x[key].dtype.kind == "f"
                            ), (name, key)
            else:
                assert (a / name / file).read_bytes() == (b / name / file).read_bytes(), (
                    name,
                    file,
                )


def batch_json(root: Path) -> dict:
    return json.loads((root / "batch.json").read_text(encoding="utf-8"))


def statuses(result: BatchResult) -> dict[str, str]:
    return {Path(i["out_dir"]).name: i["status"] for i in result.items}


# --------------------------------------------------------------------------- sources and names


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    data = tmp_path / "data"
    for d in ("s1", "s2", "s10", "deep"):
        (data / d).mkdir(parents=True)
    for f in ("x.mp4", "y.mp4", "notes.txt", "deep/z.mp4"):
        (data / f).write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_trailing_slash_glob_gives_folders_in_natural_order(tree):
    assert expand_sources(["data/s*/"]) == ["data/s1", "data/s2", "data/s10"]


def test_globs_keep_spec_order_drop_duplicates_and_keep_missing(tree):
    specs = [
        "data/*.mp4",
        "missing",
        "data/s2",
        "data/nothing*",
        "data/x.mp4",  # already matched by the glob
        str(tree / "data" / "y.mp4"),  # the same file, absolute
        "data/s2/",  # the same folder with a slash
    ]
    assert expand_sources(specs) == [
        "data/x.mp4",
        "data/y.mp4",
        "missing",
        "data/s2",
        "data/nothing*",
    ]


def test_recursive_glob(tree):
    assert expand_sources(["data/**/*.mp4"]) == ["data/deep/z.mp4", "data/x.mp4", "data/y.mp4"]


def test_plan_names_are_unique_readable_and_stable(tmp_path):
    sources = [
        "/r/A/session",
        "/r/B/session",
        "/r/C/clip.mp4",
        "/r/D/clip.mp4",
        "/r/E/hopper",
        "/r/same/x.mp4",
        "/r/same/x.avi",
        "/r/p/s1/x/cam",
        "/r/p/s2/x/cam",
        "/r/q/my clip.mp4",
        "/r/q/.hidden",
    ]
    items = plan(sources, tmp_path / "out")
    assert [i.out_dir.name for i in items] == [
        "A__session",
        "B__session",
        "C__clip",
        "D__clip",
        "hopper",
        "x_mp4",
        "x_avi",
        "s1__cam",
        "s2__cam",
        "my_clip",
        "hidden",
    ]
    assert all(i.out_dir.parent == tmp_path / "out" for i in items)
    assert [i.source for i in items] == sources
    assert plan(sources, tmp_path / "out") == items


def test_plan_adds_parents_until_names_differ_then_suffixes(tmp_path):
    items = plan(["/r/a/x/cam", "/r/b/x/cam", "/r/b/y/cam", "/r/k", "/r/k"], tmp_path)
    assert [i.out_dir.name for i in items] == ["a__x__cam", "b__x__cam", "y__cam", "k", "k-2"]


def test_plan_marks_missing_sources(tmp_path):
    (tmp_path / "there").mkdir()
    items = plan([str(tmp_path / "there"), str(tmp_path / "gone")], tmp_path / "out")
    assert items[0].error == ""
    assert "no such file or folder" in items[1].error


# --------------------------------------------------------------------------- run key


def test_run_key_ignores_force_and_progress_but_not_what_changes_results(tmp_path):
    key = run_key(OPTIONS, MODEL_INFO)
    assert len(key) == 64
    assert run_key(ReplayOptions(baseline_seconds=3.0, temporal=FAST), dict(MODEL_INFO)) == key
    same = ReplayOptions(baseline_seconds=3.0, temporal=FAST, force=True, progress=False)
    assert run_key(same, MODEL_INFO) == key
    others = [
        ReplayOptions(baseline_seconds=4.0, temporal=FAST),
        ReplayOptions(baseline_seconds=3.0, temporal=TemporalSettings()),
        ReplayOptions(baseline_seconds=3.0, temporal=FAST, judge=JudgeSettings(noise_k=2.0)),
        ReplayOptions(baseline_seconds=3.0, temporal=FAST, view="front"),
        ReplayOptions(baseline_seconds=3.0, temporal=FAST, stills=True),
    ]
    keys = {run_key(o, MODEL_INFO) for o in others}
    assert key not in keys and len(keys) == len(others)
    assert run_key(OPTIONS, {**MODEL_INFO, "variant": "heavy"}) != key


def test_run_key_follows_model_file_content_not_its_path(tmp_path):
    a, b, c = tmp_path / "a.task", tmp_path / "b.task", tmp_path / "c.task"
    a.write_bytes(b"model one")
    b.write_bytes(b"model one")
    c.write_bytes(b"model two")

    def key(p: Path) -> str:
        return run_key(OPTIONS, {"variant": "full", "path": str(p), "origin": "--model"})

    assert key(a) == key(b)
    assert key(a) != key(c)


# --------------------------------------------------------------------------- running


class RecordingBar:
    """Stands in for tqdm: keeps the total, every update and the last postfix."""

    made: ClassVar[list[RecordingBar]] = []

    def __init__(self, total=None, **kwargs) -> None:
        self.total = total
        self.updates: list[int] = []
        self.postfix: dict = {}
        RecordingBar.made.append(self)

    def update(self, n: int = 1) -> None:
        self.updates.append(n)

    def set_postfix(self, **kwargs) -> None:
        self.postfix = kwargs

    def close(self) -> None:
        pass


@pytest.fixture
def bars(monkeypatch) -> list[RecordingBar]:
    RecordingBar.made = []
    monkeypatch.setattr(batch_executors, "tqdm", RecordingBar)
    return RecordingBar.made


def test_serial_run_writes_outputs_record_and_one_bar(serial, sources, tmp_path, bars):
    out = tmp_path / "out"
    result = run_batch([sources[n] for n in NAMES], out, PixelPose(), OPTIONS, MODEL_INFO)
    assert statuses(result) == dict.fromkeys(NAMES, "done")
    assert [i["frames"] for i in result.items] == [40, 30, 24, CLIP_FRAMES, 20]
    assert result.failed == []
    assert_same_results(serial, out)
    alerts = [summary(out / n)["alerts"] for n in NAMES]
    assert alerts[0] and alerts[3] and not alerts[2]  # the comparison covers real events
    record = batch_json(out)
    assert record["state"] == "finished"
    assert record["run_key"] == result.run_key == summary(out / "alpha")["run_key"]
    assert [s["status"] for s in record["sources"]] == ["done"] * len(NAMES)
    (bar,) = bars
    assert bar.total == TOTAL_FRAMES
    assert sum(bar.updates) == TOTAL_FRAMES
    assert bar.postfix == {"done": 5, "resumed": 0, "failed": 0}


def test_two_workers_give_the_same_files_as_serial(serial, sources, tmp_path, bars):
    out = tmp_path / "out"
    specs = [sources[n] for n in NAMES]
    result = run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, workers=2)
    assert statuses(result) == dict.fromkeys(NAMES, "done"), result.items
    assert_same_results(serial, out)
    (bar,) = bars
    assert bar.total == TOTAL_FRAMES
    assert sum(bar.updates) == TOTAL_FRAMES
    # Frames came from the workers through the queue, in small batches, not per source.
    assert max(bar.updates) <= REPORT_EVERY_FRAMES
    assert bar.postfix == {"done": 5, "resumed": 0, "failed": 0}


def test_glob_beside_the_output_folder_does_not_pick_up_results(sources, tmp_path):
    data = tmp_path / "data"
    for name in ("alpha", "gamma"):
        shutil.copytree(sources[name], data / name)
    out = data / "results"
    first = run_batch([f"{data}/*/"], out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    assert statuses(first) == {"alpha": "done", "gamma": "done"}
    again = run_batch([f"{data}/*/"], out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    assert statuses(again) == {"alpha": "resumed", "gamma": "resumed"}
    assert [i["spec"] for i in again.items] == [f"{data}/*/"] * 2


def test_interrupted_source_is_redone_and_finished_ones_resumed(serial, sources, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    (out / "alpha" / "summary.json").unlink()
    frames = out / "alpha" / "frames.csv"
    frames.write_bytes(frames.read_bytes()[:100])
    calls = str(tmp_path / "calls.txt")
    specs = [sources[n] for n in NAMES]
    result = run_batch(specs, out, PixelPose(calls=calls), OPTIONS, MODEL_INFO, progress=False)
    assert statuses(result) == {"alpha": "done", "beta": "resumed", "gamma": "resumed",
                                "clip": "resumed", "delta": "resumed"}  # fmt: skip
    assert calls_made(calls) == 1  # the model ran for alpha only
    assert [i["frames"] for i in result.items] == [40, 30, 24, CLIP_FRAMES, 20]
    assert_same_results(serial, out)
    assert batch_json(out)["counts"] == {"done": 1, "resumed": 4, "failed": 0, "pending": 0}


def test_half_written_folder_of_unknown_origin_is_not_replaced(serial, sources, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    (out / "batch.json").unlink()  # nothing says this folder is ours
    (out / "alpha" / "summary.json").unlink()
    before = files_of(out)
    specs = [sources[n] for n in NAMES]
    result = run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    assert statuses(result)["alpha"] == "failed"
    assert "force=True" in result.failed[0]["error"]  # batch.json's words: flag-free
    (error,) = [e for e, i in zip(result.errors, result.items, strict=True) if i["error"]]
    assert "--force" in advice.render(error)  # the command line's
    assert files_of(out) == before


def test_other_run_in_the_folder_is_refused_unless_forced(serial, sources, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    before = files_of(out)
    other = ReplayOptions(baseline_seconds=4.0, temporal=FAST)
    specs = [sources[n] for n in NAMES]
    refused = run_batch(specs, out, PixelPose(), other, MODEL_INFO, progress=False)
    assert [i["status"] for i in refused.items] == ["failed"] * len(NAMES)
    for item, error in zip(refused.items, refused.errors, strict=True):
        assert "other options" in item["error"] and "another output folder" in item["error"]
        words = advice.render(error)
        assert "another --out folder" in words and "--force" in words
    assert files_of(out) == before
    assert batch_json(out)["counts"]["failed"] == len(NAMES)

    old_key = summary(out / "alpha")["run_key"]
    forced = dataclasses.replace(other, force=True)
    replaced = run_batch(specs, out, PixelPose(), forced, MODEL_INFO, progress=False)
    assert [i["status"] for i in replaced.items] == ["done"] * len(NAMES)
    assert summary(out / "alpha")["run_key"] == replaced.run_key != old_key
    assert summary(out / "alpha")["baseline"]["window"] == "first 4 s"


def test_folder_of_another_source_is_refused(serial, sources, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    impostor = tmp_path / "elsewhere" / "alpha"
    shutil.copytree(sources["beta"], impostor)
    result = run_batch([str(impostor)], out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    (item,) = result.items
    assert item["status"] == "failed"
    assert "another source" in item["error"] and sources["alpha"] in item["error"]
    assert (out / "alpha" / "frames.csv").read_bytes() == (serial / "alpha/frames.csv").read_bytes()


def test_missing_and_unreadable_sources_are_reported_and_others_run(sources, tmp_path, capsys):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    specs = [sources["alpha"], str(tmp_path / "nope"), str(empty), str(tmp_path / "glob*")]
    out = tmp_path / "out"
    result = run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    assert [i["status"] for i in result.items] == ["done", "failed", "failed", "failed"]
    errors = [i["error"] for i in result.items]
    assert errors[0] == ""
    assert "no such file or folder" in errors[1]
    assert "empty (0 bytes)" in errors[2]
    assert "matches no file or folder" in errors[3]
    assert len(result.failed) == 3
    record = batch_json(out)
    assert [s["spec"] for s in record["sources"]] == specs
    assert [s["status"] for s in record["sources"]] == ["done", "failed", "failed", "failed"]
    assert record["sources"][2]["error"] == errors[2]
    assert not (out / "empty").exists()
    assert "Traceback" not in capsys.readouterr().err


def test_unexpected_error_in_one_source_is_recorded(sources, tmp_path, capsys):
    specs = [sources["delta"], sources["gamma"]]
    broken = PixelPose(fail_on="d_010")
    result = run_batch(specs, tmp_path / "out", broken, OPTIONS, MODEL_INFO, progress=False)
    delta, gamma = result.items
    assert delta["status"] == "failed"
    assert "RuntimeError" in delta["error"] and "fake model broke on d_010.jpg" in delta["error"]
    assert gamma["status"] == "done"
    assert not (tmp_path / "out" / "delta" / "summary.json").exists()
    assert "Traceback" not in capsys.readouterr().err


def test_ctrl_c_records_what_finished_and_the_rerun_resumes(serial, sources, tmp_path):
    out = tmp_path / "out"
    specs = [sources["alpha"], sources["delta"], sources["beta"]]
    with pytest.raises(KeyboardInterrupt):
        run_batch(specs, out, PixelPose(interrupt_on="d_005"), OPTIONS, MODEL_INFO,
                  progress=False)  # fmt: skip
    record = batch_json(out)
    assert record["state"] == "interrupted"
    assert [s["status"] for s in record["sources"]] == ["done", "pending", "pending"]
    assert not (out / "delta" / "summary.json").exists()

    calls = str(tmp_path / "calls.txt")
    result = run_batch(specs, out, PixelPose(calls=calls), OPTIONS, MODEL_INFO, progress=False)
    assert [i["status"] for i in result.items] == ["resumed", "done", "done"]
    assert calls_made(calls) == 2
    assert_same_results(serial, out, ["alpha", "delta", "beta"])


def test_ctrl_c_in_a_worker_stops_the_pool_and_keeps_a_true_record(serial, sources, tmp_path):
    out = tmp_path / "out"
    names = ["alpha", "delta", "beta", "gamma"]
    specs = [sources[n] for n in names]
    with pytest.raises(KeyboardInterrupt):
        run_batch(specs, out, PixelPose(interrupt_on="d_005"), OPTIONS, MODEL_INFO,
                  workers=2, progress=False)  # fmt: skip
    record = batch_json(out)
    assert record["state"] == "interrupted"
    by_name = {Path(s["out_dir"]).name: s["status"] for s in record["sources"]}
    assert by_name["delta"] == "pending"
    assert set(by_name.values()) <= {"done", "pending"}
    for name, status in by_name.items():
        assert (out / name / "summary.json").exists() == (status == "done"), name

    result = run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, workers=2, progress=False)
    assert [i["status"] for i in result.items] == [
        "resumed" if by_name[n] == "done" else "done" for n in names
    ]
    assert_same_results(serial, out, names)


def test_workers_that_do_not_stop_after_ctrl_c_are_ended(sources, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "STOP_GRACE_S", 0.5)
    stuck = PixelPose(interrupt_on="d_005", hang_on="frame_002")  # gamma hangs at frame 2
    specs = [sources["gamma"], sources["delta"]]
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_batch(specs, tmp_path / "out", stuck, OPTIONS, MODEL_INFO, workers=2, progress=False)
    assert time.monotonic() - started < 30  # not the minute the stuck model sleeps
    record = batch_json(tmp_path / "out")
    assert record["state"] == "interrupted"
    assert [s["status"] for s in record["sources"]] == ["pending", "pending"]


def test_model_error_on_a_video_does_not_hang_the_batch(sources, tmp_path):
    code = f"""
import sys
sys.path.insert(0, {str(Path(__file__).parents[1])!r})
from batch_fakes import PixelPose
from posturecam.research.batch import run_batch
from posturecam.research.replay import ReplayOptions
for k in range(100):
    result = run_batch([{sources["clip"]!r}], {str(tmp_path)!r} + f"/out{{k}}",
                       PixelPose(fail_on="clip.avi"), ReplayOptions(), {{}}, progress=False)
    assert result.items[0]["status"] == "failed", result.items
"""
    try:
        done = subprocess.run([sys.executable, "-c", code], timeout=20, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail("a model error on a video hung the batch")
    assert done.returncode == 0, done.stderr.decode()


def test_bad_arguments_are_refused_before_any_work(sources, tmp_path, monkeypatch):
    spec = [sources["alpha"]]
    with pytest.raises(PosturecamError, match="number of workers") as workers:
        run_batch(spec, tmp_path / "o", PixelPose(), OPTIONS, MODEL_INFO, workers=0)
    assert advice.render(workers.value).startswith("--workers must be a whole number")
    with pytest.raises(PosturecamError, match="scheduler address") as scheduler:
        run_batch(spec, tmp_path / "o", PixelPose(), OPTIONS, MODEL_INFO, executor="dask")
    assert "--scheduler ADDRESS" in advice.render(scheduler.value)
    with pytest.raises(TypeError, match="picklable"):
        run_batch(spec, tmp_path / "o", lambda mode: None, OPTIONS, MODEL_INFO, workers=2)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    with pytest.raises(PosturecamError, match=r"pip install 'posturecam\[dask\]'"):
        run_batch(
            spec, tmp_path / "o", PixelPose(), OPTIONS, MODEL_INFO, executor="dask",
            scheduler="tcp://127.0.0.1:1",
        )  # fmt: skip
    assert not (tmp_path / "o").exists()


def test_model_ref_is_picklable_and_names_the_file():
    import pickle

    ref = ModelRef("/models/pose_landmarker_full.task")
    assert pickle.loads(pickle.dumps(ref)) == ref


def test_dask_cluster_gives_the_same_files_as_serial(serial, sources, tmp_path):
    distributed = pytest.importorskip("distributed")
    specs = [sources[n] for n in NAMES]
    out = tmp_path / "out"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = run_batch(
            specs, out, PixelPose(), OPTIONS, MODEL_INFO, executor="dask",
            scheduler=cluster.scheduler_address, progress=False,
        )  # fmt: skip
    assert [i["status"] for i in result.items] == ["done"] * len(NAMES), result.items
    assert_same_results(serial, out)
    assert batch_json(out)["state"] == "finished"


def test_local_dask_cluster_gives_the_same_files_and_ends_with_the_batch(serial, sources, tmp_path):
    pytest.importorskip("distributed")
    import distributed

    specs = [sources[n] for n in NAMES]
    out = tmp_path / "out"
    result = run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, workers=2, executor="dask",
                       scheduler="local", progress=False)  # fmt: skip
    assert [i["status"] for i in result.items] == ["done"] * len(NAMES), result.items
    assert_same_results(serial, out)
    with pytest.raises(ValueError):
        distributed.default_client()  # no client (nor its cluster) is left running


@pytest.mark.integration
def test_real_model_two_workers_match_one(model_path, tmp_path):
    root = Path(__file__).resolve().parents[2] / "sample_frames"
    specs = [str(root / "hopper"), str(root / "astronaut")]
    info = {"variant": "full", "path": str(model_path), "origin": "--model"}
    ref = ModelRef(str(model_path))
    one = run_batch(specs, tmp_path / "one", ref, ReplayOptions(), info, progress=False)
    two = run_batch(specs, tmp_path / "two", ref, ReplayOptions(), info, workers=2, progress=False)
    assert [i["status"] for i in one.items] == ["done", "done"], one.items
    assert [i["status"] for i in two.items] == ["done", "done"], two.items
    assert [i["frames"] for i in one.items] == [240, 240]
    assert_same_results(tmp_path / "one", tmp_path / "two", ["hopper", "astronaut"])
    assert os.path.getsize(tmp_path / "one" / "hopper" / "frames.csv") > 1000
