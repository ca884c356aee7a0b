"""The report's plots: matplotlib figures drawn off-screen into PNG bytes.

matplotlib is an optional extra, imported only here and only when a report is
made; no pyplot (no global figure registry, no GUI backend), matplotlib's
default style and fixed sizes, so the same run gives the same PNGs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from posturecam.core.temporal import AWAY, STATES, UNDECIDED
from posturecam.errors import OutputError
from posturecam.research.report_data import (
    LEVEL_COLOURS,
    PLACED_BY,
    SETUP_EVENTS,
    SETUP_STYLES,
    STATE_COLOURS,
    Band,
    Decided,
    Run,
    alert_time,
    alerts_of,
    setup_events,
    state_runs,
    time_unit,
)

DPI = 100
_MATPLOTLIB_MISSING = "reports need matplotlib: pip install 'posturecam[report]'"


def matplotlib_parts() -> Any:
    try:
        import matplotlib
        import matplotlib.style
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise OutputError(_MATPLOTLIB_MISSING) from None
    return matplotlib, Figure, FigureCanvasAgg


def render(draw: Callable[[Any], None], size: tuple[float, float]) -> bytes:
    """Draw on a fresh Agg figure in matplotlib's default style and return PNG bytes.

    No pyplot: no global figure registry, no GUI backend, nothing left open.
    """
    matplotlib, figure_cls, canvas_cls = matplotlib_parts()
    with matplotlib.style.context("default"):
        fig = figure_cls(figsize=size, dpi=DPI, layout="constrained")
        canvas_cls(fig)
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _note(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555")


def draw_score(fig: Any, run: Run) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = run.frames["t_s"]
    score = run.frames["score"]
    scale, unit = time_unit(t)
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
    for alert in alerts_of(run):
        level = str(alert.get("level"))
        level = level if level in LEVEL_COLOURS else "other"  # never data text as mathtext
        colour = LEVEL_COLOURS.get(level, "#b71c1c")
        at = alert_time(alert) / scale
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


def _shade_undecided(ax: Any, d: Decided, scale: float) -> list[Any]:
    """Shade undecided and away stretches; their legend entries."""
    from matplotlib.patches import Patch

    band_y = ax.get_xaxis_transform()
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
    return shading


def _event_lines(ax: Any, run: Run, scale: float) -> list[Any]:
    """A vertical line at every setup change and alert; one legend entry per kind."""
    from matplotlib.lines import Line2D

    shown: dict[str, Any] = {}
    for event in setup_events(run):
        at = alert_time(event) / scale
        if math.isfinite(at):
            colour, style = SETUP_STYLES[event["type"]]
            ax.axvline(at, color=colour, ls=style, lw=1.4)
            shown.setdefault(
                event["type"],
                Line2D([], [], color=colour, ls=style, lw=1.4, label=SETUP_EVENTS[event["type"]]),
            )
    for alert in alerts_of(run):
        level = str(alert.get("level"))
        level = level if level in LEVEL_COLOURS else "other"  # never data text as mathtext
        colour = LEVEL_COLOURS.get(level, "#b71c1c")
        at = alert_time(alert) / scale
        if math.isfinite(at):
            ax.axvline(at, color=colour, ls="--", lw=1.2)
            shown.setdefault(
                f"alert {level}", Line2D([], [], color=colour, ls="--", label=f"alert ({level})")
            )
    return list(shown.values())


def draw_decided(fig: Any, run: Run, d: Decided) -> None:
    from matplotlib.lines import Line2D

    scale, unit = time_unit(d.t_s)
    x = d.t_s / scale
    ax = fig.add_subplot()
    handles: list[Any] = [Line2D([], [], color="#0d47a1", lw=1.2, label="evidence")]
    shading = _shade_undecided(ax, d, scale)
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
    if d.threshold is not None and d.sustained is not None and np.isfinite(d.sustained).any():
        # Drawn so that its own line falls on the threshold: over it is over its line.
        ax.plot(x, d.sustained * d.threshold, color="#ef6c00", lw=1.0, ls="-.", gid="sustained")
        label = "sustained drop (scaled: its line on the threshold)"
        handles.append(Line2D([], [], color="#ef6c00", lw=1.0, ls="-.", label=label))
    ax.plot(x, d.evidence, color="#0d47a1", lw=1.2, gid="evidence")
    finite = np.isfinite(d.evidence)
    alone = finite & ~np.r_[False, finite[:-1]] & ~np.r_[finite[1:], False]
    if alone.any():
        ax.plot(x[alone], d.evidence[alone], ".", color="#0d47a1", ms=4)
    handles += [*shading, *_event_lines(ax, run, scale)]
    if d.t_s.size:
        ax.set_xlim(x[0], max(x[-1], x[0] + 1e-9))
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, -0.05), high)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("slouch evidence\n(1 = a clear slouch)")
    ax.set_title("What decided: slouch evidence against its threshold", loc="left")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)


def draw_metrics(
    fig: Any, run: Run, names: list[str], bands: dict[str, Band], judged: bool
) -> None:
    if not names:
        _note(fig.add_subplot(), "no metric could be measured in this run")
        return
    t = run.frames["t_s"]
    scale, unit = time_unit(t)
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


def draw_states(fig: Any, time_in: dict[str, float] | None) -> None:
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
