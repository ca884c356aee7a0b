"""HTML/PNG report from a replay folder, built from synthetic outputs (no model needed)."""

from __future__ import annotations

import base64
import builtins
import json
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posturecam.cli import advice
from posturecam.core.judge import deviation, slouch_evidence
from posturecam.core.rules import DEFAULT_RULES, EVIDENCE, JudgeSettings, MetricStats
from posturecam.errors import OutputError
from posturecam.research.outputs import write_events, write_frames_csv
from posturecam.research.report import make_report
from posturecam.research.report_data import (
    STATE_COLOURS,
    baseline_bands,
    share_upright,
    state_runs,
)
from posturecam.research.run_folder import EVENTS, FRAMES, SUMMARY
from posturecam.storage import write_json
from posturecam.text import format_clock as clock
from posturecam.text import format_duration_long as duration_text

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADINGS = [
    "Score over time",
    "Metrics against the baseline",
    "Time per state",
    "Alerts",
    "Warnings",
]
BASELINE = {
    "kind": "recording",
    "window": "first 8 s",
    "frames": 16,
    "view": "front",
    "metrics": {
        "neck_height": {"centre": 0.54, "spread": 0.003},
        "head_height": {"centre": 0.78, "spread": 0.006},
        "ear_span": {"centre": 0.29, "spread": 0.0015},
        "lateral_offset": {"centre": 0.006, "spread": 0.006},
    },
    "settings": {"noise_k": 3.0, "sensitivity": {}},
    # What replay records: the combined slouch evidence's threshold (EVIDENCE units).
    "limits": {"slouch_evidence": 0.4, "placed_by": "spread", "issues": {}},
}
ALERTS = [
    {"t_s": 50.0, "type": "alert", "level": "cue", "issues": ["head_drop"],
     "stretches": ["chin-tuck"], "message": "For about 1 min your head has dropped."},
    {"t_s": 95.5, "type": "alert", "level": "stretch", "issues": ["head_drop", "leaning_in"],
     "stretches": ["doorway-pec-stretch"], "message": "Again."},
]  # fmt: skip


SETUP = [
    {"t_s": 70.0, "type": "setup_changed", "since_s": 60.0,
     "message": "The camera or your seat seems to have moved."},
    {"t_s": 80.0, "type": "baseline_reanchored", "after_s": 10.0, "offset": 0.05,
     "message": "The new camera view has settled: posture is judged again."},
]  # fmt: skip
MOVING = {"max_offset": 0.1, "final_offset": 0.05, "setup_changes": 1, "settings": {}}


