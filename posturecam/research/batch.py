"""Replay many recordings in one batch: one output folder per source, resumable, in parallel.

A batch is a list of ``replay`` calls. What the batch adds is bookkeeping a
researcher needs when a run takes hours: a stable folder name per source
(``batch_plan``), a ``batch.json`` record that stays true when the run is
interrupted (``batch_record``), resuming without re-running the model on
finished sources (decided here, from what each run folder holds), parallel
workers (local processes or a Dask cluster, ``batch_executors``) that give the
same files as a serial run, and one progress bar for the whole batch.

Dask workers need posturecam installed, the model file at the same path and the
output folder on a file system they share with the machine that starts the
batch; sources and outputs are passed to them as absolute paths.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posturecam.errors import Given, OutputError, PosturecamError, SourceError
from posturecam.frames.pose import MediaPipePose, PoseEstimator
from posturecam.frames.sources import open_source, resolve_path
from posturecam.research import batch_executors
from posturecam.research.batch_executors import EXECUTORS, LOCAL, Progress, dask_client_class
from posturecam.research.batch_plan import (
    BatchItem,
    expand,
    expand_sources,
    has_magic,
    identity,
    plan,
)
from posturecam.research.batch_processes import sigterm_as_ctrl_c
from posturecam.research.batch_record import (
    DONE,
    FAILED,
    PENDING,
    RESUMED,
    Record,
    claimed,
    previous_run,
)
from posturecam.research.batch_task import REPORT_EVERY_FRAMES, SourceTask
from posturecam.research.options import ReplayOptions
from posturecam.research.replay import EstimatorFactory
from posturecam.research.run_folder import (
    EMPTY,
    INTERRUPTED,
    OTHER_SOURCE,
    REPLACE_OR_CHOOSE,
    THIS_RUN,
    UNREADABLE,
    RunFolder,
)
from posturecam.research.run_key import run_key

__all__ = [
    "DONE",
    "EXECUTORS",
    "FAILED",
    "LOCAL",
    "PENDING",
    "REPORT_EVERY_FRAMES",
    "RESUMED",
    "BatchItem",
    "BatchResult",
    "ModelRef",
    "expand_sources",
    "plan",
    "run_batch",
    "run_key",
]

STOP_GRACE_S = 10.0  # after Ctrl-C, running sources get this long to stop before workers end


@dataclass(frozen=True)
class ModelRef:
    """Picklable estimator factory: worker processes and Dask workers load the model themselves."""

    path: str

    def __call__(self, mode: str) -> PoseEstimator:
        return MediaPipePose(self.path, mode)


@dataclass(frozen=True)
class BatchResult:
    """Per source: source, out_dir, status ("done", "resumed", "failed"), error, frames, wall_s."""

    items: list[dict[str, Any]]
    run_key: str = ""
    notes: tuple[str, ...] = ()  # warnings for the user: an interrupted earlier run, redone folders
    errors: tuple[PosturecamError | str, ...] = ()  # per item, as raised ("" when none)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [item for item in self.items if item["status"] == FAILED]


# --------------------------------------------------------------------------- before running


@dataclass(frozen=True)
class _Verdict:
    status: str  # PENDING (run it), RESUMED or FAILED
    error: PosturecamError | str = ""
    frames: int = 0
    replace: bool = False  # run with force: the folder holds our own half-written run
    note: str = ""  # why a finished folder is run again
    files: dict[str, Any] = dataclasses.field(default_factory=dict)  # a kept folder's record


def _judge_folder(item: BatchItem, key: str, force: bool, row: dict[str, Any] | None) -> _Verdict:
    """Resume, redo or refuse: an output folder of another run is never silently replaced.

    ``row``: this folder's row in the earlier batch.json, if that batch started it. A
    finished folder is kept only while its files are as that row recorded them (or, with
    no record, while they pass a structural check); otherwise it is run again.
    """
    folder = RunFolder(item.out_dir)
    if folder.path.exists() and not folder.path.is_dir():
        return _refused(f"{folder.path} is a file, not a folder; move it away or ")
    try:
        source_id = str(resolve_path(item.source))
    except SourceError as exc:
        return _Verdict(FAILED, exc)
    holding = folder.holds(source_id, key)
    if holding.state == EMPTY:
        return _Verdict(PENDING)
    if holding.state == THIS_RUN:
        return _resume(folder, holding.summary or {}, (row or {}).get("files"))
    if holding.state == INTERRUPTED:  # replay writes summary.json last
        if force or row is not None:
            return _Verdict(PENDING, replace=True)
        return _refused(f"{folder.path} holds a frames.csv from an unknown run; ")
    if force:
        return _Verdict(PENDING, replace=True)
    what = {
        UNREADABLE: "an unreadable summary.json",
        OTHER_SOURCE: f"the results of another source ({holding.source})",
    }.get(
        holding.state,
        "results of this source made with other options, model or posturecam version",
    )
    return _refused(f"{folder.path} already holds {what}; ")


def _refused(why: str) -> _Verdict:
    """A folder another run holds: choose another, or replace it."""
    return _Verdict(FAILED, OutputError(why, *REPLACE_OR_CHOOSE))


def _resume(folder: RunFolder, summary: dict[str, Any], files: Any) -> _Verdict:
    """Keep a finished folder whose files are intact; run a damaged one again."""
    recorded = isinstance(files, dict) and bool(files)
    why = folder.changed(files) if recorded else folder.damaged(summary)
    if why:
        return _Verdict(PENDING, replace=True, note=f"{folder.path}: {why}; running it again")
    frames = summary.get("frames")
    folder.clear_staging()  # a killed --force run's staging files
    return _Verdict(
        RESUMED,
        frames=frames if isinstance(frames, int) else 0,
        files=files if recorded else folder.file_record(),
    )


def _expected_frames(
    item: BatchItem, options: ReplayOptions
) -> tuple[int | None, PosturecamError | str]:
    """Frame count for the progress bar, or the reason the source cannot be opened at all."""
    scoring = options.scoring
    try:
        with open_source(item.source, fps=scoring.fps, stills=scoring.stills) as src:
            return src.expected_frames, ""
    except PosturecamError as exc:
        return None, exc
    except OSError as exc:  # this source's failure, not the batch's
        return None, f"cannot open {item.source}: {exc.strerror or exc}"
    except RuntimeError as exc:  # Path.resolve() on a symlink loop, before Python 3.13
        return None, f"cannot open {item.source}: {exc}"


def _check_arguments(
    make_estimator: EstimatorFactory, workers: int, executor: str, scheduler: str | None
) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise PosturecamError(
            Given("workers_option"), f" must be a whole number of at least 1, got {workers!r}"
        )
    if executor not in EXECUTORS:
        raise PosturecamError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    if executor == "dask":
        if not scheduler:
            raise PosturecamError(
                "the Dask executor needs ", Given("scheduler_choice", local=LOCAL)
            )
        dask_client_class()  # fail now, not after planning, if Dask is missing
    if executor == "process" and workers > 1:
        try:
            pickle.dumps(make_estimator)
        except Exception as exc:
            raise TypeError(
                "with workers > 1, make_estimator must be picklable (a top-level class or "
                f"function, e.g. ModelRef(path)), not {make_estimator!r}: {exc}"
            ) from exc


def _plan(specs: Sequence[str] | str, out_root: str | Path) -> list[BatchItem]:
    """The batch's items, once its root folder exists."""
    if isinstance(specs, (str, Path)):
        specs = [str(specs)]
    root = Path(os.path.abspath(os.path.expanduser(out_root)))
    # A glob like 'data/*/' with --out data/results must not pick up the results.
    inside = identity(str(root)) + os.sep
    pairs = [
        (spec, source)
        for spec, source in expand([str(s) for s in specs])
        if not (has_magic(spec) and (identity(source) + os.sep).startswith(inside))
    ]
    if not pairs:
        raise PosturecamError("no sources given; name image folders, videos or globs")
    if root.exists() and not root.is_dir():
        raise OutputError(
            Given("out_dir", path=root), " is a file, not a folder; choose a folder name."
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            "cannot create ", Given("out_folder", path=root), f": {exc.strerror or exc}"
        ) from exc
    return plan([s for _, s in pairs], root, specs=[spec for spec, _ in pairs])


