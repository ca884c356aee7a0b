"""Nothing lost: exact timestamps, atomic replacement of a run, writable --out (issue 11).

Faults are injected (a full disk as OSError(ENOSPC) on the Nth file fsync or file
creation, a read-only folder as EACCES/EROFS) so the tests run anywhere, as root too.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from test_cli import assert_error, fakes, make_folder, replay, run, summary_of  # noqa: F401

from posturecam import storage
from posturecam.research import recording
from posturecam.research.outputs import _exact_cell, read_frames, write_frames_csv

EPOCH = 1733040000.0  # 2024-12-01, the kind of t_s a capture rig's manifest holds


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` (hidden temporary files included), with bytes."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def t_cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["t_s"] for row in csv.DictReader(fh)]


def epoch_folder(path: Path, n: int = 30, step: float = 1 / 3) -> tuple[Path, list[float]]:
    make_folder(path, n=n)
    times = [EPOCH + 0.123 + i * step for i in range(n)]
    rows = ["file,t_s"] + [f"frame_{i:03d}.jpg,{t!r}" for i, t in enumerate(times)]
    (path / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, times


# --------------------------------------------------------------------------- 1. t_s exact


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.5, "0.5"),
        (0.0, "0"),
        (2.0, "2"),
        (12.25, "12.25"),
        (1733040000.0, "1733040000"),
        (1733040000.125, "1733040000.125"),
        (1 / 30, "0.03333333333333333"),
        (float("nan"), ""),
        (np.float64(0.1), "0.1"),
        (1e-07, "1e-07"),
    ],
)
def test_timestamps_are_written_exactly_and_plainly(value, text):
    assert _exact_cell(value) == text
    if text:
        assert float(text) == value  # bit for bit


def test_frames_csv_round_trips_t_s_bit_for_bit(tmp_path):
    rng = np.random.default_rng(7)
    t = np.sort(EPOCH + rng.uniform(0, 86400, 200))
    t = np.concatenate([t, [1 / 3, 2 / 3, 0.1 + 0.2, 1e9 + 1e-6]])
    metric = rng.normal(size=t.size)
    write_frames_csv(
        tmp_path / "frames.csv", {"frame": np.arange(t.size), "t_s": t, "score": metric}
    )
    back = read_frames(tmp_path / "frames.csv")
    assert np.array_equal(back["t_s"], t)
    assert "e+09" not in (tmp_path / "frames.csv").read_text(encoding="utf-8")
    # Metrics keep 6 significant digits: small files, unchanged format.
    assert np.allclose(back["score"], metric, rtol=1e-5) and not np.array_equal(
        back["score"], metric
    )


def test_replay_of_epoch_manifest_keeps_absolute_t_s(fakes, tmp_path, capsys):  # noqa: F811
    src, times = epoch_folder(tmp_path / "rig")
    out = tmp_path / "out"
    code, _, err = replay(capsys, src, out)
    assert code == 0, err
    cells = t_cells(out / "frames.csv")
    assert [float(c) for c in cells] == times  # as the source gave them, exactly
    assert len(set(cells)) == len(times)  # 6 digits made every row 1.73304e+09
    assert all("e+" not in c for c in cells)
    assert np.array_equal(read_frames(out)["t_s"], np.array(times))
    assert summary_of(out)["duration_s"] == round(times[-1] - times[0], 3)


def _as_before_the_change(run_dir: Path) -> bytes:
    """Make ``run_dir`` look as posturecam wrote it before recording version 2.

    Its landmarks.npz says version 1, and its frames.csv has t_s to 6 significant digits
    (the only column whose format changed); returns that frames.csv.
    """
    log, meta = recording.load(run_dir)
    old_version, recording.VERSION = recording.VERSION, 1
    try:
        recording.save(run_dir, log, meta)
    finally:
        recording.VERSION = old_version
    path = run_dir / "frames.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index("t_s")
    for row in rows[1:]:
        row[col] = f"{float(row[col]):.6g}"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path.read_bytes()


def test_rescore_of_a_version_1_recording_reproduces_its_frames_csv(fakes, tmp_path, capsys):  # noqa: F811
    src = make_folder(tmp_path / "session", n=40)
    rows = ["file,t_s"] + [f"frame_{i:03d}.jpg,{i / 3!r}" for i in range(40)]  # 1/3 s apart
    (src / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    run_dir = tmp_path / "old"
    code, _, err = replay(capsys, src, run_dir)
    assert code == 0, err
    assert t_cells(run_dir / "frames.csv")[1] == "0.3333333333333333"  # version 2: exact
    old = _as_before_the_change(run_dir)
    assert t_cells(run_dir / "frames.csv")[1] == "0.333333"
    code, _, err = run(capsys, "rescore", run_dir)
    assert code == 0, err
    assert (run_dir / "rescored" / "frames.csv").read_bytes() == old
    assert recording.load_versioned(run_dir)[2] == 1


def test_new_recordings_say_version_2_and_rescore_exactly(fakes, tmp_path, capsys):  # noqa: F811
    src, times = epoch_folder(tmp_path / "rig")
    code, _, err = replay(capsys, src, tmp_path / "out")
    assert code == 0, err
    assert recording.load_versioned(tmp_path / "out")[2] == recording.VERSION == 2
    code, _, err = run(capsys, "rescore", tmp_path / "out")
    assert code == 0, err
    new = tmp_path / "out" / "rescored" / "frames.csv"
    assert new.read_bytes() == (tmp_path / "out" / "frames.csv").read_bytes()
    assert [float(c) for c in t_cells(new)] == times


# --------------------------------------------------------------------------- 2. atomic replace


@pytest.fixture
def complete_run(fakes, tmp_path, capsys):  # noqa: F811
    """A finished replay with a user's notes and a rescored/ folder, and a profile to use."""
    src = make_folder(tmp_path / "session", n=40)
    out = tmp_path / "results"
    code, _, err = replay(capsys, src, out)
    assert code == 0, err
    code, _, err = run(capsys, "rescore", out)
    assert code == 0, err
    (out / "notes.txt").write_text("my notes\n", encoding="utf-8")
    calib = make_folder(tmp_path / "calib", n=20)
    profile = tmp_path / "desk.json"
    code, _, err = run(
        capsys, "calibrate", "--source", calib, "--profile", profile, "--no-progress"
    )
    assert code == 0, err
    return src, out, profile


