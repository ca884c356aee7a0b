"""Nudges: a desktop notification when one is available, and always a terminal line.

Desktop notifications are best-effort. Any failure (no tool installed, non-zero
exit, a hung notification daemon) quietly leaves the terminal line as the only
channel, because a posture monitor must never crash or stall over a nudge.
Commands are argument lists (never a shell) and user text is escaped for the
one language each tool parses: GVariant text for gdbus, AppleScript for
osascript, and base64 inside PowerShell.
"""

from __future__ import annotations

import base64
import html
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

APP_NAME = "posturecam"
TIMEOUT_S = 5.0
#: Never more than one desktop notification a minute, whatever the caller asks.
MIN_INTERVAL_S = 60.0
MAX_FAILURES = 3
_BODY_LIMIT = 500

Which = Callable[[str], str | None]
Runner = Callable[..., Any]  # subprocess.run-compatible

# PowerShell's own AppUserModelID: toasts from an unregistered app id are dropped silently.
_PS_APP_ID = r"{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe"
_WINRT = "ContentType = WindowsRuntime"


class Notifier(Protocol):
    """Anything that can show a message; returns whether it was shown."""

    def notify(self, title: str, body: str) -> bool: ...


def clean_text(text: str, *, keep_newlines: bool = False) -> str:
    """Collapse whitespace and drop control characters (a NUL would even break argv)."""
    lines = (" ".join(ln.split()) for ln in str(text).splitlines())
    lines = ("".join(ch for ch in ln if ch.isprintable()) for ln in lines)
    return ("\n" if keep_newlines else " ").join(ln for ln in lines if ln)[:_BODY_LIMIT]


def one_line(title: str, body: str) -> str:
    """The terminal form: ``title: body`` on one line."""
    title, body = clean_text(title), clean_text(body)
    return f"{title}: {body}" if title and body else title or body


class TerminalNotifier:
    """Prints one line per message; the channel that always works."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream  # None: whatever sys.stdout is at the time of writing

    def notify(self, title: str, body: str) -> bool:
        stream = self._stream if self._stream is not None else sys.stdout
        if stream is None:  # pythonw has no stdout
            return False
        try:
            stream.write(one_line(title, body) + "\n")
            stream.flush()
        except (OSError, ValueError):  # closed or broken stream
            return False
        return True


def gvariant_string(text: str) -> str:
    """A GVariant text-format string literal (what ``gdbus call`` parses)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{escaped}'"


