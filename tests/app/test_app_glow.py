"""The glow: click-through, focus-free windows, fading in while slouching and out on sitting up."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtWidgets")

from appfakes import fake_app_fixture, qapp_fixture, save_profile  # noqa: F401 (fixtures)
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from posturecam.app import glow as glow_mod
from posturecam.app.glow import Glow, GlowWindow


@pytest.fixture
def fast_fades(qapp, monkeypatch):
    monkeypatch.setattr(glow_mod, "FADE_IN_S", 0.3)
    monkeypatch.setattr(glow_mod, "FADE_OUT_S", 0.2)


@pytest.fixture
def glow(request, qtbot, fast_fades):
    """A Glow (``@pytest.mark.parametrize("glow", [False], indirect=True)``: disabled)."""
    made = Glow(enabled=getattr(request, "param", True))
    yield made
    made.close()


def test_fades_in_while_slouching_and_out_when_upright(qtbot, glow):
    glow.on_report("step", {"state": "slouching"})
    qtbot.wait(60)
    assert 0 < glow.level < glow_mod.TARGETS["slouching"]  # fading, not jumping
    qtbot.waitUntil(lambda: glow.level == glow_mod.TARGETS["slouching"], timeout=3000)
    assert len(glow.windows) == len(QGuiApplication.screens())
    assert all(w.isVisible() for w in glow.windows)
    glow.on_report("step", {"state": "alert"})
    qtbot.waitUntil(lambda: glow.level == glow_mod.TARGETS["alert"], timeout=3000)
    window = glow.windows[0]
    assert not window.grab().isNull()
    glow.on_report("step", {"state": "upright"})
    qtbot.waitUntil(lambda: glow.level == 0 and not glow.windows, timeout=3000)  # faded, hidden


def test_windows_never_take_clicks_or_focus(qtbot, fast_fades):
    window = GlowWindow(QGuiApplication.primaryScreen())
    qtbot.addWidget(window)
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


@pytest.mark.parametrize("glow", [False], indirect=True)
def test_disabled_or_paused_means_no_glow(qtbot, glow):
    glow.on_report("step", {"state": "alert"})
    qtbot.wait(100)
    assert glow.level == 0 and not glow.windows
    glow.set_enabled(True)
    glow.on_report("step", {"state": "alert"})
    qtbot.waitUntil(lambda: glow.level > 0.2, timeout=3000)
    glow.on_report("held", {"state": "paused"})
    qtbot.waitUntil(lambda: glow.level == 0 and not glow.windows, timeout=3000)  # gone


def test_the_app_through_a_slouch_alerts_notifies_and_glows(qtbot, glow, fake_app):
    save_profile()
    r = fake_app([("up", 40), ("down", 400), ("up", 400)], start=False)
    r.controller.listeners.append(glow.on_report)
    r.controller.start()
    r.wait_state("alert", timeout_s=20)
    qtbot.waitUntil(lambda: bool(glow.windows) and glow.level > 0.5, timeout=5000)  # the glow
    assert any("sit tall" in title for title, _ in r.notifier.sent)
    r.wait_state("upright", timeout_s=20)  # sitting up again
    qtbot.waitUntil(lambda: not glow.windows, timeout=5000)  # the glow gone
    r.stop()
    assert r.captures[0].closed


def test_the_optional_sound_beeps_once_per_alert_only_when_chosen(qapp, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from posturecam.app.main import beep_on_alert

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
