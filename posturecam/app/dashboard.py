"""The dashboard window: today's timeline, totals and alerts, and the last 7 and 30 days.

It reads the session log (logdata.load) and shows it; a damaged log is a message
in the window, never a crash, and nothing is written to the log.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from posturecam.app import logdata
from posturecam.app.charts import DayBars, TimelineView
from posturecam.core.stretches import format_stretch, load_catalog
from posturecam.errors import PosturecamError
from posturecam.text import format_duration

REFRESH_MS = 60_000


def totals_text(data: logdata.DashboardData) -> str:
    t = data.time_in
    share = data.today.share_upright
    upright = f"upright {share:.0%} of the judged time" if share is not None else "nothing judged"
    away = t.get("away", 0.0)
    return (
        f"Today: {upright} · upright {format_duration(data.today.upright_s)} · slouched "
        f"{format_duration(data.today.slouched_s)} · away {format_duration(away)} · "
        f"{data.today.alerts} alert(s)"
    )


class DashboardWindow(QWidget):
    def __init__(self, log_path: Path | None = None, now: float | None = None) -> None:
        super().__init__()
        self.setWindowTitle("posturecam: dashboard")
        self.log_path = log_path
        self.now = now  # fixed time for tests and screenshots; None: the clock
        self.data: logdata.DashboardData | None = None
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b71c1c")
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.note = QLabel()
        self.note.setStyleSheet("color: gray")
        self.timeline = TimelineView()
        self.alerts = QListWidget()
        self.alerts.currentItemChanged.connect(self._show_alert)
        self.stretch = QTextBrowser()
        self.week = DayBars("Last 7 days: upright share")
        self.month = DayBars("Last 30 days: upright share")
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.reload)

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.totals)
        body.addWidget(self.timeline)
        row = QHBoxLayout()
        alerts = QVBoxLayout()
        alerts.addWidget(QLabel("Alerts today (click one for its stretch)"))
        alerts.addWidget(self.alerts)
        row.addLayout(alerts, 1)
        row.addWidget(self.stretch, 1)
        body.addLayout(row)
        charts = QHBoxLayout()
        charts.addWidget(self.week)
        charts.addWidget(self.month)
        body.addLayout(charts)

        layout = QVBoxLayout(self)
        layout.addWidget(self.error)
        layout.addWidget(self.note)
        layout.addWidget(self.body)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(refresh)
        layout.addLayout(bottom)
        self.resize(760, 620)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.reload)
        self._timer.start(REFRESH_MS)
        self.reload()

    def reload(self) -> None:
        try:
            data = logdata.load(self.log_path, self.now)
        except PosturecamError as exc:
            self.data = None
            self.error.setText(f"The session log cannot be read: {exc}")
            self.error.show()
            self.note.hide()
            self.body.hide()
            return
        self.data = data
        self.error.hide()
        self.body.show()
        self.note.setText(data.note)
        self.note.setVisible(bool(data.note))
        self.totals.setText(totals_text(data))
        self.timeline.set_samples(data.samples)
        self.week.set_days(data.week)
        self.month.set_days(data.days)
        self.alerts.clear()
        self.stretch.clear()
        for alert in data.alerts:
            first = alert.message.splitlines()[0] if alert.message else "alert"
            item = QListWidgetItem(f"{datetime.fromtimestamp(alert.at):%H:%M}  {first}")
            item.setData(Qt.ItemDataRole.UserRole, alert)
            self.alerts.addItem(item)

    def _show_alert(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is None:
            self.stretch.clear()
            return
        alert: logdata.Alert = item.data(Qt.ItemDataRole.UserRole)
        self.stretch.setPlainText(stretch_text(alert))


def stretch_text(alert: logdata.Alert) -> str:
    """The alert's message and the steps of the stretch(es) it suggested."""
    parts = [alert.message]
    try:
        catalog = load_catalog()
    except PosturecamError as exc:
        return f"{alert.message}\n\n(the stretch catalog cannot be read: {exc})"
    for stretch_id in alert.stretches:
        try:
            text = format_stretch(catalog.by_id(stretch_id))
        except KeyError:
            text = f"(stretch {stretch_id!r} is not in this version's catalog)"
        if text not in alert.message:  # stronger alerts already carry the steps
            parts.append(text)
    return "\n\n".join(parts)