def make_run(
    folder: Path,
    source: str = "desk",
    judged: bool = True,
    seed: int = 0,
    evidence: bool = False,
) -> Path:
    """A replay folder: upright, drifting, slouching with two alerts, undecided, away, upright.

    ``evidence``: today's format, with the evidence columns, the moving baseline's
    record and a setup change (at 70 s, re-anchored at 80 s, in the undecided stretch).
    """
    rng = np.random.default_rng(seed)
    n = 240
    t = np.arange(n) * 0.5
    states = np.array(
        ["upright"] * 40 + ["drifting"] * 20 + ["slouching"] * 20 + ["alert"] * 60
        + ["undecided"] * 20 + ["away"] * 20 + ["upright"] * 60
    )  # fmt: skip
    unknown = (states == "undecided") | (states == "away")
    slouched = np.isin(states, ["slouching", "alert"])
    head = np.where(slouched, 0.6, 0.78) + rng.normal(0, 0.005, n)
    score = np.where(slouched, 10.0, 95.0) + rng.normal(0, 2, n)
    metrics = {
        "head_height": head,
        "neck_height": np.where(slouched, 0.45, 0.54) + rng.normal(0, 0.004, n),
        "nose_height": head - 0.25,
        "ear_span": 0.29 + rng.normal(0, 0.002, n),
        "lateral_offset": rng.normal(0.006, 0.004, n),
    }
    for values in metrics.values():
        values[unknown] = np.nan
    score[unknown] = np.nan
    detected = [s != "away" for s in states]
    columns: dict[str, Any] = {
        "frame": np.arange(n),
        "t_s": t,
        "source": [f"{source}_{i:04d}.jpg" for i in range(n)],
        "detected": detected,
        "view": np.where(states == "away", "", "front"),
        **metrics,
        "reason": np.where(states == "undecided", "ears not visible", ""),
    }
    if judged:
        columns.update(
            score=score,
            slouched=np.where(unknown, np.nan, slouched.astype(float)),
            state=states,
            issues=np.where(slouched, "head_drop", ""),
        )
    if judged and evidence:
        columns.update(
            evidence=np.where(unknown, np.nan, np.where(slouched, 0.9, 0.05)),
            evidence_zero=np.where(unknown, np.nan, np.minimum(t / 400, 0.1)),
        )
    write_frames_csv(folder / FRAMES, columns)
    events = [{"t_s": 20.0, "type": "state", "from": "upright", "to": "drifting"}]
    events += ALERTS if judged else []
    if judged and evidence:
        events = sorted(events + SETUP, key=lambda e: e["t_s"])
    write_events(folder / EVENTS, events)
    time_in = {"upright": 50.0, "drifting": 10.0, "slouching": 10.0, "alert": 30.0,
               "away": 10.0, "undecided": 10.0}  # fmt: skip
    summary = {
        "posturecam": "0.1.0",
        "source": source,
        "source_kind": "folder",
        "model": {"variant": "full"},
        "frames": n,
        "frames_analysed": n,
        "frames_detected": int(sum(detected)),
        "frames_skipped": 0,
        "duration_s": float(t[-1]),
        "view": "front",
        "view_forced": False,
        "baseline": (
            {**BASELINE, "moving": MOVING} if evidence else BASELINE if judged else {"kind": "none"}
        ),
        "warnings": ["the lighting changed at 01:10"],
        "alerts": ALERTS if judged else [],
        "time_in_state_s": time_in if judged else None,
    }
    write_json(folder / SUMMARY, summary)
    return folder


class Page(HTMLParser):
    """Collects what the tests look at: tags, headings, images, links, text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.h2: list[str] = []
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in and self._in[-1] == "h2":
            self.h2.append(data.strip())

    @property
    def images(self) -> list[str]:
        return [v for tag, k, v in self.attrs if tag == "img" and k == "src"]

    @property
    def all_text(self) -> str:
        return " ".join(self.text)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def words(page: Page) -> str:
    """The page's text with whitespace collapsed (tags like <strong> split the text)."""
    return " ".join(page.all_text.split())


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "results" / "desk"
    folder.mkdir(parents=True)
    return make_run(folder)


def test_report_has_sections_and_embedded_pngs(run_dir: Path, tmp_path: Path) -> None:
    out = make_report(run_dir, tmp_path / "out" / "paper.html")
    assert out.html == tmp_path / "out" / "paper.html"
    assert [p.name for p in out.pngs] == [
        "paper_score.png",
        "paper_metrics.png",
        "paper_states.png",
    ]
    page = parse(out.html)
    assert page.h2 == HEADINGS
    assert len(page.images) == 3
    files = {p.read_bytes() for p in out.pngs}
    for src in page.images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        data = base64.b64decode(src[len(prefix) :], validate=True)
        width, height = png_size(data)
        assert width > 100 and height > 100
        assert data in files  # the PNG beside the HTML is the one embedded
    for tag, key, value in page.attrs:
        if key in ("src", "href"):
            assert not value.lower().startswith(("http://", "https://", "//")), (tag, value)
    assert "<link" not in out.html.read_text(encoding="utf-8")
    assert not {"script", "link", "iframe"} & set(page.tags)


