"""`posturecam app` start-up: one clear line for every bad input, autostart files,
and OpenCV's bundled Qt living beside PySide6."""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
import textwrap

import pytest

from posturecam import cli
from posturecam.app import autostart, qtenv
from posturecam.live import control


def test_second_instance_reports_the_running_one(capsys, monkeypatch, tmp_path):
    pytest.importorskip("PySide6.QtWidgets")
    model = tmp_path / "m.task"
    model.write_bytes(b"x")
    monkeypatch.setattr("posturecam.frames.model.resolve", lambda *a, **k: None)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    with control.monitor_lock():
        code = cli.main(["app"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"already running (pid {os.getpid()})" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_without_pyside6_it_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setattr("posturecam.app.qt_available", lambda: False)
    assert cli.main(["app"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'posturecam[app]'" in err and err.count("\n") == 1


def test_without_a_display_it_says_so(capsys, monkeypatch):
    pytest.importorskip("PySide6.QtWidgets")
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["app"]) == 2
    assert "no graphical session" in capsys.readouterr().err


def test_a_broken_config_is_one_line_naming_the_line(capsys, monkeypatch, tmp_path):
    pytest.importorskip("PySide6.QtWidgets")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    bad = tmp_path / "config.toml"
    bad.write_text("[monitor]\nrate_hz = -1\n")
    assert cli.main(["app", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "rate_hz" in err and err.count("\n") == 1
    assert bad.read_text() == "[monitor]\nrate_hz = -1\n"


def test_opencv_qt_variables_are_dropped_only_when_they_point_into_cv2():
    env = {
        "QT_QPA_PLATFORM_PLUGIN_PATH": "/venv/site-packages/cv2/qt/plugins",
        "QT_QPA_FONTDIR": "/venv/site-packages/cv2/qt/fonts",
        "QT_PLUGIN_PATH": "/usr/lib/qt6/plugins",
    }
    assert qtenv.drop_opencv_qt(env) == ["QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"]
    assert env == {"QT_PLUGIN_PATH": "/usr/lib/qt6/plugins"}


def test_cv2_and_pyside6_in_one_process_show_a_window(tmp_path):
    pytest.importorskip("PySide6.QtWidgets")
    script = textwrap.dedent(
        """
        import cv2, os, sys
        assert "cv2" in os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", "cv2")
        from posturecam.app.qtenv import prepare
        prepare()
        assert "cv2" not in os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", "")
        from PySide6.QtWidgets import QApplication, QLabel
        app = QApplication([])
        label = QLabel("posturecam"); label.resize(120, 40); label.show(); app.processEvents()
        image = label.grab().toImage()
        assert label.isVisible() and image.width() == 120, image.width()
        assert cv2.cvtColor(cv2.UMat(4, 4, cv2.CV_8UC3), cv2.COLOR_BGR2GRAY) is not None
        print("shown", QApplication.platformName())
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "shown offscreen" in done.stdout


@pytest.mark.parametrize("system", ["linux", "darwin", "win32"])
def test_autostart_files_are_made_and_removed(tmp_path, system):
    env = {"HOME": str(tmp_path), "APPDATA": str(tmp_path / "Roaming")}
    assert not autostart.installed(system, env)
    path = autostart.install(system, env)
    assert autostart.installed(system, env) and path.is_relative_to(tmp_path)
    text = path.read_text()
    assert "-m posturecam app" in text or "posturecam" in plistlib.loads(text.encode())["Label"]
    if system == "linux":
        assert path.name == "posturecam.desktop" and "autostart" in path.parts
        assert "[Desktop Entry]" in text and "Exec=" in text
    if system == "darwin":
        args = plistlib.loads(text.encode())["ProgramArguments"]
        assert args[1:] == ["-m", "posturecam", "app"]
    assert autostart.remove(system, env) == path and not path.exists()
    assert autostart.remove(system, env) is None


def test_install_autostart_flag_needs_no_display(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["app", "--install-autostart"]) == 0
    assert (tmp_path / "autostart" / "posturecam.desktop").is_file()
    assert cli.main(["app", "--remove-autostart"]) == 0
    assert cli.main(["app", "--remove-autostart"]) == 0
    out = capsys.readouterr().out
    assert "starts at login" in out and "was not set to start at login" in out


def test_the_installed_pyside6_keeps_its_reference_counts():
    """PySide6 6.12.0 on Python 3.11 lost a reference to None per void call and crashed."""
    pytest.importorskip("PySide6.QtGui")
    from PySide6.QtGui import QColor, QPen

    pen = QPen(QColor("white"))
    before = sys.getrefcount(None)
    for _ in range(1000):
        pen.setWidthF(2.0)
    assert sys.getrefcount(None) - before > -10


@pytest.mark.integration
def test_the_apps_process_loads_no_plotting_stack(model_path):
    """PySide6's import hook must not wake MediaPipe's deferred package inits (matplotlib)."""
    pytest.importorskip("PySide6.QtWidgets")
    script = textwrap.dedent(
        f"""
        import sys
        from posturecam.app.qtenv import prepare
        prepare()
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from posturecam.frames.pose import VIDEO, MediaPipePose
        MediaPipePose({str(model_path)!r}, VIDEO).close()
        heavy = [m for m in ("matplotlib", "pyarrow", "dask") if m in sys.modules]
        print("heavy:", heavy)
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "heavy: []" in done.stdout


def test_menu_entry_on_linux_and_a_clear_line_elsewhere(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    assert cli.main(["app", "--install-menu-entry"]) == 0
    entry = tmp_path / "applications" / "posturecam.desktop"
    assert "Exec=" in entry.read_text() and "Autostart" not in entry.read_text()
    assert cli.main(["app", "--remove-menu-entry"]) == 0 and not entry.exists()
    monkeypatch.setattr(sys, "platform", "darwin")
    assert cli.main(["app", "--install-menu-entry"]) == 2
    err = capsys.readouterr().err
    assert "only on Linux" in err and err.count("\n") == 1


def test_the_gui_entry_point_shows_its_error_line_in_a_box(monkeypatch, tmp_path):
    from posturecam.app.command import gui_main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))

    monkeypatch.setattr("posturecam.app.qt_available", lambda: False)
    shown: list[str] = []
    assert gui_main([], show=shown.append) == 2
    assert len(shown) == 1 and "pip install 'posturecam[app]'" in shown[0]
    assert gui_main(["--remove-autostart"], show=shown.append) == 0 and len(shown) == 1
