"""A self-contained HTML report (with PNG plots beside it) from one replay output folder.

Researchers publish plots and share single files, so the HTML embeds its images
as data: URIs and loads nothing from anywhere. Output is deterministic (fixed
figure sizes, matplotlib's default style, no timestamps), so a report can be
checked into a paper's repository and diffed. matplotlib is an optional extra
and is imported only here, only when a report is made, and never opens a window.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from posturecam import __version__
from posturecam.core.adapt import REANCHORED, SETUP_CHANGED
from posturecam.core.geometry import FRONT_METRICS, METRICS, SIDE_METRICS
from posturecam.core.judge import DEFAULT_RULES, EVIDENCE, FRONT_SLOUCH, JudgeSettings
from posturecam.core.temporal import ALERT, AWAY, DRIFTING, SLOUCHING, STATES, UNDECIDED, UPRIGHT
from posturecam.errors import OutputError, PosturecamError
from posturecam.research.outputs import read_frames
from posturecam.research.run_folder import EVENTS, FRAMES, SUMMARY
from posturecam.storage import atomic_open, write_text

DPI = 100
_MATPLOTLIB_MISSING = "reports need matplotlib: pip install 'posturecam[report]'"
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
    "two-point": "between the person's upright and slouched calibration",
    "feedback": "moved by the person's feedback on alerts",
}


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pngs: tuple[Path, ...]


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


# --- reading ---------------------------------------------------------------------------------


def _replay_first(run_dir: Path, what: str) -> OutputError:
    return OutputError(
        f"{what}; run `posturecam replay SOURCE --out {run_dir}` first, "
        "then make the report from that folder."
    )


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OutputError(
            f"cannot read {path} ({exc}); run the replay again to rewrite it."
        ) from None
    problems = []
    if not isinstance(data, dict):
        problems.append("it is not a JSON object")
    else:
        expect = {"baseline": dict, "alerts": list, "warnings": list, "time_in_state_s": dict}
        for key, kind in expect.items():
            if data.get(key) is not None and not isinstance(data[key], kind):
                problems.append(f'"{key}" is not a {kind.__name__}')
    if problems:
        raise OutputError(
            f"{path} is not a posturecam summary ({'; '.join(problems)}); "
            "run the replay again to rewrite it."
        )
    return data


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
        hint = ""
        if run_dir.name in (FRAMES, SUMMARY, EVENTS, "landmarks.npz"):
            hint = f" (that file's folder is {run_dir.parent})"
        raise OutputError(
            f"{run_dir} is a file, not a run folder; report expects the folder written by "
            f"`posturecam replay SOURCE --out DIR` (or rescore), so pass that folder{hint}."
        )
    if not run_dir.is_dir():
        raise _replay_first(run_dir, f"{run_dir} is not a folder of replay results")
    missing = [name for name in (FRAMES, SUMMARY) if not (run_dir / name).is_file()]
    if missing:
        raise _replay_first(run_dir, f"{run_dir} has no {' or '.join(missing)}")
    summary = _read_summary(run_dir / SUMMARY)
    return Run(run_dir, read_frames(run_dir / FRAMES), summary, _read_events(run_dir / EVENTS))


# --- pure helpers ----------------------------------------------------------------------------


def baseline_bands(baseline: dict[str, Any] | None) -> dict[str, Band]:
    """The judge's accepted range for every judged metric of a summary's baseline.

    Mirrors ``judge.judge``: a rule counts when its view is the baseline's and its
    metric has a finite centre; relative rules scale the threshold by |centre|.
    The front slouch evidence's threshold comes from the summary's ``limits``.
    """
    if not baseline or baseline.get("kind", "none") == "none":
        return {}
    try:
        settings = JudgeSettings.from_dict(baseline.get("settings") or {})
        stats = {
            name: (float(s["centre"]), float(s["spread"]))
            for name, s in (baseline.get("metrics") or {}).items()
        }
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise OutputError(
            f"the baseline in summary.json cannot be read ({exc}); run the replay again."
        ) from None
    bands: dict[str, Band] = {}
    slouch = (baseline.get("limits") or {}).get("slouch_evidence")
    # The combined evidence has a band per metric when each metric must cross its
    # own ("min", or a single metric); a weighted mean of several has none.
    used = [m for m, w in settings.weights.items() if w > 0 and m in stats]
    banded = isinstance(slouch, (int, float)) and (len(used) == 1 or settings.combine == "min")
    rules = [(i, r) for i, r in DEFAULT_RULES.items() if i != FRONT_SLOUCH]
    for metric in used if banded else []:
        ev = EVIDENCE[metric]
        rule = replace(
            DEFAULT_RULES[FRONT_SLOUCH], metric=metric, direction=ev.direction, relative=ev.relative
        )
        rules.append((FRONT_SLOUCH, rule))
    for issue, rule in rules:
        metric = rule.metric
        if rule.view != baseline.get("view") or metric not in stats:
            continue
        centre, spread = stats[metric]
        if not math.isfinite(centre) or (rule.relative and centre == 0):
            continue
        if issue == FRONT_SLOUCH:
            threshold = float(slouch) * EVIDENCE[metric].unit
        else:
            threshold = settings.threshold(issue, spread, centre)
        step = threshold * abs(centre) if rule.relative else threshold
        low = centre - step if rule.direction <= 0 else None
        high = centre + step if rule.direction >= 0 else None
        old = bands.get(rule.metric)
        if old is not None:  # two rules on one metric: the nearer limit triggers first
            low = max((v for v in (low, old.low) if v is not None), default=None)
            high = min((v for v in (high, old.high) if v is not None), default=None)
        bands[rule.metric] = Band(rule.metric, centre, low, high)
    return bands


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


def clock(t_s: float) -> str:
    """mm:ss (h:mm:ss from an hour on), truncated like a stopwatch, for alert times."""
    total = math.floor(abs(float(t_s)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    sign = "-" if t_s < 0 else ""
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m:02d}:{s:02d}"


def duration_text(seconds: float) -> str:
    """Human duration: "42.5 s", "2 min 05 s", "1 h 02 min"."""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    total = round(seconds)
    if total < 3600:
        return f"{total // 60} min {total % 60:02d} s"
    return f"{total // 3600} h {total % 3600 // 60:02d} min"


def _time_unit(t_s: np.ndarray) -> tuple[float, str]:
    span = float(np.nanmax(t_s) - np.nanmin(t_s)) if t_s.size else 0.0
    return (60.0, "min") if span > 600 else (1.0, "s")


def _time_in_state(summary: dict[str, Any]) -> dict[str, float] | None:
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


def _alerts(run: Run) -> list[dict[str, Any]]:
    if run.events is not None:
        return [e for e in run.events if e.get("type") == "alert"]
    return [e for e in run.summary.get("alerts") or [] if isinstance(e, dict)]


def _alert_time(alert: dict[str, Any]) -> float:
    """The alert's t_s, NaN when it is missing or not a number."""
    try:
        return float(alert.get("t_s", math.nan))
    except (TypeError, ValueError):
        return math.nan