class FailOn:
    """Raise OSError(ENOSPC) on the Nth call that ``count`` accepts."""

    def __init__(self, real, n: int, count=lambda *a: True, err: int = errno.ENOSPC) -> None:
        self.real, self.n, self.count, self.err, self.calls = real, n, count, err, 0

    def __call__(self, *args):
        if self.count(*args):
            self.calls += 1
            if self.calls == self.n:
                raise OSError(self.err, os.strerror(self.err))
        return self.real(*args)


def _regular(fd) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


def _count_writes(monkeypatch, capsys, src, out, *extra) -> int:
    counter = FailOn(os.fsync, n=0, count=_regular)
    monkeypatch.setattr(os, "fsync", counter)
    code, _, err = replay(capsys, src, out, "--force", *extra)
    monkeypatch.setattr(os, "fsync", counter.real)
    assert code == 0, err
    return counter.calls


def test_a_full_disk_at_any_write_leaves_the_old_run_untouched(
    complete_run, tmp_path, monkeypatch, capsys
):
    src, out, profile = complete_run
    new = ("--profile", str(profile))  # another run: also writes profile.json
    scratch = tmp_path / "scratch"
    writes = _count_writes(monkeypatch, capsys, src, scratch, *new)
    assert writes >= 6  # probe, landmarks.npz, frames.csv, events.jsonl, profile, summary
    before = tree(out)
    for n in range(1, writes + 1):
        fail = FailOn(os.fsync, n=n, count=_regular)
        monkeypatch.setattr(os, "fsync", fail)
        code, _, err = replay(capsys, src, out, "--force", *new)
        monkeypatch.setattr(os, "fsync", fail.real)
        assert_error(code, err, str(out), "No space left on device", "free some disk space")
        assert err.count("\n") == 1, err  # one line
        assert tree(out) == before, f"write {n} of {writes} changed the old run"
        assert not (out / "profile.json").exists()


def test_a_full_disk_creating_any_file_leaves_the_old_run_untouched(
    complete_run, monkeypatch, capsys
):
    src, out, profile = complete_run
    before = tree(out)
    for n in range(1, 20):  # the probe, then two per file (staged name, atomic write)
        fail = FailOn(storage._create_temp, n=n)
        monkeypatch.setattr(storage, "_create_temp", fail)
        code, _, err = replay(capsys, src, out, "--force", "--profile", str(profile))
        monkeypatch.setattr(storage, "_create_temp", fail.real)
        if fail.calls < n:  # fewer files than n: the run went through
            assert code == 0, err
            break
        assert_error(code, err, str(out), "free some disk space")
        assert tree(out) == before, f"file {n} changed the old run"
    else:
        pytest.fail("replay creates more files than expected")


def test_replacing_a_run_touches_only_posturecams_files(complete_run, capsys):
    src, out, profile = complete_run
    code, _, err = replay(capsys, src, out, "--force", "--profile", str(profile))
    assert code == 0, err
    assert summary_of(out)["baseline"]["kind"] == "profile"
    assert (out / "profile.json").exists()
    kept = tree(out / "rescored")
    # Back to a run without a profile: the stale profile.json goes, nothing else does.
    code, _, err = replay(capsys, src, out, "--force")
    assert code == 0, err
    assert not (out / "profile.json").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "my notes\n"
    assert tree(out / "rescored") == kept
    assert not [p for p in os.listdir(out) if p.startswith(".")]  # no temporary files


