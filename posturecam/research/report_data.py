"""What a report shows, read from one run folder: the frames, summary and events, and
what follows from them (bands, state stretches, what decided). No matplotlib, no HTML."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posturecam.core.adapt import REANCHORED, SETUP_CHANGED
from posturecam.core.geometry import FRONT_METRICS, METRICS, SIDE_METRICS
from posturecam.core.judge import metric_bands
from posturecam.core.rules import Baseline, JudgeSettings, MetricStats
from posturecam.core.temporal import ALERT, AWAY, DRIFTING, SLOUCHING, STATES, UNDECIDED, UPRIGHT
from posturecam.errors import OutputError, Remedy
from posturecam.research.outputs import read_frames
from posturecam.research.run_folder import (
    EVENTS,
    FRAMES,
    SUMMARY,
    RunFolder,
    SummaryError,
    not_a_run_folder,
)

STATE_COLOURS = {
    UPRIGHT: "#43a047",
    DRIFTING: "#fdd835",
    SLOUCHING: "#fb8c00",
    ALERT: "#e53935",
    AWAY: "#757575",
    UNDECIDED: "#cfd8dc",
}
LEVEL_COLOURS = {"cue": "#b71c1c", "stretch": "#6a1b9a", "break": "#1a237e"}
JUDGED_STATES = (UPRIGHT, DRIFTING, SLOUCHING, ALERT)
PLOTS = ("score", "decided", "metrics", "states")  # "decided" only when there is evidence
SETUP_EVENTS = {SETUP_CHANGED: "setup changed", REANCHORED: "baseline re-anchored"}
SETUP_STYLES = {SETUP_CHANGED: ("#00838f", "-."), REANCHORED: ("#5d4037", ":")}
PLACED_BY = {
    "spread": "from how much the person moved while upright during calibration",
    "clear": "a clear slouch: in a sequence smaller ones count when they hold",
    "two-point": "between the person's upright and slouched calibration",
    "feedback": "moved by the person's feedback on alerts",
}


@dataclass(frozen=True, eq=False)
class Run:
    """One replay output folder, read and checked."""

    path: Path
    frames: dict[str, np.ndarray]
    summary: dict[str, Any]
    events: list[dict[str, Any]] | None  # None when events.jsonl is absent


@dataclass(frozen=True)
class Band:
    """Where a metric counts as fine: the baseline centre and the judge's threshold(s).

    ``low``/``high`` are None on a side the judge does not care about.
    """

    metric: str
    centre: float
    low: float | None
    high: float | None


@dataclass(frozen=True, eq=False)
class Decided:
    """What the front view's judgement decided by: evidence, its threshold, the moving zero."""

    t_s: np.ndarray
    evidence: np.ndarray  # against the moving baseline, NaN when undecided
    zero: np.ndarray  # the moving zero (NaN when not recorded)
    undecided: np.ndarray  # bool: a frame with a person (or unusable) but no verdict
    away: np.ndarray  # bool: no person in the frame
    threshold: float | None
    placed_by: str | None
    moving: dict[str, Any] | None
    # The sustained drop's severity (1 = its own line; NaN when not judged or not recorded).
    sustained: np.ndarray | None = None


# --- reading ---------------------------------------------------------------------------------


def _replay_first(run_dir: Path, what: str) -> OutputError:
    return OutputError(
        f"{what}; ",
        Remedy("replay_first", out=run_dir),
        ", then make the report from that folder.",
    )


def _read_summary(folder: RunFolder) -> dict[str, Any]:
    try:
        return folder.read_summary()
    except SummaryError as exc:
        if exc.problem == "invalid":
            raise OutputError(
                f"{exc.path} is not a posturecam summary ({exc.why}); "
                "run the replay again to rewrite it."
            ) from None
        raise OutputError(
            f"cannot read {exc.path} ({exc.why}); run the replay again to rewrite it."
        ) from None


def _read_events(path: Path) -> list[dict[str, Any]] | None:
    if not path.is_file():
        return None
    events = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputError(f"cannot read {path} ({exc}); run the replay again.") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            raise OutputError(f"{path}, line {number} is not a JSON event; run the replay again.")
        events.append(event)
    return events


def load_run(run_dir: Path) -> Run:
    """Read frames.csv, summary.json and (if present) events.jsonl of a replay folder."""
    run_dir = Path(run_dir)
    if run_dir.is_file():
        raise not_a_run_folder(run_dir, "report", also=" (or rescore)")
    if not run_dir.is_dir():
        raise _replay_first(run_dir, f"{run_dir} is not a folder of replay results")
    missing = [name for name in (FRAMES, SUMMARY) if not (run_dir / name).is_file()]
    if missing:
        raise _replay_first(run_dir, f"{run_dir} has no {' or '.join(missing)}")
    summary = _read_summary(RunFolder(run_dir))
    return Run(run_dir, read_frames(run_dir / FRAMES), summary, _read_events(run_dir / EVENTS))


# --- pure helpers ----------------------------------------------------------------------------


