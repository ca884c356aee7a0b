"""Build the same Monitor `posturecam monitor` runs, with the app as its listener (Qt-free).

The app holds the monitor lock for its whole life (so a second instance is told
about the first); this only opens the camera, the model and the session log for
one monitoring session and closes them again, as the CLI does.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from posturecam import profiles
from posturecam.app.lock import LockAwareWatcher
from posturecam.frames.capture import LiveCapture, open_live
from posturecam.frames.pose import VIDEO, PoseEstimator
from posturecam.live.control import ControlWatcher, pause, resume, snooze
from posturecam.live.feedback import FeedbackWatcher
from posturecam.live.launch import monitor_options, today_slouched_s
from posturecam.live.monitor import ControlCommands, Listener, Monitor, StatusLine
from posturecam.live.notify import NotificationHub, make_notifier
from posturecam.live.sessionlog import SessionLog
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
            yield Monitor(
                cap,
                estimator,
                profile,
                lambda p: profiles.save(p, target, overwrite_other_view=True),
                options=monitor_options(cfg),
                log=log,
                notifier=notifier or make_notifier(m.notify, stream),
                control=watcher,
                status=StatusLine(stream, tty=False),
                source_name=str(m.source),
                model_variant=model_variant,
                slouched_before_s=today_slouched_s(log, time.time()),
                commands=ControlCommands(pause, resume, snooze),
                feedback=FeedbackWatcher(),
                profile_path=target,
                listener=listener,
            )
    finally:
        estimator.close()
        cap.close()