def applescript_string(text: str) -> str:
    """An AppleScript string literal: backslashes and double quotes escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def powershell_toast_script(title: str, body: str) -> str:
    """A one-line Windows PowerShell 5.1 script showing a toast, no modules needed.

    User text travels as base64 so no quote character can end a string early,
    whatever Windows does to the command line.
    """
    manager = "[Windows.UI.Notifications.ToastNotificationManager]"
    return "; ".join(
        [
            "$ErrorActionPreference = 'Stop'",
            "function D($s) { [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($s)) }",
            f"[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, "
            f"{_WINRT}] | Out-Null",
            f"[Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, {_WINRT}] "
            "| Out-Null",
            f"$x = {manager}::GetTemplateContent("
            "[Windows.UI.Notifications.ToastTemplateType]::ToastText02)",
            "$t = $x.GetElementsByTagName('text')",
            f"$t.Item(0).AppendChild($x.CreateTextNode((D '{_b64(title)}'))) | Out-Null",
            f"$t.Item(1).AppendChild($x.CreateTextNode((D '{_b64(body)}'))) | Out-Null",
            "$n = [Windows.UI.Notifications.ToastNotification]::new($x)",
            f"{manager}::CreateToastNotifier('{_PS_APP_ID}').Show($n)",
        ]
    )


class DesktopNotifier:
    """Native notifications per platform, chosen when a notification is sent.

    Linux (and other Unix): ``notify-send``, else ``gdbus`` to the freedesktop
    notification service. macOS: ``osascript``. Windows: a PowerShell toast.
    ``which`` and ``run`` are injectable so tests never show anything.
    """

    def __init__(
        self,
        system: str | None = None,
        which: Which = shutil.which,
        run: Runner = subprocess.run,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.system = system if system is not None else platform.system()
        self._which = which
        self._run = run
        self.timeout_s = timeout_s

    def command(self, title: str, body: str) -> list[str] | None:
        """The argument list that would show this message, or None if no tool exists."""
        if self.system == "Darwin":
            exe = self._which("osascript")
            if exe is None:
                return None
            title, body = clean_text(title), clean_text(body)
            script = f"display notification {applescript_string(body)}"
            return [exe, "-e", f"{script} with title {applescript_string(title)}"]
        if self.system == "Windows":
            exe = self._which("powershell")
            if exe is None:
                return None
            script = powershell_toast_script(
                clean_text(title), clean_text(body, keep_newlines=True)
            )
            return [exe, "-NoProfile", "-NonInteractive", "-Command", script]
        title = clean_text(title)
        # Notification servers may read the body as markup; a bare "&" would break it.
        body = html.escape(clean_text(body, keep_newlines=True), quote=False)
        exe = self._which("notify-send")
        if exe is not None:
            return [exe, f"--app-name={APP_NAME}", "--", title, body]
        exe = self._which("gdbus")
        if exe is not None:
            return [
                exe,
                "call",
                "--session",
                "--dest",
                "org.freedesktop.Notifications",
                "--object-path",
                "/org/freedesktop/Notifications",
                "--method",
                "org.freedesktop.Notifications.Notify",
                gvariant_string(APP_NAME),  # app_name
                "uint32 0",  # replaces_id
                "''",  # app_icon
                gvariant_string(title),
                gvariant_string(body),
                "@as []",  # actions
                "@a{sv} {}",  # hints
                "int32 -1",  # expire_timeout: the server's default
            ]
        return None

    @property
    def available(self) -> bool:
        return self.command("", "") is not None

    def notify(self, title: str, body: str) -> bool:
        argv = self.command(title, body)
        if argv is None:
            return False
        extra: dict[str, Any] = {}
        no_window = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows only
        if self.system == "Windows" and no_window:
            extra["creationflags"] = no_window
        try:
            result = self._run(
                argv, timeout=self.timeout_s, capture_output=True, check=False, **extra
            )
        except (OSError, subprocess.SubprocessError, ValueError):
            return False
        return getattr(result, "returncode", 1) == 0


class NotificationHub:
    """Terminal line every time; desktop at most once per ``min_interval_s``.

    After ``max_failures`` consecutive desktop failures the desktop is left
    alone for the rest of the session, so a broken notification daemon costs
    at most a few timeouts.
    """

    def __init__(
        self,
        terminal: Notifier,
        desktop: Notifier | None,
        min_interval_s: float = MIN_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        max_failures: int = MAX_FAILURES,
    ) -> None:
        if not min_interval_s >= MIN_INTERVAL_S:
            raise ValueError(f"min_interval_s must be at least {MIN_INTERVAL_S:g} s")
        self.terminal = terminal
        self.desktop = desktop
        self.min_interval_s = float(min_interval_s)
        self._clock = clock
        self.max_failures = max_failures
        self._last_attempt: float | None = None
        self.failures = 0  # consecutive
        self.desktop_sent = 0

    @property
    def desktop_active(self) -> bool:
        return self.desktop is not None and self.failures < self.max_failures

    def notify(self, title: str, body: str) -> bool:
        """Show the message; True if any channel showed it."""
        shown = self.terminal.notify(title, body)
        if not self.desktop_active:
            return shown
        now = self._clock()
        if self._last_attempt is not None and now - self._last_attempt < self.min_interval_s:
            return shown
        self._last_attempt = now
        ok = self.desktop is not None and self.desktop.notify(title, body)
        if ok:
            self.failures = 0
            self.desktop_sent += 1
        else:
            self.failures += 1
        return shown or ok


def library_notifier(system: str | None) -> Notifier | None:
    """desktop-notifier's (with a Snooze button) where it serves; loaded at the first nudge."""
    from posturecam.live.desktop_notify import native

    return native(system)


def make_notifier(
    enabled: bool,
    stream: TextIO | None = None,
    *,
    system: str | None = None,
    which: Which = shutil.which,
    run: Runner = subprocess.run,
    clock: Callable[[], float] = time.monotonic,
    library: Callable[[str | None], Notifier | None] = library_notifier,
) -> NotificationHub:
    """The hub the CLI uses; ``--no-notify`` (enabled=False) means terminal only."""
    desktop: Notifier | None = None
    if enabled:
        desktop = library(system)
        if desktop is None:
            candidate = DesktopNotifier(system=system, which=which, run=run)
            desktop = candidate if candidate.available else None
    return NotificationHub(TerminalNotifier(stream), desktop, clock=clock)