def _traced_metrics(run: Run, bands: dict[str, Band]) -> list[str]:
    """Metrics with a baseline when there is one, else the run's view's measured metrics."""
    baseline = run.summary.get("baseline") or {}
    if baseline.get("kind", "none") != "none":
        names = set(baseline.get("metrics") or {}) | set(bands)
        return [m for m in METRICS if m in names and m in run.frames]
    view = run.summary.get("view")
    pool = FRONT_METRICS if view == "front" else SIDE_METRICS if view == "side" else METRICS
    return [m for m in pool if m in run.frames and np.isfinite(run.frames[m]).any()]


def _setup_events(run: Run) -> list[dict[str, Any]]:
    """setup_changed / baseline_reanchored events (events.jsonl only; old runs have none)."""
    return [e for e in run.events or [] if e.get("type") in SETUP_EVENTS]


def _number(value: Any) -> float | None:
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
        threshold=_number(limits.get("slouch_evidence")),
        placed_by=str(placed_by) if placed_by else None,
        moving=moving if isinstance(moving, dict) else None,
    )


def _placed_text(placed_by: str | None) -> str:
    if placed_by is None:
        return "not recorded"
    how = PLACED_BY.get(placed_by)
    return f"{placed_by} ({how})" if how else placed_by


# --- plots -----------------------------------------------------------------------------------


