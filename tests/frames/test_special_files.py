"""Special files and links in sources: FIFOs, devices, huge files, directories, symlink loops.

Only regular files are read, with a size bound checked before reading; anything
else named like an image is a skipped frame with its reason, and a source that
cannot be opened at all (a loop as the source or as its manifest.csv) is a clear
one-line error for that source only. Every CLI run here happens in a thread with
a deadline, so a hang fails the test instead of blocking the suite.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from test_cli import N_FRAMES, fakes, make_folder, rows_of, summary_of  # noqa: F401  (fixture)

from posturecam import cli
from posturecam.core.types import Frame
from posturecam.errors import SourceError
from posturecam.frames import manifest, sources
from posturecam.frames.sources import FolderSource, open_source
from posturecam.research import batch

T = TypeVar("T")

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, /dev/zero and POSIX symlinks"),
    pytest.mark.usefixtures("fakes"),  # the CLI's fake model, from test_cli
]

DEADLINE_S = 30.0  # a hang fails after this; a passing run takes well under a second
BAD = 5  # index of the frame replaced by a special file
BAD_NAME = f"frame_{BAD:03d}.jpg"


def within_deadline(fn: Callable[[], T], what: str) -> T:
    """``fn()`` in a daemon thread; fail the test if it is not done within DEADLINE_S."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # re-raised below, in the test's thread
            result["exc"] = exc

    thread = threading.Thread(target=target, name="under-test", daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    if thread.is_alive():
        pytest.fail(f"{what} hung for {DEADLINE_S:.0f} s")
    if "exc" in result:
        raise result["exc"]
    return result["value"]


def run_cli(capsys, *argv: str | Path) -> tuple[int, str, str]:
    """``cli.main(argv)`` with a deadline: (exit code, stdout, stderr)."""
    try:
        code = within_deadline(lambda: cli.main([str(a) for a in argv]), f"posturecam {argv[0]}")
    finally:
        out, err = capsys.readouterr()
        sys.stderr.write(err)  # shown if the test fails
    return code, out, err


def read_all(src: FolderSource) -> list[Frame]:
    with src:
        return within_deadline(lambda: list(src), f"reading {src.folder}")


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """Every path opened through open() or os.open() while the test runs."""
    paths: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, *args, **kwargs):
        paths.append(str(file))
        return real_open(file, *args, **kwargs)

    def spy_os_open(path, *args, **kwargs):
        paths.append(str(path))
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    return paths


def replay(capsys, src: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "replay", src, "--out", out, "--no-progress", *extra)


