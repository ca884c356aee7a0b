"""Killed batches and replays (issue 11, class 4): no process left, nothing lost, a resume recovers.

Each test kills a child batch (two spawned workers) or a single replay at a seeded point:
start-up (batch.json just says running), mid-run (a worker's model hangs on a frame) and
writing outputs (a worker's swap-in waits with its new files staged), by SIGTERM or SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import test_batch
from batch_fakes import PixelPose, calls_made
from test_batch import MODEL_INFO, OPTIONS, assert_same_results, batch_json, files_of

from posturecam.errors import OutputError
from posturecam.research import batch, batch_executors
from posturecam.research.batch import run_batch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

CHILD = Path(__file__).parents[1] / "batch_fakes.py"
sources, serial = test_batch.sources, test_batch.serial  # the module's fixtures, shared
NAMES = ["alpha", "beta", "gamma"]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (workers, the progress manager, the resource tracker)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found.update(kids)
        todo.extend(kids)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may never reap what it inherits)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(check, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def visible(folder: Path) -> dict[str, bytes]:
    """The folder's files without temporary ones (a killed writer leaves those)."""
    return {k: v for k, v in files_of(folder).items() if not k.endswith(".tmp")}


def lines(path: Path) -> int:
    return calls_made(str(path))


def start_child(
    tmp_path: Path,
    out: Path,
    specs: list[str],
    *,
    single=False,
    hang_on="",
    hold=False,
    workers="2",
) -> tuple[subprocess.Popen, Path, Path]:
    calls, marker = tmp_path / "calls.txt", tmp_path / "commits.txt"
    argv = [sys.executable, str(CHILD), *(["--single"] if single else [])]
    argv += [str(out), workers, hang_on, str(marker) if hold else "", str(calls), *specs]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, calls, marker


def kill_and_check_no_process_left(proc: subprocess.Popen, sig: int) -> None:
    below = descendants(proc.pid)
    proc.send_signal(sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the batch did not end after {signal.Signals(sig).name}")
    wait_until(lambda: not any(running(p) for p in below), 10, "workers to end with the batch")
    _, err = proc.communicate()
    assert "Traceback" not in err, err


KILL_POINTS = ["start-up", "mid-run", "writing"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["KILL", "TERM"])
@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_batch_leaves_no_process_loses_nothing_and_resumes(
    point, sig, serial, sources, tmp_path
):
    out = tmp_path / "out"
    run_batch([sources["alpha"]], out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    before = files_of(out / "alpha")
    specs = [sources[n] for n in NAMES]
    proc, calls, marker = start_child(
        tmp_path, out, specs, hang_on="frame_010" if point == "mid-run" else "",
        hold=point == "writing",
    )  # fmt: skip
    if point == "start-up":
        wait_until(lambda: batch_json(out)["state"] == "running", 30, "the batch to start")
    elif point == "mid-run":
        wait_until(lambda: lines(calls) >= 2, 30, "both workers to load their model")
        time.sleep(0.3)  # past the first frames, into the hang
    else:
        wait_until(lambda: lines(marker) >= 1, 30, "a worker to stage its outputs")
    kill_and_check_no_process_left(proc, sig)

    record = batch_json(out)
    assert record["state"] == ("running" if sig == signal.SIGKILL else "interrupted")
    assert files_of(out / "alpha") == before  # nothing earlier lost
    finished = [row["status"] in ("done", "resumed") for row in record["sources"]]
    for name, done in zip(NAMES, finished, strict=True):  # a killed source never looks finished
        assert (out / name / "summary.json").exists() == done, name
    if point != "start-up":
        assert finished == [True, False, False]

    result = run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    expected = ["resumed" if done else "done" for done in finished]
    assert [i["status"] for i in result.items] == expected, result.items
    assert batch_json(out)["state"] == "finished"
    if sig == signal.SIGKILL:
        assert any("was interrupted" in note for note in result.notes), result.notes
    assert_same_results(serial, out, NAMES)
    for name in NAMES:
        leftovers = [p.name for p in (out / name).iterdir() if p.name.endswith(".tmp")]
        assert leftovers == [], leftovers
    assert files_of(out / "alpha") == before


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["KILL", "TERM"])
@pytest.mark.parametrize("point", ["mid-run", "writing"])
def test_killed_replay_keeps_the_old_run_and_the_rerun_cleans_up(point, sig, sources, tmp_path):
    out = tmp_path / "out"
    proc, _, _ = start_child(tmp_path, out, [sources["beta"]], single=True)
    assert proc.wait(timeout=60) == 0, proc.communicate()
    before = files_of(out)
    proc, calls, marker = start_child(
        tmp_path, out, [sources["beta"]], single=True,
        hang_on="frame_010" if point == "mid-run" else "", hold=point == "writing",
    )  # fmt: skip
    if point == "writing":
        wait_until(lambda: lines(marker) >= 1, 30, "the replay to stage its outputs")
        assert any(p.name.endswith(".tmp") for p in out.iterdir())
    else:
        wait_until(lambda: lines(calls) >= 2, 30, "the replay to load its model")
    kill_and_check_no_process_left(proc, sig)
    assert visible(out) == before  # the complete earlier run is untouched

    proc, _, _ = start_child(tmp_path, out, [sources["beta"]], single=True)
    assert proc.wait(timeout=60) == 0, proc.communicate()
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert json.loads((out / "summary.json").read_text())["frames"] == 30


def test_a_batch_still_running_into_the_folder_is_refused(sources, tmp_path):
    out = tmp_path / "out"
    proc, calls, _ = start_child(tmp_path, out, [sources["alpha"], sources["beta"]],
                                 hang_on="frame_005")  # fmt: skip
    try:
        wait_until(lambda: lines(calls) >= 1, 30, "the batch to start")
        with pytest.raises(OutputError, match=rf"another batch \(process {proc.pid}\)"):
            run_batch([sources["alpha"]], out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    finally:
        kill_and_check_no_process_left(proc, signal.SIGTERM)


# --------------------------------------------------------------------------- resume integrity


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda d: (d / "frames.csv").unlink(), "frames.csv is missing"),
        (lambda d: os.truncate(d / "landmarks.npz", 1000), "landmarks.npz changed size"),
        (lambda d: (d / "events.jsonl").write_text("[]\n"), "events.jsonl changed"),
    ],
    ids=["frames.csv deleted", "npz truncated", "events edited"],
)
def test_resume_runs_a_damaged_finished_folder_again(damage, why, serial, sources, tmp_path):
    out = tmp_path / "out"
    specs = [sources[n] for n in NAMES]
    run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    files = batch_json(out)["sources"][1]["files"]
    assert set(files) >= {"frames.csv", "landmarks.npz", "events.jsonl", "summary.json"}
    assert all(len(f["blake2b"]) == 32 for f in files.values())
    assert files["frames.csv"]["size"] == (out / "beta" / "frames.csv").stat().st_size
    damage(out / "beta")
    calls = tmp_path / "calls.txt"
    result = run_batch(specs, out, PixelPose(calls=str(calls)), OPTIONS, MODEL_INFO,
                       progress=False)  # fmt: skip
    assert [i["status"] for i in result.items] == ["resumed", "done", "resumed"]
    assert lines(calls) == 1
    assert any(why in note for note in result.notes), result.notes
    assert_same_results(serial, out, ["beta"])