def _matplotlib() -> Any:
    try:
        import matplotlib
        import matplotlib.style
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise OutputError(_MATPLOTLIB_MISSING) from None
    return matplotlib, Figure, FigureCanvasAgg


def _render(draw: Callable[[Any], None], size: tuple[float, float]) -> bytes:
    """Draw on a fresh Agg figure in matplotlib's default style and return PNG bytes.

    No pyplot: no global figure registry, no GUI backend, nothing left open.
    """
    matplotlib, figure_cls, canvas_cls = _matplotlib()
    with matplotlib.style.context("default"):
        fig = figure_cls(figsize=size, dpi=DPI, layout="constrained")
        canvas_cls(fig)
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _note(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555")


def _draw_score(fig: Any, run: Run) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = run.frames["t_s"]
    score = run.frames["score"]
    scale, unit = _time_unit(t)
    x = t / scale
    ax = fig.add_subplot()
    band_y = ax.get_xaxis_transform()
    runs = state_runs(t, run.frames["state"])
    present = [s for s in STATES if any(r[0] == s for r in runs)]
    for state in present:
        spans = [(a / scale, (b - a) / scale) for s, a, b in runs if s == state]
        ax.broken_barh(spans, (0, 1), transform=band_y, color=STATE_COLOURS[state], alpha=0.3, lw=0)
    # NaN (undecided) breaks the line: unknown is never drawn as a score of 0.
    ax.plot(x, score, color="#0d47a1", lw=1.3)
    finite = np.isfinite(score)
    alone = finite & ~np.r_[False, finite[:-1]] & ~np.r_[finite[1:], False]
    if alone.any():
        ax.plot(x[alone], score[alone], ".", color="#0d47a1", ms=4)
    levels = []
    span = float(x[-1] - x[0]) if x.size else 0.0
    labelled_at = -math.inf
    for alert in _alerts(run):
        level = str(alert.get("level"))
        level = level if level in LEVEL_COLOURS else "other"  # never data text as mathtext
        colour = LEVEL_COLOURS.get(level, "#b71c1c")
        at = _alert_time(alert) / scale
        if not math.isfinite(at):
            continue
        ax.axvline(at, color=colour, ls="--", lw=1.4)
        if at - labelled_at >= 0.04 * span:  # crowded labels would print over each other
            ax.text(at, 1.01, level, transform=band_y, ha="center", va="bottom", fontsize=8)
            labelled_at = at
        levels.append(level)
    if not finite.any():
        _note(ax, "no score: this run was not judged against a baseline")
    ax.set_ylim(-3, 103)
    if t.size:
        ax.set_xlim(x[0], max(x[-1], x[0] + 1e-9))
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("score (100 = as calibrated)")
    ax.set_title("Score over time", loc="left", pad=14)
    handles = [Patch(color=STATE_COLOURS[s], alpha=0.3, label=s) for s in present]
    handles += [
        Line2D([], [], color=LEVEL_COLOURS.get(lv, "#b71c1c"), ls="--", label=f"alert ({lv})")
        for lv in dict.fromkeys(levels)
    ]
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)


