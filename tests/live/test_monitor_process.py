"""The monitor as a process: signals, control from another process, kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

CHILD = Path(__file__).resolve().parents[1] / "monitor_child.py"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class Child:
    def __init__(self, home: Path) -> None:
        env = {**os.environ, "POSTURECAM_HOME": str(home)}
        self.env = env
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, count: int = 1, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if sum(text in line for line in self.lines) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {text!r} x{count} in child output:\n" + "\n".join(self.lines))

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "posturecam", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def finish(self, timeout: float = 30.0) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code


def db_rows(home: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(home / "sessions.sqlite3")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def wait_for_samples(home: Path, n: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if (home / "sessions.sqlite3").exists():
            try:
                if db_rows(home, "SELECT count(*) FROM samples")[0][0] >= n:
                    return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"fewer than {n} samples logged")


@pytest.mark.parametrize(
    ("sig", "reason"), [(signal.SIGTERM, "terminated"), (signal.SIGINT, "interrupted")]
)
def test_signal_shuts_down_cleanly(tmp_path, sig, reason):
    child = Child(tmp_path)
    child.wait_for("camera started")
    wait_for_samples(tmp_path, 2)
    child.proc.send_signal(sig)
    assert child.finish() == 0
    out = "\n".join(child.lines)
    assert "camera released" in out and "monitor exited cleanly" in out
    assert "session " in out and "upright" in out  # the session summary
    assert "heavy modules: none" in out
    assert "after about 2 minutes of learning how you sit today" in out
    assert "Traceback" not in out
    ((ended, why),) = db_rows(tmp_path, "SELECT ended_at, end_reason FROM sessions")
    assert ended is not None and why == reason


def test_pause_snooze_resume_from_another_process(tmp_path):
    child = Child(tmp_path)
    try:
        child.wait_for("camera started")
        said = child.cli("pause")
        assert "paused" in said and f"pid {child.proc.pid}" in said
        child.wait_for("camera released")
        time.sleep(1.5)  # paused long enough to be logged (one row a second)
        said = child.cli("resume")
        child.wait_for("camera started", count=2)
        said = child.cli("snooze", "10m")
        assert "snoozed until" in said
        child.wait_for("camera released", count=2)
        child.cli("resume")
        child.wait_for("camera started", count=3)
        wait_for_samples(tmp_path, 3)
        states = {r[0] for r in db_rows(tmp_path, "SELECT state FROM samples")}
        assert {"paused", "upright"} <= states
    finally:
        child.proc.send_signal(signal.SIGTERM)
        assert child.finish() == 0


def test_a_second_monitor_is_refused_while_one_runs(tmp_path):
    child = Child(tmp_path)
    try:
        child.wait_for("camera started")
        second = subprocess.run(
            [sys.executable, str(CHILD)], env=child.env, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert second.returncode != 0
        assert "already running" in second.stdout + second.stderr
    finally:
        child.proc.send_signal(signal.SIGTERM)
        assert child.finish() == 0


def test_kill_9_keeps_the_log_intact_and_the_next_start_closes_the_session(tmp_path):
    child = Child(tmp_path)
    child.wait_for("camera started")
    wait_for_samples(tmp_path, 3)
    time.sleep(1.0)
    before_kill = time.time()
    child.proc.kill()
    child.finish()
    assert db_rows(tmp_path, "PRAGMA integrity_check") == [("ok",)]
    last = db_rows(tmp_path, "SELECT max(at), count(*) FROM samples")[0]
    assert last[1] >= 3
    assert before_kill - last[0] < 1.5  # at most about the last second is lost
    assert db_rows(tmp_path, "SELECT ended_at FROM sessions") == [(None,)]
    # The next monitor closes the killed session.
    child = Child(tmp_path)
    child.wait_for("camera started")
    child.proc.send_signal(signal.SIGTERM)
    assert child.finish() == 0
    rows = db_rows(tmp_path, "SELECT end_reason FROM sessions ORDER BY id")
    assert rows == [("killed",), ("terminated",)]
