"""The run folder: what it holds, its one summary reader, and preparing it for a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posturecam.cli import advice
from posturecam.errors import OutputError
from posturecam.research.run_folder import (
    EMPTY,
    FRAMES,
    INTERRUPTED,
    NOT_A_FOLDER,
    OTHER_OPTIONS,
    OTHER_SOURCE,
    OWNED,
    RECORDING,
    SUMMARY,
    THIS_RUN,
    UNREADABLE,
    RunFolder,
    SummaryError,
)


def write_summary(folder: Path, **fields) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SUMMARY).write_text(json.dumps({"source_path": "/src", **fields}), "utf-8")


@pytest.mark.parametrize(
    ("setup", "key", "state"),
    [
        (lambda f: None, None, EMPTY),
        (lambda f: f.mkdir(), None, EMPTY),
        (lambda f: write_summary(f, run_key="k"), None, THIS_RUN),
        (lambda f: write_summary(f, run_key="k"), "k", THIS_RUN),
        (lambda f: write_summary(f, run_key="k"), "other", OTHER_OPTIONS),
        (lambda f: write_summary(f), "k", OTHER_OPTIONS),  # a plain replay has no key
        (lambda f: write_summary(f, source_path="/elsewhere"), None, OTHER_SOURCE),
        (lambda f: (f.mkdir(), (f / SUMMARY).write_text("{oops")), None, UNREADABLE),
        (lambda f: (f.mkdir(), (f / SUMMARY).write_text("[1]")), None, UNREADABLE),
        (lambda f: (f.mkdir(), (f / FRAMES).write_text("frame\n")), None, INTERRUPTED),
        (lambda f: (f.mkdir(), (f / RECORDING).write_bytes(b"PK")), None, INTERRUPTED),
        (lambda f: f.write_text("a file"), None, NOT_A_FOLDER),
    ],
)
def test_what_a_folder_holds(tmp_path, setup, key, state):
    folder = tmp_path / "run"
    setup(folder)
    assert RunFolder(folder).holds("/src", key).state == state


def test_one_summary_reader_with_one_validation(tmp_path):
    folder = RunFolder(tmp_path)
    with pytest.raises(SummaryError) as missing:
        folder.read_summary()
    assert missing.value.problem == "missing"
    (tmp_path / SUMMARY).write_text("{not json", "utf-8")
    with pytest.raises(SummaryError) as unreadable:
        folder.read_summary()
    assert unreadable.value.problem == "unreadable"
    (tmp_path / SUMMARY).write_text('{"alerts": {}, "baseline": []}', "utf-8")
    with pytest.raises(SummaryError) as invalid:
        folder.read_summary()
    assert invalid.value.problem == "invalid"
    assert invalid.value.why == '"baseline" is not a dict; "alerts" is not a list'
    assert isinstance(invalid.value, OutputError)
    write_summary(tmp_path, alerts=[], baseline=None)
    assert folder.read_summary()["source_path"] == "/src"


def test_prepare_refuses_another_run_in_the_cli_words(tmp_path):
    folder = tmp_path / "run"
    write_summary(folder, source_path="/elsewhere")
    with pytest.raises(OutputError) as refused:
        RunFolder(folder).prepare("/src", force=False)
    assert str(refused.value).endswith(
        "choose another output folder or replace it with force=True."
    )
    assert advice.render(refused.value) == (
        f"{folder} already holds the results of another run (/elsewhere); "
        "choose another --out folder or pass --force to replace it."
    )
    assert RunFolder(folder).prepare("/src", force=True) is False  # it existed


def test_prepare_creates_and_undo_removes_only_an_empty_folder(tmp_path):
    folder = RunFolder(tmp_path / "new")
    assert folder.prepare("/src", force=False) is True
    assert folder.path.is_dir() and not list(folder.path.iterdir())  # the probe is gone
    folder.undo_create()
    assert not folder.path.exists()


def test_file_record_and_changed(tmp_path):
    folder = RunFolder(tmp_path)
    (tmp_path / FRAMES).write_text("frame\n0\n", "utf-8")
    write_summary(tmp_path)
    record = folder.file_record()
    assert set(record) == {FRAMES, SUMMARY} and set(record) <= set(OWNED)
    assert folder.changed(record) == ""
    (tmp_path / FRAMES).write_text("frame\n1\n", "utf-8")
    assert folder.changed(record) == f"{FRAMES} changed"
    (tmp_path / FRAMES).unlink()
    assert folder.changed(record) == f"{FRAMES} is missing"
