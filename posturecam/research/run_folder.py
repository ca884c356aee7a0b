"""The run folder: the one owner of a run's output files, its summary and what it holds.

Every file posturecam writes into a run folder is named here; ``RunFolder``
reads summary.json with one validation, says whether the folder holds this run,
another run or an interrupted one, swaps a new run's files in (summary.json
last, so a folder that has one is complete), checks a finished folder's files
against their record, and clears what a failed or killed run left.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posturecam.errors import Given, OutputError, Part, Remedy
from posturecam.storage import StagedFiles, probe_writable, remove_stale_temps

SUMMARY = "summary.json"
FRAMES = "frames.csv"
FRAMES_PARQUET = "frames.parquet"
EVENTS = "events.jsonl"
PROFILE = "profile.json"  # the profile a run was judged against, copied for rescore
RECORDING = "landmarks.npz"
REPORT = "report.html"  # a report's default name; not a run's own file
RESCORED = "rescored"  # a rescore's default folder inside the run it reads
BATCH_FILE = "batch.json"  # in a batch's root folder, beside its run folders

# What replay writes before summary.json; replacing a run touches these only (a user's
# notes, report.html or a rescored/ folder beside them are left alone).
OUTPUTS = (FRAMES, EVENTS, FRAMES_PARQUET, RECORDING, PROFILE)
OWNED = (*OUTPUTS, SUMMARY)
# Removed when the new run has none; landmarks.npz is not: a rescore written over a
# replay's folder of the same source must not delete what the model saw.
STALE = (FRAMES_PARQUET, PROFILE)
# Fields of summary.json whose type every reader relies on (None is allowed: older runs).
_SUMMARY_TYPES: dict[str, type] = {
    "baseline": dict,
    "alerts": list,
    "warnings": list,
    "time_in_state_s": dict,
}

# What a folder holds (RunFolder.holds).
EMPTY = "empty"  # nothing of a run: free to write
THIS_RUN = "this run"  # a finished run of this source (and run key, when one is given)
OTHER_OPTIONS = "other options"  # a finished run of this source with another run key
OTHER_SOURCE = "other source"  # a finished run of another source
UNREADABLE = "unreadable"  # a summary.json that cannot be read or is not a summary
INTERRUPTED = "interrupted"  # outputs without a summary.json: a run that did not finish
NOT_A_FOLDER = "not a folder"
# What to do about a folder that holds another run.
REPLACE_OR_CHOOSE = (Remedy("choose_out_folder"), " or ", Remedy("force_replace"))


class SummaryError(OutputError):
    """summary.json is missing, cannot be read, or is not a posturecam summary.

    ``problem`` is "missing", "unreadable" or "invalid"; ``why`` says what is wrong.
    Each caller words what the user should do.
    """

    def __init__(self, path: Path, problem: str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path, self.problem, self.why = path, problem, why


@dataclass(frozen=True)
class Holding:
    """What a run folder holds, and the summary it holds it by (if any)."""

    state: str
    summary: dict[str, Any] | None = None

    @property
    def source(self) -> Any:
        """The source the folder's run was made from (as summary.json says)."""
        return (self.summary or {}).get("source_path")


def not_a_run_folder(path: Path, command: str, also: str = "") -> OutputError:
    """``path`` is a file where a run folder was expected: say which folder was probably meant."""
    hint = ""
    if path.name in (FRAMES, SUMMARY, EVENTS, RECORDING):
        hint = f" (that file's folder is {path.parent})"
    return OutputError(
        f"{path} is a file, not a run folder; {command} expects the folder written by ",
        Given("replay_folder"),
        f"{also}, so pass that folder{hint}.",
    )


