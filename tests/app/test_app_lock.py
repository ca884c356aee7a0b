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

from qtfake import RecordingNotifier, fake_start_for, fast_settings, qapp, save_profile, wait_until

from posturecam.app import lock
from posturecam.app.controller import AppController
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
def locked_app():
    qapp()
    save_profile()
    source, event, captures, done = FakeLockSource(), threading.Event(), [], []
    controller = AppController(
        fast_settings(),
        fake_start_for(captures, RecordingNotifier(), [("up", 10)], screen_locked=event),
        tray_available=False,
        on_quit=lambda: done.append(1),
        lock_source=source,
        screen_locked=event,
    )
    controller.start()
    wait_until(lambda: controller.model.state == "upright", 10, "upright")
    yield controller, source, captures
    controller.quit()
    wait_until(lambda: done, 10, "quit")
    assert source.stopped


def test_lock_pauses_and_releases_the_camera_unlock_resumes(locked_app):
    controller, source, captures = locked_app
    source.fire(True)
    wait_until(lambda: controller.model.state == "paused", 10, "paused on lock")
    wait_until(lambda: not captures[0].running, 5, "the camera released")
    assert "screen locked" in controller.ui.status_action.text()
    assert control.read() == control.Control()  # the user's control file is not touched
    source.fire(False)
    wait_until(lambda: controller.model.state == "upright", 10, "watching after unlock")
    assert captures[0].running and captures[0].starts == 2


def test_a_pause_the_user_gave_outlasts_the_unlock(locked_app):
    controller, source, _captures = locked_app
    control.pause()
    wait_until(lambda: controller.model.state == "paused", 10, "paused")
    source.fire(True)
    source.fire(False)
    time.sleep(0.3)
    wait_until(lambda: controller.model.state == "paused", 5)
    assert "screen locked" not in controller.ui.status_action.text()
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


def test_dbus_screensaver_and_logind_signals_are_heard(private_bus, monkeypatch):
    monkeypatch.setenv("XDG_SESSION_ID", "7")
    heard: list[bool] = []
    source = lock.DBusLockSource(session=private_bus, system=private_bus)
    source.start(heard.append)
    try:
        assert source.wait_ready(5) and not any(t.error for t in source.threads)
        ss = ("/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver", "ActiveChanged")
        _emit(private_bus, *ss, "b", (True,))
        wait_until(lambda: heard == [True], 5, "ActiveChanged(true)")
        _emit(private_bus, *ss, "b", (False,))
        wait_until(lambda: heard == [True, False], 5, "ActiveChanged(false)")
        logind = "org.freedesktop.login1.Session"
        _emit(private_bus, "/org/freedesktop/login1/session/8", logind, "Lock")  # not ours
        _emit(private_bus, "/org/freedesktop/login1/session/7", logind, "Lock")
        wait_until(lambda: len(heard) == 3, 5, "logind Lock")
        _emit(private_bus, "/org/freedesktop/login1/session/7", logind, "Unlock")
        wait_until(lambda: len(heard) == 4, 5, "logind Unlock")
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
