"""Screen-lock sources: tell the app when the screen locks and unlocks (Qt-free).

Linux listens on D-Bus with jeepney (pure Python): the freedesktop ScreenSaver's
``ActiveChanged`` signal on the session bus and logind's session ``Lock``/``Unlock``
on the system bus. macOS (com.apple.screenIsLocked) and Windows (WTS session
notifications) are not implemented here: ``default_source`` returns None there,
and the app then simply does not pause on lock.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Protocol

from posturecam.live.control import Control, ControlWatcher

OnChange = Callable[[bool], None]  # called with True when locked, False when unlocked

SCREENSAVER = ("org.freedesktop.ScreenSaver", "ActiveChanged")
LOGIND = "org.freedesktop.login1"


class LockSource(Protocol):
    def start(self, on_change: OnChange) -> None: ...
    def stop(self) -> None: ...


class _Listener(threading.Thread):
    """One bus, one match rule, one daemon thread; quietly ends if the bus is absent."""

    def __init__(self, bus: str, rules: list[dict[str, str]], decide: Callable, on_change: OnChange,
                 stop: threading.Event) -> None:  # fmt: skip
        super().__init__(name="posturecam-lock", daemon=True)
        self.bus, self.rules, self.decide, self.on_change = bus, rules, decide, on_change
        self._halt = stop
        self.ready = threading.Event()
        self.error = ""

    def run(self) -> None:
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        try:
            conn = open_dbus_connection(bus=self.bus)
        except (OSError, KeyError, ValueError) as exc:  # no such bus here
            self.error = f"no bus {self.bus}: {exc}"
            self.ready.set()
            return
        with conn:
            rules = [MatchRule(type="signal", **r) for r in self.rules]
            try:
                for rule in rules:
                    conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5)
            except Exception as exc:  # a bus that refuses match rules: no lock events
                self.error = str(exc)
                self.ready.set()
                return
            with contextlib.ExitStack() as stack:
                queues = [stack.enter_context(conn.filter(rule)) for rule in rules]
                self.ready.set()
                while not self._halt.is_set():
                    try:
                        conn.recv_messages(timeout=0.5)
                    except TimeoutError:
                        continue
                    except (OSError, EOFError):
                        return
                    for queue in queues:
                        while queue:
                            locked = self.decide(queue.popleft())
                            if locked is not None:
                                self.on_change(locked)


def _screensaver(message: object) -> bool | None:
    body = getattr(message, "body", ())
    return bool(body[0]) if body else None


def _logind(message: object) -> bool | None:
    member = getattr(getattr(message, "header", None), "fields", {})
    name = next((v for k, v in member.items() if getattr(k, "name", "") == "member"), None)
    return {"Lock": True, "Unlock": False}.get(str(name))


class DBusLockSource:
    """Listens on the session bus (ScreenSaver) and the system bus (logind)."""

    def __init__(self, session: str | None = "SESSION", system: str | None = "SYSTEM") -> None:
        """Each bus is "SESSION", "SYSTEM", a bus address (tests), or None for none."""
        self.buses = [
            (kind, bus) for kind, bus in (("session", session), ("system", system)) if bus
        ]
        self._stop = threading.Event()
        self.threads: list[_Listener] = []

    def start(self, on_change: OnChange) -> None:
        self._stop.clear()
        for kind, bus in self.buses:
            if kind == "session":
                rules = [{"interface": SCREENSAVER[0], "member": SCREENSAVER[1]}]
                decide = _screensaver
            else:
                session = _session_path()
                where = {"path": session} if session else {}
                rules = [{"interface": f"{LOGIND}.Session", "member": m, **where}
                         for m in ("Lock", "Unlock")]  # fmt: skip
                decide = _logind
            thread = _Listener(bus, rules, decide, on_change, self._stop)
            thread.start()
            self.threads.append(thread)

    def wait_ready(self, timeout: float = 5.0) -> bool:
        return all(t.ready.wait(timeout) for t in self.threads)

    def stop(self) -> None:
        self._stop.set()
        for thread in self.threads:
            thread.join(timeout=2.0)
        self.threads.clear()


def _session_path() -> str | None:
    """This process's logind session object, so another user's lock is not ours."""
    session_id = os.environ.get("XDG_SESSION_ID")
    return f"/org/freedesktop/login1/session/{session_id}" if session_id else None


def default_source() -> LockSource | None:
    """The lock source for this OS, or None where none is implemented or jeepney is missing."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import jeepney  # noqa: F401
    except ImportError:
        return None
    return DBusLockSource()


class LockAwareWatcher:
    """The monitor's control watcher, held paused while the screen is locked.

    The control file is left alone: a pause the user gave stays theirs, and a lock
    never outlives the app (nothing to undo if it is killed while locked).
    """

    def __init__(self, inner: ControlWatcher, locked: threading.Event) -> None:
        self.inner = inner
        self.locked = locked

    def current(self) -> Control:
        control = self.inner.current()
        if self.locked.is_set():
            return Control(paused=True, snooze_until=control.snooze_until)
        return control
