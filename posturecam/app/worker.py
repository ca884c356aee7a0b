"""The monitor's thread: runs Monitor.run() and turns its listener calls into Qt signals.

A payload-free signal crosses to the GUI thread queued, and there ``deliver`` hands the
queued reports to plain Python callbacks, so widgets are only touched in the GUI thread
and no report is converted by Qt on the way (a burst of reports costs one wake-up). Stopping
asks the monitor to stop as Ctrl-C does: it releases the camera and closes the session.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from PySide6.QtCore import QThread, Signal

from posturecam.errors import PosturecamError
from posturecam.live.monitor import Monitor
from posturecam.live.presenter import Listener

StartMonitor = Callable[[Listener], AbstractContextManager[Monitor]]


class MonitorWorker(QThread):
    """One monitoring session in a thread; ``start_monitor`` opens what it needs."""

    pending = Signal()  # reports are waiting in the queue (emitted from the worker thread)
    failed = Signal(str)  # one line: what went wrong

    def __init__(self, start_monitor: StartMonitor, parent: Any = None) -> None:
        super().__init__(parent)
        self._start_monitor = start_monitor
        self._lock = threading.Lock()
        self._monitor: Monitor | None = None
        self._stop_reason: str | None = None
        self._pending: list[str] = []
        self.summary: dict[str, Any] | None = None
        self.on_report: list[Callable[[str, dict[str, Any]], Any]] = []  # GUI-thread callbacks
        self._queue: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        self.pending.connect(self.deliver)  # queued: this object lives in the GUI thread

    def _listen(self, kind: str, data: dict[str, Any]) -> None:
        self._queue.put((kind, dict(data)))
        self.pending.emit()

    def deliver(self) -> None:
        """In the GUI thread: hand every queued report on, in order."""
        while True:
            try:
                kind, data = self._queue.get_nowait()
            except queue.Empty:
                return
            for callback in self.on_report:
                callback(kind, data)

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