def test_without_batch_json_a_truncated_recording_is_still_caught(serial, sources, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    os.truncate(out / "beta" / "landmarks.npz", 1000)
    (out / "gamma" / "frames.csv").write_text("frame,t_s\n", encoding="utf-8")
    (out / "batch.json").unlink()
    specs = [sources[n] for n in NAMES]
    result = run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    assert [i["status"] for i in result.items] == ["resumed", "done", "done"], result.notes


def test_a_stale_running_record_is_reported_as_interrupted(serial, sources, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    record = json.loads((out / "batch.json").read_text())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    record.update(state="running", pid=int(dead.stdout))
    (out / "batch.json").write_text(json.dumps(record))
    specs = [sources[n] for n in NAMES]
    result = run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    assert [i["status"] for i in result.items] == ["resumed"] * 3
    (note,) = result.notes
    assert f"process {dead.stdout.strip()}" in note and "interrupted" in note


def test_sigterm_in_process_stops_like_ctrl_c(sources, tmp_path, monkeypatch):
    """The handler is only installed while sources run, and restored after."""
    before = signal.getsignal(signal.SIGTERM)

    def serial_run(tasks, progress, finish):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the signal arrives before this ends
        pytest.fail("SIGTERM did not stop the batch")

    monkeypatch.setattr(batch_executors, "run_serial", serial_run)
    with pytest.raises(KeyboardInterrupt):
        run_batch([sources["gamma"]], tmp_path / "o", PixelPose(), OPTIONS, MODEL_INFO,
                  progress=False)  # fmt: skip
    assert batch_json(tmp_path / "o")["state"] == "interrupted"
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["KILL", "TERM"])
def test_a_local_dask_cluster_goes_with_its_batch(sig, serial, sources, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    specs = [sources[n] for n in NAMES]
    proc, calls, _ = start_child(tmp_path, out, specs, hang_on="frame_010", workers="local")
    wait_until(lambda: lines(calls) >= 2, 60, "both Dask workers to load their model")
    kill_and_check_no_process_left(proc, sig)
    assert batch_json(out)["state"] == ("running" if sig == signal.SIGKILL else "interrupted")

    result = run_batch(specs, out, PixelPose(), OPTIONS, MODEL_INFO, progress=False)
    assert [i["status"] for i in result.items] == ["done"] * 3, result.items
    assert_same_results(serial, out, NAMES)


def test_the_cli_warns_when_it_runs_a_damaged_folder_again(sources, tmp_path, monkeypatch, capsys):
    from posturecam import cli
    from posturecam.frames import model

    fake = model.ResolvedModel(Path("fake.task"), "full", "--model")
    monkeypatch.setattr(model, "resolve", lambda *a, **k: fake)
    monkeypatch.setattr(batch, "ModelRef", lambda _path: PixelPose())
    out = tmp_path / "out"
    argv = ["replay", sources["alpha"], sources["beta"], "--out", str(out), "--no-progress"]
    assert cli.main(argv) == 0
    (out / "beta" / "frames.csv").unlink()
    capsys.readouterr()
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        f"posturecam: warning: {out / 'beta'}: frames.csv is missing; running it again\n"
    )
    assert "2 of 2 source(s) replayed" in captured.out and "(1 already done, kept)" in captured.out
