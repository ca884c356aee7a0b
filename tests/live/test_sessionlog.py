"""The SQLite session log: schema, round trips, day arithmetic, refusing bad files, kill -9."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from posturecam.errors import PosturecamError
from posturecam.live.history import format_history
from posturecam.live.sessionfile import _SCHEMA, SCHEMA_VERSION
from posturecam.live.sessionlog import (
    DaySummary,
    SessionLog,
    SessionLogError,
    default_path,
)
from posturecam.text import format_duration

ROOT = Path(__file__).resolve().parents[2]
POSIX_ONLY = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


@pytest.fixture
def berlin():
    """A fixed local time zone with DST, so calendar days are the same on every machine."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset")
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def log():
    with SessionLog.open() as opened:
        yield opened


def at(*args: int, second: float = 0.0) -> float:
    """Epoch seconds of a local wall-clock time."""
    return datetime(*args).timestamp() + second


def add_run(log: SessionLog, sid: int, start: float, runs: list[tuple[str, int, float]]) -> float:
    """Samples in order: ``(state, count, dt_s)``; each sample's ``at`` ends the time it covers."""
    t = start
    for state, count, dt in runs:
        for _ in range(count):
            t += dt
            log.add_sample(sid, t, t - start, dt, state, 50.0, state != "away", "")
    return t


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class Lines:
    """A child's stdout lines, gathered by a thread so that waiting for them can time out."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.queue.put(line)
        self.queue.put(None)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[str]:
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while len(lines) < count:
            try:
                line = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.proc.kill()
                pytest.fail(f"child printed only {lines} in {timeout} s")
            if line is None:
                pytest.fail(f"child exited early: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            lines.append(line)
        return lines

    def rest(self) -> list[str]:
        """Every line after the process ended (complete lines only)."""
        self.thread.join(timeout=10)
        out = []
        while (line := self.queue.get_nowait()) is not None:
            out.append(line)
        return [line for line in out if line.endswith("\n")]


# ---------------------------------------------------------------------- schema


def test_default_path_is_in_the_data_dir(_isolated_home):
    assert default_path() == Path(_isolated_home) / "sessions.sqlite3"


def test_schema_wal_and_version(log):
    con = raw(log.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    columns = {
        table: [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
        for table in ("sessions", "samples", "events")
    }
    assert columns == {
        "sessions": [
            "id",
            "started_at",
            "ended_at",
            "end_reason",
            "profile",
            "source",
            "settings",
            "summary",
        ],
        "samples": [
            "session_id",
            "at",
            "t_s",
            "dt_s",
            "state",
            "score",
            "present",
            "issues",
            "carried",
        ],
        "events": ["session_id", "at", "t_s", "type", "data"],
    }
    indexed = {
        (table, con.execute(f"PRAGMA index_info({name})").fetchone()[2])
        for table in ("samples", "events")
        for _, name, *_ in con.execute(f"PRAGMA index_list({table})")
    }
    assert ("samples", "at") in indexed and ("events", "at") in indexed
    # The connection itself runs with a busy timeout and synchronous=NORMAL (1).
    assert log._conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert log._conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    con.close()


def test_reopening_keeps_data(tmp_path):
    path = tmp_path / "deep" / "log.sqlite3"
    with SessionLog.open(path) as log:
        sid = log.start_session(100.0, "laptop", "camera 0", {"rate": 2})
        log.add_sample(sid, 101.0, 1.0, 1.0, "upright", 90.0, True)
    with SessionLog.open(path) as log:
        assert log.history(1, now=101.0)[0].upright_s == 1.0


# ---------------------------------------------------------------------- round trips


def test_samples_events_and_sessions_round_trip(log):
    sid = log.start_session(1000.0, "laptop", "camera 0", {"options": {"rate_hz": 2.0}})
    log.add_sample(sid, 1001.0, 0.5, 1.0, "upright", 91.25, True, "", carried=True)
    log.add_sample(sid, 1002.0, float("nan"), 1.0, "away", None, False, "", carried=False)
    log.add_sample(sid, 1003.0, 2.5, 1.0, "slouching", float("nan"), None, "head_drop;lean_in")
    log.add_event(sid, 1003.5, 3.0, "alert", {"issue": "head_drop", "held_s": 90.0})
    log.end_session(sid, 1004.0, "stopped", {"alerts": 1, "share_upright": 0.5})

    con = raw(log.path)
    assert con.execute("SELECT * FROM samples ORDER BY at").fetchall() == [
        (sid, 1001.0, 0.5, 1.0, "upright", 91.25, 1, "", 1),
        (sid, 1002.0, None, 1.0, "away", None, 0, "", 0),
        (sid, 1003.0, 2.5, 1.0, "slouching", None, None, "head_drop;lean_in", None),
    ]
    (event,) = con.execute("SELECT session_id, at, t_s, type, data FROM events").fetchall()
    assert event[:4] == (sid, 1003.5, 3.0, "alert")
    assert json.loads(event[4]) == {"issue": "head_drop", "held_s": 90.0}
    row = con.execute("SELECT * FROM sessions").fetchone()
    assert row[:6] == (sid, 1000.0, 1004.0, "stopped", "laptop", "camera 0")
    assert json.loads(row[6]) == {"options": {"rate_hz": 2.0}}
    assert json.loads(row[7]) == {"alerts": 1, "share_upright": 0.5}
    con.close()


def test_each_add_is_committed_for_other_readers(log):
    sid = log.start_session(1000.0, "", "", {})
    log.add_sample(sid, 1001.0, 1.0, 1.0, "upright", 80.0, True)
    log.add_event(sid, 1001.0, 1.0, "alert", {})
    con = raw(log.path)  # a separate connection sees only committed rows
    assert con.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 1
    assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    con.close()


def test_unknown_state_is_a_programming_error(log):
    sid = log.start_session(1000.0, "", "", {})
    with pytest.raises(ValueError, match="unknown sample state 'slouched'"):
        log.add_sample(sid, 1001.0, 1.0, 1.0, "slouched", 80.0, True)


def build_week(log: SessionLog) -> None:
    # Friday 15 March 2024: two sessions.
    a = log.start_session(at(2024, 3, 15, 9), "laptop", "camera 0", {})
    add_run(
        log,
        a,
        at(2024, 3, 15, 9),
        [
            ("upright", 10, 60.0),
            ("drifting", 2, 60.0),
            ("slouching", 5, 60.0),
            ("alert", 1, 60.0),
            ("away", 2, 100.0),
            ("undecided", 1, 100.0),
            ("paused", 3, 300.0),
            ("snoozed", 1, 300.0),
            ("no_camera", 1, 50.0),
        ],
    )
    for minute, kind in ((16, "alert"), (20, "alert"), (25, "break"), (26, "state")):
        log.add_event(a, at(2024, 3, 15, 9, minute), minute * 60.0, kind, {})
    log.end_session(a, at(2024, 3, 15, 10), "stopped", {})
    b = log.start_session(at(2024, 3, 15, 14), "laptop", "camera 0", {})
    add_run(
        log,
        b,
        at(2024, 3, 15, 14),
        [("upright", 4, 100.0), ("slouching", 1, 100.0), ("alert", 1, 20.0)],
    )
    log.add_event(b, at(2024, 3, 15, 14, 9), 540.0, "alert", {})
    log.end_session(b, at(2024, 3, 15, 15), "stopped", {})

    # Tuesday 12 -> Wednesday 13 March: one session across midnight.
    c = log.start_session(at(2024, 3, 12, 23, 58), "laptop", "camera 0", {})
    log.add_sample(c, at(2024, 3, 12, 23, 59), 60.0, 60.0, "upright", 90.0, True)
    log.add_sample(c, at(2024, 3, 12, 23, 59, 59, second=0.9), 120.0, 60.0, "slouching", 40.0, True)
    log.add_sample(c, at(2024, 3, 13, 0, 0), 120.1, 60.0, "upright", 90.0, True)
    log.add_event(c, at(2024, 3, 13, 0, 0, 30), 150.0, "alert", {})
    log.end_session(c, at(2024, 3, 13, 0, 1), "stopped", {})

    # Friday 8 March, seconds before midnight (outside 7 days), and just after it (inside).
    d = log.start_session(at(2024, 3, 8, 23, 59, 50), "laptop", "camera 0", {})
    log.add_sample(d, at(2024, 3, 8, 23, 59, 55), 5.0, 5.0, "upright", 90.0, True)
    log.add_sample(d, at(2024, 3, 9, 0, 0, 5), 15.0, 10.0, "upright", 90.0, True)
    log.end_session(d, at(2024, 3, 9, 0, 0, 6), "stopped", {})


def test_history_arithmetic_on_a_hand_built_week(berlin, log):
    build_week(log)
    days = log.history(7, now=at(2024, 3, 15, 18))

    assert [d.date for d in days] == [date(2024, 3, n) for n in (15, 14, 13, 12, 11, 10, 9)]
    today = days[0]
    # upright 600+400, drifting 120, slouching 300+100, alert 60+20, away 200, undecided 100;
    # paused, snoozed and no_camera are not monitored.
    assert today == DaySummary(
        date=date(2024, 3, 15),
        monitored_s=1900.0,
        judged_s=1600.0,
        upright_s=1000.0,
        share_upright=0.625,
        slouched_s=480.0,
        alerts=3,
        sessions=2,
    )
    assert days[3] == DaySummary(date(2024, 3, 12), 120.0, 120.0, 60.0, 0.5, 60.0, 0, 1)
    assert days[2] == DaySummary(date(2024, 3, 13), 60.0, 60.0, 60.0, 1.0, 0.0, 1, 1)
    assert days[6] == DaySummary(date(2024, 3, 9), 10.0, 10.0, 10.0, 1.0, 0.0, 0, 1)
    for empty in (days[1], days[4], days[5]):
        assert empty == DaySummary(empty.date, 0.0, 0.0, 0.0, None, 0.0, 0, 0)

    eight = log.history(8, now=at(2024, 3, 15, 18))
    assert eight[-1] == DaySummary(date(2024, 3, 8), 5.0, 5.0, 5.0, 1.0, 0.0, 0, 1)
    assert eight[:7] == days


def test_history_follows_local_days_across_dst(berlin, log):
    # In Berlin, 31 March 2024 has 23 hours; a fixed 86400 s day would misplace these.
    sid = log.start_session(at(2024, 3, 30, 23), "", "", {})
    log.add_sample(sid, at(2024, 3, 30, 23, 30), 1.0, 7.0, "upright", 90.0, True)
    log.add_sample(sid, at(2024, 3, 31, 0, 30), 2.0, 11.0, "upright", 90.0, True)
    log.add_sample(sid, at(2024, 3, 31, 23, 30), 3.0, 13.0, "upright", 90.0, True)
    log.add_sample(sid, at(2024, 4, 1, 0, 30), 4.0, 17.0, "upright", 90.0, True)

    days = log.history(2, now=at(2024, 3, 31, 12))
    assert [(d.date, d.upright_s) for d in days] == [
        (date(2024, 3, 31), 24.0),
        (date(2024, 3, 30), 7.0),
    ]
    assert log.history(1, now=at(2024, 4, 1, 9))[0].upright_s == 17.0


def test_history_of_an_empty_log_is_zeros(log):
    days = log.history()
    assert len(days) == 7
    assert days[0].date == date.today()
    assert all(d.monitored_s == 0 and d.share_upright is None for d in days)
    with pytest.raises(ValueError):
        log.history(0)


def test_format_history_table(berlin, log):
    build_week(log)
    text = format_history(log.history(7, now=at(2024, 3, 15, 18)))
    lines = text.splitlines()
    assert lines[0].split() == ["day", "monitored", "upright", "slouched", "alerts", "sessions"]
    assert lines[1].split() == ["today", "32m", "62%", "8m", "3", "2"]
    assert lines[2].split() == ["Thu", "14", "Mar", "0s", "-", "0s", "0", "0"]
    assert lines[-2].strip("-") == ""
    # 1900 + 60 + 120 + 10 = 2090 s monitored; upright 1130 of 1790 s judged; slouched 540 s.
    assert lines[-1].split() == ["7", "days", "35m", "63%", "9m", "4", "5"]
    table = [line for i, line in enumerate(lines) if i != len(lines) - 2]
    assert len({len(line) for line in table}) == 1, text  # right-aligned columns


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (40.4, "40s"), (59.6, "1m"), (720, "12m"), (3600, "1h00m"), (7500, "2h05m")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


# ---------------------------------------------------------------------- killed sessions


def test_a_killed_session_is_closed_on_the_next_start(tmp_path):
    path = tmp_path / "log.sqlite3"
    with SessionLog.open(path) as log:
        done = log.start_session(100.0, "", "", {})
        log.add_sample(done, 101.0, 1.0, 1.0, "upright", 90.0, True)
        log.end_session(done, 150.0, "stopped", {"ok": True})
        killed = log.start_session(200.0, "", "", {})
        log.add_sample(killed, 201.0, 1.0, 1.0, "upright", 90.0, True)
        log.add_sample(killed, 202.0, 2.0, 1.0, "upright", 90.0, True)
        log.add_event(killed, 202.5, 2.5, "alert", {})
        empty = log.start_session(300.0, "", "", {})
    # ... the process died here: nothing ended the last two sessions.
    with SessionLog.open(path) as log:
        fresh = log.start_session(400.0, "", "", {})
    con = raw(path)
    rows = con.execute("SELECT id, ended_at, end_reason, summary FROM sessions ORDER BY id")
    assert rows.fetchall() == [
        (done, 150.0, "stopped", '{"ok": true}'),
        (killed, 202.5, "killed", None),
        (empty, 300.0, "killed", None),
        (fresh, None, None, None),
    ]
    con.close()


# ---------------------------------------------------------------------- refusing files


def test_a_file_that_is_not_a_database_is_left_alone(tmp_path):
    path = tmp_path / "sessions.sqlite3"
    content = b"my notes, not a database\n" * 40
    path.write_bytes(content)
    with pytest.raises(SessionLogError, match="move it aside") as info:
        SessionLog.open(path)
    assert isinstance(info.value, PosturecamError)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sessions.sqlite3"]


def test_a_log_from_a_newer_posturecam_is_left_alone(tmp_path):
    path = tmp_path / "sessions.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE future (x)")
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    content = path.read_bytes()
    with pytest.raises(SessionLogError, match="newer posturecam"):
        SessionLog.open(path)
    assert path.read_bytes() == content
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    con.close()


def test_a_folder_that_cannot_be_made_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(SessionLogError, match="POSTURECAM_HOME"):
        SessionLog.open(blocker / "sessions.sqlite3")


# ---------------------------------------------------------------------- processes

WRITER = """
import sys, time
from pathlib import Path
from posturecam.live.sessionlog import SessionLog
log = SessionLog.open(Path(sys.argv[1]))
sid = log.start_session(time.time(), "laptop", "camera 0", {})
pause = float(sys.argv[2])
i = 0
while True:
    log.add_sample(sid, 1000.0 + i, float(i), 1.0, "upright", 90.0, True, "")
    print(i, flush=True)
    i += 1
    if pause:
        time.sleep(pause)
