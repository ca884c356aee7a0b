"""The report's HTML page: one self-contained file, its plots embedded as data: URIs.

Every string from the run is escaped; the page loads nothing from anywhere (a
Content-Security-Policy says so) and holds no timestamps, so it diffs cleanly.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from posturecam import __version__
from posturecam.core.temporal import STATES, UNDECIDED
from posturecam.errors import PosturecamError
from posturecam.research.report_data import (
    SETUP_EVENTS,
    STATE_COLOURS,
    Decided,
    Run,
    alert_time,
    alerts_of,
    decided,
    number,
    placed_text,
    setup_events,
    share_upright,
    state_runs,
    time_in_state,
)
from posturecam.text import format_clock, format_duration_long

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
        ("Duration", format_duration_long(duration) if isinstance(duration, (int, float)) else "?"),
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
                f'<td class="num">{_e(format_duration_long(seconds))}</td>',
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
            f"slouch), placed by <strong>{_e(placed_text(d.placed_by))}</strong>."
        )
    moving = d.moving or {}
    max_offset = number(moving.get("max_offset"))
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
        final = number(moving.get("final_offset"))
        if final:
            parts.append(f"At the end its zero stood at {final:.3g}.")
    sustained = d.sustained if d.sustained is not None else np.array([])
    if np.isfinite(sustained).any():
        over = np.nan_to_num(sustained, nan=0.0) >= 1.0
        step = np.diff(d.t_s, append=d.t_s[-1]) if d.t_s.size else d.t_s
        over_s = float(step[over].sum())
        held = f" It was over its line for {_e(format_duration_long(over_s))}." if over_s else ""
        parts.append(
            "The sustained drop (the ears' drop held for half a minute, against the two "
            "minutes before: how small slouches are caught) is drawn dash-dotted, scaled so "
            f"that its own line falls on the threshold.{held}"
        )
    changes = moving.get("setup_changes")
    if isinstance(changes, int) and not isinstance(changes, bool):
        parts.append(f"Setup changes: <strong>{changes}</strong>.")
    undecided = sum(b - a for s, a, b in state_runs(d.t_s, np.where(d.undecided, UNDECIDED, "")))
    if undecided > 0:
        parts.append(f"Undecided (shaded): {_e(format_duration_long(undecided))}.")
    return "<p>" + " ".join(parts) + "</p>"


def _event_time(event: dict[str, Any]) -> float:
    t_s = alert_time(event)
    return t_s if math.isfinite(t_s) else math.inf


def _alerts_section(alerts: list[dict[str, Any]], setup: Sequence[dict[str, Any]] = ()) -> str:
    if not alerts and not setup:
        return '<p class="muted">No alerts in this run.</p>'
    rows = []
    events = sorted([*alerts, *setup], key=_event_time) if setup else alerts
    for alert in events:
        if alert.get("type") in SETUP_EVENTS:
            t_s = alert_time(alert)
            rows.append(
                [
                    f"<td>{_e(format_clock(t_s) if math.isfinite(t_s) else '?')}</td>",
                    f"<td>{_e(SETUP_EVENTS[alert['type']])}</td>",
                    f"<td>{_e(alert.get('message') or '-')}</td>",
                    "<td>-</td>",
                ]
            )
            continue
        issues = alert.get("issues") or []
        issues = [issues] if isinstance(issues, str) else issues
        stretches = alert.get("stretches") or []
        t_s = alert_time(alert)
        at = format_clock(t_s) if math.isfinite(t_s) else "?"
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


def _warnings_section(warnings: Sequence[str]) -> str:
    if not warnings:
        return '<p class="muted">None.</p>'
    return "<ul>" + "".join(f"<li>{_e(w)}</li>" for w in warnings) + "</ul>"


def _decided_section(run: Run, pngs: dict[str, bytes]) -> str:
    """The "What decided" section, when its plot was made."""
    found = decided(run) if "decided" in pngs else None
    if found is None:
        return ""
    return (
        '<section id="decided">\n<h2>What decided</h2>\n'
        + _img(pngs["decided"], "slouch evidence over time against its threshold")
        + "\n"
        + _decided_text(found)
        + "\n</section>\n"
    )


def render_html(run: Run, pngs: dict[str, bytes], notes: Sequence[str] = ()) -> str:
    """The report page; every string from the run is escaped."""
    s = run.summary
    warning_html = _warnings_section([str(w) for w in s.get("warnings") or []] + list(notes))
    time_in = time_in_state(s)
    title = f"Posture report: {s.get('source', run.path.name)}"
    made_by = f"Report made by posturecam {__version__}"
    if s.get("posturecam"):
        made_by += f" from a run of posturecam {s['posturecam']}"
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    decided_html = _decided_section(run, pngs)
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
{_alerts_section(alerts_of(run), setup_events(run))}
</section>
<section id="warnings">
<h2>Warnings</h2>
{warning_html}
</section>
<footer>{_e(made_by)}</footer>
</body>
</html>
"""