def _unwritable(out_dir: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ELOOP:
        return OutputError(
            Given("out_dir", path=out_dir),
            " is a symbolic link loop; remove the link or choose another folder.",
        )
    why = exc.strerror or str(exc)
    given = Given("out_dir", path=out_dir)
    if exc.errno == errno.ENOENT and exc.strerror and "symbolic link" in exc.strerror:
        return OutputError(given, f": {why}; create that folder or choose another one.")
    return OutputError("cannot write to ", given, f" ({why}); ", *space_remedy(exc), ".")


def space_remedy(exc: OSError, *otherwise: Part) -> tuple[Part, ...]:
    """What to do when writing failed with ``exc``: free space for a full disk or quota,
    else ``otherwise`` (by default: choose a folder that can be written)."""
    if exc.errno == errno.ENOSPC:
        return ("free some disk space or ", Remedy("choose_out_folder"))
    if exc.errno == errno.EDQUOT:
        return ("free some space in your quota or ", Remedy("choose_out_folder"))
    return otherwise or (Remedy("writable_out_folder"),)


def _digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


Writer = Callable[[Path], None]


class RunFolder:
    """One run's output folder (it need not exist yet)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    # ------------------------------------------------------------------ reading

    def read_summary(self) -> dict[str, Any]:
        """summary.json, checked to be a posturecam summary; else a SummaryError."""
        path = self.file(SUMMARY)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SummaryError(path, "missing", f"no {SUMMARY}") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SummaryError(path, "unreadable", str(exc)) from None
        problems = []
        if not isinstance(data, dict):
            problems.append("it is not a JSON object")
        else:
            for key, kind in _SUMMARY_TYPES.items():
                if data.get(key) is not None and not isinstance(data[key], kind):
                    problems.append(f'"{key}" is not a {kind.__name__}')
        if problems:
            raise SummaryError(path, "invalid", "; ".join(problems))
        return data

    def holds(self, source_id: str, run_key: str | None = None) -> Holding:
        """What the folder holds, for a run of ``source_id`` (with ``run_key``, if given)."""
        if self.path.exists() and not self.path.is_dir():
            return Holding(NOT_A_FOLDER)
        if self.file(SUMMARY).exists():
            try:
                summary = self.read_summary()
            except SummaryError:
                return Holding(UNREADABLE)
            if summary.get("source_path") != source_id:
                return Holding(OTHER_SOURCE, summary)
            same = run_key is None or summary.get("run_key") == run_key
            return Holding(THIS_RUN if same else OTHER_OPTIONS, summary)
        if any(self.file(name).exists() for name in OUTPUTS):
            return Holding(INTERRUPTED)  # summary.json is written last
        return Holding(EMPTY)

    # ------------------------------------------------------------------ writing

    def prepare(self, source_id: str, force: bool, run_key: str | None = None) -> bool:
        """Refuse to mix two runs in one folder, and refuse a folder that cannot be written.

        Another run is replaced only with ``force``; this source's run (with this
        ``run_key``, when one is given) may be refreshed. Creates the folder and writes
        a probe file in it, so a read-only or full destination fails before the model
        runs; returns whether the folder was created here (see ``undo_create``).
        """
        holding = self.holds(source_id, run_key)
        if holding.state == NOT_A_FOLDER:
            raise OutputError(
                Given("out_dir", path=self.path), " is a file, not a folder; choose a folder name."
            )
        if not force:
            self._refuse_another_run(holding)
        created = not self.path.exists() and not self.path.is_symlink()
        try:
            probe_writable(self.path)
        except OSError as exc:
            if created:
                self.undo_create()
            raise _unwritable(self.path, exc) from None
        return created

    def _refuse_another_run(self, holding: Holding) -> None:
        if holding.state == OTHER_OPTIONS:
            raise OutputError(
                f"{self.path} already holds a run of this source with other options, model or "
                "posturecam version; ",
                Remedy("choose_out_folder"),
                ", ",
                Remedy("force_replace"),
                ", or use `posturecam rescore` to try other settings",
            )
        if holding.state in (OTHER_SOURCE, UNREADABLE):
            raise OutputError(
                f"{self.path} already holds the results of another run "
                f"({holding.source or 'unreadable'}); ",
                *REPLACE_OR_CHOOSE,
                ".",
            )
        if holding.state == INTERRUPTED:
            raise OutputError(
                f"{self.path} holds a frames.csv from an unknown run; ", *REPLACE_OR_CHOOSE, "."
            )

    def swap_in(self, writers: list[tuple[str, Writer]]) -> None:
        """Write every file under a temporary name, then swap them in, summary.json last.

        An error while writing leaves the folder exactly as it was (no temporary files);
        an interrupted swap leaves no summary.json, so the folder never looks complete.
        """
        name: str | None = None
        try:
            with StagedFiles(self.path) as staged:
                for name, write in writers:
                    write(staged.path(name))
                name = None
                staged.commit(last=SUMMARY, stale=STALE)
        except OSError as exc:
            why = exc.strerror or str(exc)
            if name is None:
                raise OutputError(
                    f"cannot move the new results into place in {self.path} ({why}); the "
                    "folder holds no complete run now: fix the folder, then ",
                    Remedy("rerun_forced"),
                    ".",
                ) from None
            remedy = space_remedy(
                exc, "check that the folder is writable or ", Remedy("choose_out_folder")
            )
            raise OutputError(
                f"cannot write {self.path / name} ({why}); nothing in {self.path} was changed: ",
                *remedy,
                ", then run again.",
            ) from None

    def undo_create(self) -> None:
        """Remove the folder again after a failure that wrote nothing (it must be empty)."""
        with contextlib.suppress(OSError):
            self.path.rmdir()

    def clear_staging(self) -> int:
        """Remove the temporary files a killed run left beside the folder's own files."""
        return remove_stale_temps(self.path, OWNED)

    # ------------------------------------------------------------------ integrity

    def file_record(self) -> dict[str, dict[str, Any]]:
        """Size and BLAKE2b of every file the run wrote: what a resume checks before keeping it.

        Empty when a file cannot be read: a resume then checks the folder's structure.
        """
        out: dict[str, dict[str, Any]] = {}
        for name in OWNED:
            path = self.file(name)
            try:
                out[name] = {"size": path.stat().st_size, "blake2b": _digest(path)}
            except FileNotFoundError:
                continue
            except OSError:
                return {}
        return out

    def changed(self, files: dict[str, Any]) -> str:
        """The first recorded file that is missing or differs from ``files``, or ""."""
        for name, want in files.items():
            path = self.file(str(name))
            try:
                size = path.stat().st_size
            except OSError:
                return f"{name} is missing"
            if not isinstance(want, dict) or size != want.get("size"):
                return f"{name} changed size"
            if _digest(path) != want.get("blake2b"):
                return f"{name} changed"
        return ""

    def damaged(self, summary: dict[str, Any]) -> str:
        """Without a record of its files: what a structural check finds wrong, or ""."""
        try:
            with zipfile.ZipFile(self.file(RECORDING)) as npz:
                if npz.testzip() is not None:
                    return f"{RECORDING} is damaged"
            with open(self.file(FRAMES), encoding="utf-8", newline="") as fh:
                rows = sum(1 for _ in csv.reader(fh)) - 1
        except (OSError, zipfile.BadZipFile, EOFError, UnicodeDecodeError, csv.Error) as exc:
            return f"cannot verify it ({exc})"
        if rows != summary.get("frames"):
            return f"{FRAMES} has {rows} rows, not {summary.get('frames')}"
        if not self.file(EVENTS).is_file():
            return f"{EVENTS} is missing"
        return ""