def assert_one_error(code: int, err: str, *needles: str, expected_code: int = 2) -> None:
    assert code == expected_code, err
    lines = [line for line in err.splitlines() if line.startswith("posturecam: error: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert "unexpected" not in err, err  # the CLI's last-resort net must not be reached
    for needle in needles:
        assert needle in lines[0], (needle, err)


def assert_skipped(out: Path, reason: str, index: int = BAD, name: str = BAD_NAME) -> None:
    """The run finished, keeping the bad frame's slot with ``reason``; the others were read."""
    rows = rows_of(out)
    assert len(rows) == N_FRAMES
    assert reason in rows[index]["reason"], rows[index]
    assert rows[index]["detected"] != "1"
    assert all(r["reason"] == "" for i, r in enumerate(rows) if i != index)
    s = summary_of(out)
    assert s["frames"] == N_FRAMES and s["frames_skipped"] == 1
    [skipped] = s["skipped"]
    assert skipped["frame"] == index and skipped["name"] == name
    assert reason in skipped["reason"]


def replace_frame(folder: Path, make) -> Path:
    """Swap frame BAD for whatever ``make(path)`` puts there."""
    path = folder / BAD_NAME
    path.unlink()
    make(path)
    return path


def loop(a: Path, b: Path) -> None:
    """a -> b -> a."""
    os.symlink(b, a)
    os.symlink(a, b)


@contextlib.contextmanager
def unblocking(fifo: Path):
    """Afterwards, release any reader stuck opening ``fifo`` (the unfixed code is one)."""
    try:
        yield fifo
    finally:
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


# --------------------------------------------------------------------------- frames


def test_fifo_frame_is_skipped_without_hanging(tmp_path, capsys):
    folder = make_folder(tmp_path / "src")
    fifo = replace_frame(folder, os.mkfifo)
    with unblocking(fifo):
        code, _, err = replay(capsys, folder, tmp_path / "out")
    assert code == 0, err
    assert "Traceback" not in err
    assert f"skipped frame {BAD} ({BAD_NAME}): not a regular file (FIFO)" in err
    assert_skipped(tmp_path / "out", "not a regular file (FIFO)")


def test_fifo_frame_is_never_opened(tmp_path, opened):
    folder = make_folder(tmp_path / "src")
    fifo = replace_frame(folder, os.mkfifo)
    with unblocking(fifo):
        frames = read_all(FolderSource(folder))
        seen = list(opened)  # before unblocking() opens the FIFO to release a stuck reader
    assert str(fifo) not in seen
    assert str(folder / "frame_000.jpg") in seen  # the spy does see the reads
    assert frames[BAD].image is None and frames[BAD].skip_reason == "not a regular file (FIFO)"
    assert all(f.image is not None for i, f in enumerate(frames) if i != BAD)


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_link_to_a_character_device_is_skipped(tmp_path, capsys, opened, target):
    if not os.path.exists(target):
        pytest.skip(f"no {target}")
    folder = make_folder(tmp_path / "src")
    replace_frame(folder, lambda p: os.symlink(target, p))
    code, _, err = replay(capsys, folder, tmp_path / "out")
    assert code == 0, err
    assert_skipped(tmp_path / "out", "not a regular file (character device)")
    assert target not in opened and str(folder / BAD_NAME) not in opened


def test_socket_named_like_an_image_is_skipped(tmp_path):
    folder = make_folder(tmp_path / "src")
    (folder / BAD_NAME).unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            sock.bind(str(folder / BAD_NAME))
        except OSError as exc:  # e.g. the path is too long for a socket address
            pytest.skip(f"cannot make a socket file here: {exc}")
        frames = read_all(FolderSource(folder))
    finally:
        sock.close()
    assert frames[BAD].image is None and frames[BAD].skip_reason == "not a regular file (socket)"


def test_file_over_the_size_bound_is_skipped_before_reading(tmp_path, capsys):
    folder = make_folder(tmp_path / "src")
    big = folder / BAD_NAME
    with open(big, "r+b") as fh:  # sparse: costs no disk, but stat says it is huge
        fh.truncate(256 * 2**20 + 1)  # one byte over sources.MAX_FRAME_BYTES
    code, _, err = replay(capsys, folder, tmp_path / "out")
    assert code == 0, err
    assert_skipped(tmp_path / "out", "file too large (268,435,457 bytes; limit 256 MiB)")


def test_size_bound_is_checked_before_opening(tmp_path, monkeypatch, opened):
    monkeypatch.setattr(sources, "MAX_FRAME_BYTES", 1000)
    folder = make_folder(tmp_path / "src", n=3)
    (folder / "frame_001.jpg").write_bytes(b"\xff\xd8\xff" + bytes(2000))
    opened.clear()
    frames = read_all(FolderSource(folder))
    assert str(folder / "frame_001.jpg") not in opened
    assert frames[1].image is None
    assert frames[1].skip_reason == "file too large (2,003 bytes; limit 1,000 bytes)"
    assert frames[0].image is not None and frames[2].image is not None


def test_directory_named_like_an_image_is_skipped(tmp_path, capsys):
    folder = make_folder(tmp_path / "src")
    replace_frame(folder, os.mkdir)
    code, _, err = replay(capsys, folder, tmp_path / "out")
    assert code == 0, err
    assert_skipped(tmp_path / "out", "not a regular file (directory)")


def test_directory_named_like_an_image_keeps_its_slot_with_fps(tmp_path):
    folder = make_folder(tmp_path / "src", n=4, manifest=False)
    (folder / "frame_002.jpg").unlink()
    (folder / "frame_002.jpg").mkdir()
    frames = read_all(FolderSource(folder, fps=2.0))
    assert [f.name for f in frames] == [f"frame_{i:03d}.jpg" for i in range(4)]
    assert frames[2].skip_reason == "not a regular file (directory)"


def test_symlink_loop_inside_a_folder_is_a_skipped_frame(tmp_path, capsys):
    folder = make_folder(tmp_path / "src")
    replace_frame(folder, lambda p: loop(p, folder / "other"))
    code, _, err = replay(capsys, folder, tmp_path / "out")
    assert code == 0, err
    assert "Traceback" not in err
    assert_skipped(tmp_path / "out", "symlink loop")


def test_symlink_loop_inside_a_folder_with_fps(tmp_path, capsys):
    folder = make_folder(tmp_path / "src", manifest=False)
    loop(folder / "zz_loop.jpg", folder / "zz_other.jpg")  # sorted after the frames
    code, _, err = replay(capsys, folder, tmp_path / "out", "--fps", "2")
    assert code == 0, err
    s = summary_of(tmp_path / "out")
    assert s["frames"] == N_FRAMES + 2 and s["frames_skipped"] == 2
    assert {item["name"] for item in s["skipped"]} == {"zz_loop.jpg", "zz_other.jpg"}
    assert all("symlink loop" in item["reason"] for item in s["skipped"])


def test_folder_of_only_special_files_is_one_clear_error(tmp_path, capsys):
    folder = tmp_path / "src"
    folder.mkdir()
    os.mkfifo(folder / "a.jpg")
    loop(folder / "b.jpg", folder / "c.jpg")
    with unblocking(folder / "a.jpg"):
        code, _, err = replay(capsys, folder, tmp_path / "out", "--stills")
    assert_one_error(code, err, "no images in folder", "not regular files")


# --------------------------------------------------------------------------- sources and manifests


def test_symlink_loop_as_the_source_opens_as_a_clear_error(tmp_path):
    loop(tmp_path / "a", tmp_path / "b")
    with pytest.raises(SourceError, match="symlink loop"):
        open_source(tmp_path / "a")
    with pytest.raises(SourceError, match="symlink loop"):
        FolderSource(tmp_path / "a", stills=True)


def test_symlink_loop_as_the_source_is_one_error(tmp_path, capsys):
    loop(tmp_path / "a", tmp_path / "b")
    code, _, err = replay(capsys, tmp_path / "a", tmp_path / "out")
    assert_one_error(code, err, "symlink loop", str(tmp_path / "a"))


def test_fifo_as_the_source_is_one_error(tmp_path, capsys):
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    with unblocking(fifo):
        code, _, err = replay(capsys, fifo, tmp_path / "out")
    assert_one_error(code, err, "is a FIFO, not a regular file or folder")


def test_symlink_loop_as_the_manifest_is_one_error(tmp_path, capsys):
    folder = make_folder(tmp_path / "src")
    (folder / "manifest.csv").unlink()
    loop(folder / "manifest.csv", folder / "elsewhere.csv")
    code, _, err = replay(capsys, folder, tmp_path / "out")
    assert_one_error(code, err, "manifest.csv", "symlink loop")
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.mark.parametrize("kind", ["fifo", "directory", "dev_zero", "dangling"])
def test_manifest_that_is_not_a_regular_file_is_one_error(tmp_path, capsys, kind):
    folder = make_folder(tmp_path / "src")
    manifest = folder / "manifest.csv"
    manifest.unlink()
    make = {
        "fifo": os.mkfifo,
        "directory": os.mkdir,
        "dev_zero": lambda p: os.symlink("/dev/zero", p),
        "dangling": lambda p: os.symlink(folder / "gone.csv", p),
    }[kind]
    make(manifest)
    with unblocking(manifest):
        code, _, err = replay(capsys, folder, tmp_path / "out")
    needle = {
        "fifo": "is a FIFO, not a regular file",
        "directory": "is a directory, not a regular file",
        "dev_zero": "is a character device, not a regular file",
        "dangling": "link to a missing file",
    }[kind]
    assert_one_error(code, err, "manifest.csv", needle)


def test_huge_manifest_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(manifest, "MAX_MANIFEST_BYTES", 100)
    folder = make_folder(tmp_path / "src")
    with pytest.raises(SourceError, match=r"manifest\.csv: file too large"):
        FolderSource(folder)


# --------------------------------------------------------------------------- batches


@pytest.fixture
def in_process(request, monkeypatch) -> None:
    """Batch sources run serially in this process, with the CLI tests' fake model."""
    monkeypatch.setattr(batch, "MediaPipePose", request.getfixturevalue("fakes"))


def test_symlink_loop_as_one_batch_source_fails_only_that_source(tmp_path, capsys, in_process):
    good = [make_folder(tmp_path / name) for name in ("a", "c")]
    loop(tmp_path / "b", tmp_path / "b2")
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys, "replay", good[0], tmp_path / "b", good[1], "--out", out, "--no-progress"
    )
    assert_one_error(code, err, str(tmp_path / "b"), "symlink loop", expected_code=1)
    state = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in state["sources"]] == ["done", "failed", "done"]
    assert "symlink loop" in state["sources"][1]["error"]
    for name in ("a", "c"):
        assert summary_of(out / name)["frames"] == N_FRAMES


def test_symlink_loop_inside_one_batch_source_fails_only_that_source(tmp_path, capsys, in_process):
    a, b, c = (make_folder(tmp_path / name) for name in ("a", "b", "c"))
    (b / "manifest.csv").unlink()
    loop(b / "manifest.csv", b / "m2.csv")
    replace_frame(c, lambda p: loop(p, c / "other"))  # a looping frame: c still runs
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "replay", a, b, c, "--out", out, "--no-progress")
    assert_one_error(code, err, str(b), "manifest.csv", "symlink loop", expected_code=1)
    state = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in state["sources"]] == ["done", "failed", "done"]
    assert_skipped(out / "c", "symlink loop")


def test_fifo_in_one_batch_source_does_not_hang_the_batch(tmp_path, capsys, in_process):
    a, b = (make_folder(tmp_path / name) for name in ("a", "b"))
    fifo = replace_frame(b, os.mkfifo)
    out = tmp_path / "out"
    with unblocking(fifo):
        code, _, err = run_cli(capsys, "replay", a, b, "--out", out, "--no-progress")
    assert code == 0, err
    assert_skipped(out / "b", "not a regular file (FIFO)")