def test_an_interrupted_swap_never_leaves_a_summary_of_missing_files(
    complete_run, monkeypatch, capsys
):
    src, out, profile = complete_run

    def final(src_path, dst) -> bool:  # renames onto the real names, not temp-to-temp
        return not Path(dst).name.startswith(".")

    for n in range(1, 6):
        fail = FailOn(os.replace, n=n, count=final)
        monkeypatch.setattr(os, "replace", fail)
        code, _, err = replay(capsys, src, out, "--force", "--profile", str(profile))
        monkeypatch.setattr(os, "replace", fail.real)
        assert_error(code, err, str(out), "no complete run", "--force")
        assert not (out / "summary.json").exists()
        assert not [p for p in os.listdir(out) if p.startswith(".")]
        assert (out / "notes.txt").exists() and (out / "rescored" / "summary.json").exists()
        # The next run recovers.
        code, _, err = replay(capsys, src, out, "--force")
        assert code == 0, err
        s = summary_of(out)
        assert all(
            (out / name).is_file() for name in ("frames.csv", "events.jsonl", s["recording"])
        )


def test_a_full_disk_during_rescore_keeps_the_earlier_rescore(complete_run, monkeypatch, capsys):
    _src, out, profile = complete_run
    before = tree(out)
    fail = FailOn(os.fsync, n=3, count=_regular)
    monkeypatch.setattr(os, "fsync", fail)
    code, _, err = run(capsys, "rescore", out, "--force", "--profile", profile)
    monkeypatch.setattr(os, "fsync", fail.real)
    assert_error(code, err, str(out / "rescored"), "free some disk space")
    assert tree(out) == before


# --------------------------------------------------------------------------- 3. writable --out


def _deny_writes(monkeypatch, folder: Path, err: int) -> None:
    """Make ``folder`` unwritable: chmod where that works, else fail file creation there."""
    real = storage._create_temp

    def create(path: Path):
        if Path(path).parent == folder:
            raise OSError(err, os.strerror(err), str(path))
        return real(path)

    monkeypatch.setattr(storage, "_create_temp", create)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores chmod")
def test_read_only_out_fails_before_the_model_runs_chmod(fakes, tmp_path, capsys):  # noqa: F811
    src = make_folder(tmp_path / "session")
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        code, _, err = replay(capsys, src, out)
        assert_error(code, err, str(out), "choose a folder you can write to")
        assert fakes.made == []
        code, _, err = replay(capsys, src, out / "sub")
        assert_error(code, err, str(out / "sub"))
        assert fakes.made == []
    finally:
        out.chmod(0o700)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("err", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_unwritable_out_fails_before_the_model_runs(fakes, tmp_path, monkeypatch, capsys, err):  # noqa: F811
    src = make_folder(tmp_path / "session")
    out = tmp_path / "ro"
    _deny_writes(monkeypatch, out, err)
    code, _, msg = replay(capsys, src, out)
    assert_error(code, msg, f"cannot write to --out {out}", os.strerror(err))
    assert msg.count("\n") == 1
    assert fakes.made == []  # the model never ran
    assert not out.exists()  # the folder the probe made is removed again


def test_unwritable_rescore_out_fails_before_scoring(complete_run, tmp_path, monkeypatch, capsys):
    _src, out, _profile = complete_run
    target = tmp_path / "elsewhere"
    _deny_writes(monkeypatch, target, errno.EROFS)
    import posturecam.research.rescore as rescore_mod

    def never(*a, **k):
        raise AssertionError("scored before checking --out")

    monkeypatch.setattr(rescore_mod, "analyse", never)
    code, _, err = run(capsys, "rescore", out, "--out", target)
    assert_error(code, err, str(target), "Read-only file system")


def test_symlink_loop_as_out_is_a_clear_error(fakes, tmp_path, capsys):  # noqa: F811
    src = make_folder(tmp_path / "session")
    loop = tmp_path / "loop"
    os.symlink("loop", loop)
    code, _, err = replay(capsys, src, loop)
    assert_error(code, err, str(loop), "symbolic link loop")
    assert fakes.made == []
    code, _, err = replay(capsys, src, loop / "sub")
    assert_error(code, err, "symbolic link loop")
    dangling = tmp_path / "dangling"
    os.symlink(tmp_path / "missing", dangling)
    code, _, err = replay(capsys, src, dangling)
    assert_error(code, err, str(dangling), "does not exist")


# --------------------------------------------------------------------------- 4. file, not folder


@pytest.mark.parametrize("command", ["rescore", "report"])
def test_a_file_given_as_the_run_folder_says_so(complete_run, capsys, command):
    _src, out, _profile = complete_run
    for path in (out / "summary.json", out / "notes.txt"):
        code, _, err = run(capsys, command, path)
        assert_error(code, err, f"{path} is a file, not a run folder", "replay SOURCE --out DIR")
        assert "no such run folder" not in err
        assert err.count("\n") == 1
    code, _, err = run(capsys, command, out / "summary.json")
    assert f"that file's folder is {out}" in err
    code, _, err = run(capsys, command, out / "notes.txt")
    assert "that file's folder" not in err
