"""Re-score a replay from its landmark recording: other settings, no model, same engine.

By default a rescore repeats the original run's choices (baseline window or
the exact profile it used, view, timing and judgement settings), so a rescore
with nothing changed reproduces the replay's outputs; changes replace one
scoring option at a time (a new ``baseline`` replaces the whole choice).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from posturecam import profiles
from posturecam.errors import Given, OutputError, Remedy
from posturecam.research import recording
from posturecam.research.analysis import analyse
from posturecam.research.options import ReplayOptions, ScoringOptions
from posturecam.research.results import summarise, write_run
from posturecam.research.run_folder import (
    PROFILE,
    RECORDING,
    RESCORED,
    SUMMARY,
    RunFolder,
    SummaryError,
    not_a_run_folder,
)


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The run's summary.json, or an OutputError saying how to get a complete run."""
    if run_dir.is_file():
        raise not_a_run_folder(run_dir, "rescore")
    if not run_dir.is_dir():
        raise OutputError(
            f"no such run folder: {run_dir}; give a folder written by ", Given("replay_out")
        )
    try:
        return RunFolder(run_dir).read_summary()
    except SummaryError as exc:
        if exc.problem == "missing":
            raise OutputError(
                f"{run_dir} has no {SUMMARY}: the replay did not finish; "
                "run `posturecam replay` again"
            ) from None
        raise OutputError(
            f"cannot read {exc.path}: {exc.why}; run `posturecam replay` again"
        ) from None


def original_options(run_dir: Path, summary: dict[str, Any]) -> ScoringOptions:
    """The options the run was made with, as far as summary.json and profile.json tell."""
    path = Path(run_dir) / PROFILE
    profile = profiles.load(path) if path.exists() else None
    return ScoringOptions.from_record(summary.get("options") or {}, profile)


def rescore(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    options: ScoringOptions | None = None,
    *,
    force: bool = False,
    parquet: bool = False,
    **changes: Any,
) -> dict[str, Any]:
    """Write a re-scored run into ``out_dir`` (default RUN/rescored); returns its summary.

    ``options`` replaces the original scoring options wholesale; ``changes`` replace
    single fields of whichever are used (``baseline=...``, ``temporal=...``).
    """
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    rec_path = run_dir / summary.get("recording", RECORDING)
    started = time.perf_counter()
    log, meta, version = recording.load_versioned(rec_path)
    base = options or original_options(run_dir, summary)
    if changes:
        base = replace(base, **changes)  # a new baseline replaces the whole choice
    opts = ReplayOptions(base, parquet=parquet, force=force, progress=False)
    out = RunFolder(out_dir if out_dir is not None else run_dir / RESCORED)
    if out.path.resolve() == run_dir.resolve():
        raise OutputError(
            "rescore would overwrite the replay it reads; ", Remedy("choose_out_folder")
        )
    source_id = str(summary.get("source_path", meta.get("source_path", "")))
    created = out.prepare(source_id, force)
    try:
        analysis = analyse(log, base)
    except BaseException:
        if created:
            out.undo_create()
        raise
    head = {
        k: summary.get(k, meta.get(k)) for k in ("source", "source_path", "source_kind", "mode")
    }
    head["model"] = summary.get("model", meta.get("model", {}))
    head["rescored_from"] = str(run_dir.resolve())
    head["recording"] = str(rec_path.resolve())
    wall = time.perf_counter() - started
    timing = {"wall_s": round(wall, 3), "frames_per_s": round(len(log) / wall, 1)}
    result = summarise(log, analysis, head, opts, {"timing": timing})
    # A version 1 recording's replay wrote t_s to 6 digits: repeat that exactly.
    exact = version >= recording.EXACT_TIME_SINCE
    write_run(out, log, analysis, result, opts, exact_time=exact)
    return result
