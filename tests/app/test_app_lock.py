"""Pause on screen lock: an injectable lock source, and the real D-Bus one on a private bus."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("PySide6.QtWidgets")

from appfakes import fake_app_fixture, qapp_fixture, save_profile  # noqa: F401 (fixtures)

from posturecam.app import lock
from posturecam.live import control


class FakeLockSource:
    def __init__(self) -> None:
        self.on_change = None
        self.stopped = False

    def start(self, on_change) -> None:
        self.on_change = on_change

    def stop(self) -> None:
        self.stopped = True

    def fire(self, locked: bool) -> None:  # from another thread, as D-Bus would
        t = threading.Thread(target=self.on_change, args=(locked,))
        t.start()
        t.join()


@pytest.fixture
def locked_app(fake_app):
    save_profile()
    source = FakeLockSource()
    r = fake_app([("up", 10)], screen_locked=threading.Event(), lock_source=source)
    r.wait_state("upright")
    yield r, source
    r.stop()
    assert source.stopped


def test_lock_pauses_and_releases_the_camera_unlock_resumes(locked_app):
    r, source = locked_app
    source.fire(True)
    r.wait_state("paused")  # paused on lock
    r.qtbot.waitUntil(lambda: not r.captures[0].running, timeout=5000)  # the camera released
    assert "screen locked" in r.controller.ui.status_action.text()
    assert control.read() == control.Control()  # the user's control file is not touched
    source.fire(False)
    r.wait_state("upright")  # watching after unlock
    assert r.captures[0].running and r.captures[0].starts == 2


def test_a_pause_the_user_gave_outlasts_the_unlock(locked_app):
    r, source = locked_app
    control.pause()
    r.wait_state("paused")
    source.fire(True)
    source.fire(False)
    r.qtbot.wait(300)
    r.wait_state("paused", timeout_s=5)
    assert "screen locked" not in r.controller.ui.status_action.text()
    assert control.read().paused


def test_no_lock_source_where_none_is_implemented(monkeypatch):
    for platform in ("darwin", "win32"):
        monkeypatch.setattr(sys, "platform", platform)
        assert lock.default_source() is None
    monkeypatch.setattr(sys, "platform", "linux")
    assert isinstance(lock.default_source(), lock.DBusLockSource)


@pytest.fixture
def private_bus():
    pytest.importorskip("jeepney")
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus-daemon)")
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    address = daemon.stdout.readline().strip()
    yield address
    daemon.terminate()
    daemon.wait(5)


def _emit(address: str, path: str, interface: str, member: str, signature="", body=()):
    from jeepney import DBusAddress, new_signal
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus=address) as conn:
        conn.send_message(new_signal(DBusAddress(path, interface=interface), member,
                                     signature, body))  # fmt: skip
        time.sleep(0.05)


def test_dbus_screensaver_and_logind_signals_are_heard(qtbot, private_bus, monkeypatch):
    monkeypatch.setenv("XDG_SESSION_ID", "7")
    heard: list[bool] = []
    source = lock.DBusLockSource(session=private_bus, system=private_bus)
    source.start(heard.append)
    try:
        assert source.wait_ready(5) and not any(t.error for t in source.threads)
        ss = ("/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver", "ActiveChanged")
        _emit(private_bus, *ss, "b", (True,))
        qtbot.waitUntil(lambda: heard == [True], timeout=5000)  # ActiveChanged(true)
        _emit(private_bus, *ss, "b", (False,))
        qtbot.waitUntil(lambda: heard == [True, False], timeout=5000)
        logind = "org.freedesktop.login1.Session"
        _emit(private_bus, "/org/freedesktop/login1/session/8", logind, "Lock")  # not ours
        _emit(private_bus, "/org/freedesktop/login1/session/7", logind, "Lock")
        qtbot.waitUntil(lambda: len(heard) == 3, timeout=5000)  # logind Lock
        _emit(private_bus, "/org/freedesktop/login1/session/7", logind, "Unlock")
        qtbot.waitUntil(lambda: len(heard) == 4, timeout=5000)  # logind Unlock
        assert heard == [True, False, True, False]
    finally:
        source.stop()
    assert not any(t.is_alive() for t in source.threads)


def test_an_absent_bus_is_no_lock_events_not_a_crash(monkeypatch):
    pytest.importorskip("jeepney")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    source = lock.DBusLockSource(session="SESSION", system=None)
    source.start(lambda locked: None)
    assert source.wait_ready(5)
    assert source.threads[0].error
    source.stop()
    assert os.environ["DBUS_SESSION_BUS_ADDRESS"]
