"""The Qt side of `posturecam app`: QApplication, the controller, signals, and the exit.

Called by command.run once every bad input has been ruled out and the monitor
lock is held; returns when the user quits (tray, window, Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from posturecam.app.assemble import live_monitor
from posturecam.app.controller import AppController
from posturecam.app.glow import Glow
from posturecam.app.lock import default_source
from posturecam.app.tray import NO_TRAY
from posturecam.app.worker import StartMonitor
from posturecam.frames.model import ResolvedModel
from posturecam.profiles import profile_path
from posturecam.settings import Settings, load_user


def real_monitor(
    resolved: ResolvedModel, screen_locked: threading.Event | None = None
) -> Callable[[Settings], StartMonitor]:
    """Sessions on the real camera and MediaPipe model, as `posturecam monitor` runs them."""

    def start_for(cfg: Settings) -> StartMonitor:
        from posturecam.frames.pose import MediaPipePose

        def start(listener: Any) -> Any:
            return live_monitor(
                cfg,
                lambda mode: MediaPipePose(resolved.path, mode),
                listener,
                model_variant=resolved.variant,
                screen_locked=screen_locked,
            )

        return start

    return start_for


def window_makers(
    cfg_path: Path, resolved: ResolvedModel | None = None, glow: Glow | None = None
) -> dict[str, Callable[[AppController], QWidget]]:
    """The windows the tray opens, by name; each made on first use."""
    makers: dict[str, Callable[[AppController], QWidget]] = {}
    if resolved is not None:
        from posturecam.app.setup import SetupWindow
        from posturecam.frames.capture import open_live
        from posturecam.frames.pose import VIDEO, MediaPipePose

        makers["setup"] = lambda c: SetupWindow(
            c.cfg,
            cfg_path,
            open_live,
            lambda: MediaPipePose(resolved.path, VIDEO),
            model_variant=resolved.variant,
            on_done=c.setup_done,
        )
    try:
        from posturecam.app.dashboard import DashboardWindow

        makers["dashboard"] = lambda _c: DashboardWindow()
    except ImportError:  # pragma: no cover - while a window is being built
        pass
    try:
        from posturecam.app.settings_dialog import SettingsDialog

        def saved(c: AppController, new: Settings) -> None:
            if glow is not None:
                glow.set_enabled(glow_wanted(cfg_path))
            c.apply_settings(new)

        makers["settings"] = lambda c: SettingsDialog(cfg_path, on_saved=lambda s: saved(c, s))
    except ImportError:  # pragma: no cover
        pass
    return makers


def app_setting(cfg_path: Path, key: str) -> bool:
    """One [app] setting as the file says now (False when the file cannot be read)."""
    from posturecam.app.configfile import read

    return bool(read(cfg_path).values()[("app", key)])


def beep_on_alert(cfg_path: Path) -> Callable[[str, dict], None]:
    """The optional sound (off by default): the desktop's own beep, once per alert."""

    def listen(kind: str, data: dict) -> None:
        if kind == "event" and data.get("type") == "alert" and app_setting(cfg_path, "sounds"):
            QApplication.beep()

    return listen


def profile_saver(cfg_path: Path) -> Callable[[str], None]:
    """The tray's profile choice goes into config.toml, so the next start uses it too."""

    def save(name: str) -> None:
        from posturecam.app import configfile

        cf = configfile.read(cfg_path)
        configfile.save(cf, {("monitor", "profile"): name})

    return save


def glow_wanted(cfg_path: Path) -> bool:
    """The [app] glow setting, where the desktop allows a click-through overlay."""
    from posturecam.app.configfile import read
    from posturecam.app.settings_dialog import glow_supported

    return bool(read(cfg_path).values()[("app", "glow")]) and glow_supported()


def run_gui(
    cfg: Settings,
    cfg_path: Path,
    resolved: ResolvedModel,
    *,
    tray: bool | None = None,
    setup: bool = False,
    started: float | None = None,
) -> int:
    """Run the app until quit; ``started`` (time.monotonic) dates the "watching" line."""
    started = time.monotonic() if started is None else started
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("posturecam")
    app.setQuitOnLastWindowClosed(False)  # closing the dashboard must not quit
    screen_locked = threading.Event()
    glow = Glow(glow_wanted(cfg_path))

    def leave() -> None:
        glow.close()
        app.quit()

    controller = AppController(
        cfg,
        real_monitor(resolved, screen_locked),
        tray_available=tray,
        on_quit=leave,
        windows=window_makers(cfg_path, resolved, glow),
        listeners=[glow.on_report, beep_on_alert(cfg_path)],
        reload=lambda: load_user(cfg_path)[0],
        lock_source=default_source(),
        screen_locked=screen_locked,
        remember_profile=profile_saver(cfg_path),
        on_first_judged=lambda state, _s: print(
            f"posturecam: watching ({state} after {time.monotonic() - started:.2f} s)",
            file=sys.stderr,
            flush=True,
        ),
    )
    if controller.ui.tray is None:
        print(f"posturecam: {NO_TRAY}", file=sys.stderr)
    with quit_on_signals(controller.quit):
        first_run = not profile_path(cfg.monitor.profile).exists()
        controller.start(setup=setup or first_run)
        app.exec()
    return exit_code(controller)


@contextlib.contextmanager
def quit_on_signals(quit: Callable[[], Any]) -> Iterator[None]:
    """Ctrl-C and SIGTERM quit as the menu does, while the block runs."""
    previous = {
        sig: signal.signal(sig, lambda *_: quit()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    ticker = QTimer()  # Python runs signal handlers only between Qt events: give it some
    ticker.timeout.connect(lambda: None)
    ticker.start(500)
    try:
        yield
    finally:
        ticker.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)


def exit_code(controller: AppController) -> int:
    """Say what went wrong, if anything, on stderr: 2 after errors, else 0."""
    if controller.worker is not None:  # quit's wait ran out: say so rather than hang
        print("posturecam: the monitor did not stop in time; exiting anyway", file=sys.stderr)
    for message in controller.errors:
        print(f"posturecam: {message}", file=sys.stderr)
    return 2 if controller.errors else 0
