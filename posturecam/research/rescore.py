"""Re-score a replay from its landmark recording: other settings, no model, same engine.

By default a rescore repeats the original run's choices (baseline window or
the exact profile it used, view, timing and judgement settings), so a rescore
with nothing changed reproduces the replay's outputs; flags change one thing
at a time.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from posturecam import profiles
from posturecam.core.adapt import AdaptSettings
from posturecam.core.judge import JudgeSettings
from posturecam.core.temporal import TemporalSettings
from posturecam.errors import OutputError
from posturecam.research import recording
from posturecam.research.outputs import SUMMARY
from posturecam.research.replay import (
    PROFILE,
    ReplayOptions,
    analyse,
    check_out_dir,
    remove_if_empty,
    write_run,
)

DEFAULT_OUT = "rescored"


def _a_file(run_dir: Path, command: str) -> str:
    """Says that ``run_dir`` is a file, and which folder was probably meant."""
    hint = ""
    if run_dir.name in (SUMMARY, "frames.csv", "events.jsonl", recording.FILENAME):
        hint = f" (that file's folder is {run_dir.parent})"
    return (
        f"{run_dir} is a file, not a run folder; {command} expects the folder written by "
        f"`posturecam replay SOURCE --out DIR`, so pass that folder{hint}."
    )


def read_summary(run_dir: Path) -> dict[str, Any]:
    path = run_dir / SUMMARY
    if run_dir.is_file():
        raise OutputError(_a_file(run_dir, "rescore"))
    if not run_dir.is_dir():
        raise OutputError(f"no such run folder: {run_dir}; give a folder written by `replay --out`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(
            f"{run_dir} has no {SUMMARY}: the replay did not finish; run `posturecam replay` again"
        ) from None
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot read {path}: {exc}; run `posturecam replay` again") from exc


def original_options(run_dir: Path, summary: dict[str, Any]) -> ReplayOptions:
    """The options the run was made with, as far as summary.json and profile.json tell."""
    o = summary.get("options") or {}
    profile = None
    if (run_dir / PROFILE).exists():
        profile = profiles.load(run_dir / PROFILE)
    return ReplayOptions(
        view=o.get("view"),
        stills=bool(o.get("stills", False)),
        fps=o.get("fps"),
        profile=profile,
        profile_ref=o.get("profile") or "",
        baseline_seconds=o.get("baseline_seconds"),
        baseline_frames=o.get("baseline_frames"),
        no_baseline=bool(o.get("no_baseline", False)),
        temporal=TemporalSettings.from_dict(o["temporal"])
        if o.get("temporal")
        else TemporalSettings(),
        judge=JudgeSettings.from_dict(o["judge"]) if o.get("judge") else None,
        adapt=AdaptSettings.from_dict(o["adapt"]) if o.get("adapt") else AdaptSettings(),
        progress=False,
    )


def rescore(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    options: ReplayOptions | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """Write a re-scored run into ``out_dir`` (default RUN/rescored); returns its summary.

    ``options`` replaces the original options wholesale; ``changes`` replace single
    fields of whichever options are used (e.g. ``profile=...``, ``temporal=...``).
    """
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    rec_path = run_dir / summary.get("recording", recording.FILENAME)
    started = time.perf_counter()
    log, meta, version = recording.load_versioned(rec_path)
    base = options or original_options(run_dir, summary)
    if "profile" in changes or any(
        k in changes for k in ("baseline_seconds", "baseline_frames", "no_baseline")
    ):
        # A new baseline choice replaces the old one entirely.
        base = replace(
            base,
            profile=None,
            profile_ref="",
            baseline_seconds=None,
            baseline_frames=None,
            no_baseline=False,
        )
    opts = replace(base, **changes)
    out = Path(out_dir) if out_dir is not None else run_dir / DEFAULT_OUT
    if out.resolve() == run_dir.resolve():
        raise OutputError(
            "rescore would overwrite the replay it reads; choose another --out folder"
        )
    source_id = str(summary.get("source_path", meta.get("source_path", "")))
    created = check_out_dir(out, source_id, opts.force)
    try:
        analysis = analyse(log, opts)
    except BaseException:
        if created:
            remove_if_empty(out)
        raise
    head = {
        k: summary.get(k, meta.get(k)) for k in ("source", "source_path", "source_kind", "mode")
    }
    head["model"] = summary.get("model", meta.get("model", {}))
    head["rescored_from"] = str(run_dir.resolve())
    head["recording"] = str(rec_path.resolve())
    wall = time.perf_counter() - started
    return write_run(
        out,
        log,
        analysis,
        head,
        opts,
        tail={"timing": {"wall_s": round(wall, 3), "frames_per_s": round(len(log) / wall, 1)}},
        # A version 1 recording's replay wrote t_s to 6 digits: repeat that exactly.
        exact_time=version >= recording.EXACT_TIME_SINCE,
    )
