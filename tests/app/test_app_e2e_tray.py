"""The tray icon on a real system tray: Xvfb, a tray host (trayer) and a session bus.

Skipped where those Debian packages are absent (xvfb, trayer, dbus-daemon); the other
app tests run offscreen, where there is no tray and the fallback window stands in.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtWidgets")

from tray_child import missing_tools, run_child, tray_host


@pytest.fixture
def display():
    missing = missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb trayer dbus-daemon)")
    with tray_host() as env:
        yield env


def test_the_tray_icon_shows_on_a_real_tray_and_quit_releases_the_camera(display, tmp_path):
    shot = tmp_path / "tray.png"
    done = run_child(shot, {**display, "POSTURECAM_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tray ok True posturecam: upright" in done.stdout
    assert shot.is_file() and shot.stat().st_size > 0
