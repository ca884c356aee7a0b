"""Write an analysed run into its run folder: landmarks, frames table, events, profile, summary.

summary.json is built here (what a run was, what it found, how long it took)
and written last, so a folder with a summary is a complete run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from posturecam import __version__
from posturecam.core.geometry import METRICS, MetricTable
from posturecam.core.judge import Judgement
from posturecam.frames.engine import LandmarkLog
from posturecam.research import recording
from posturecam.research.analysis import Analysis
from posturecam.research.options import ReplayOptions
from posturecam.research.outputs import write_events, write_frames_csv, write_frames_parquet
from posturecam.research.run_folder import (
    EVENTS,
    FRAMES,
    FRAMES_PARQUET,
    PROFILE,
    RECORDING,
    SUMMARY,
    RunFolder,
    Writer,
)
from posturecam.storage import atomic_open, write_json


def _metric_summary(metrics: MetricTable) -> dict[str, dict[str, float]]:
    out = {}
    for name in METRICS:
        v = metrics[name]
        v = v[~np.isnan(v)]
        if v.size:
            out[name] = {
                "median": round(float(np.median(v)), 6),
                "p10": round(float(np.percentile(v, 10)), 6),
                "p90": round(float(np.percentile(v, 90)), 6),
            }
    return out


def _judgement_summary(verdict: Judgement | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    decided = ~np.isnan(verdict.slouched)
    return {
        "frames_decided": int(decided.sum()),
        "frames_undecided": int((~decided).sum()),
        "share_slouched": round(float(np.mean(verdict.slouched[decided])), 4)
        if decided.any()
        else None,
        "median_score": round(float(np.nanmedian(verdict.score)), 2) if decided.any() else None,
    }


def summarise(
    log: LandmarkLog,
    analysis: Analysis,
    head: dict[str, Any],
    options: ReplayOptions,
    tail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """summary.json's content: ``head`` (the source), the run's counts and findings, ``tail``."""
    metrics, verdict = analysis.scored.metrics, analysis.scored.judgement
    views = [v for v in metrics.view if v]
    skipped = [
        {"frame": int(f), "name": str(nm), "reason": str(r)}
        for f, nm, r, a in zip(log.frame, log.name, log.skip_reason, log.analysed, strict=True)
        if not a
    ]
    n = len(log)
    events = analysis.events
    return {
        "posturecam": __version__,
        **head,
        "frames": n,
        "frames_analysed": int(log.analysed.sum()),
        "frames_detected": int(log.landmarks.detected.sum()),
        "frames_skipped": len(skipped),
        "skipped": skipped,
        "duration_s": round(float(log.t_s[-1] - log.t_s[0]), 3) if n else 0.0,
        "view": views[0] if views else None,
        "view_forced": options.scoring.view is not None,
        "options": options.scoring.record(),
        "baseline": analysis.scored.baseline,
        "warnings": analysis.scored.warnings,
        "metrics": _metric_summary(metrics),
        "judgement": _judgement_summary(verdict),
        "alerts": [e for e in events if e["type"] == "alert"],
        "breaks": [e for e in events if e["type"] == "break"],
        "time_in_state_s": analysis.time_in,
        **(tail or {}),
    }


def write_run(
    folder: RunFolder,
    log: LandmarkLog,
    analysis: Analysis,
    summary: dict[str, Any],
    options: ReplayOptions,
    record: dict[str, Any] | None = None,
    exact_time: bool = True,
) -> None:
    """Write landmarks.npz (when ``record``, its metadata, is given), frames.csv (and
    .parquet), events.jsonl, profile.json and, last, ``summary``, replacing an earlier
    run's files only once all of them are written (see ``RunFolder.swap_in``).

    ``exact_time=False`` writes t_s to 6 digits, as for a version 1 recording.
    """

    def save_recording(path: Path) -> None:
        with atomic_open(path, "wb") as fh:
            recording.dump(fh, log, record or {})

    writers: list[tuple[str, Writer]] = []
    if record is not None:
        writers.append((RECORDING, save_recording))
    writers.append((FRAMES, lambda p: write_frames_csv(p, analysis.columns, exact_time)))
    if options.parquet:
        writers.append((FRAMES_PARQUET, lambda p: write_frames_parquet(p, analysis.columns)))
    writers.append((EVENTS, lambda p: write_events(p, analysis.events)))
    profile = options.scoring.profile
    if profile is not None:
        # The exact baseline used, so a rescore can reproduce this run bit for bit.
        writers.append((PROFILE, lambda p: write_json(p, profile.to_dict())))
    writers.append((SUMMARY, lambda p: write_json(p, summary)))
    folder.swap_in(writers)
