"""The tray (offscreen: its fallback window) follows the real Monitor running on fakes."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtWidgets")

from appfakes import fake_app_fixture, menu_click, qapp_fixture, save_profile, type_into  # noqa: F401 (fixtures)
from PySide6.QtCore import Qt

from posturecam.app.icons import state_pixmap
from posturecam.app.presenter import JUDGED, LOOKS, TrayModel
from posturecam.app.tray import SNOOZES, Actions, TrayUI, rest_of_day_s
from posturecam.live import control
from posturecam.live import feedback as fb
from posturecam.live.sessionlog import SessionLog, default_path


def test_every_state_has_its_own_glyph_and_an_icon(qapp):
    posture_looks = {(LOOKS[s].glyph, LOOKS[s].colour) for s in JUDGED}
    assert len(posture_looks) == len(JUDGED)
    assert len({LOOKS[s].glyph for s in JUDGED}) == len(JUDGED)  # not colour alone
    for state in LOOKS:
        image = state_pixmap(state, 32).toImage()
        assert not image.isNull() and image.pixelColor(16, 16).alpha() == 255


def test_slouch_turns_the_tray_to_alert_notifies_and_quit_releases_the_camera(fake_app):
    save_profile()
    r = fake_app([("up", 40), ("down", 400)])
    ui = r.controller.ui
    assert ui.tray is None and ui.window is not None and ui.window.isVisible()  # no tray offscreen
    r.wait_state("upright")
    assert "upright" in ui.window.status.text()
    r.wait_state("alert", timeout_s=20)
    assert "time to sit tall" in ui.status_action.text()
    assert any("sit tall" in title for title, _ in r.notifier.sent)
    assert any(d.get("type") == "alert" for d in r.kinds("event"))
    menu_click(r.qtbot, ui.menu, "Quit")
    r.qtbot.waitUntil(lambda: r.quit_called > 0, timeout=10_000)
    assert r.controller.worker is None  # the session ended (not the quit's time limit)
    capture = r.captures[0]
    assert capture.releases >= 1 and capture.closed and not capture.running
    with SessionLog.open(default_path()) as log:
        reason = log._conn.execute("SELECT end_reason FROM sessions").fetchall()
    assert reason == [("quit",)]  # the session was closed like Ctrl-C closes it


def test_terminal_pause_and_resume_are_followed_by_the_tray(fake_app):
    save_profile()
    r = fake_app([("up", 10)])
    ui, wait = r.controller.ui, r.qtbot.waitUntil
    r.wait_state("upright")
    assert ui.pause_action.isVisible() and not ui.resume_action.isVisible()
    control.pause()  # what `posturecam pause` does in a terminal
    r.wait_state("paused")
    wait(lambda: not r.captures[0].running, timeout=5000)  # the camera is released
    wait(lambda: ui.resume_action.isVisible() and not ui.pause_action.isVisible(), timeout=5000)
    control.resume()
    r.wait_state("upright")
    wait(lambda: ui.pause_action.isVisible() and not ui.resume_action.isVisible(), timeout=5000)


def test_menu_snooze_is_the_control_files_snooze(fake_app):
    save_profile()
    r = fake_app([("up", 10)])
    r.wait_state("upright")
    menu_click(r.qtbot, r.controller.ui.snooze_menu, "15 min")
    assert control.read().snooze_until is not None  # `posturecam resume` can end it
    r.wait_state("snoozed")
    r.qtbot.waitUntil(lambda: "until" in r.controller.ui.status_action.text(), timeout=5000)


def test_recalibrate_and_feedback_go_to_the_running_monitor(fake_app):
    save_profile()
    r = fake_app([("up", 40), ("down", 400)])
    r.wait_state("slouching", "alert", timeout_s=20)
    menu_click(r.qtbot, r.controller.ui.menu, "I am slouching now")
    r.qtbot.waitUntil(lambda: bool(r.kinds("feedback")), timeout=10_000)  # the monitor's answer
    assert r.kinds("feedback")[0]["message"]
    menu_click(r.qtbot, r.controller.ui.menu, "Recalibrate")
    r.qtbot.waitUntil(lambda: bool(r.kinds("calibrating")), timeout=10_000)
    r.qtbot.waitUntil(lambda: bool(r.kinds("calibrated") or r.kinds("calibration_failed")),
                      timeout=15_000)  # fmt: skip


def test_choosing_a_profile_starts_a_new_session_with_it(fake_app):
    save_profile()
    save_profile("docked")
    r = fake_app([("up", 10)])
    r.wait_state("upright")
    menu = r.controller.ui.profile_menu
    menu.aboutToShow.emit()  # what opening the submenu does: the list is read afresh
    assert [a.text() for a in menu.actions()] == ["default", "docked"]
    menu_click(r.qtbot, menu, "docked")
    r.qtbot.waitUntil(lambda: len(r.captures) == 2, timeout=10_000)  # a second session
    r.wait_state("upright")
    assert r.captures[0].closed and r.controller.model.profile == "docked"
    assert "profile: docked" in r.controller.model.tooltip()


def test_a_failed_first_calibration_is_said_not_crashed(fake_app):
    r = fake_app([("nobody", 200)], then_end=False)  # no profile: the monitor calibrates first
    r.qtbot.waitUntil(lambda: bool(r.kinds("calibration_failed")), timeout=20_000)
    r.wait_state("stopped")
    ui = r.controller.ui
    r.qtbot.waitUntil(lambda: r.controller.worker is None, timeout=10_000)  # the session ended
    assert ui.again_action.isVisible() and not ui.pause_action.isVisible()
    assert not ui.recalibrate_action.isEnabled()
    menu_click(r.qtbot, ui.menu, "Watch again")  # a new session (it calibrates again)
    r.qtbot.waitUntil(lambda: len(r.captures) == 2, timeout=10_000)
    assert not ui.again_action.isVisible()
    assert r.kinds("calibration_failed")[0]["message"]
    assert not (control.running_monitor() or 0)  # the app's test instance holds no lock


def test_closing_the_fallback_window_quits_like_the_menu(fake_app):
    save_profile()
    r = fake_app([("up", 10)])
    r.wait_state("upright")
    r.controller.ui.window.close()
    r.qtbot.waitUntil(lambda: r.quit_called > 0, timeout=10_000)
    assert r.captures[0].closed


def test_every_menu_entry_calls_its_function(qtbot):
    calls: list[tuple] = []
    held = [control.Control()]

    def rec(name):
        return lambda *a: calls.append((name, *a))

    actions = Actions(
        pause=rec("pause"), resume=rec("resume"), snooze=rec("snooze"),
        recalibrate=rec("recalibrate"), choose_profile=rec("profile"), feedback=rec("feedback"),
        dashboard=rec("dashboard"), settings=rec("settings"), setup=rec("setup"),
        quit=rec("quit"), profiles=lambda: ["docked", "laptop"], control=lambda: held[0],
    )  # fmt: skip
    ui = TrayUI(TrayModel(state="upright"), actions, tray_available=False, clock=lambda: 1e9)
    qtbot.addWidget(ui.window)
    qtbot.addWidget(ui.menu)
    menu_click(qtbot, ui.menu, "Pause")
    held[0] = control.Control(paused=True)  # the control file now says paused
    ui.follow_control()
    for text in ("Resume", "Recalibrate", "That was not a slouch", "I am slouching now",
                 "Undo the last feedback", "Dashboard…", "Settings…", "Guided setup…",
                 "Quit"):  # fmt: skip
        menu_click(qtbot, ui.menu, text)
    for a in ui.snooze_menu.actions():
        menu_click(qtbot, ui.snooze_menu, a.text())
    menu_click(qtbot, ui.profile_menu, "laptop")
    assert calls == [
        ("pause",), ("resume",), ("recalibrate",), ("feedback", fb.NOT_SLOUCHING),
        ("feedback", fb.SLOUCHING), ("feedback", fb.UNDO), ("dashboard",), ("settings",),
        ("setup",), ("quit",), *[("snooze", s) for _, s in SNOOZES],
        ("snooze", rest_of_day_s(1e9)), ("profile", "laptop"),
    ]  # fmt: skip
    ui.hide()


def test_rest_of_the_day_stays_within_the_snooze_limit():
    import time

    now = time.time()
    assert 60 <= rest_of_day_s(now) <= control.MAX_DURATION_S


def test_menu_opens_the_dashboard_and_settings_and_saving_restarts_the_session(fake_app, tmp_path):
    from posturecam.app.main import window_makers

    save_profile()
    r = fake_app([("up", 10)], windows=window_makers(tmp_path / "config.toml"))
    r.wait_state("upright")
    menu, qtbot = r.controller.ui.menu, r.qtbot
    menu_click(qtbot, menu, "Dashboard…")
    qtbot.waitExposed(r.controller.open_windows["dashboard"])
    menu_click(qtbot, menu, "Settings…")
    dialog = r.controller.open_windows["settings"]
    qtbot.waitExposed(dialog)
    for key in ("rate_hz", "max_rate_hz"):
        type_into(qtbot, dialog.editors[("monitor", key)], "20")
    assert dialog.editors[("monitor", "rate_hz")].value() == 20.0
    assert dialog.save()
    qtbot.waitUntil(lambda: len(r.captures) == 2, timeout=10_000)  # restarted with the new ones
    assert r.controller.cfg.monitor.rate_hz == 20
    menu_click(qtbot, menu, "Guided setup…")  # until it exists: said, not a dead entry
    r.stop()
    assert r.controller.worker is None and all(c.closed for c in r.captures)


def test_first_run_opens_the_setup_then_watches_with_its_profile(fake_app, tmp_path):
    from appfakes import LoopingCapture, posture
    from factories import FakePose

    from posturecam.app.setup import RESULT, SetupWindow

    def setup_window(c):
        return SetupWindow(c.cfg, tmp_path / "config.toml",
                           lambda s: LoopingCapture([("up", 10_000)]), lambda: FakePose(posture),
                           cameras=lambda s: [s], countdown_s=0, tick_ms=10, calibration_s=3.0,
                           on_done=c.setup_done)  # fmt: skip

    r = fake_app([("up", 10)], windows={"setup": setup_window}, start=False)
    controller, qtbot = r.controller, r.qtbot
    controller.start(setup=True)
    window = controller.open_windows["setup"]
    assert controller.worker is None and controller.model.state == "calibrating"
    qtbot.waitUntil(lambda: window.worker is not None and window.view.image is not None,
                    timeout=10_000)  # fmt: skip
    qtbot.mouseClick(window.calibrate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.phase == RESULT, timeout=15_000)  # the setup's calibration
    qtbot.mouseClick(window.done_button, Qt.MouseButton.LeftButton)
    r.wait_state("upright")  # watching after the setup
    assert len(r.captures) == 1
    controller.open_setup()  # from the menu while watching: the session ends first
    qtbot.waitUntil(lambda: controller.open_windows["setup"] is not window, timeout=10_000)
    assert r.captures[0].closed and controller.worker is None
    controller.open_windows["setup"].close()
    qtbot.waitUntil(lambda: len(r.captures) == 2, timeout=10_000)  # watching again


def test_the_profile_choice_is_written_to_config_toml(tmp_path):
    from posturecam.app.main import profile_saver
    from posturecam.settings import SettingsError, load

    cfg = tmp_path / "config.toml"
    cfg.write_text("# mine\n[monitor]\nrate_hz = 2\n")
    profile_saver(cfg)("docked")
    assert load(cfg).monitor.profile == "docked" and "# mine" in cfg.read_text()
    cfg.write_text("[monitor]\nrate_hz = = 2\n")  # broken: said, and left alone
    with pytest.raises(SettingsError, match="line 2"):
        profile_saver(cfg)("laptop")
    assert cfg.read_text() == "[monitor]\nrate_hz = = 2\n"
