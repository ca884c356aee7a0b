"""A self-contained HTML report (with PNG plots beside it) from one replay output folder.

Researchers publish plots and share single files, so the HTML embeds its images
as data: URIs and loads nothing from anywhere. Output is deterministic (fixed
figure sizes, matplotlib's default style, no timestamps), so a report can be
checked into a paper's repository and diffed. What it shows is read in
``report_data``, drawn in ``report_plots`` and laid out in ``report_html``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from posturecam.errors import OutputError, Remedy
from posturecam.research.report_data import (
    baseline_bands,
    decided,
    load_run,
    time_in_state,
    traced_metrics,
)
from posturecam.research.report_html import render_html
from posturecam.research.report_plots import (
    draw_decided,
    draw_metrics,
    draw_score,
    draw_states,
    matplotlib_parts,
    render,
)
from posturecam.research.run_folder import EVENTS, REPORT, SUMMARY
from posturecam.storage import atomic_open, write_text

PLOTS = ("score", "decided", "metrics", "states")  # "decided" only when there is evidence


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pngs: tuple[Path, ...]


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def make_report(run_dir: Path, html_path: Path | None = None) -> ReportFiles:
    """Write report.html (default: in ``run_dir``) and its PNGs beside it; return their paths."""
    matplotlib_parts()  # fail before reading or writing anything when the extra is missing
    run = load_run(Path(run_dir))
    html_path = Path(html_path) if html_path is not None else run.path / REPORT
    baseline = run.summary.get("baseline") or {}
    judged = baseline.get("kind", "none") != "none"
    bands = baseline_bands(baseline)
    names = traced_metrics(run, bands)
    rows = math.ceil(len(names) / (1 if len(names) == 1 else 2 if len(names) <= 4 else 3))
    found = decided(run)
    pngs = {
        "score": render(lambda fig: draw_score(fig, run), (10.0, 3.6)),
        **(
            {"decided": render(lambda fig: draw_decided(fig, run, found), (10.0, 3.6))}
            if found is not None
            else {}
        ),
        "metrics": render(
            lambda fig: draw_metrics(fig, run, names, bands, judged),
            (10.0, 0.6 + 2.0 * max(rows, 1)),
        ),
        "states": render(lambda fig: draw_states(fig, time_in_state(run.summary)), (8.0, 2.8)),
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
            f"cannot write the report to {html_path.parent} ({exc.strerror or exc}); ",
            Remedy("other_html"),
            ".",
        ) from None
    return ReportFiles(html=html_path, pngs=paths)
