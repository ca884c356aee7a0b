"""The session log: one SQLite file recording what the live monitor saw, second by second.

Storage only: `posturecam history` phrases what it reads (posturecam.live.history).

Why SQLite in WAL mode: the monitor commits a row every second for hours, `posturecam history`
reads from another process at the same time, and a ``kill -9`` (or a power cut) must lose at most
the row being written. WAL with ``synchronous=NORMAL`` makes a commit an append to the -wal file
(no fsync per commit), readers never block the writer, and a committed row survives the process
being killed (only a power cut can lose the last commits, never corrupt the file).

One writer: the monitor holds ``control.monitor_lock`` and uses its ``SessionLog`` from one thread
at a time (the connection is opened with ``check_same_thread=False`` only so that the thread that
opens it need not be the one that runs the loop; it is not safe for concurrent use). Readers
(`posturecam history`) open their own ``SessionLog``.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import TracebackType

from posturecam.core.temporal import UPRIGHT
from posturecam.live.sessionfile import SessionLogError, connect, transaction
from posturecam.live.states import JUDGED, NOT_MONITORED, SLOUCHED, STATES

FILE_NAME = "sessions.sqlite3"


def _in(states: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{s}'" for s in states) + ")"


# One aggregate over samples, shared by the day and the session totals.
_TOTALS_SQL = f"""
SELECT
    COALESCE(SUM(CASE WHEN state NOT IN {_in(NOT_MONITORED)} THEN dt_s END), 0.0),
    COALESCE(SUM(CASE WHEN state IN {_in(JUDGED)} THEN dt_s END), 0.0),
    COALESCE(SUM(CASE WHEN state = '{UPRIGHT}' THEN dt_s END), 0.0),
    COALESCE(SUM(CASE WHEN state IN {_in(SLOUCHED)} THEN dt_s END), 0.0)
FROM samples
"""


MAX_HISTORY_DAYS = 3660  # about 10 years; far beyond it the calendar itself runs out
# Rows kept in memory while the log cannot be written (a full disk): two hours at one a
# second, about 1 MB; beyond that the oldest go, so an all-day monitor stays small.
MAX_PENDING = 7200
# What a full or failing disk raises; other sqlite3 errors are bugs or a damaged file.
_TRANSIENT = (sqlite3.OperationalError, OSError)


def default_path() -> Path:
    """``sessions.sqlite3`` in the user data folder (honours $POSTURECAM_HOME)."""
    # Imported here: profiles pulls in numpy, and `posturecam history` should start fast.
    from posturecam.paths import data_dir

    return data_dir() / FILE_NAME


@dataclass(frozen=True)
class DaySummary:
    """One local calendar day; seconds are sums of the samples' ``dt_s``."""

    date: date
    monitored_s: float
    judged_s: float
    upright_s: float
    share_upright: float | None  # upright_s / judged_s; None when nothing was judged
    slouched_s: float
    alerts: int
    sessions: int


def upright_share(upright_s: float, judged_s: float) -> float | None:
    """upright_s / judged_s; None when nothing was judged."""
    return upright_s / judged_s if judged_s > 0 else None


def _real(value: float | None) -> float | None:
    """NaN means "not known": store it as NULL (SQLite would anyway, silently)."""
    if value is None or math.isnan(value):
        return None
    return float(value)


def _day_start(day: date) -> float:
    """Epoch seconds of local midnight (DST-aware through the local time zone)."""
    return datetime.combine(day, time()).timestamp()


