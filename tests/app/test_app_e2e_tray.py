"""The tray icon on a real system tray: Xvfb, a tray host (trayer) and a session bus.

Skipped where those Debian packages are absent (xvfb, trayer, dbus-daemon); the other
app tests run offscreen, where there is no tray and the fallback window stands in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

HERE = Path(__file__).resolve().parents[1]
TOOLS = ("Xvfb", "trayer", "dbus-run-session")


@pytest.fixture
def display():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb trayer dbus-daemon)")
    from tray_child import start_xvfb

    xvfb, display_name = start_xvfb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}  # cv2 set some
    env.update(DISPLAY=display_name, QT_QPA_PLATFORM="xcb")
    tray = subprocess.Popen(
        ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width",
         "120", "--heighttype", "pixel", "--height", "28", "--transparent", "false"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)
    yield env
    for proc in (tray, xvfb):
        proc.terminate()
        proc.wait(5)


def test_the_tray_icon_shows_on_a_real_tray_and_quit_releases_the_camera(display, tmp_path):
    shot = tmp_path / "tray.png"
    done = subprocess.run(
        ["dbus-run-session", "--", sys.executable, str(HERE / "tray_child.py"), str(shot)],
        env={**display, "POSTURECAM_HOME": str(tmp_path / "home")},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tray ok True posturecam: upright" in done.stdout
    assert shot.is_file() and shot.stat().st_size > 0