def baseline_bands(baseline: dict[str, Any] | None) -> dict[str, Band]:
    """The judge's accepted range for every judged metric of a summary's baseline.

    From ``judge.metric_bands``, the same rules as judgement; the front slouch
    evidence's threshold is the one the summary's ``limits`` recorded (none: no band).
    """
    if not baseline or baseline.get("kind", "none") == "none":
        return {}
    try:
        settings = JudgeSettings.from_dict(baseline.get("settings") or {})
        stats = {
            name: MetricStats(float(s["centre"]), float(s["spread"]), 0)
            for name, s in (baseline.get("metrics") or {}).items()
        }
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise OutputError(
            f"the baseline in summary.json cannot be read ({exc}); run the replay again."
        ) from None
    slouch = (baseline.get("limits") or {}).get("slouch_evidence")
    recorded = float(slouch) if isinstance(slouch, (int, float)) else math.nan
    base = Baseline(view=baseline.get("view"), stats=stats)  # type: ignore[arg-type]
    return {
        metric: Band(metric, centre, low, high)
        for metric, (centre, low, high) in metric_bands(base, settings, recorded).items()
    }


def state_runs(t_s: np.ndarray, states: Sequence[str]) -> list[tuple[str, float, float]]:
    """Contiguous stretches of one state as (state, start, end); "" (no verdict) is left out.

    A stretch ends where the next one starts; the last lasts one typical frame gap.
    """
    t = np.asarray(t_s, dtype=float)
    s = np.asarray(states, dtype=str)
    if t.size == 0:
        return []
    step = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    ends = np.append(t[1:], t[-1] + step)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    stops = np.r_[starts[1:], t.size] - 1
    return [
        (str(s[a]), float(t[a]), float(ends[b])) for a, b in zip(starts, stops, strict=True) if s[a]
    ]


def time_unit(t_s: np.ndarray) -> tuple[float, str]:
    span = float(np.nanmax(t_s) - np.nanmin(t_s)) if t_s.size else 0.0
    return (60.0, "min") if span > 600 else (1.0, "s")


def time_in_state(summary: dict[str, Any]) -> dict[str, float] | None:
    raw = summary.get("time_in_state_s")
    if raw is None:
        return None
    try:
        return {state: float(raw.get(state, 0.0) or 0.0) for state in STATES}
    except (TypeError, ValueError):
        raise OutputError(
            "summary.json has a time_in_state_s that is not numbers; run the replay again."
        ) from None


def share_upright(time_in: dict[str, float] | None) -> float | None:
    """Upright time over judged time (away and undecided left out); None when nothing judged."""
    if not time_in:
        return None
    judged = sum(time_in.get(s, 0.0) for s in JUDGED_STATES)
    return time_in.get(UPRIGHT, 0.0) / judged if judged > 0 else None


def alerts_of(run: Run) -> list[dict[str, Any]]:
    if run.events is not None:
        return [e for e in run.events if e.get("type") == "alert"]
    return [e for e in run.summary.get("alerts") or [] if isinstance(e, dict)]


def alert_time(alert: dict[str, Any]) -> float:
    """The alert's t_s, NaN when it is missing or not a number."""
    try:
        return float(alert.get("t_s", math.nan))
    except (TypeError, ValueError):
        return math.nan


def traced_metrics(run: Run, bands: dict[str, Band]) -> list[str]:
    """Metrics with a baseline when there is one, else the run's view's measured metrics."""
    baseline = run.summary.get("baseline") or {}
    if baseline.get("kind", "none") != "none":
        names = set(baseline.get("metrics") or {}) | set(bands)
        return [m for m in METRICS if m in names and m in run.frames]
    view = run.summary.get("view")
    pool = FRONT_METRICS if view == "front" else SIDE_METRICS if view == "side" else METRICS
    return [m for m in pool if m in run.frames and np.isfinite(run.frames[m]).any()]


def setup_events(run: Run) -> list[dict[str, Any]]:
    """setup_changed / baseline_reanchored events (events.jsonl only; old runs have none)."""
    return [e for e in run.events or [] if e.get("type") in SETUP_EVENTS]


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def decided(run: Run) -> Decided | None:
    """The front view's evidence against its threshold; None for side views and old runs."""
    baseline = run.summary.get("baseline") or {}
    view = baseline.get("view") or run.summary.get("view")
    evidence = np.asarray(run.frames.get("evidence", ()), dtype=float)
    if view == "side" or evidence.size == 0 or not np.isfinite(evidence).any():
        return None
    limits = baseline.get("limits") if isinstance(baseline.get("limits"), dict) else {}
    placed_by = limits.get("placed_by")
    moving = baseline.get("moving")
    detected = np.asarray(run.frames["detected"], dtype=float)
    missing = ~np.isfinite(evidence)
    return Decided(
        t_s=np.asarray(run.frames["t_s"], dtype=float),
        evidence=evidence,
        zero=np.asarray(run.frames.get("evidence_zero", np.full(evidence.size, np.nan)), float),
        undecided=missing & (detected != 0),
        away=missing & (detected == 0),
        threshold=number(limits.get("slouch_evidence")),
        placed_by=str(placed_by) if placed_by else None,
        moving=moving if isinstance(moving, dict) else None,
        sustained=np.asarray(run.frames.get("sustained", np.full(evidence.size, np.nan)), float),
    )


def placed_text(placed_by: str | None) -> str:
    if placed_by is None:
        return "not recorded"
    how = PLACED_BY.get(placed_by)
    return f"{placed_by} ({how})" if how else placed_by
