"""The app's wiring: one monitor worker at a time, the tray, and the windows it opens.

Menu entries call the same functions as the CLI (control.pause/resume/snooze,
feedback.send), so a terminal and the tray steer the same monitor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from posturecam.app.lock import LockSource
from posturecam.app.presenter import TrayModel
from posturecam.app.tray import Actions, TrayUI
from posturecam.app.worker import MonitorWorker, StartMonitor
from posturecam.errors import PosturecamError
from posturecam.live import control
from posturecam.live import feedback as fb
from posturecam.settings import Settings

QUIT_WAIT_MS = 8000  # a driver stuck in release must not keep the app alive for ever


def profile_names() -> list[str]:
    """The user's saved profiles (their names), for the Profile menu."""
    from posturecam.profiles import profile_path

    folder = profile_path("default").parent
    try:
        return sorted(p.stem for p in folder.glob("*.json") if p.is_file())
    except OSError:
        return []


def today_share() -> float | None:
    """Today's upright share from the session log, None when unknown or unreadable."""
    from posturecam.live.sessionlog import SessionLog, default_path

    if not default_path().exists():
        return None
    try:
        with SessionLog.open() as log:
            days = log.history(days=1)
    except PosturecamError:
        return None
    return days[0].share_upright if days else None


class _LockBridge(QObject):
    changed = Signal()  # no payload: the state is read from the event (see worker.py)


