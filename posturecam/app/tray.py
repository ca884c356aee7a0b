"""The tray icon and its menu, or a small window standing in for it when there is no tray.

It shows the TrayModel and calls the Actions it was given; it judges nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from posturecam.app.icons import state_icon, state_pixmap
from posturecam.app.presenter import TrayModel
from posturecam.live import feedback as fb
from posturecam.live.control import MAX_DURATION_S, Control

NO_TRAY = (
    "no system tray on this desktop: posturecam shows a small window instead "
    "(closing it quits posturecam)"
)
SNOOZES = (("15 min", 15 * 60.0), ("30 min", 30 * 60.0), ("1 hour", 3600.0))


def rest_of_day_s(now: float) -> float:
    """Seconds to local midnight, within the snooze limit and at least a minute."""
    here = datetime.fromtimestamp(now)
    midnight = datetime.combine(here.date() + timedelta(days=1), datetime.min.time())
    return min(max(60.0, midnight.timestamp() - now), MAX_DURATION_S)


@dataclass(frozen=True)
class Actions:
    """What the menu entries do: the same functions the CLI commands call."""

    pause: Callable[[], Any]
    resume: Callable[[], Any]
    snooze: Callable[[float], Any]
    recalibrate: Callable[[], Any]
    choose_profile: Callable[[str], Any]
    feedback: Callable[[str], Any]
    dashboard: Callable[[], Any]
    settings: Callable[[], Any]
    setup: Callable[[], Any]
    quit: Callable[[], Any]
    profiles: Callable[[], list[str]] = list
    control: Callable[[], Control] = Control  # the control file as it is now
    today_share: Callable[[], float | None] = lambda: None
    watch_again: Callable[[], Any] = lambda: None  # after the session stopped


class FallbackWindow(QWidget):
    """The tray's stand-in: icon, status, the same menu behind a button."""

    def __init__(self, menu: QMenu, on_close: Callable[[], Any]) -> None:
        super().__init__()
        self.setWindowTitle("posturecam")
        self._on_close = on_close
        self.icon = QLabel()
        self.status = QLabel()
        self.status.setWordWrap(True)
        note = QLabel(NO_TRAY)
        note.setWordWrap(True)
        note.setStyleSheet("color: gray")
        self.button = QPushButton("Menu")
        self.button.setMenu(menu)
        layout = QVBoxLayout(self)
        layout.addWidget(self.icon, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.status)
        layout.addWidget(self.button)
        layout.addWidget(note)
        self.setMinimumWidth(280)

    def show_state(self, state: str, text: str) -> None:
        self.icon.setPixmap(state_pixmap(state, 48))
        self.status.setText(text)
        self.setToolTip(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        event.accept()
        self._on_close()


class TrayUI(QObject):
    """Builds the menu, follows reports and the control file, calls the actions."""

    def __init__(
        self,
        model: TrayModel,
        actions: Actions,
        tray_available: bool | None = None,
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.actions = actions
        self.clock = clock
        self.menu = QMenu()
        self._build_menu()
        available = (
            QSystemTrayIcon.isSystemTrayAvailable() if tray_available is None else (tray_available)
        )
        self.tray: QSystemTrayIcon | None = None
        self.window: FallbackWindow | None = None
        if available:
            self.tray = QSystemTrayIcon()
            self.tray.setContextMenu(self.menu)
        else:
            self.window = FallbackWindow(self.menu, actions.quit)
        self.notice = "" if available else NO_TRAY
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.follow_control)
        self._share_timer = QTimer(self)
        self._share_timer.timeout.connect(self.refresh_share)
        self.refresh_share()
        self.follow_control()

    # ------------------------------------------------------------------ building

    def _add(self, menu: QMenu, text: str, slot: Callable[[], Any]) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_menu(self) -> None:
        a, m = self.actions, self.menu
        self.status_action = m.addAction("posturecam: starting")
        self.status_action.setEnabled(False)
        m.addSeparator()
        self.pause_action = self._add(m, "Pause", a.pause)
        self.resume_action = self._add(m, "Resume", a.resume)
        self.again_action = self._add(m, "Watch again", a.watch_again)
        self.snooze_menu = m.addMenu("Snooze")
        for label, seconds in SNOOZES:
            self._add(self.snooze_menu, label, lambda s=seconds: a.snooze(s))
        self._add(self.snooze_menu, "For the rest of the day",
                  lambda: a.snooze(rest_of_day_s(self.clock())))  # fmt: skip
        m.addSeparator()
        self.recalibrate_action = self._add(m, "Recalibrate", a.recalibrate)
        self.profile_menu = m.addMenu("Profile")
        self.profile_menu.aboutToShow.connect(self._fill_profiles)
        self._fill_profiles()
        self.feedback_actions = [
            self._add(m, "That was not a slouch", lambda: a.feedback(fb.NOT_SLOUCHING)),
            self._add(m, "I am slouching now", lambda: a.feedback(fb.SLOUCHING)),
            self._add(m, "Undo the last feedback", lambda: a.feedback(fb.UNDO)),
        ]
        m.addSeparator()
        self._add(m, "Dashboard…", a.dashboard)
        self._add(m, "Settings…", a.settings)
        self._add(m, "Guided setup…", a.setup)
        m.addSeparator()
        self._add(m, "Quit", a.quit)

    def _fill_profiles(self) -> None:
        self.profile_menu.clear()
        group = QActionGroup(self.profile_menu)
        names = sorted(set(self.actions.profiles()) | {self.model.profile})
        for name in names:
            action = self.profile_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == self.model.profile)
            group.addAction(action)
            action.triggered.connect(lambda _c=False, n=name: self._choose(n))

    def _choose(self, name: str) -> None:
        if name != self.model.profile:
            self.actions.choose_profile(name)

    # ------------------------------------------------------------------ showing

    def show(self) -> None:
        self.refresh()
        if self.tray is not None:
            self.tray.show()
        if self.window is not None:
            self.window.show()
        self._timer.start(1000)
        self._share_timer.start(30_000)

    def hide(self) -> None:
        self._timer.stop()
        self._share_timer.stop()
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.hide()

    def on_report(self, kind: str, data: dict) -> None:
        if self.model.apply(kind, data):
            self.refresh()
        if kind == "feedback":
            self.say("posturecam feedback", str(data.get("message", "")))
        elif kind == "calibration_failed":
            self.say("posturecam: calibration failed", str(data.get("message", "")))

    def follow_control(self) -> None:
        """The control file decides the Pause/Resume entries, whoever wrote it."""
        self.model.follow_control(self.actions.control(), self.clock())
        self.refresh()

    def refresh_share(self) -> None:
        self.model.share_upright = self.actions.today_share()
        self.refresh()

    def say(self, title: str, text: str) -> None:
        """A short message from the app itself (feedback answers, failures)."""
        if self.tray is not None and self.tray.isVisible():
            self.tray.showMessage(title, text, state_icon(self.model.shown_state), 8000)
        elif self.window is not None:
            self.window.status.setText(f"{self.model.status_line()}\n{text}")
        self.last_message = (title, text)

    def refresh(self) -> None:
        """Show the model; nothing is redrawn when nothing changed (it runs every second)."""
        shown = (self.model.shown_state, self.model.status_line(), self.model.tooltip(),
                 self.model.held, self.model.held_until)  # fmt: skip
        if shown == getattr(self, "_shown", None):
            return
        self._shown = shown
        state = self.model.shown_state
        held = self.model.held is not None  # the control file decides, whoever wrote it
        line = self.model.status_line()
        if self.model.held_until is not None:
            line += f" until {datetime.fromtimestamp(self.model.held_until):%H:%M}"
        self.status_action.setText(line)
        stopped = state == "stopped"
        self.pause_action.setVisible(not held and not stopped)
        self.resume_action.setVisible(held and not stopped)
        self.again_action.setVisible(stopped)
        self.recalibrate_action.setEnabled(not stopped)
        can_feedback = state not in ("starting", "calibrating", "not_calibrated", "stopped")
        for action in self.feedback_actions:
            action.setEnabled(can_feedback)
        tip = self.model.tooltip()
        if self.tray is not None:
            self.tray.setIcon(state_icon(state))
            self.tray.setToolTip(tip)
        if self.window is not None:
            self.window.show_state(state, tip)
