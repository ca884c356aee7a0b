"""The dashboard renders from a fixture session log, an empty one and a corrupt one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

pytest.importorskip("PySide6.QtWidgets")

from appfakes import qapp_fixture  # noqa: F401 (a fixture)
from PySide6.QtCore import Qt

from posturecam import cli
from posturecam.app import logdata
from posturecam.app.dashboard import DashboardWindow, stretch_text
from posturecam.live.sessionlog import SessionLog

NOON = datetime.combine(datetime.now().date(), datetime.min.time()) + timedelta(hours=12)
NOW = NOON.timestamp()


def fill(path, now=NOW):
    """Yesterday a little; today 10 min: 6 upright, 3 slouched, 1 away, one alert."""
    with SessionLog.open(path) as log:
        old = log.start_session(now - 86400, "default", "0", {})
        for k in range(120):
            log.add_sample(old, now - 86400 + k, k, 1.0, "upright", 90.0, True)
        log.end_session(old, now - 86400 + 120, "quit", {})
        sid = log.start_session(now - 600, "default", "0", {})
        plan = ["upright"] * 360 + ["slouching"] * 120 + ["alert"] * 60 + ["away"] * 60
        for k, state in enumerate(plan):
            score = None if state == "away" else (85.0 if state == "upright" else 35.0)
            log.add_sample(sid, now - 600 + k, k, 1.0, state, score, state != "away")
        data = {"message": "For about 3 min your head has dropped. Sit tall.",
                "stretches": ["chin-tuck"], "issues": ["head_drop"]}  # fmt: skip
        log.add_event(sid, now - 120, 480.0, "alert", data)
        log.end_session(sid, now, "quit", {})


def test_dashboard_shows_today_alerts_and_days(qtbot, tmp_path, capsys, monkeypatch):
    path = tmp_path / "sessions.sqlite3"
    fill(path)
    window = DashboardWindow(path, now=NOW)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    d = window.data
    assert d is not None and not window.error.isVisible()
    assert d.today.share_upright == pytest.approx(360 / 540)
    assert "upright 67% of the judged time" in window.totals.text()
    assert "slouched 3m" in window.totals.text() and "1 alert(s)" in window.totals.text()
    assert "away 1m" in window.totals.text()
    assert len(window.timeline.samples) == 600
    assert len(window.week.days) == 7 and len(window.month.days) == 30
    assert window.week.days[-2].share_upright == 1.0  # yesterday, oldest-first order
    assert window.alerts.count() == 1
    first = window.alerts.visualItemRect(window.alerts.item(0)).center()
    qtbot.mouseClick(window.alerts.viewport(), Qt.MouseButton.LeftButton, pos=first)
    assert window.alerts.currentRow() == 0  # the click chose the alert
    assert "Chin tuck" in window.stretch.toPlainText() or "chin" in window.stretch.toPlainText()
    assert not window.grab().isNull()
    window.close()
    # The same numbers as `posturecam history` (the same log, the same sums).
    monkeypatch.setenv("POSTURECAM_HOME", str(path.parent))
    assert cli.main(["history", "--json", "--days", "1"]) == 0
    today = json.loads(capsys.readouterr().out)[0]
    assert today["share_upright"] == pytest.approx(d.today.share_upright)


def test_empty_log_is_a_note_and_creates_nothing(qtbot, tmp_path):
    path = tmp_path / "sessions.sqlite3"
    window = DashboardWindow(path, now=NOW)
    qtbot.addWidget(window)
    assert "No sessions yet" in window.note.text() and not window.error.isVisible()
    assert window.timeline.samples == [] and window.alerts.count() == 0
    assert not window.grab().isNull()
    assert not path.exists()
    window.close()


def test_corrupt_log_shows_a_message_and_is_left_alone(qtbot, tmp_path):
    path = tmp_path / "sessions.sqlite3"
    garbage = b"this is not a database\x00" * 40
    path.write_bytes(garbage)
    window = DashboardWindow(path, now=NOW)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.error.isVisible() and not window.body.isVisible()
    assert "cannot be read" in window.error.text() and str(path) in window.error.text()
    assert path.read_bytes() == garbage
    window.close()


def test_a_day_with_samples_but_no_alerts_and_a_broken_alert_row(tmp_path):
    path = tmp_path / "s.sqlite3"
    with SessionLog.open(path) as log:
        sid = log.start_session(NOW - 10, "p", "0", {})
        log.add_sample(sid, NOW - 5, 0, 1.0, "paused", None, None)
        log.add_event(sid, NOW - 4, 1.0, "alert", {})
    data = logdata.load(path, NOW)
    assert data.today.judged_s == 0 and data.time_in == {"paused": 1.0}
    assert data.alerts[0].message and data.alerts[0].stretches == ()
    assert "not in this version" in stretch_text(logdata.Alert(NOW, "m", ("no-such",)))


def test_timeline_strip_is_one_run_per_state_stretch():
    from posturecam.app.charts import runs

    samples = [logdata.Sample(100.0 + k, 1.0, s, None) for k, s in enumerate("aabbb")]
    samples.append(logdata.Sample(200.0, 1.0, "b", None))  # after a gap: a new run
    assert runs(samples) == [("a", 99.0, 101.0), ("b", 101.0, 104.0), ("b", 199.0, 200.0)]
