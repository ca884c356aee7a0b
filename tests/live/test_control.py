"""Pause/snooze/resume through control.json, the watcher the monitor polls, the monitor lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posturecam.errors import PosturecamError
from posturecam.live import control
from posturecam.live.control import Control, ControlError, ControlWatcher, parse_duration

ROOT = Path(__file__).resolve().parents[2]
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")


def child_env() -> dict[str, str]:
    """The same POSTURECAM_HOME as this test (conftest sets it in os.environ)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_child(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=30
    )


def start_child(code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# ---------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("1h", 3600),
        ("90s", 90),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("45", 2700),  # a bare number is minutes
        ("1.5h", 5400),
        (" 30 MIN ", 1800),
        ("2 hours", 7200),
        ("1m30s", 90),
        ("24h", 86400),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "  ", "h", "0", "0m", "-5", "25h", "24h1s", "1d", "abc", "30ms", "nan", "1e3"]
)
def test_parse_duration_rejects(text):
    with pytest.raises(ControlError, match="snooze takes a duration like 30m, 1h or 90s"):
        parse_duration(text)


def test_control_error_is_a_posturecam_error():
    assert issubclass(ControlError, PosturecamError)


# ---------------------------------------------------------------------- the file


def test_control_path_is_in_the_data_dir(_isolated_home):
    assert control.control_path() == Path(_isolated_home) / "control.json"
    assert control.read() == Control()  # no file: watch


def test_pause_resume_snooze_round_trip():
    assert control.pause(now=1000.0) == Control(paused=True)
    assert control.read() == Control(paused=True)
    data = json.loads(control.control_path().read_text())
    assert data == {"paused": True, "snooze_until": None, "updated": 1000.0}

    assert control.resume(now=1001.0) == Control()
    assert control.read() == Control()
    assert control.read().mode(1001.0) is None

    snoozed = control.snooze(1800, now=2000.0)
    assert snoozed == Control(paused=False, snooze_until=3800.0)
    assert control.read() == snoozed
    assert json.loads(control.control_path().read_text())["updated"] == 2000.0


def test_snooze_replaces_a_pause_and_pause_replaces_a_snooze():
    control.pause(now=0.0)
    assert control.snooze(60, now=10.0) == Control(snooze_until=70.0)
    assert control.pause(now=20.0) == Control(paused=True)
    assert control.read().snooze_until is None


@pytest.mark.parametrize(("now", "mode"), [(0.0, "snoozed"), (99.9, "snoozed"), (100.0, None)])
def test_mode_before_and_after_the_snooze_ends(now, mode):
    assert Control(snooze_until=100.0).mode(now) == mode


def test_pause_wins_over_snooze():
    assert Control(paused=True, snooze_until=100.0).mode(50.0) == "paused"
    assert Control(paused=True, snooze_until=100.0).mode(500.0) == "paused"
    assert Control().mode(0.0) is None


@pytest.mark.parametrize("seconds", [0, -5, float("nan"), float("inf"), 86401])
def test_snooze_refuses_silly_durations(seconds):
    with pytest.raises(ControlError):
        control.snooze(seconds, now=0.0)
    assert not control.control_path().exists()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[1, 2]",
        '{"paused": "yes", "snooze_until": "later"}',
        '{"paused": 1, "snooze_until": true}',
        "\xff\xfe garbage",
    ],
)
def test_a_corrupt_file_reads_as_watching_and_is_replaced(content):
    path = control.control_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="latin-1")
    assert control.read() == Control()
    assert ControlWatcher().current() == Control()
    control.pause(now=5.0)
    assert json.loads(path.read_text()) == {"paused": True, "snooze_until": None, "updated": 5.0}
    assert control.read() == Control(paused=True)


def test_describe():
    assert control.describe(Control(), now=0.0) == "watching"
    assert "posturecam resume" in control.describe(Control(paused=True), now=0.0)
    assert control.describe(Control(snooze_until=100.0), now=0.0).startswith("snoozed until ")
    assert control.describe(Control(snooze_until=100.0), now=200.0) == "watching"