class AppController(QObject):
    """Starts and stops monitor sessions and answers the tray's entries."""

    def __init__(
        self,
        cfg: Settings,
        start_for: Callable[[Settings], StartMonitor],
        *,
        tray_available: bool | None = None,
        on_quit: Callable[[], Any] | None = None,
        windows: dict[str, Callable[[AppController], QWidget]] | None = None,
        listeners: list[Callable[[str, dict], Any]] | None = None,
        reload: Callable[[], Settings] | None = None,
        lock_source: LockSource | None = None,
        screen_locked: threading.Event | None = None,
        on_first_judged: Callable[[str, float], Any] | None = None,
        remember_profile: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.start_for = start_for
        self.on_quit = on_quit
        self.windows = windows or {}
        self.listeners = listeners or []
        self.open_windows: dict[str, QWidget] = {}
        self.model = TrayModel(profile=cfg.monitor.profile)
        self.worker: MonitorWorker | None = None
        self.quitting = False
        self.errors: list[str] = []
        self._restart = False
        self._then: Callable[[], Any] | None = None  # run once the worker has stopped
        self.reload = reload  # settings as the file says now (after the setup wrote it)
        # The lock source's thread sets the event the monitor's watcher reads; the bridge
        # brings the change to this thread for the tray.
        self.lock_source = lock_source
        self.screen_locked = screen_locked or threading.Event()
        self._bridge = _LockBridge(self)
        self._bridge.changed.connect(self._on_lock)
        self.started_at = time.monotonic()
        self.on_first_judged = on_first_judged  # (state, seconds since the controller began)
        self.remember_profile = remember_profile  # writes the choice to config.toml
        self.ui = TrayUI(
            self.model,
            Actions(
                pause=control.pause,
                resume=control.resume,
                snooze=control.snooze,
                recalibrate=self.recalibrate,
                choose_profile=self.choose_profile,
                feedback=self.feedback,
                dashboard=lambda: self.open_window("dashboard"),
                settings=lambda: self.open_window("settings"),
                setup=self.open_setup,
                quit=self.quit,
                profiles=profile_names,
                control=control.ControlWatcher().current,  # one stat a second
                today_share=today_share,
                watch_again=self.watch_again,
            ),
            tray_available=tray_available,
        )

    # ------------------------------------------------------------------ sessions

    def start(self, setup: bool = False) -> None:
        """Show the tray and start watching; with ``setup``, the guided setup comes first."""
        self.ui.show()
        if self.lock_source is not None:
            self.lock_source.start(self._lock_changed)
        if setup and "setup" in self.windows:
            self._show_setup()
        else:
            self._start_worker()

    def _start_worker(self) -> None:
        worker = MonitorWorker(self.start_for(self.cfg), self)
        worker.on_report.append(self._on_report)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        worker.start()

    def _on_report(self, kind: str, data: dict) -> None:
        first = self.model.first_judged_at is None
        self.ui.on_report(kind, data)
        if first and self.model.first_judged_at is not None and self.on_first_judged:
            self.on_first_judged(self.model.state, self.model.first_judged_at - self.started_at)
        for listen in self.listeners:
            listen(kind, data)

    def _on_failed(self, message: str) -> None:
        self.errors.append(message)
        self.ui.on_report("stopped", {"reason": message})
        self.ui.say("posturecam stopped", message)

    def _on_finished(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.deliver()  # the last reports before the end
            worker.deleteLater()
        if self.quitting:
            self._done()
        elif self._then is not None:
            then, self._then = self._then, None
            then()
        elif self._restart:
            self._restart = False
            self._start_worker()
        elif worker is not None and worker.summary is not None:
            reason = str(worker.summary.get("end_reason", "stopped"))
            self.ui.on_report("stopped", {"reason": reason})

    # ------------------------------------------------------------------ menu entries

    def watch_again(self) -> None:
        """A new session after the last one stopped (a failed calibration, a source gone)."""
        if self.worker is None and not self.quitting:
            self.model.state, self.model.detail = "starting", ""
            self.ui.refresh()
            self._start_worker()

    def recalibrate(self) -> None:
        if self.worker is not None:
            self.worker.request("recalibrate")

    def choose_profile(self, name: str) -> None:
        """Another profile: end this session (as quitting would) and start one with it."""
        try:
            monitor = self.cfg.monitor.updated(profile=name)
        except PosturecamError as exc:
            self.ui.say("posturecam", str(exc))
            return
        self.cfg = replace(self.cfg, monitor=monitor)
        self.model.profile = name
        if self.remember_profile is not None:
            try:
                self.remember_profile(name)
            except PosturecamError as exc:  # this session still uses it
                self.ui.say("posturecam", f"{exc}; '{name}' is used until you quit")
        self.model.state, self.model.detail = "starting", ""
        self.ui.refresh()
        if self.worker is None:
            self._start_worker()
        else:
            self._restart = True
            self.worker.stop("profile changed")

    def apply_settings(self, cfg: Settings) -> None:
        """New settings from the dialog: the next session uses them (restarted now)."""
        self.cfg = cfg
        self.model.profile = cfg.monitor.profile
        if self.worker is not None:
            self._restart = True
            self.worker.stop("settings changed")

    def feedback(self, action: str) -> None:
        """Send it as `posturecam feedback` does; the monitor's answer comes as a report."""
        try:
            fb.send(action)
        except PosturecamError as exc:
            self.ui.say("posturecam feedback", str(exc))

    def open_window(self, name: str) -> QWidget | None:
        window = self.open_windows.get(name)
        if window is None or not window.isVisible():
            make = self.windows.get(name)
            if make is None:
                self.ui.say("posturecam", f"the {name} window is not available in this version")
                return None
            window = make(self)
            self.open_windows[name] = window
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def open_setup(self) -> None:
        """The setup needs the camera: the monitor's session ends first, and restarts after."""
        if "setup" not in self.windows:
            self.ui.say("posturecam", "the guided setup is not available in this version")
            return
        window = self.open_windows.get("setup")
        if window is not None and window.isVisible():
            window.raise_()
            return
        if self.worker is not None:
            self._then = self._show_setup
            self.worker.stop("setup")
        else:
            self._show_setup()

    def _show_setup(self) -> None:
        self.model.state, self.model.detail = "calibrating", "guided setup"
        self.ui.refresh()
        window = self.windows["setup"](self)
        self.open_windows["setup"] = window
        window.show()

    def setup_done(self, _profile: Any = None) -> None:
        """The setup window closed: watch again, with what it saved."""
        if self.quitting or self.worker is not None:
            return
        if self.reload is not None:
            try:
                new = self.reload()
                self.cfg = replace(
                    new, monitor=new.monitor.updated(profile=self.cfg.monitor.profile)
                )
            except PosturecamError as exc:
                self.ui.say("posturecam settings", str(exc))
        self.model.state, self.model.detail = "starting", ""
        self._start_worker()

    def _lock_changed(self, locked: bool) -> None:
        """From the lock source's thread: the monitor sees the event at once."""
        if locked:
            self.screen_locked.set()
        else:
            self.screen_locked.clear()
        self._bridge.changed.emit()

    def _on_lock(self) -> None:
        self.model.locked = self.screen_locked.is_set()
        self.ui.refresh()

    def quit(self) -> None:
        """Stop the monitor like Ctrl-C (camera released, session closed), then leave."""
        if self.quitting:
            return
        self.quitting = True
        if self.lock_source is not None:
            self.lock_source.stop()
        for window in self.open_windows.values():
            window.close()
        if self.worker is None:
            self._done()
            return
        self.worker.stop("quit")
        QTimer.singleShot(QUIT_WAIT_MS, self._done)

    def _done(self) -> None:
        if getattr(self, "_finished", False):
            return
        self._finished = True
        self.ui.hide()
        if self.on_quit is not None:
            self.on_quit()