def test_header_states_and_alerts_tables(run_dir: Path) -> None:
    out = make_report(run_dir)
    assert out.html == run_dir / "report.html"
    assert all(p.parent == run_dir for p in out.pngs)
    text = parse(out.html).all_text
    for expected in ("desk (folder)", "2 min 00 s", "240", "front", "recording (first 8 s)"):
        assert expected in text
    assert "posturecam 0.1.0" in text
    # alerts: time mm:ss, level, issues and stretch names from the catalog
    assert "00:50" in text and "01:35" in text
    assert "cue" in text and "stretch" in text
    assert "head_drop, leaning_in" in text
    assert "Chin tucks" in text and "Doorway chest stretch (pectoralis minor)" in text
    # time per state: upright 50 of 100 judged seconds
    assert "Share upright" in text and "50.0% of the judged time" in text
    assert "the lighting changed at 01:10" in text


def test_malicious_strings_are_escaped(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script>'
    folder = make_run(tmp_path / "evil", source=evil)
    summary = json.loads((folder / SUMMARY).read_text())
    summary["warnings"] = ['<img src="https://evil.example/x.png" onerror="steal()">']
    summary["alerts"][0]["level"] = "<b>cue</b>"
    write_json(folder / SUMMARY, summary)
    events = [json.loads(line) for line in (folder / EVENTS).read_text().splitlines()]
    events[1]["issues"] = ["<i>head_drop</i>"]
    write_events(folder / EVENTS, events)
    out = make_report(folder)
    raw = out.html.read_text(encoding="utf-8")
    page = parse(out.html)
    assert "script" not in page.tags and "b" not in page.tags and "i" not in page.tags
    assert len(page.images) == 3  # the warning's <img> stayed text
    assert evil not in raw and "&lt;script&gt;" in raw
    assert evil in page.all_text  # shown to the reader as text
    assert "&lt;i&gt;head_drop&lt;/i&gt;" in raw
    assert "https://evil" not in [v for _, _, v in page.attrs]


def test_report_bytes_are_deterministic(run_dir: Path, tmp_path: Path) -> None:
    first = make_report(run_dir, tmp_path / "a" / "report.html")
    second = make_report(run_dir, tmp_path / "b" / "report.html")
    assert first.html.read_bytes() == second.html.read_bytes()
    for a, b in zip(first.pngs, second.pngs, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert b"Software" not in a.read_bytes()


def test_run_without_baseline(tmp_path: Path) -> None:
    folder = make_run(tmp_path / "plain", judged=False)
    out = make_report(folder)
    page = parse(out.html)
    assert page.h2 == HEADINGS
    assert len(page.images) == 3 and all(p.is_file() for p in out.pngs)
    text = page.all_text
    assert "No baseline in this run" in text
    assert "No alerts in this run" in text
    assert "not judged against a baseline" in text


def test_run_without_events_uses_summary_alerts(run_dir: Path) -> None:
    (run_dir / EVENTS).unlink()
    text = parse(make_report(run_dir).html).all_text
    assert "00:50" in text and "Chin tucks" in text
    assert "No events.jsonl" in text


@pytest.mark.parametrize("missing", [None, FRAMES, SUMMARY])
def test_missing_run_folder_or_files(tmp_path: Path, missing: str | None) -> None:
    folder = tmp_path / "results"
    if missing is not None:
        make_run(folder.parent)  # files in tmp_path; results/ gets a copy without one
        folder.mkdir()
        for name in (FRAMES, SUMMARY, EVENTS):
            if name != missing:
                shutil.copy(tmp_path / name, folder / name)
    with pytest.raises(OutputError, match="replay a source into") as refused:
        make_report(folder)
    assert re.search(r"posturecam replay .*--out", advice.render(refused.value))
    assert not (folder / "report.html").exists()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"time_in_state_s": "lots"}'])
def test_unreadable_summary(run_dir: Path, content: str) -> None:
    (run_dir / SUMMARY).write_text(content, encoding="utf-8")
    with pytest.raises(OutputError, match=r"summary\.json"):
        make_report(run_dir)


def test_matplotlib_missing(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(OutputError, match=r"pip install 'posturecam\[report\]'"):
        make_report(run_dir)
    assert not (run_dir / "report.html").exists()


def test_score_gaps_stay_gaps(run_dir: Path) -> None:
    """Undecided frames are NaN in the plotted line, never 0."""
    from matplotlib.figure import Figure

    from posturecam.research.report_data import load_run
    from posturecam.research.report_plots import draw_score

    run = load_run(run_dir)
    fig = Figure()
    draw_score(fig, run)
    line = fig.axes[0].lines[0]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y[140:180]).all()
    assert np.nanmin(y) > 0  # the synthetic scores never reach 0
    alert_lines = [ln for ln in fig.axes[0].lines if ln.get_linestyle() == "--"]
    assert sorted(float(ln.get_xdata()[0]) for ln in alert_lines) == [50.0, 95.5]


# --- what decided: the evidence against its threshold --------------------------------------

DECIDED_HEADINGS = [HEADINGS[0], "What decided", *HEADINGS[1:]]


@pytest.fixture
def new_run(tmp_path: Path) -> Path:
    folder = tmp_path / "results" / "new"
    folder.mkdir(parents=True)
    return make_run(folder, evidence=True)


def _embedded(page: Page) -> list[bytes]:
    prefix = "data:image/png;base64,"
    return [base64.b64decode(src[len(prefix) :], validate=True) for src in page.images]


def test_what_decided_plot_with_the_new_columns(new_run: Path) -> None:
    out = make_report(new_run)
    assert [p.name for p in out.pngs] == [
        "report_score.png",
        "report_decided.png",
        "report_metrics.png",
        "report_states.png",
    ]
    page = parse(out.html)
    assert page.h2 == DECIDED_HEADINGS
    embedded = _embedded(page)
    assert embedded[1] == out.pngs[1].read_bytes()  # written beside the HTML, and embedded
    width, height = png_size(embedded[1])
    assert width > 100 and height > 100
    text = words(page)
    assert "Threshold: 0.4" in text
    assert "placed by spread (from how much the person moved while upright" in text
    assert "at most 0.1 (25% of the threshold)" in text  # max_offset over the threshold
    assert "At the end its zero stood at 0.05" in text
    assert "Setup changes: 1" in text
    assert "Undecided (shaded): 10.0 s" in text


def test_what_decided_draws_threshold_zero_spans_and_markers(new_run: Path) -> None:
    from matplotlib.figure import Figure

    from posturecam.research.report_data import decided, load_run
    from posturecam.research.report_plots import draw_decided

    run = load_run(new_run)
    found = decided(run)
    assert found is not None
    fig = Figure()
    draw_decided(fig, run, found)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "threshold 0.4, placed by spread" in labels
    for label in ("evidence", "moving zero", "undecided", "away", "setup changed"):
        assert label in labels
    assert "baseline re-anchored" in labels and "alert (cue)" in labels
    by_id = {ln.get_gid(): ln for ln in ax.lines if ln.get_gid()}
    assert list(by_id["threshold"].get_ydata()) == [0.4, 0.4]  # a horizontal line
    evidence, zero = by_id["evidence"], by_id["zero"]
    assert np.isnan(np.asarray(evidence.get_ydata(), float)[140:180]).all()
    assert np.nanmax(np.asarray(zero.get_ydata(), float)) == pytest.approx(0.1)
    setup = [ln for ln in ax.lines if list(ln.get_xdata()) in ([70.0, 70.0], [80.0, 80.0])]
    assert sorted(float(ln.get_xdata()[0]) for ln in setup) == [70.0, 80.0]
    alerts = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert sorted(float(ln.get_xdata()[0]) for ln in alerts) == [50.0, 95.5]
    spans = [c for c in ax.collections if c.get_paths()]
    boxes = sorted(
        (round(float(p.get_extents().x0), 3), round(float(p.get_extents().x1), 3))
        for c in spans
        for p in c.get_paths()
    )
    assert boxes == [(70.0, 80.0), (80.0, 90.0)]  # undecided, then away


def test_setup_events_in_the_alerts_table(new_run: Path) -> None:
    events = [json.loads(line) for line in (new_run / EVENTS).read_text().splitlines()]
    for event in events:
        if event["type"] == "setup_changed":
            event["message"] = "<script>moved</script>"
    write_events(new_run / EVENTS, events)
    out = make_report(new_run)
    raw = out.html.read_text(encoding="utf-8")
    page = parse(out.html)
    assert "script" not in page.tags and "&lt;script&gt;moved" in raw
    table = raw[raw.index('<section id="alerts">') :]
    assert "<th>Level / event</th>" in table
    times = [table.index(f"<td>{at}</td>") for at in ("00:50", "01:10", "01:20", "01:35")]
    assert times == sorted(times)  # one table, in time order
    assert "<td>setup changed</td>" in table and "<td>baseline re-anchored</td>" in table
    assert "posture is judged again" in page.all_text
    assert "Chin tucks" in page.all_text  # the alerts are still there


def test_setup_events_without_alerts(new_run: Path) -> None:
    events = [json.loads(line) for line in (new_run / EVENTS).read_text().splitlines()]
    write_events(new_run / EVENTS, [e for e in events if e["type"] != "alert"])
    text = parse(make_report(new_run).html).all_text
    assert "setup changed" in text and "No alerts in this run" in text


def test_old_format_run_has_no_decided_plot(run_dir: Path) -> None:
    """A run from before the evidence columns: no plot, no setup rows, the page as before."""
    lines = (run_dir / FRAMES).read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if name not in ("evidence", "evidence_zero")]
    rows = [",".join(line.split(",")[i] for i in keep) for line in lines]
    (run_dir / FRAMES).write_text("\n".join(rows) + "\n", encoding="utf-8")
    summary = json.loads((run_dir / SUMMARY).read_text())
    summary["baseline"]["limits"] = {"slouch_evidence": 0.4}  # no placed_by, no moving
    write_json(run_dir / SUMMARY, summary)
    out = make_report(run_dir)
    assert [p.name for p in out.pngs] == [
        "report_score.png",
        "report_metrics.png",
        "report_states.png",
    ]
    assert not (run_dir / "report_decided.png").exists()
    page = parse(out.html)
    assert page.h2 == HEADINGS and len(page.images) == 3
    raw = out.html.read_text(encoding="utf-8")
    assert 'id="decided"' not in raw and "Level / event" not in raw
    assert "<th>Level</th><th>Issues</th>" in raw