# ---------------------------------------------------------------------- the watcher


def test_watcher_reads_only_when_the_file_changes(monkeypatch):
    calls = []
    real_read = control.read

    def counting_read(path=None):
        calls.append(path)
        return real_read(path)

    monkeypatch.setattr(control, "read", counting_read)
    watcher = ControlWatcher()
    assert watcher.current() == Control()
    assert calls == []  # no file: not even an open
    control.pause(now=1.0)
    for _ in range(50):
        assert watcher.current() == Control(paused=True)
    assert len(calls) == 1
    # Two writes between polls; the last has the same size as the one already seen, and the
    # watcher still notices (a new file, a new mtime).
    control.resume(now=2.0)
    control.pause(now=3.0)
    assert watcher.current() == Control(paused=True)
    assert len(calls) == 2
    control.control_path().unlink()
    assert watcher.current() == Control()


def test_a_write_by_another_process_is_seen():
    watcher = ControlWatcher()
    assert watcher.current().mode(time.time()) is None
    done = run_child("from posturecam.live import control; control.pause()")
    assert done.returncode == 0, done.stderr
    assert watcher.current().mode(time.time()) == "paused"
    done = run_child("from posturecam.live import control; control.snooze(600)")
    assert done.returncode == 0, done.stderr
    assert watcher.current().mode(time.time()) == "snoozed"
    done = run_child("from posturecam.live import control; control.resume()")
    assert done.returncode == 0, done.stderr
    assert watcher.current().mode(time.time()) is None


# ---------------------------------------------------------------------- the monitor lock

HOLDER = """
import sys
from posturecam.live import control
with control.monitor_lock():
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_lock_in_this_process():
    assert control.running_monitor() is None  # no lock file yet
    with control.monitor_lock():
        assert control.running_monitor() == os.getpid()
        match = f"already running \\(pid {os.getpid()}\\)"
        with pytest.raises(ControlError, match=match), control.monitor_lock():
            pass
    assert control.running_monitor() is None
    with control.monitor_lock():  # and it can be taken again
        pass


def test_lock_held_by_another_process():
    child = start_child(HOLDER)
    try:
        assert child.stdout is not None and child.stdout.readline() == "locked\n", child.stderr
        assert control.running_monitor() == child.pid
        with pytest.raises(ControlError) as info, control.monitor_lock():
            pass
        assert str(info.value) == (
            f"another posturecam monitor is already running (pid {child.pid}); "
            "stop it or use `posturecam pause`"
        )
    finally:
        child.communicate("", timeout=10)  # closing stdin lets it leave the with-block
    assert child.returncode == 0, child.stderr
    assert control.running_monitor() is None
    with control.monitor_lock():
        assert control.running_monitor() == os.getpid()


@POSIX_ONLY
def test_lock_is_released_when_the_holder_is_killed():
    child = start_child(HOLDER)
    try:
        assert child.stdout is not None and child.stdout.readline() == "locked\n"
        assert control.running_monitor() == child.pid
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=10)
    assert control.running_monitor() is None
    with control.monitor_lock():
        pass


def test_lock_in_an_unusable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with (
        pytest.raises(ControlError, match="POSTURECAM_HOME"),
        control.monitor_lock(blocker / "monitor.lock"),
    ):
        pass


def test_lock_file_records_the_pid_and_stays(_isolated_home):
    path = control.lock_path()
    with control.monitor_lock():
        assert path.read_text(encoding="ascii") == f"{os.getpid()}\n"  # the format kept
    assert path.exists() and path.read_text(encoding="ascii") == ""  # never deleted
    path.write_text("4242\n", encoding="ascii")  # a stale pid from a killed monitor
    assert control.running_monitor() is None  # no lock held: nobody runs
