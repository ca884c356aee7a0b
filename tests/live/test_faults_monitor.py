"""A monitor killed at start-up or while it writes its profile (issue 11): it recovers.

Mid-run SIGTERM, SIGINT and SIGKILL are in test_monitor_process; these add the other
kill points with the same child (a fake camera and model): just started (before the
camera), and while the calibration profile is being written (its rename held open).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_faults_batch import descendants, running, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

TESTS = Path(__file__).resolve().parents[1]
# monitor_child.main, optionally with the profile's final rename held for a minute.
CODE = f"""
import os, sys, time
print("starting", flush=True)
sys.path.insert(0, {str(TESTS)!r})
if os.environ.get("HOLD_PROFILE_WRITE"):
    real = os.replace
    def held(src, dst, *a, **k):
        if str(dst).endswith("child.json"):
            print("writing", flush=True)
            time.sleep(60)
        return real(src, dst, *a, **k)
    os.replace = held
import monitor_child
monitor_child.main()
"""


def start(home: Path, hold: bool = False) -> subprocess.Popen:
    env = {**os.environ, "POSTURECAM_HOME": str(home), "HOLD_PROFILE_WRITE": "1" if hold else ""}
    return subprocess.Popen([sys.executable, "-c", CODE], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip


def wait_for(proc: subprocess.Popen, text: str) -> list[str]:
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if text in line:
            return lines
    pytest.fail(f"the monitor ended before {text!r}: {''.join(lines)}")


def sessions(home: Path) -> list[tuple]:
    con = sqlite3.connect(home / "sessions.sqlite3")
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return con.execute("SELECT end_reason FROM sessions ORDER BY id").fetchall()
    finally:
        con.close()


def run_to_camera_then_term(home: Path) -> str:
    proc = start(home)
    wait_for(proc, "camera started")
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in out, out
    return out


@pytest.fixture(scope="module")
def used_home(tmp_path_factory) -> Path:
    """A home after one clean session: a saved profile and a session log."""
    home = tmp_path_factory.mktemp("home")
    run_to_camera_then_term(home)
    return home


@pytest.mark.parametrize(
    ("point", "sig"),
    [("start-up", signal.SIGKILL), ("writing", signal.SIGKILL), ("writing", signal.SIGTERM)],
    ids=["start-up-KILL", "writing-KILL", "writing-TERM"],
)
def test_killed_monitor_loses_nothing_and_the_next_start_recovers(used_home, tmp_path, point, sig):
    home = tmp_path / "home"
    shutil.copytree(used_home, home)
    profile = home / "calibration" / "child.json"
    before = profile.read_bytes()
    proc = start(home, hold=point == "writing")
    wait_for(proc, "starting" if point == "start-up" else "writing")
    below = descendants(proc.pid)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    wait_until(lambda: not any(running(p) for p in below | {proc.pid}), 10, "the monitor to end")
    assert profile.read_bytes() == before  # the old profile, whole
    assert sessions(home) == [("terminated",)]  # killed before its session began

    out = run_to_camera_then_term(home)
    assert "monitor exited cleanly" in out
    assert sessions(home) == [("terminated",), ("terminated",)]
