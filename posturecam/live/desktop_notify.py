"""Desktop notifications through desktop-notifier, each with a "Snooze 30 min" button.

Where it serves: Linux (it speaks the freedesktop notification protocol over D-Bus itself:
no notify-send to install, no process per nudge, and buttons, which notify-send cannot offer
without a child process waiting on every notification) and Windows 10+ (WinRT toasts from
posturecam's own registered app id, with buttons). Not on macOS: there desktop-notifier
needs a signed app bundle, and from a pip-installed Python its backend is a dummy that
drops every message, so live/notify.py's osascript stays the way there (``supported``).

The library is asynchronous and a button calls back only while an asyncio loop runs, so
the notifier keeps one loop in a daemon thread, started with the first message; ``notify``
hands each message to it and waits at most ``timeout_s`` for the service's answer. Nothing
of desktop-notifier is imported before the first message, so a monitor with notifications
off, or one that never nudges, never loads it. Any failure returns False (the
NotificationHub then counts it and the terminal line remains), never an exception.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import importlib.util
import logging
import platform
import threading
from collections.abc import Callable
from typing import Any

from posturecam.errors import ControlError
from posturecam.live import control
from posturecam.live.notify import APP_NAME, TIMEOUT_S, clean_text

MODULE = "desktop_notifier"
SNOOZE_S = 30 * 60.0
SNOOZE_LABEL = "Snooze 30 min"
SYSTEMS = ("Linux", "Windows")

MakeApi = Callable[[str], Any]  # app name -> an object with desktop-notifier's async API


def supported(system: str | None = None, find_spec: Callable[[str], Any] | None = None) -> bool:
    """desktop-notifier is installed and natively serves this platform (Linux, Windows)."""
    system = platform.system() if system is None else system
    find_spec = importlib.util.find_spec if find_spec is None else find_spec
    return system in SYSTEMS and find_spec(MODULE) is not None


def native(system: str | None = None) -> ActionNotifier | None:
    """The notifier make_notifier prefers where desktop-notifier serves; else None."""
    return ActionNotifier(system=system) if supported(system) else None


def real_api(app_name: str) -> Any:
    """desktop-notifier's own notifier, quiet: a failed send is our False, not a traceback."""
    logging.getLogger(MODULE).addHandler(logging.NullHandler())  # no "last resort" stderr
    from desktop_notifier import DesktopNotifier

    return DesktopNotifier(app_name=app_name, app_icon=None)


class ActionNotifier:
    """``notify(title, body) -> bool`` like live/notify.py's notifiers, plus a Snooze button.

    ``make_api`` builds the desktop-notifier object (tests pass a fake of its API);
    ``snooze`` is what the button does: the control file's snooze, which the CLI monitor
    and the app both follow.
    """

    def __init__(
        self,
        make_api: MakeApi = real_api,
        snooze: Callable[[float], Any] = control.snooze,
        *,
        system: str | None = None,
        timeout_s: float = TIMEOUT_S,
        app_name: str = APP_NAME,
    ) -> None:
        self._make_api = make_api
        self._snooze = snooze
        self.system = platform.system() if system is None else system
        self.timeout_s = timeout_s
        self.app_name = app_name
        self.snoozes = 0  # button presses honoured
        self._api: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return supported(self.system)

    def notify(self, title: str, body: str) -> bool:
        """Show the message with its button; True once the notification service took it."""
        try:
            future = asyncio.run_coroutine_threadsafe(self._send(title, body), self._running())
        except RuntimeError:  # the loop was closed
            return False
        try:
            return future.result(self.timeout_s)
        except (concurrent.futures.TimeoutError, TimeoutError):
            future.cancel()
            return False
        except (ImportError, OSError, RuntimeError, ValueError):  # no library, no service
            return False

    async def _send(self, title: str, body: str) -> bool:
        from desktop_notifier import Button, Notification

        if self._api is None:
            self._api = self._make_api(self.app_name)
        text = clean_text(body, keep_newlines=True)
        if self.system != "Windows":  # D-Bus servers may read the body as markup
            text = html.escape(text, quote=False)
        shown = threading.Event()
        note = Notification(
            title=clean_text(title),
            message=text,
            buttons=(Button(SNOOZE_LABEL, on_pressed=self.snooze_pressed),),
            on_dispatched=shown.set,
        )
        await self._api.send_notification(note)  # it logs failures instead of raising
        return shown.is_set()

    def snooze_pressed(self) -> None:
        """The button: snooze through the control file (a failure must not kill the loop)."""
        try:
            self._snooze(SNOOZE_S)
        except ControlError:
            return
        self.snoozes += 1

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="posturecam-notify", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def close(self) -> None:
        """Stop the loop's thread (buttons of notifications still shown then do nothing)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(self.timeout_s)
        if not thread.is_alive():
            loop.close()
