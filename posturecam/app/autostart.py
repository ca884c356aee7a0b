"""Start the app at login: an XDG autostart .desktop file, a LaunchAgent, a Startup script;
and, on Linux, an applications-menu entry (the same .desktop file in the XDG data folder).

Qt-free, so `posturecam app --install-autostart` works without a display. Each file
runs this Python's `-m posturecam app`, so it follows the environment it was made in.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Mapping
from pathlib import Path

from posturecam.errors import PosturecamError
from posturecam.storage import write_text

LABEL = "io.github.posturecam.app"


def _python(system: str) -> str:
    exe = Path(sys.executable)
    if system == "win32":  # pythonw: no console window at login
        windowed = exe.with_name("pythonw.exe")
        if windowed.exists():
            return str(windowed)
    return str(exe)


def target(system: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """Where this OS looks for login items (the file itself is named by us)."""
    system = system or sys.platform
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    if system == "darwin":
        return home / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    if system == "win32":
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        startup = appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
        return startup / "posturecam.cmd"
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    return config / "autostart" / "posturecam.desktop"


def content(system: str | None = None) -> str:
    system = system or sys.platform
    python = _python(system)
    if system == "darwin":
        plist = {
            "Label": LABEL,
            "ProgramArguments": [python, "-m", "posturecam", "app"],
            "RunAtLoad": True,
            "ProcessType": "Interactive",
        }
        return plistlib.dumps(plist).decode("utf-8")
    if system == "win32":
        return f'@echo off\r\nstart "" "{python}" -m posturecam app\r\n'
    quoted = '"' + python.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=posturecam\n"
        "Comment=Watches your posture through the webcam and nudges you to sit well\n"
        f"Exec={quoted} -m posturecam app\n"
        "Icon=camera-web\n"
        "Terminal=false\n"
        "Categories=Utility;\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def installed(system: str | None = None, environ: Mapping[str, str] | None = None) -> bool:
    return target(system, environ).is_file()


def install(system: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    path = target(system, environ)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, content(system))
    except OSError as exc:
        raise PosturecamError(
            f"cannot write the login item {path} ({exc.strerror or exc}); check that the folder "
            "is writable"
        ) from exc
    return path


def remove(system: str | None = None, environ: Mapping[str, str] | None = None) -> Path | None:
    """Delete our login item; the path removed, or None when there was none."""
    return _remove(target(system, environ))


def _remove(path: Path) -> Path | None:
    """Delete one of our files; the path removed, or None when there was none."""
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PosturecamError(f"cannot remove {path} ({exc.strerror or exc})") from exc
    return path


def menu_target(system: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The applications-menu entry (Linux and other XDG desktops only)."""
    system = system or sys.platform
    if system in ("darwin", "win32"):
        raise PosturecamError(
            "a menu entry is made only on Linux (XDG desktops); on macOS and Windows start "
            "posturecam-app from a terminal, or use --install-autostart"
        )
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    return data / "applications" / "posturecam.desktop"


def install_menu_entry(system: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    path = menu_target(system, environ)
    text = content("linux").replace("X-GNOME-Autostart-enabled=true\n", "")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
    except OSError as exc:
        raise PosturecamError(f"cannot write {path} ({exc.strerror or exc})") from exc
    return path


def remove_menu_entry(
    system: str | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    return _remove(menu_target(system, environ))
