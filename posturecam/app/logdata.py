"""What the dashboard shows, read from the SQLite session log `posturecam history` reads.

Qt-free. Day totals come from ``SessionLog.history`` (the same sums as the CLI);
today's timeline and alerts are read with a read-only connection, so opening the
dashboard never writes to the log. A missing log is "no sessions yet"; a damaged
one raises ``SessionLogError`` with the log's own message.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from posturecam.live.sessionlog import DaySummary, SessionLog, SessionLogError, default_path

MAX_TIMELINE_ROWS = 86_400  # a day at the monitor's one row per second


@dataclass(frozen=True)
class Sample:
    at: float  # epoch seconds
    dt_s: float
    state: str
    score: float | None


@dataclass(frozen=True)
class Alert:
    at: float
    message: str
    stretches: tuple[str, ...]


@dataclass(frozen=True)
class DashboardData:
    today: DaySummary
    samples: list[Sample] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    days: list[DaySummary] = field(default_factory=list)  # the last 30, today first
    time_in: dict[str, float] = field(default_factory=dict)  # today's seconds per state
    note: str = ""  # "no sessions yet", ...

    @property
    def week(self) -> list[DaySummary]:
        return self.days[:7]


def _empty_day(day: date) -> DaySummary:
    return DaySummary(day, 0.0, 0.0, 0.0, None, 0.0, 0, 0)


def empty(now: float, note: str) -> DashboardData:
    today = datetime.fromtimestamp(now).date()
    days = [_empty_day(today - timedelta(days=k)) for k in range(30)]
    return DashboardData(days[0], days=days, note=note)


def _day_bounds(now: float) -> tuple[float, float]:
    start = datetime.combine(datetime.fromtimestamp(now).date(), datetime.min.time())
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def load(path: Path | None = None, now: float | None = None) -> DashboardData:
    """Today's samples and alerts and the last 30 days; never creates or changes the log."""
    path = Path(path) if path is not None else default_path()
    now = time.time() if now is None else now
    if not path.exists():
        return empty(now, "No sessions yet: start monitoring and this fills in.")
    with SessionLog.open(path) as log:  # checks the header and schema, as `history` does
        days = log.history(days=30, now=now)
    start, end = _day_bounds(now)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT at, dt_s, state, score FROM samples WHERE at >= ? AND at < ? "
                "ORDER BY at LIMIT ?",
                (start, end, MAX_TIMELINE_ROWS),
            ).fetchall()
            events = conn.execute(
                "SELECT at, data FROM events WHERE type = 'alert' AND at >= ? AND at < ? "
                "ORDER BY at",
                (start, end),
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise SessionLogError(
            f"could not read today's timeline from the session log {path} ({exc}); if it is "
            "damaged, move it aside and a new one will be started."
        ) from exc
    samples = [Sample(float(a), float(d or 0.0), str(s), _score(sc)) for a, d, s, sc in rows]
    time_in: dict[str, float] = {}
    for s in samples:
        time_in[s.state] = time_in.get(s.state, 0.0) + s.dt_s
    note = "" if samples else "Nothing monitored today yet."
    return DashboardData(days[0], samples, [_alert(a, d) for a, d in events], days, time_in, note)


def _score(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _alert(at: float, data: str) -> Alert:
    try:
        parsed = json.loads(data)
    except (TypeError, ValueError):
        parsed = {}
    if not isinstance(parsed, dict):
        parsed = {}
    ids = parsed.get("stretches") or []
    return Alert(
        float(at),
        str(parsed.get("message") or "slouching lasted"),
        tuple(str(i) for i in ids if isinstance(i, str)),
    )
