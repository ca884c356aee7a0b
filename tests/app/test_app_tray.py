"""The tray (offscreen: its fallback window) follows the real Monitor running on fakes."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtWidgets")

from qtfake import (
    RecordingNotifier,
    fake_start_for,
    fast_settings,
    pump,
    qapp,
    save_profile,
    wait_until,
)

from posturecam.app.controller import AppController
from posturecam.app.icons import state_pixmap
from posturecam.app.presenter import JUDGED, LOOKS, TrayModel
from posturecam.app.tray import SNOOZES, Actions, TrayUI, rest_of_day_s
from posturecam.live import control
from posturecam.live import feedback as fb
from posturecam.live.sessionlog import SessionLog, default_path


@pytest.fixture
def app():
    return qapp()


class Running:
    """A controller on fakes, quit (and waited for) at the end of the test."""

    def __init__(self, spans, **kw) -> None:
        self.captures: list = []
        self.notifier = RecordingNotifier()
        self.reports: list[tuple[str, dict]] = []
        self.quit_called = 0
        self.controller = AppController(
            kw.pop("cfg", None) or fast_settings(),
            fake_start_for(self.captures, self.notifier, spans, **kw),
            tray_available=False,
            on_quit=self._quit,
            listeners=[lambda k, d: self.reports.append((k, d))],
        )

    def _quit(self) -> None:
        self.quit_called += 1

    def kinds(self, kind: str) -> list[dict]:
        return [d for k, d in self.reports if k == kind]

    def stop(self) -> None:
        self.controller.quit()
        wait_until(lambda: self.quit_called, 10, "the app to quit")


@pytest.fixture
def running(app):
    made: list[Running] = []

    def make(spans, **kw) -> Running:
        r = Running(spans, **kw)
        made.append(r)
        r.controller.start()
        return r

    yield make
    for r in made:
        if not r.quit_called:
            r.stop()


def test_every_state_has_its_own_glyph_and_an_icon(app):
    posture_looks = {(LOOKS[s].glyph, LOOKS[s].colour) for s in JUDGED}
    assert len(posture_looks) == len(JUDGED)
    assert len({LOOKS[s].glyph for s in JUDGED}) == len(JUDGED)  # not colour alone
    for state in LOOKS:
        image = state_pixmap(state, 32).toImage()
        assert not image.isNull() and image.pixelColor(16, 16).alpha() == 255


def test_slouch_turns_the_tray_to_alert_notifies_and_quit_releases_the_camera(running):
    save_profile()
    r = running([("up", 40), ("down", 400)])
    ui = r.controller.ui
    assert ui.tray is None and ui.window is not None and ui.window.isVisible()  # no tray offscreen
    wait_until(lambda: r.controller.model.state == "upright", 10, "upright")
    assert "upright" in ui.window.status.text()
    wait_until(lambda: r.controller.model.state == "alert", 20, "the alert")
    assert "time to sit tall" in ui.status_action.text()
    assert any("sit tall" in title for title, _ in r.notifier.sent)
    assert any(d.get("type") == "alert" for d in r.kinds("event"))
    r.stop()
    capture = r.captures[0]
    assert capture.releases >= 1 and capture.closed and not capture.running
    with SessionLog.open(default_path()) as log:
        reason = log._conn.execute("SELECT end_reason FROM sessions").fetchall()
    assert reason == [("quit",)]  # the session was closed like Ctrl-C closes it


def test_terminal_pause_and_resume_are_followed_by_the_tray(running):
    save_profile()
    r = running([("up", 10)])
    ui = r.controller.ui
    wait_until(lambda: r.controller.model.state == "upright", 10, "upright")
    assert ui.pause_action.isVisible() and not ui.resume_action.isVisible()
    control.pause()  # what `posturecam pause` does in a terminal
    wait_until(lambda: r.controller.model.state == "paused", 10, "paused")
    wait_until(lambda: not r.captures[0].running, 5, "the camera released")
    wait_until(lambda: ui.resume_action.isVisible() and not ui.pause_action.isVisible(), 5)
    control.resume()
    wait_until(lambda: r.controller.model.state == "upright", 10, "upright again")
    wait_until(lambda: ui.pause_action.isVisible() and not ui.resume_action.isVisible(), 5)


def test_menu_snooze_is_the_control_files_snooze(running):
    save_profile()
    r = running([("up", 10)])
    wait_until(lambda: r.controller.model.state == "upright", 10, "upright")
    entry = next(a for a in r.controller.ui.snooze_menu.actions() if a.text() == "15 min")
    entry.trigger()
    assert control.read().snooze_until is not None  # `posturecam resume` can end it
    wait_until(lambda: r.controller.model.state == "snoozed", 10, "snoozed")
    wait_until(lambda: "until" in r.controller.ui.status_action.text(), 5)


def test_recalibrate_and_feedback_go_to_the_running_monitor(running):
    save_profile()
    r = running([("up", 40), ("down", 400)])
    wait_until(lambda: r.controller.model.state in ("slouching", "alert"), 20, "slouching")
    by_text = {a.text(): a for a in r.controller.ui.menu.actions()}
    by_text["I am slouching now"].trigger()
    wait_until(lambda: r.kinds("feedback"), 10, "the monitor's answer")
    assert r.kinds("feedback")[0]["message"]
    by_text["Recalibrate"].trigger()
    wait_until(lambda: r.kinds("calibrating"), 10, "calibration to start")
    wait_until(lambda: r.kinds("calibrated") or r.kinds("calibration_failed"), 15)


def test_choosing_a_profile_starts_a_new_session_with_it(running):
    save_profile()
    save_profile("docked")
    r = running([("up", 10)])
    wait_until(lambda: r.controller.model.state == "upright", 10, "upright")
    r.controller.ui._fill_profiles()
    names = [a.text() for a in r.controller.ui.profile_menu.actions()]
    assert names == ["default", "docked"]
    r.controller.ui.profile_menu.actions()[1].trigger()
    wait_until(lambda: len(r.captures) == 2, 10, "a second session")
    wait_until(lambda: r.controller.model.state == "upright", 10, "upright")
    assert r.captures[0].closed and r.controller.model.profile == "docked"
    assert "profile: docked" in r.controller.model.tooltip()


def test_a_failed_first_calibration_is_said_not_crashed(running):
    r = running([("nobody", 200)], then_end=False)  # no profile: the monitor calibrates first
    wait_until(lambda: r.kinds("calibration_failed"), 20, "the calibration to fail")
    wait_until(lambda: r.controller.model.state == "stopped", 10, "stopped")
    ui = r.controller.ui
    wait_until(lambda: r.controller.worker is None, 10, "the session to end")
    assert ui.again_action.isVisible() and not ui.pause_action.isVisible()
    assert not ui.recalibrate_action.isEnabled()
    ui.again_action.trigger()  # watch again: a new session (it calibrates again)
    wait_until(lambda: len(r.captures) == 2, 10, "a second session")
    assert not ui.again_action.isVisible()
    assert r.kinds("calibration_failed")[0]["message"]
    assert not (control.running_monitor() or 0)  # the app's test instance holds no lock


def test_closing_the_fallback_window_quits_like_the_menu(running):
    save_profile()
    r = running([("up", 10)])
    wait_until(lambda: r.controller.model.state == "upright", 10, "upright")
    r.controller.ui.window.close()
    wait_until(lambda: r.quit_called, 10, "quit")
    assert r.captures[0].closed


def test_every_menu_entry_calls_its_function(app):
    calls: list[tuple] = []

    def rec(name):
        return lambda *a: calls.append((name, *a))

    actions = Actions(
        pause=rec("pause"), resume=rec("resume"), snooze=rec("snooze"),
        recalibrate=rec("recalibrate"), choose_profile=rec("profile"), feedback=rec("feedback"),
        dashboard=rec("dashboard"), settings=rec("settings"), setup=rec("setup"),
        quit=rec("quit"), profiles=lambda: ["docked", "laptop"],
    )  # fmt: skip
    ui = TrayUI(TrayModel(state="upright"), actions, tray_available=False, clock=lambda: 1e9)
    entries = {a.text(): a for a in ui.menu.actions()}
    for text in ("Pause", "Resume", "Recalibrate", "That was not a slouch",
                 "I am slouching now", "Undo the last feedback", "Dashboard…", "Settings…",
                 "Guided setup…", "Quit"):  # fmt: skip
        entries[text].trigger()
    for a in ui.snooze_menu.actions():
        a.trigger()
    laptop = next(a for a in ui.profile_menu.actions() if a.text() == "laptop")
    laptop.trigger()
    assert calls == [
        ("pause",), ("resume",), ("recalibrate",), ("feedback", fb.NOT_SLOUCHING),
        ("feedback", fb.SLOUCHING), ("feedback", fb.UNDO), ("dashboard",), ("settings",),
        ("setup",), ("quit",), *[("snooze", s) for _, s in SNOOZES],
        ("snooze", rest_of_day_s(1e9)), ("profile", "laptop"),
    ]  # fmt: skip
    ui.hide()
    ui.window.deleteLater()
    pump()


def test_rest_of_the_day_stays_within_the_snooze_limit():
    import time

    now = time.time()
    assert 60 <= rest_of_day_s(now) <= control.MAX_DURATION_S


def test_menu_opens_the_dashboard_and_settings_and_saving_restarts_the_session(app, tmp_path):
    from posturecam.app.main import window_makers

    save_profile()
    captures: list = []
    cfg_path = tmp_path / "config.toml"
    controller = AppController(
        fast_settings(),
        fake_start_for(captures, RecordingNotifier(), [("up", 10)]),
        tray_available=False,
        on_quit=lambda: None,
        windows=window_makers(cfg_path),
    )
    controller.start()
    wait_until(lambda: controller.model.state == "upright", 10, "upright")
    entries = {a.text(): a for a in controller.ui.menu.actions()}
    entries["Dashboard…"].trigger()
    assert controller.open_windows["dashboard"].isVisible()
    entries["Settings…"].trigger()
    dialog = controller.open_windows["settings"]
    assert dialog.isVisible()
    dialog.editors[("monitor", "rate_hz")].setValue(20.0)
    dialog.editors[("monitor", "max_rate_hz")].setValue(20.0)
    assert dialog.save()
    wait_until(lambda: len(captures) == 2, 10, "the session restarted with the new settings")
    assert controller.cfg.monitor.rate_hz == 20
    entries["Guided setup…"].trigger()  # until it exists: said, not a dead entry
    controller.quit()
    wait_until(lambda: controller.worker is None, 10, "the worker to stop")
    assert all(c.closed for c in captures)


def test_first_run_opens_the_setup_then_watches_with_its_profile(app, tmp_path):
    from factories import FakePose
    from qtfake import LoopingCapture, posture

    from posturecam.app.setup import RESULT, SetupWindow

    captures: list = []
    cfg_path = tmp_path / "config.toml"

    def setup_window(c):
        return SetupWindow(c.cfg, cfg_path, lambda s: LoopingCapture([("up", 10_000)]),
                           lambda: FakePose(posture), cameras=lambda s: [s], countdown_s=0,
                           tick_ms=10, calibration_s=3.0, on_done=c.setup_done)  # fmt: skip

    controller = AppController(
        fast_settings(),
        fake_start_for(captures, RecordingNotifier(), [("up", 10)]),
        tray_available=False,
        on_quit=lambda: None,
        windows={"setup": setup_window},
    )
    controller.start(setup=True)
    window = controller.open_windows["setup"]
    assert controller.worker is None and controller.model.state == "calibrating"
    wait_until(lambda: window.worker is not None and window.view.image is not None, 10)
    window.calibrate_button.click()
    wait_until(lambda: window.phase == RESULT, 15, "the setup's calibration")
    window.done_button.click()
    wait_until(lambda: controller.model.state == "upright", 10, "watching after the setup")
    assert len(captures) == 1
    controller.open_setup()  # from the menu while watching: the session ends first
    wait_until(lambda: controller.open_windows["setup"] is not window, 10, "a new setup")
    assert captures[0].closed and controller.worker is None
    controller.open_windows["setup"].close()
    wait_until(lambda: len(captures) == 2, 10, "watching again")
    controller.quit()
    wait_until(lambda: controller.worker is None, 10)


def test_the_profile_choice_is_written_to_config_toml(app, tmp_path):
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
