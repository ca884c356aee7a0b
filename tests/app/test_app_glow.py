"""The glow: click-through, focus-free windows, fading in while slouching and out on sitting up."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from qtfake import (
    RecordingNotifier,
    fake_start_for,
    fast_settings,
    pump,
    qapp,
    save_profile,
    wait_until,
)

from posturecam.app import glow as glow_mod
from posturecam.app.controller import AppController
from posturecam.app.glow import Glow, GlowWindow


@pytest.fixture
def fast_fades(monkeypatch):
    qapp()
    monkeypatch.setattr(glow_mod, "FADE_IN_S", 0.3)
    monkeypatch.setattr(glow_mod, "FADE_OUT_S", 0.2)


def test_fades_in_while_slouching_and_out_when_upright(fast_fades):
    glow = Glow()
    glow.on_report("step", {"state": "slouching"})
    pump(0.06)
    assert 0 < glow.level < glow_mod.TARGETS["slouching"]  # fading, not jumping
    wait_until(lambda: glow.level == glow_mod.TARGETS["slouching"], 3, "the slouching level")
    assert len(glow.windows) == len(QGuiApplication.screens())
    assert all(w.isVisible() for w in glow.windows)
    glow.on_report("step", {"state": "alert"})
    wait_until(lambda: glow.level == glow_mod.TARGETS["alert"], 3, "the alert level")
    window = glow.windows[0]
    assert not window.grab().isNull()
    glow.on_report("step", {"state": "upright"})
    wait_until(lambda: glow.level == 0 and not glow.windows, 3, "faded out and hidden")


def test_windows_never_take_clicks_or_focus(fast_fades):
    window = GlowWindow(QGuiApplication.primaryScreen())
    flags = window.windowFlags()
    wanted = (
        Qt.WindowType.WindowTransparentForInput,
        Qt.WindowType.WindowDoesNotAcceptFocus,
        Qt.WindowType.WindowStaysOnTopHint,
        Qt.WindowType.FramelessWindowHint,
    )
    for flag in wanted:
        assert flags & flag
    assert window.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert window.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    assert window.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert window.geometry() == QGuiApplication.primaryScreen().geometry()


def test_disabled_or_paused_means_no_glow(fast_fades):
    glow = Glow(enabled=False)
    glow.on_report("step", {"state": "alert"})
    pump(0.1)
    assert glow.level == 0 and not glow.windows
    glow.set_enabled(True)
    glow.on_report("step", {"state": "alert"})
    wait_until(lambda: glow.level > 0.2, 3)
    glow.on_report("held", {"state": "paused"})
    wait_until(lambda: glow.level == 0 and not glow.windows, 3, "gone when paused")


def test_the_app_through_a_slouch_alerts_notifies_and_glows(fast_fades):
    save_profile()
    captures, notifier, done = [], RecordingNotifier(), []
    glow = Glow()
    controller = AppController(
        fast_settings(),
        fake_start_for(captures, notifier, [("up", 40), ("down", 400), ("up", 400)]),
        tray_available=False,
        on_quit=lambda: done.append(1),
        listeners=[glow.on_report],
    )
    controller.start()
    wait_until(lambda: controller.model.state == "alert", 20, "the alert")
    wait_until(lambda: glow.windows and glow.level > 0.5, 5, "the glow")
    assert any("sit tall" in title for title, _ in notifier.sent)
    wait_until(lambda: controller.model.state == "upright", 20, "sitting up again")
    wait_until(lambda: not glow.windows, 5, "the glow gone")
    controller.quit()
    wait_until(lambda: done, 10)
    assert captures[0].closed


def test_the_optional_sound_beeps_once_per_alert_only_when_chosen(tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from posturecam.app.main import beep_on_alert

    qapp()
    beeps: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: beeps.append(1)))
    cfg = tmp_path / "config.toml"
    listen = beep_on_alert(cfg)
    listen("event", {"type": "alert"})
    assert beeps == []  # off by default
    cfg.write_text("[app]\nsounds = true\n")
    listen("event", {"type": "alert"})
    listen("event", {"type": "break"})
    listen("step", {"state": "alert"})
    assert beeps == [1]
