"""Build the same Monitor `posturecam monitor` runs, with the app as its listener (Qt-free).

The app holds the monitor lock for its whole life (so a second instance is told
about the first); this only opens the camera, the model and the session log for
one monitoring session and closes them again, as the CLI does.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from posturecam import profiles
from posturecam.app.lock import LockAwareWatcher
from posturecam.frames.capture import LiveCapture, open_live
from posturecam.frames.pose import VIDEO, PoseEstimator
from posturecam.live.control import ControlWatcher
from posturecam.live.launch import build_monitor
from posturecam.live.monitor import Monitor
from posturecam.live.notify import NotificationHub, make_notifier
from posturecam.live.presenter import Listener, StatusLine
from posturecam.live.sessionlog import SessionLog
from posturecam.live.wiring import Devices, Sinks
from posturecam.settings import Settings


class NullStream:
    """Where the terminal status line goes in the app: nowhere (the tray shows it)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def live_monitor(
    cfg: Settings,
    make_estimator: Callable[[str], PoseEstimator],
    listener: Listener,
    *,
    model_variant: str = "",
    capture: LiveCapture | None = None,
    notifier: NotificationHub | None = None,
    stream: Any = None,
    screen_locked: threading.Event | None = None,
) -> Iterator[Monitor]:
    """A Monitor for ``cfg.monitor.profile``; the camera and model are closed on exit."""
    m = cfg.monitor
    stream = stream or NullStream()
    target = profiles.profile_path(m.profile)
    profile = profiles.load(target) if target.exists() else None
    watcher: Any = ControlWatcher()
    if screen_locked is not None:
        watcher = LockAwareWatcher(watcher, screen_locked)
    cap = capture or open_live(m.source)
    try:
        estimator = make_estimator(VIDEO)
    except BaseException:
        cap.close()
        raise
    try:
        with SessionLog.open() as log:
            sinks = Sinks(
                log,
                notifier or make_notifier(m.notify, stream),
                StatusLine(stream, tty=False),
                listener=listener,
            )
            yield build_monitor(
                cfg,
                Devices(cap, estimator),
                sinks,
                profile,
                watcher=watcher,
                model_variant=model_variant,
            )
    finally:
        estimator.close()
        cap.close()