@dataclass(frozen=True)
class _Work:
    """What is left to run after every folder was judged."""

    tasks: list[SourceTask]
    total: int | None  # frames, for the progress bar (None: some source cannot say)
    notes: list[str]


def _work(
    items: list[BatchItem],
    record: Record,
    make_estimator: EstimatorFactory,
    options: ReplayOptions,
    model_info: dict[str, Any],
) -> _Work:
    """A task for every source that must run; the others are recorded as they stand."""
    root = Path(record.path).parent
    note = previous_run(root)
    notes = [note] if note else []
    rows = claimed(root)
    quiet = dataclasses.replace(options, progress=False)
    tasks: list[SourceTask] = []
    totals: list[int | None] = []
    for i, item in enumerate(items):
        if item.error:
            record.set(i, FAILED, item.error)
            continue
        row = rows.get((item.out_dir.name, identity(item.source)))
        verdict = _judge_folder(item, record.key, options.force, row)
        notes += [verdict.note] if verdict.note else []
        if verdict.status != PENDING:
            record.set(i, verdict.status, verdict.error, verdict.frames, files=verdict.files)
            continue
        expected, error = _expected_frames(item, options)
        if error:
            record.set(i, FAILED, error)
            continue
        totals.append(expected)
        task_options = dataclasses.replace(quiet, force=verdict.replace or options.force)
        tasks.append(
            SourceTask(
                i, item.source, str(item.out_dir), make_estimator, task_options, model_info,
                record.key,
            )
        )  # fmt: skip
    total = None if any(t is None for t in totals) else sum(t or 0 for t in totals)
    return _Work(tasks, total, notes)


