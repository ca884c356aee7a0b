"""A full disk during an all-day monitor (issue 11, class 8): keep watching, warn once, catch up.

The disk is full through an injected connection whose writes fail as SQLite's do
("database or disk is full"), and, where the test runs as root and may mount one, a real
1 MiB tmpfs filled to the last byte.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from test_cli import assert_error, fakes, make_folder, replay  # noqa: F401
from test_monitor import EPOCH, frames, make_monitor, profile  # noqa: F401

from posturecam.live import sessionlog
from posturecam.live.sessionlog import SessionLog, SessionLogError

FULL = "database or disk is full"


class FlakyConnection:
    """A real connection whose writes fail while ``full(now)`` says so."""

    def __init__(self, conn: sqlite3.Connection, full=lambda: False, error=None) -> None:
        self.conn = conn
        self.full = full
        self.error = error or sqlite3.OperationalError(FULL)
        self.failed = 0

    def execute(self, sql: str, *params):
        if self.full() and sql.lstrip().startswith(("INSERT", "UPDATE")):
            self.failed += 1
            raise self.error
        return self.conn.execute(sql, *params)

    def __getattr__(self, name):
        return getattr(self.conn, name)


def flaky_log(path: Path, **kwargs) -> tuple[SessionLog, FlakyConnection]:
    real = SessionLog.open(path)
    conn = FlakyConnection(real._conn, **kwargs)
    return SessionLog(conn, path), conn  # type: ignore[arg-type]


def count(log: SessionLog, table: str) -> int:
    return log._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def add(log: SessionLog, session: int, at: float) -> None:
    log.add_sample(session, at, at, 1.0, "upright", 90.0, True)


@pytest.mark.parametrize(
    "error", [sqlite3.OperationalError(FULL), OSError(28, "No space left on device")]
)
def test_writes_wait_in_memory_while_the_disk_is_full_and_catch_up(tmp_path, error):
    state = {"full": False}
    log, conn = flaky_log(tmp_path / "s.db", full=lambda: state["full"], error=error)
    session = log.start_session(EPOCH, "p", "cam", {})
    add(log, session, EPOCH)
    state["full"] = True
    for i in range(1, 30):
        add(log, session, EPOCH + i)  # no exception: the monitor goes on
    log.add_event(session, EPOCH + 30, 30.0, "alert", {"message": "sit tall"})
    assert conn.failed == 30 and log.pending == 30 and count(log, "samples") == 1
    first = log.notice()
    assert first is not None and "cannot write" in first and str(tmp_path / "s.db") in first
    assert "free some disk space" in first and log.notice() is None  # once, not per row
    state["full"] = False
    add(log, session, EPOCH + 31)
    assert log.pending == 0 and count(log, "samples") == 31 and count(log, "events") == 1
    assert log.notice() == "session log: writing again (31 kept row(s) written)"
    ats = [r[0] for r in log._conn.execute("SELECT at FROM samples ORDER BY rowid")]
    assert ats == [EPOCH + i for i in range(30)] + [EPOCH + 31]  # in order, none twice


def test_rows_kept_in_memory_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(sessionlog, "MAX_PENDING", 5)
    state = {"full": True}
    log, _ = flaky_log(tmp_path / "s.db", full=lambda: state["full"])
    state["full"] = False
    session = log.start_session(EPOCH, "p", "cam", {})
    state["full"] = True
    for i in range(20):
        add(log, session, EPOCH + i)
    assert log.pending == 5
    state["full"] = False
    add(log, session, EPOCH + 20)
    ats = [r[0] - EPOCH for r in log._conn.execute("SELECT at FROM samples ORDER BY at")]
    assert ats == [16, 17, 18, 19, 20]  # the newest 5 of 21; the oldest were dropped
    log.notice()
    assert "16 older one(s) dropped" in (log.notice() or "")


def test_a_session_that_cannot_be_closed_says_so_and_the_next_start_closes_it(tmp_path):
    state = {"full": False}
    log, _ = flaky_log(tmp_path / "s.db", full=lambda: state["full"])
    session = log.start_session(EPOCH, "p", "cam", {})
    state["full"] = True
    log.end_session(session, EPOCH + 5, "stopped", {})
    notices = [log.notice(), log.notice()]
    assert "cannot write" in notices[0] and "the next start closes it" in notices[1]
    with SessionLog.open(tmp_path / "s.db") as again:
        again.start_session(EPOCH + 10, "p", "cam", {})
        assert again._conn.execute("SELECT end_reason FROM sessions").fetchall()[0] == ("killed",)


def test_other_database_errors_still_end_with_a_clear_error(tmp_path):
    log, _ = flaky_log(
        tmp_path / "s.db", full=lambda: True, error=sqlite3.DatabaseError("disk image malformed")
    )
    with pytest.raises(SessionLogError, match="could not record a sample"):
        add(log, 1, EPOCH)
    assert log.pending == 0


def test_monitor_keeps_watching_and_nudging_through_a_full_disk(profile, tmp_path):  # noqa: F811
    """Disk full from 30 s to 60 s of a 90 s session with an alert at about 80 s."""
    clock: list[float] = []
    log, conn = flaky_log(
        tmp_path / "s.db", full=lambda: bool(clock) and EPOCH + 30 <= clock[0][0] < EPOCH + 60
    )
    monitor, capture, out, _ = make_monitor(frames(("up", 20), ("down", 70)), profile, log=log)
    clock.append(capture.clock)
    summary = monitor.run()
    text = out.getvalue()
    assert summary["end_reason"] == "source ended" and summary["alerts"] == 1
    assert "time to sit tall" in text  # the nudge still came
    assert conn.failed >= 25
    assert text.count("session log: cannot write") == 1
    assert text.count("session log: writing again") == 1
    ats = [r[0] - EPOCH for r in log._conn.execute("SELECT at FROM samples ORDER BY at")]
    assert len(ats) >= 85 and any(30 <= a < 60 for a in ats)  # the full spell caught up
    assert log._conn.execute("SELECT end_reason FROM sessions").fetchone()[0] == "source ended"


# --------------------------------------------------------------------------- a real full disk


@contextlib.contextmanager
def tiny_tmpfs(path: Path):
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as fh, contextlib.suppress(OSError):
        while fh.write(b"\0" * 4096):
            pass
    return filler


def test_a_real_full_tmpfs_then_room_again(tmp_path):
    with tiny_tmpfs(tmp_path / "disk") as disk:
        log = SessionLog.open(disk / "s.db")
        session = log.start_session(EPOCH, "p", "cam", {})
        filler = fill(disk)
        for i in range(400):
            add(log, session, EPOCH + i)
        assert log.pending > 0
        assert "cannot write" in (log.notice() or "")
        filler.unlink()
        add(log, session, EPOCH + 400)
        assert log.pending == 0 and count(log, "samples") == 401
        assert "writing again" in (log.notice() or "")
        log.close()


def test_replay_onto_a_real_full_tmpfs_keeps_the_old_run(tmp_path, fakes, capsys):  # noqa: F811
    src = make_folder(tmp_path / "session")
    with tiny_tmpfs(tmp_path / "disk") as disk:
        out = disk / "out"
        code, _, err = replay(capsys, src, out)
        assert code == 0, err
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        filler = fill(disk)
        code, _, err = replay(capsys, src, out, "--force")
        assert_error(code, err, "free some disk space")
        assert err.count("\n") == 1
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temp files left
        filler.unlink()
        code, _, err = replay(capsys, src, out, "--force")
        assert code == 0, err


def test_a_calibration_that_cannot_be_saved_is_used_and_said(tmp_path):
    """A full disk when the profile is written: the session goes on with it, and says so."""

    def full(_profile):
        raise OSError(28, "No space left on device")

    script = frames(("up", 10), rate=5) + frames(("up", 5), ("down", 70), start=10.0)
    with SessionLog.open(tmp_path / "s.db") as log:
        monitor, _, out, _ = make_monitor(script, None, log=log)
        monitor.keeper.save_profile = full
        summary = monitor.run()
    text = out.getvalue()
    assert summary["end_reason"] == "source ended" and summary["alerts"] == 1
    assert "could not save the profile (No space left on device)" in text
    assert "this session uses the new calibration" in text and "free some disk space" in text