def test_side_view_run_has_no_decided_plot(new_run: Path) -> None:
    summary = json.loads((new_run / SUMMARY).read_text())
    summary["view"] = "side"
    summary["baseline"] = {**summary["baseline"], "view": "side"}
    summary["baseline"]["limits"] = {"slouch_evidence": None, "placed_by": "side"}
    summary["baseline"].pop("moving")
    write_json(new_run / SUMMARY, summary)
    out = make_report(new_run)
    assert "report_decided.png" not in [p.name for p in out.pngs]
    assert "What decided" not in parse(out.html).h2


@pytest.mark.parametrize(
    ("placed_by", "text", "label"),
    [
        ("two-point", "two-point (between the person's upright and slouched", "two-point"),
        ("feedback", "feedback (moved by the person's feedback on alerts)", "feedback"),
        ("$\\frac{a", "$\\frac{a", "other"),  # unknown data text: shown, never as mathtext
        (None, "placed by not recorded", None),
    ],
)
def test_decided_text_names_what_placed_the_threshold(
    new_run: Path, placed_by: str | None, text: str, label: str | None
) -> None:
    from matplotlib.figure import Figure

    from posturecam.research.report_data import decided, load_run
    from posturecam.research.report_plots import draw_decided

    summary = json.loads((new_run / SUMMARY).read_text())
    summary["baseline"]["limits"]["placed_by"] = placed_by
    write_json(new_run / SUMMARY, summary)
    assert text in words(parse(make_report(new_run).html))
    run = load_run(new_run)
    fig = Figure()
    draw_decided(fig, run, decided(run))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    expected = f"threshold 0.4, placed by {label}" if label else "threshold 0.4"
    assert expected in labels