def run_batch(
    specs: Sequence[str] | str,
    out_root: str | Path,
    make_estimator: EstimatorFactory,
    options: ReplayOptions,
    model_info: dict[str, Any] | None,
    *,
    workers: int = 1,
    executor: str = "process",
    scheduler: str | None = None,
    progress: bool = True,
) -> BatchResult:
    """Replay every source into ``out_root/NAME/``; resumable, and the same with any executor.

    ``make_estimator`` must be picklable for workers > 1 or Dask (``ModelRef``).
    A source that is missing, unreadable or fails is recorded and the others
    run; KeyboardInterrupt (and SIGTERM) stops the batch after recording what finished.
    """
    with sigterm_as_ctrl_c():
        _check_arguments(make_estimator, workers, executor, scheduler)
        items = _plan(specs, out_root)
        key = run_key(options, model_info or {})
        record = Record(items[0].out_dir.parent, key, items, model_info)
        work = _work(items, record, make_estimator, options, model_info or {})
        bar = Progress(work.total, progress, record)

        def finish(result: dict[str, Any]) -> None:
            i = result["index"]
            status, files = result["status"], result.get("files") or {}
            record.set(i, status, result["error"], result["frames"], result["wall_s"], files)
            bar.end(i, status, result["frames"])
            record.write("running")

        try:
            record.write("running")
            _execute(work.tasks, executor, scheduler, workers, bar, finish)
        except BaseException:
            with contextlib.suppress(OutputError):  # the error that stopped us says more
                record.write("interrupted")
            raise
        finally:
            bar.close()
        record.write("finished")
        rows = [dict(row) for row in record.rows]
        return BatchResult(rows, key, tuple(work.notes), tuple(record.errors))


def _execute(
    tasks: list[SourceTask],
    executor: str,
    scheduler: str | None,
    workers: int,
    bar: Progress,
    finish: batch_executors.Finish,
) -> None:
    if not tasks:
        return
    if executor == "dask":
        assert scheduler is not None
        batch_executors.run_dask(tasks, scheduler, workers, bar, finish)
    elif workers > 1 and len(tasks) > 1:
        batch_executors.run_pool(tasks, workers, bar, finish, STOP_GRACE_S)
    else:
        batch_executors.run_serial(tasks, bar, finish)