"""


@POSIX_ONLY
def test_committed_samples_survive_kill_9(tmp_path):
    path = tmp_path / "sessions.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    lines = Lines(proc)
    try:
        first = lines.wait_for(20)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    # Everything the child printed (before and after the 20th) was committed first.
    reported = {int(line) for line in first + lines.rest()}
    assert reported >= set(range(20))
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {int(t) for (t,) in con.execute("SELECT t_s FROM samples")}
    con.close()
    assert reported <= stored
    with SessionLog.open(path) as log:  # and the next start closes the killed session
        log.start_session(time.time(), "", "", {})
        assert log._conn.execute("SELECT end_reason FROM sessions WHERE id = 1").fetchone() == (
            "killed",
        )


@POSIX_ONLY
def test_history_reads_while_another_process_writes(tmp_path):
    path = tmp_path / "sessions.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "0"],  # as fast as it can commit
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    lines = Lines(proc)
    try:
        lines.wait_for(1)
        seen = []
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            with SessionLog.open(path) as reader:
                days = reader.history(7, now=1000.0)
            seen.append(sum(d.upright_s for d in days))
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert len(seen) > 5
    assert seen == sorted(seen)  # a growing, consistent count


def test_a_version_1_log_is_upgraded_in_place_and_keeps_its_rows(tmp_path):
    """Logs from before change gating gain samples.carried; their rows say NULL (unknown)."""
    path = tmp_path / "sessions.sqlite3"
    con = sqlite3.connect(path)
    old_schema = _SCHEMA.replace(",\n    carried INTEGER\n", "\n")
    assert "carried" not in old_schema
    con.executescript(old_schema)
    con.execute("INSERT INTO sessions (started_at) VALUES (1.0)")
    con.execute(
        "INSERT INTO samples (session_id, at, t_s, dt_s, state) "
        "VALUES (1, 2.0, 0.0, 1.0, 'upright')"
    )
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    with SessionLog.open(path) as log:
        log.add_sample(1, 3.0, 1.0, 1.0, "upright", 90.0, True, "", carried=True)
    con = raw(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    rows = con.execute("SELECT at, state, carried FROM samples ORDER BY at").fetchall()
    assert rows == [(2.0, "upright", None), (3.0, "upright", 1)]