def test_decided_without_threshold_or_moving_baseline(new_run: Path) -> None:
    summary = json.loads((new_run / SUMMARY).read_text())
    summary["baseline"]["limits"] = {"slouch_evidence": None}
    summary["baseline"].pop("moving")
    write_json(new_run / SUMMARY, summary)
    out = make_report(new_run)
    text = words(parse(out.html))
    assert "Threshold: not recorded" in text and "no moving baseline" in text
    assert "Setup changes" not in text
    assert (new_run / "report_decided.png").is_file()


def test_new_format_report_is_deterministic(new_run: Path, tmp_path: Path) -> None:
    first = make_report(new_run, tmp_path / "a" / "report.html")
    second = make_report(new_run, tmp_path / "b" / "report.html")
    assert first.html.read_bytes() == second.html.read_bytes()
    assert len(first.pngs) == 4
    for a, b in zip(first.pngs, second.pngs, strict=True):
        assert a.read_bytes() == b.read_bytes()


# --- pure helpers ----------------------------------------------------------------------------


def test_bands_follow_the_judge() -> None:
    """Just inside a band edge is not an issue for the judge; just outside is."""
    bands = baseline_bands(BASELINE)
    assert set(bands) == {"neck_height", "head_height", "ear_span", "lateral_offset"}
    settings = JudgeSettings()
    by_metric = {r.metric: (k, r) for k, r in DEFAULT_RULES.items() if r.view == "front"}
    # head_drop is the combined evidence (head_height alone by default): the edge is
    # centre * (1 - limit * unit), and the judge agrees on which side is which.
    head = bands.pop("head_height")
    assert head.low == pytest.approx(0.78 * (1 - 0.4 * EVIDENCE["head_height"].unit))
    assert head.high is None
    for value, over in ((head.low * (1 + 1e-6), False), (head.low * (1 - 1e-6), True)):
        ev = slouch_evidence(
            {"head_height": np.array([value])}, {"head_height": 0.78}, settings.weights
        )[0]
        assert bool(ev / 0.4 > 1.0) == over
    for metric, band in bands.items():
        issue, rule = by_metric[metric]
        s = BASELINE["metrics"][metric]
        stats = MetricStats(s["centre"], s["spread"], 16)
        limit = settings.threshold(issue, stats.spread, stats.centre)
        assert band.centre == pytest.approx(stats.centre)
        assert (band.low is None) == (rule.direction > 0)
        assert (band.high is None) == (rule.direction < 0)
        for edge, outward in ((band.low, -1), (band.high, +1)):
            if edge is None:
                continue
            eps = 1e-6 * max(1.0, abs(edge))
            inside = deviation(np.array([edge - outward * eps]), rule, stats)[0] / limit
            outside = deviation(np.array([edge + outward * eps]), rule, stats)[0] / limit
            assert inside < 1.0 < outside, metric