class SessionLog:
    """Open with ``SessionLog.open()``; a context manager that closes the connection."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        # Samples and events not written yet (the disk was full): retried with the next row.
        self._pending: deque[tuple[str, tuple]] = deque(maxlen=MAX_PENDING)
        self._dropped = 0
        self._failing = False
        self._notices: deque[str] = deque()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path | None = None) -> SessionLog:
        """Open or create the log; never changes a file it refuses to use."""
        path = Path(path) if path is not None else default_path()
        return cls(connect(path), path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def start_session(self, started_at: float, profile: str, source: str, settings: dict) -> int:
        """A new session; first closes sessions a killed monitor left open (end_reason "killed").

        Only the monitor holding ``control.monitor_lock`` calls this, so an open session found
        here cannot belong to a live process.
        """
        with self._writing("start a session"), transaction(self._conn, "BEGIN IMMEDIATE"):
            self._conn.execute(
                """
                UPDATE sessions SET end_reason = 'killed', ended_at = MAX(started_at,
                    COALESCE((SELECT MAX(at) FROM samples WHERE session_id = sessions.id),
                             started_at),
                    COALESCE((SELECT MAX(at) FROM events WHERE session_id = sessions.id),
                             started_at))
                WHERE ended_at IS NULL
                """
            )
            cursor = self._conn.execute(
                "INSERT INTO sessions (started_at, profile, source, settings) VALUES (?, ?, ?, ?)",
                (float(started_at), profile, source, json.dumps(settings, sort_keys=True)),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def add_sample(
        self,
        session_id: int,
        at: float,
        t_s: float | None,
        dt_s: float,
        state: str,
        score: float | None,
        present: bool | None,
        issues: str = "",
        carried: bool | None = None,
    ) -> None:
        """One row (the monitor writes one a second), committed before returning.

        ``carried``: the frame reused the last landmarks (None: no frame, or unknown).
        """
        if state not in STATES:
            raise ValueError(f"unknown sample state {state!r}; expected one of {STATES}")
        self._add(
            "INSERT INTO samples "
            "(session_id, at, t_s, dt_s, state, score, present, issues, carried) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session_id,
                float(at),
                _real(t_s),
                _real(dt_s) or 0.0,
                state,
                _real(score),
                None if present is None else int(bool(present)),
                issues,
                None if carried is None else int(bool(carried)),
            ),
            "record a sample",
        )

    def add_event(
        self, session_id: int, at: float, t_s: float | None, type: str, data: dict
    ) -> None:
        """One event (alert, break, away, back, ...), committed before returning."""
        self._add(
            "INSERT INTO events (session_id, at, t_s, type, data) VALUES (?, ?, ?, ?, ?)",
            (session_id, float(at), _real(t_s), type, json.dumps(data, default=str)),
            "record an event",
        )

    def end_session(self, session_id: int, ended_at: float, reason: str, summary: dict) -> None:
        """Close the session; if the disk is still full it stays open (the next start closes
        it as killed) and ``notice`` says so."""
        row = (float(ended_at), reason, json.dumps(summary, default=str), session_id)
        self._add(
            "UPDATE sessions SET ended_at = ?, end_reason = ?, summary = ? WHERE id = ?",
            row,
            "end the session",
        )
        if self._pending:
            self._notices.append(
                f"session log: {len(self._pending)} row(s) of this session could not be "
                f"written to {self.path}; free some disk space (the next start closes it)"
            )

    def notice(self) -> str | None:
        """A line for the user, once, when logging stops (disk full) or starts again."""
        return self._notices.popleft() if self._notices else None

    @property
    def pending(self) -> int:
        """Rows waiting in memory for the disk to have room."""
        return len(self._pending)

    def _add(self, sql: str, params: tuple, what: str) -> None:
        """Write this row and any kept ones in one transaction; keep them if the disk fails.

        A full disk must not end an all-day monitor: the rows wait (at most MAX_PENDING,
        oldest dropped first) and go in with a later write once there is room.
        """
        if len(self._pending) == MAX_PENDING:
            self._dropped += 1
        self._pending.append((sql, params))
        try:
            with self._writing(what), transaction(self._conn, "BEGIN IMMEDIATE"):
                for statement, values in self._pending:
                    self._conn.execute(statement, values)
        except SessionLogError as exc:
            if not isinstance(exc.__cause__, _TRANSIENT):
                self._pending.clear()  # not the disk: a retry would fail the same way
                raise
            self._failed(exc.__cause__)
            return
        except OSError as exc:
            self._failed(exc)
            return
        kept, dropped = len(self._pending), self._dropped
        self._pending.clear()
        if self._failing:
            self._failing, self._dropped = False, 0
            lost = f", {dropped} older one(s) dropped" if dropped else ""
            self._notices.append(f"session log: writing again ({kept} kept row(s) written{lost})")

    def _failed(self, exc: BaseException) -> None:
        if not self._failing:
            self._failing = True
            self._notices.append(
                f"session log: cannot write {self.path} ({exc}); still watching, and the "
                "log catches up when there is room again (free some disk space)"
            )

    # ------------------------------------------------------------------ reading

    def history(self, days: int = 7, now: float | None = None) -> list[DaySummary]:
        """The last ``days`` local calendar days, today first; days without data are zeros.

        ``days=7`` is today and the six days before it. A sample counts on the day of its
        ``at`` (a sample spanning midnight is not split).
        """
        if days < 1:
            raise ValueError("history needs at least one day")
        if days > MAX_HISTORY_DAYS:
            raise SessionLogError(
                f"history covers at most {MAX_HISTORY_DAYS} days (about 10 years), not {days}"
            )
        today = datetime.fromtimestamp(now if now is not None else datetime.now().timestamp())
        out = []
        with self._reading("read the history"), transaction(self._conn):
            for back in range(days):
                day = today.date() - timedelta(days=back)
                out.append(self._day(day))
        return out

    def _day(self, day: date) -> DaySummary:
        start, end = _day_start(day), _day_start(day + timedelta(days=1))
        monitored, judged, upright, slouched = self._conn.execute(
            _TOTALS_SQL + " WHERE at >= ? AND at < ?", (start, end)
        ).fetchone()
        alerts = self._conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'alert' AND at >= ? AND at < ?",
            (start, end),
        ).fetchone()[0]
        sessions = self._conn.execute(
            """
            SELECT COUNT(*) FROM (
                SELECT session_id FROM samples WHERE at >= ? AND at < ?
                UNION SELECT id FROM sessions WHERE started_at >= ? AND started_at < ?
            )
            """,
            (start, end, start, end),
        ).fetchone()[0]
        return DaySummary(
            date=day,
            monitored_s=monitored,
            judged_s=judged,
            upright_s=upright,
            share_upright=upright_share(upright, judged),
            slouched_s=slouched,
            alerts=alerts,
            sessions=sessions,
        )

    # ------------------------------------------------------------------ helpers

    def _writing(self, what: str) -> contextlib.AbstractContextManager[None]:
        return _errors(
            f"could not {what} in the session log {self.path} ({{exc}}); check free disk "
            "space and that the folder is writable."
        )

    def _reading(self, what: str) -> contextlib.AbstractContextManager[None]:
        return _errors(
            f"could not {what} from the session log {self.path} ({{exc}}); if it is "
            "damaged, move it aside and a new one will be started."
        )


@contextlib.contextmanager
def _errors(template: str) -> Iterator[None]:
    """Turn sqlite3 errors into a SessionLogError whose message says what to do."""
    try:
        yield
    except sqlite3.Error as exc:
        raise SessionLogError(template.format(exc=exc)) from exc
