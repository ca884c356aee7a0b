"""The monitor's thread: runs Monitor.run() and turns its listener calls into Qt signals.

Signals cross to the GUI thread queued, so widgets are only touched there. Stopping
asks the monitor to stop as Ctrl-C does: it releases the camera and closes the session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from PySide6.QtCore import QThread, Signal

from posturecam.errors import PosturecamError
from posturecam.monitor import Listener, Monitor

StartMonitor = Callable[[Listener], AbstractContextManager[Monitor]]


class MonitorWorker(QThread):
    """One monitoring session in a thread; ``start_monitor`` opens what it needs."""

    report = Signal(str, dict)  # (kind, data) as the monitor's listener heard it
    ended = Signal(dict)  # the session summary
    failed = Signal(str)  # one line: what went wrong

    def __init__(self, start_monitor: StartMonitor, parent: Any = None) -> None:
        super().__init__(parent)
        self._start_monitor = start_monitor
        self._lock = threading.Lock()
        self._monitor: Monitor | None = None
        self._stop_reason: str | None = None
        self._pending: list[str] = []
        self.summary: dict[str, Any] | None = None

    def _listen(self, kind: str, data: dict[str, Any]) -> None:
        self.report.emit(kind, dict(data))

    def run(self) -> None:
        try:
            with self._start_monitor(self._listen) as monitor:
                with self._lock:
                    self._monitor = monitor
                    if self._stop_reason is not None:
                        monitor.stop(self._stop_reason)
                    for command in self._pending:
                        monitor.request(command)
                    self._pending.clear()
                summary = monitor.run()
            self.summary = summary
            self.ended.emit(summary)
        except PosturecamError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # the GUI must outlive a broken session and say why
            self.failed.emit(f"the monitor stopped: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._monitor = None

    def stop(self, reason: str = "quit") -> None:
        with self._lock:
            self._stop_reason = reason
            if self._monitor is not None:
                self._monitor.stop(reason)

    def request(self, command: str) -> None:
        """Pass a command ("recalibrate") to the monitor, now or once it exists."""
        with self._lock:
            if self._monitor is not None:
                self._monitor.request(command)
            else:
                self._pending.append(command)