def _draw_decided(fig: Any, run: Run, d: Decided) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    scale, unit = _time_unit(d.t_s)
    x = d.t_s / scale
    ax = fig.add_subplot()
    band_y = ax.get_xaxis_transform()
    handles: list[Any] = [Line2D([], [], color="#0d47a1", lw=1.2, label="evidence")]
    shading = []
    labels = np.where(d.undecided, UNDECIDED, np.where(d.away, AWAY, ""))
    runs = state_runs(d.t_s, labels)
    for state, alpha in ((UNDECIDED, 0.55), (AWAY, 0.25)):
        spans = [(a / scale, (b - a) / scale) for s, a, b in runs if s == state]
        if spans:
            ax.broken_barh(
                spans, (0, 1), transform=band_y, color=STATE_COLOURS[state], alpha=alpha, lw=0
            )
            shading.append(Patch(color=STATE_COLOURS[state], alpha=alpha, label=state))
    ax.axhline(0.0, color="#9e9e9e", lw=0.8)
    if d.threshold is not None:
        # Only known words from the run go into the figure: data text is never mathtext.
        how = d.placed_by if d.placed_by in (*PLACED_BY, "side") else d.placed_by and "other"
        placed = f", placed by {how}" if how else ""
        label = f"threshold {d.threshold:.3g}{placed}"
        ax.axhline(d.threshold, color="#d84315", lw=1.4, gid="threshold")
        handles.append(Line2D([], [], color="#d84315", lw=1.4, label=label))
    if np.isfinite(d.zero).any():
        ax.plot(x, d.zero, color="#2e7d32", lw=1.2, gid="zero")
        handles.append(Line2D([], [], color="#2e7d32", lw=1.2, label="moving zero"))
    ax.plot(x, d.evidence, color="#0d47a1", lw=1.2, gid="evidence")
    finite = np.isfinite(d.evidence)
    alone = finite & ~np.r_[False, finite[:-1]] & ~np.r_[finite[1:], False]
    if alone.any():
        ax.plot(x[alone], d.evidence[alone], ".", color="#0d47a1", ms=4)
    shown: dict[str, Any] = {}
    for event in _setup_events(run):
        at = _alert_time(event) / scale
        if math.isfinite(at):
            colour, style = SETUP_STYLES[event["type"]]
            ax.axvline(at, color=colour, ls=style, lw=1.4)
            shown.setdefault(
                event["type"],
                Line2D([], [], color=colour, ls=style, lw=1.4, label=SETUP_EVENTS[event["type"]]),
            )
    for alert in _alerts(run):
        level = str(alert.get("level"))
        level = level if level in LEVEL_COLOURS else "other"  # never data text as mathtext
        colour = LEVEL_COLOURS.get(level, "#b71c1c")
        at = _alert_time(alert) / scale
        if math.isfinite(at):
            ax.axvline(at, color=colour, ls="--", lw=1.2)
            shown.setdefault(
                f"alert {level}", Line2D([], [], color=colour, ls="--", label=f"alert ({level})")
            )
    handles += [*shading, *shown.values()]
    if d.t_s.size:
        ax.set_xlim(x[0], max(x[-1], x[0] + 1e-9))
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, -0.05), high)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("slouch evidence\n(1 = a clear slouch)")
    ax.set_title("What decided: slouch evidence against its threshold", loc="left")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)