def test_bands_respect_sensitivity_and_view() -> None:
    # The recorded limit already holds the sensitivity (judge.limits divides by it).
    sensitive = {**BASELINE, "limits": {"slouch_evidence": 0.2}}
    assert baseline_bands(sensitive)["head_height"].low == pytest.approx(0.78 * 0.94)
    tighter = {**BASELINE, "settings": {"noise_k": 3.0, "sensitivity": {"head_forward": 2.0}}}
    assert baseline_bands(tighter)["neck_height"].low == pytest.approx(0.54 * (1 - 0.125))
    assert baseline_bands({**BASELINE, "view": "side"}) == {}
    assert baseline_bands({"kind": "none"}) == {}
    assert baseline_bands(None) == {}


def test_state_runs() -> None:
    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    states = ["upright", "upright", "", "alert", "alert", "upright"]
    assert state_runs(t, states) == [
        ("upright", 0.0, 2.0),
        ("alert", 3.0, 5.0),
        ("upright", 5.0, 6.0),
    ]
    assert state_runs(np.array([]), []) == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00"), (75.9, "01:15"), (599.0, "09:59"), (3725.0, "1:02:05")],
)
def test_clock(seconds: float, text: str) -> None:
    assert clock(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(42.25, "42.2 s"), (119.5, "2 min 00 s"), (125.0, "2 min 05 s"), (3720.0, "1 h 02 min")],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_share_upright_ignores_away_and_undecided() -> None:
    time_in = {"upright": 30.0, "drifting": 10.0, "slouching": 0.0, "alert": 20.0,
               "away": 500.0, "undecided": 40.0}  # fmt: skip
    assert share_upright(time_in) == pytest.approx(0.5)
    assert share_upright({"away": 10.0}) is None
    assert share_upright(None) is None


