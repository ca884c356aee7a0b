"""Assemble the live monitor from settings and flags, and run it until a signal or 'q'.

Kept apart from monitor.py (the loop) so that the loop can be tested with
fakes, and apart from cli.py (parsing) so that tests can start a monitor
in a child process without a shell.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from posturecam import profiles
from posturecam.core.baseline import WINDOW_S
from posturecam.core.rules import JudgeSettings
from posturecam.core.sustained import SustainedSettings
from posturecam.errors import CalibrationError, Remedy
from posturecam.frames.capture import LiveCapture, open_live
from posturecam.frames.pose import VIDEO, PoseEstimator
from posturecam.live import control
from posturecam.live.feedback import FeedbackWatcher
from posturecam.live.gating import GateSettings
from posturecam.live.monitor import Monitor
from posturecam.live.notify import make_notifier
from posturecam.live.presenter import StatusLine
from posturecam.live.sessionlog import SessionLog
from posturecam.live.wiring import (
    ControlCommands,
    Devices,
    MonitorOptions,
    ProfileSlot,
    Requests,
    SessionInfo,
    Sinks,
)
from posturecam.profiles import Profile
from posturecam.settings import Settings


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[str], None]) -> Iterator[None]:
    """SIGINT and SIGTERM end the session cleanly; a second Ctrl-C forces the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    count = {"n": 0}

    def handler(signum: int, _frame: object) -> None:
        count["n"] += 1
        if count["n"] > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop("interrupted" if signum == signal.SIGINT else "terminated")

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def today_slouched_s(log: SessionLog, now: float) -> float:
    days = log.history(days=1, now=now)
    return days[0].slouched_s if days else 0.0


def monitor_options(cfg: Settings) -> MonitorOptions:
    """The monitor's options from the settings (the terminal monitor's and the app's)."""
    m = cfg.monitor
    return MonitorOptions(
        rate_hz=m.rate_hz,
        max_rate_hz=m.max_rate_hz,
        snooze_s=m.snooze_minutes * 60.0,
        temporal=cfg.temporal,
        judge=cfg.judge,
        adapt=cfg.adapt,
        gate=GateSettings(enabled=m.gate, recheck_s=m.recheck_s),
    )


def build_monitor(
    cfg: Settings,
    devices: Devices,
    sinks: Sinks,
    profile: Profile | None,
    *,
    watcher: Any = None,
    model_variant: str = "",
) -> Monitor:
    """The Monitor `posturecam monitor` and the app run: ``cfg.monitor``'s profile and source,
    pause/snooze/resume and feedback through their files, today's slouched time from the log."""
    m = cfg.monitor
    target = profiles.profile_path(m.profile)
    before = today_slouched_s(sinks.log, time.time()) if sinks.log is not None else 0.0
    return Monitor(
        devices,
        ProfileSlot(profile, lambda p: profiles.save(p, target, overwrite_other_view=True), target),
        monitor_options(cfg),
        sinks,
        Requests(
            watcher if watcher is not None else control.ControlWatcher(),
            ControlCommands(control.pause, control.resume, control.snooze),
            FeedbackWatcher(),
        ),
        SessionInfo(str(m.source), model_variant, before),
    )


def run_monitor(
    cfg: Settings,
    make_estimator: Callable[[str], PoseEstimator],
    *,
    recalibrate: bool = False,
    model_variant: str = "",
    capture: LiveCapture | None = None,
    preview: Any = None,
    stream: Any = None,
) -> dict[str, Any]:
    """Run one monitoring session with ``cfg.monitor``; returns the session summary."""
    m = cfg.monitor
    stream = stream or sys.stdout
    target = profiles.profile_path(m.profile)
    profile = profiles.load(target) if target.exists() and not recalibrate else None
    if profile is None:
        print(
            f"No calibration for '{m.profile}' yet: posturecam first measures how you sit when "
            f"upright (about {WINDOW_S:g} s). Sit comfortably tall, facing the screen.",
            file=stream,
            flush=True,
        )
    judge = cfg.judge or (profile.settings if profile else JudgeSettings())
    if judge.sustained > 0:
        print(
            "posturecam: a clear slouch counts from the first frame; a small one that holds, "
            f"after about {SustainedSettings().learn_s / 60:.0f} minutes of learning how you "
            "sit today.",
            file=stream,
            flush=True,
        )
    with control.monitor_lock():
        cap = capture or open_live(m.source)
        estimator = make_estimator(VIDEO)
        try:
            with SessionLog.open() as log:
                notifier = make_notifier(m.notify, stream)
                sinks = Sinks(log, notifier, StatusLine(stream), preview)
                monitor = build_monitor(
                    cfg, Devices(cap, estimator), sinks, profile, model_variant=model_variant
                )
                with stop_on_signals(monitor.stop):
                    summary = monitor.run()
        finally:
            estimator.close()
            cap.close()
    if profile is None and monitor.profile is None:
        _calibration_unfinished(summary, m.source, monitor.options.calibration_s)
    return summary


def _calibration_unfinished(summary: dict[str, Any], source: object, seconds: float) -> None:
    """A first calibration that never finished is a failure, not an empty session."""
    reason = summary.get("end_reason", "")
    if reason == "source ended":
        raise CalibrationError(
            f"calibration did not finish: the video {source} ended before {seconds:g} s of "
            "calibration were seen, so nothing was judged and no profile was saved; ",
            Remedy("longer_video_or_camera"),
        )
    if reason == "calibration failed":
        raise CalibrationError(
            "calibration failed (the reason is above), so nothing was judged and no profile "
            "was saved; fix that and start the monitor again"
        )


def describe_control(state: control.Control, now: float | None = None) -> str:
    """What a pause/snooze/resume command did, and whether a monitor is there to hear it."""
    pid = control.running_monitor()
    if pid is None:
        return control.describe(state, now) + " (no monitor is running now)"
    if state.mode(time.time() if now is None else now) is None:
        return control.describe(state, now)
    return control.describe(state, now) + f"; the running monitor (pid {pid}) releases the camera"