def _draw_metrics(
    fig: Any, run: Run, names: list[str], bands: dict[str, Band], judged: bool
) -> None:
    if not names:
        _note(fig.add_subplot(), "no metric could be measured in this run")
        return
    t = run.frames["t_s"]
    scale, unit = _time_unit(t)
    x = t / scale
    cols = 1 if len(names) == 1 else 2 if len(names) <= 4 else 3
    axes = fig.subplots(math.ceil(len(names) / cols), cols, squeeze=False, sharex=True)
    for ax, name in zip(axes.flat, names, strict=False):
        band = bands.get(name)
        if band is not None:
            low = band.low if band.low is not None else band.centre
            high = band.high if band.high is not None else band.centre
            ax.axhspan(low, high, color="#43a047", alpha=0.18, lw=0)
            ax.axhline(band.centre, color="#2e7d32", lw=1.0)
            for limit in (band.low, band.high):
                if limit is not None:
                    ax.axhline(limit, color="#c62828", lw=0.9, ls=":")
        values = run.frames[name]
        ax.plot(x, values, color="#0d47a1", lw=1.0)
        if not np.isfinite(values).any():
            _note(ax, "not measured")
        ax.set_title(name, fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
    for ax in axes[-1]:
        ax.set_xlabel(f"time ({unit})", fontsize=8)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    title = (
        "Metrics against the baseline (green: within the threshold; dotted: threshold)"
        if judged
        else "Metrics (no baseline in this run: traces without bands)"
    )
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")


def _draw_states(fig: Any, time_in: dict[str, float] | None) -> None:
    ax = fig.add_subplot()
    if time_in is None:
        _note(ax, "no states: this run was not judged against a baseline")
        ax.set_axis_off()
        return
    total = sum(time_in.values())
    scale, unit = (60.0, "min") if max(time_in.values(), default=0) > 600 else (1.0, "s")
    order = list(reversed(STATES))
    values = [time_in[s] / scale for s in order]
    ax.barh(order, values, color=[STATE_COLOURS[s] for s in order], edgecolor="#444", lw=0.5)
    for y, (state, value) in enumerate(zip(order, values, strict=True)):
        share = time_in[state] / total if total > 0 else 0.0
        ax.text(value, y, f" {value:.1f} {unit} ({share:.0%})", va="center", fontsize=8)
    ax.set_xlim(0, max(max(values, default=0) * 1.25, 1e-9))
    ax.set_xlabel(f"time ({unit})")
    ax.set_title("Time per state", loc="left")


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:64rem;padding:0 1rem;color:#212121;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.25rem .6rem;
text-align:left;vertical-align:top}th{background:#f5f5f5}td.num{text-align:right}
img{max-width:100%;height:auto;border:1px solid #eee}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.4rem;vertical-align:middle}
.muted{color:#666}footer{margin-top:2rem;font-size:.85rem;color:#666}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _rows(rows: Sequence[Sequence[str]]) -> str:
    return "\n".join("<tr>" + "".join(rows_) + "</tr>" for rows_ in rows)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<p><img src="data:image/png;base64,{data}" alt="{_e(alt)}"></p>'


def _baseline_text(baseline: dict[str, Any]) -> str:
    kind = str(baseline.get("kind", "none"))
    detail = baseline.get("window") or baseline.get("profile") or baseline.get("error")
    return f"{kind} ({detail})" if detail else kind


def _stretch_names(ids: Sequence[Any]) -> list[str]:
    try:
        from posturecam.core.stretches import load_catalog

        catalog = load_catalog()
    except PosturecamError:
        return [str(i) for i in ids]
    names = []
    for stretch_id in ids:
        try:
            names.append(catalog.by_id(str(stretch_id)).name)
        except KeyError:
            names.append(str(stretch_id))
    return names


def _header(run: Run) -> str:
    s = run.summary
    baseline = s.get("baseline") or {}
    model = s.get("model") if isinstance(s.get("model"), dict) else {}
    frames = (
        f"{s.get('frames', len(run.frames['t_s']))} "
        f"({s.get('frames_analysed', '?')} analysed, {s.get('frames_detected', '?')} with a "
        f"person, {s.get('frames_skipped', 0)} skipped)"
    )
    duration = s.get("duration_s")
    items = [
        ("Source", f"{s.get('source', '?')} ({s.get('source_kind', '?')})"),
        ("Duration", duration_text(duration) if isinstance(duration, (int, float)) else "?"),
        ("Frames", frames),
        ("View", f"{s.get('view') or 'none'}" + (" (forced)" if s.get("view_forced") else "")),
        ("Baseline", _baseline_text(baseline)),
        ("Model", model.get("variant", "?")),
    ]
    judgement = s.get("judgement")
    if isinstance(judgement, dict) and judgement.get("median_score") is not None:
        items.append(("Median score", f"{judgement['median_score']}"))
    return _rows([[f"<th>{_e(k)}</th>", f"<td>{_e(v)}</td>"] for k, v in items])


def _states_section(time_in: dict[str, float] | None) -> str:
    if time_in is None:
        return '<p class="muted">No states: this run was not judged against a baseline.</p>'
    total = sum(time_in.values())
    rows = []
    for state in STATES:
        seconds = time_in[state]
        share = f"{seconds / total:.1%}" if total > 0 else "-"
        swatch = f'<span class="swatch" style="background:{STATE_COLOURS[state]}"></span>'
        rows.append(
            [
                f"<td>{swatch}{_e(state)}</td>",
                f'<td class="num">{_e(duration_text(seconds))}</td>',
                f'<td class="num">{_e(share)}</td>',
            ]
        )
    upright = share_upright(time_in)
    upright_text = (
        f"{upright:.1%} of the judged time (upright, drifting, slouching, alert)"
        if upright is not None
        else "no judged time"
    )
    return (
        "<table><tr><th>State</th><th>Time</th><th>Share of the run</th></tr>\n"
        + _rows(rows)
        + f"\n</table>\n<p>Share upright: <strong>{_e(upright_text)}</strong></p>"
    )


def _decided_text(d: Decided) -> str:
    """Under the "What decided" plot: the threshold, what placed it, how far the zero moved."""
    parts = []
    if d.threshold is None:
        parts.append("Threshold: not recorded in this run.")
    else:
        parts.append(
            f"Threshold: <strong>{d.threshold:.3g}</strong> (slouch evidence, 1 = a clear "
            f"slouch), placed by <strong>{_e(_placed_text(d.placed_by))}</strong>."
        )
    moving = d.moving or {}
    max_offset = _number(moving.get("max_offset"))
    if max_offset is None:
        parts.append("The baseline did not follow drift in this run (no moving baseline).")
    else:
        share = (
            f" ({max_offset / d.threshold:.0%} of the threshold)"
            if d.threshold is not None and d.threshold > 0
            else ""
        )
        if max_offset > 0:
            parts.append(f"The baseline followed slow drift by at most {max_offset:.3g}{share}.")
        else:
            parts.append(f"The baseline did not follow any drift{share}.")
        final = _number(moving.get("final_offset"))
        if final:
            parts.append(f"At the end its zero stood at {final:.3g}.")
    changes = moving.get("setup_changes")
    if isinstance(changes, int) and not isinstance(changes, bool):
        parts.append(f"Setup changes: <strong>{changes}</strong>.")
    undecided = sum(b - a for s, a, b in state_runs(d.t_s, np.where(d.undecided, UNDECIDED, "")))
    if undecided > 0:
        parts.append(f"Undecided (shaded): {_e(duration_text(undecided))}.")
    return "<p>" + " ".join(parts) + "</p>"


def _event_time(event: dict[str, Any]) -> float:
    t_s = _alert_time(event)
    return t_s if math.isfinite(t_s) else math.inf


def _alerts_section(alerts: list[dict[str, Any]], setup: Sequence[dict[str, Any]] = ()) -> str:
    if not alerts and not setup:
        return '<p class="muted">No alerts in this run.</p>'
    rows = []
    events = sorted([*alerts, *setup], key=_event_time) if setup else alerts
    for alert in events:
        if alert.get("type") in SETUP_EVENTS:
            t_s = _alert_time(alert)
            rows.append(
                [
                    f"<td>{_e(clock(t_s) if math.isfinite(t_s) else '?')}</td>",
                    f"<td>{_e(SETUP_EVENTS[alert['type']])}</td>",
                    f"<td>{_e(alert.get('message') or '-')}</td>",
                    "<td>-</td>",
                ]
            )
            continue
        issues = alert.get("issues") or []
        issues = [issues] if isinstance(issues, str) else issues
        stretches = alert.get("stretches") or []
        t_s = _alert_time(alert)
        at = clock(t_s) if math.isfinite(t_s) else "?"
        rows.append(
            [
                f"<td>{_e(at)}</td>",
                f"<td>{_e(alert.get('level', '?'))}</td>",
                f"<td>{_e(', '.join(map(str, issues)) or '-')}</td>",
                f"<td>{_e(', '.join(_stretch_names(stretches)) or '-')}</td>",
            ]
        )
    head = "Level / event" if setup else "Level"
    what = "Issues / what happened" if setup else "Issues"
    none = '\n<p class="muted">No alerts in this run.</p>' if not alerts else ""
    return (
        f"<table><tr><th>Time</th><th>{head}</th><th>{what}</th><th>Suggested stretches</th>"
        "</tr>\n" + _rows(rows) + "\n</table>" + none
    )


def render_html(run: Run, pngs: dict[str, bytes], notes: Sequence[str] = ()) -> str:
    """The report page; every string from the run is escaped."""
    s = run.summary
    warnings = [str(w) for w in s.get("warnings") or []] + list(notes)
    warning_html = (
        "<ul>" + "".join(f"<li>{_e(w)}</li>" for w in warnings) + "</ul>"
        if warnings
        else '<p class="muted">None.</p>'
    )
    time_in = _time_in_state(s)
    title = f"Posture report: {s.get('source', run.path.name)}"
    made_by = f"Report made by posturecam {__version__}"
    if s.get("posturecam"):
        made_by += f" from a run of posturecam {s['posturecam']}"
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    found = decided(run) if "decided" in pngs else None
    decided_html = (
        '<section id="decided">\n<h2>What decided</h2>\n'
        + _img(pngs["decided"], "slouch evidence over time against its threshold")
        + "\n"
        + _decided_text(found)
        + "\n</section>\n"
        if found is not None
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_e(title)}</h1>
<table>
{_header(run)}
</table>
</header>
<section id="score">
<h2>Score over time</h2>
{_img(pngs["score"], "score over time with state bands and alerts")}
</section>
{decided_html}<section id="metrics">
<h2>Metrics against the baseline</h2>
{_img(pngs["metrics"], "metric traces against the baseline band")}
</section>
<section id="states">
<h2>Time per state</h2>
{_img(pngs["states"], "time per state")}
{_states_section(time_in)}
</section>
<section id="alerts">
<h2>Alerts</h2>
{_alerts_section(_alerts(run), _setup_events(run))}
</section>
<section id="warnings">
<h2>Warnings</h2>
{warning_html}
</section>
<footer>{_e(made_by)}</footer>
</body>
</html>
"""


# --- entry point -----------------------------------------------------------------------------


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def make_report(run_dir: Path, html_path: Path | None = None) -> ReportFiles:
    """Write report.html (default: in ``run_dir``) and its PNGs beside it; return their paths."""
    _matplotlib()  # fail before reading or writing anything when the extra is missing
    run = load_run(Path(run_dir))
    html_path = Path(html_path) if html_path is not None else run.path / "report.html"
    baseline = run.summary.get("baseline") or {}
    judged = baseline.get("kind", "none") != "none"
    bands = baseline_bands(baseline)
    names = _traced_metrics(run, bands)
    rows = math.ceil(len(names) / (1 if len(names) == 1 else 2 if len(names) <= 4 else 3))
    found = decided(run)
    pngs = {
        "score": _render(lambda fig: _draw_score(fig, run), (10.0, 3.6)),
        **(
            {"decided": _render(lambda fig: _draw_decided(fig, run, found), (10.0, 3.6))}
            if found is not None
            else {}
        ),
        "metrics": _render(
            lambda fig: _draw_metrics(fig, run, names, bands, judged),
            (10.0, 0.6 + 2.0 * max(rows, 1)),
        ),
        "states": _render(lambda fig: _draw_states(fig, _time_in_state(run.summary)), (8.0, 2.8)),
    }
    notes = []
    if not judged:
        notes.append("No baseline in this run: metric traces are shown without threshold bands.")
    if run.events is None:
        notes.append(f"No {EVENTS} in {run.path}: alerts are taken from {SUMMARY}.")
    made = [name for name in PLOTS if name in pngs]
    paths = tuple(html_path.with_name(f"{html_path.stem}_{name}.png") for name in made)
    try:
        for path, name in zip(paths, made, strict=True):
            _write_bytes(path, pngs[name])
        write_text(html_path, render_html(run, pngs, notes))
    except OSError as exc:
        raise OutputError(
            f"cannot write the report to {html_path.parent} ({exc.strerror or exc}); "
            "choose another --html path."
        ) from None
    return ReportFiles(html=html_path, pngs=paths)