# --- a real browser, when one is installed ---------------------------------------------------


def _browser() -> str | None:
    names = ("chromium", "chromium-browser", "google-chrome")
    return next((p for p in map(shutil.which, names) if p), None)


@pytest.mark.skipif(_browser() is None, reason="no chromium/google-chrome installed")
def test_headless_browser_renders_images(run_dir: Path, tmp_path: Path) -> None:
    """Chromium, offline, shows the embedded plots (the state bars' colours are on screen)."""
    import cv2

    out = make_report(run_dir)
    shot = tmp_path / "shot.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = out.html.as_uri()
    dom = subprocess.run(
        [_browser(), *flags, "--dump-dom", url], capture_output=True, text=True, timeout=60
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('<img src="data:image/png;base64,') == 3
    done = subprocess.run(
        [_browser(), *flags, "--window-size=1100,2600", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    image = cv2.imread(str(shot))
    assert image is not None
    for state in ("alert", "slouching"):
        colour = STATE_COLOURS[state]
        rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
        bgr = np.array(rgb[::-1])
        close = np.abs(image.astype(int) - bgr).max(axis=2) <= 4
        assert close.sum() > 500, state  # a full-colour bar of the states plot


def test_what_decided_draws_the_sustained_drop_on_the_threshold(tmp_path: Path) -> None:
    """A simulated subtle slouch: the sustained drop is drawn (scaled) and its time said."""
    import simperson as sim
    from matplotlib.figure import Figure

    from posturecam.research import replay as replay_mod
    from posturecam.research.replay import ReplayOptions, analyse
    from posturecam.research.report_data import decided, load_run
    from posturecam.research.report_plots import draw_decided
    from posturecam.research.results import summarise

    person = sim.Person.sample(np.random.default_rng(3))
    s = sim.simulate(1200.0, 5, person=person, slouches=[sim.SlouchPlan(700.0, 0.05)])
    options = ReplayOptions(baseline_seconds=8.0, progress=False)
    analysis = analyse(s.log, options)
    head = {"source": "simulated", "kind": "folder", "fps": 2.0}
    folder = replay_mod.RunFolder(tmp_path / "run")
    folder.prepare("simulated", True, None)
    summary = summarise(s.log, analysis, head, options, {"timing": {}})
    replay_mod.write_run(folder, s.log, analysis, summary, options, record=head)
    run = load_run(tmp_path / "run")
    found = decided(run)
    assert found is not None and found.threshold is not None
    fig = Figure()
    draw_decided(fig, run, found)
    line = {ln.get_gid(): ln for ln in fig.axes[0].lines if ln.get_gid()}["sustained"]
    drawn = np.asarray(line.get_ydata(), float)
    assert np.nanmax(drawn) > found.threshold  # over its line during the slouch
    text = words(parse(make_report(tmp_path / "run").html))
    assert "The sustained drop" in text and "It was over its line for" in text
