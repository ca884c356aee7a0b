"""`posturecam app`: arguments, bad-input checks and start-up (Qt imported only at the end).

Everything that can fail in one clear line fails here, before a window exists:
PySide6 missing, a broken config.toml, no model, no display, a monitor already running.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from posturecam.errors import PosturecamError

# The flags that make or remove a login item or menu entry, and exit (one at a time).
ONE_OFFS = (
    (
        "--install-autostart",
        "start the app at login (XDG autostart / LaunchAgent / Startup shortcut) and exit",
    ),
    ("--remove-autostart", "stop starting the app at login and exit"),
    ("--install-menu-entry", "add posturecam to the applications menu (Linux) and exit"),
    ("--remove-menu-entry", "remove it from the menu and exit"),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", metavar="NAME|PATH", help="calibration profile (default: default)")
    p.add_argument("--source", help="camera index or a video file played at real time (default 0)")
    p.add_argument("--config", metavar="FILE", help="use this settings file instead")
    p.add_argument(
        "--no-tray",
        action="store_true",
        help="show the small status window instead of a tray icon",
    )
    p.add_argument("--setup", action="store_true", help="open the guided setup first")
    auto = p.add_mutually_exclusive_group()
    for flag, text in ONE_OFFS:
        auto.add_argument(flag, action="store_true", help=text)


def one_off(args: argparse.Namespace) -> str | None:
    """What a login-item or menu-entry flag did, in one line; None without such a flag."""
    from posturecam.app import autostart

    if args.install_autostart:
        return f"installed {autostart.install()}: posturecam app starts at login"
    if args.remove_autostart:
        removed = autostart.remove()
        return f"removed {removed}" if removed else "posturecam app was not set to start at login"
    if args.install_menu_entry:
        return f"installed {autostart.install_menu_entry()}: posturecam is in the menu"
    if args.remove_menu_entry:
        removed = autostart.remove_menu_entry()
        return f"removed {removed}" if removed else "posturecam was not in the menu"
    return None


def run(args: argparse.Namespace) -> int:
    import time

    started = time.monotonic()
    line = one_off(args)
    if line is not None:  # done without Qt or a display
        print(line)
        return 0
    from posturecam.app import NEEDS_QT, qt_available
    from posturecam.app.qtenv import display_problem, prepare

    prepare()  # before any Qt import (qt_available imports PySide6): see qtenv.prepare
    if not qt_available():
        raise PosturecamError(NEEDS_QT)
    problem = display_problem()
    if problem:
        raise PosturecamError(problem)
    from pathlib import Path

    from posturecam import settings
    from posturecam.frames import model
    from posturecam.live import control

    cfg, cfg_path, _existed = settings.load_user(Path(args.config) if args.config else None)
    cfg = replace(cfg, monitor=cfg.monitor.updated(profile=args.profile, source=args.source))
    resolved = model.resolve(args.model, args.model_variant)
    with control.monitor_lock():  # a second instance is told about the first, and stops
        from posturecam.app.main import run_gui

        return run_gui(
            cfg,
            cfg_path,
            resolved,
            tray=False if args.no_tray else None,
            setup=args.setup,
            started=started,
        )


def gui_main(argv: list[str] | None = None, show: Callable[[str], Any] | None = None) -> int:
    """The ``posturecam-app`` GUI entry point: `posturecam app`, and its one error line in a
    message box too, since a program started from a menu or at login has no terminal."""
    import contextlib
    import io

    from posturecam.cli import main

    class Tee(io.StringIO):
        def write(self, text: str) -> int:
            if sys.__stderr__ is not None:  # the terminal still sees it, if there is one
                sys.__stderr__.write(text)
            return super().write(text)

    captured = Tee()
    with contextlib.redirect_stderr(captured):
        code = main(["app", *(sys.argv[1:] if argv is None else argv)])
    lines = [line for line in captured.getvalue().splitlines() if line.strip()]
    if code != 0 and lines:
        (show or _message_box)(lines[-1])
    return code


def _message_box(text: str) -> None:
    """Best effort: without Qt or a display the line on stderr is all there is."""
    from posturecam.app import qt_available
    from posturecam.app.qtenv import display_problem

    if not qt_available() or display_problem():
        return
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(["posturecam"])  # noqa: F841 - kept alive
    QMessageBox.critical(None, "posturecam", text)
