"""The live monitor's loop: fresh camera frames -> pose -> judgement -> a calm timeline -> nudges.

The loop only sequences the parts it composes: its cadence (rate, change gating, gaps),
live scoring (judgement, moving baseline, timeline), the coach, the session recorder (log and
notifier), the presenter (status line, preview, listener), the profile keeper (feedback) and
the one calibration window (live.calibration). Everything it talks to (camera, model, session
log, control file, notifier, preview, clocks) is passed in, so the loop runs in tests with
fakes. Time comes from frame timestamps; the wall clock only dates the session log.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from typing import Any

from posturecam.core.coach import Coach
from posturecam.core.temporal import Step
from posturecam.core.types import Frame
from posturecam.errors import CalibrationError
from posturecam.frames.capture import ENDED, OK, Health
from posturecam.frames.engine import LandmarkLog
from posturecam.frames.pacing import paced
from posturecam.live import feedback as fb
from posturecam.live import wiring
from posturecam.live.cadence import Cadence
from posturecam.live.calibration import calibrate, calibration_window
from posturecam.live.keeper import ProfileKeeper, RecentFrames
from posturecam.live.presenter import Presenter, StatusLine
from posturecam.live.preview import PAUSE, QUIT, RECALIBRATE, SNOOZE
from posturecam.live.recorder import SessionRecorder, SessionTotals
from posturecam.live.scoring import LiveScorer
from posturecam.live.states import NO_CAMERA, PAUSED
from posturecam.profiles import Profile
from posturecam.text import format_duration

_IMPORTED = time.monotonic()


def process_age_s() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere since import)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED


class Monitor:
    """Runs until stopped (signal, 'q', end of a video source); never crashes on camera trouble."""

    def __init__(
        self,
        devices: wiring.Devices,
        slot: wiring.ProfileSlot,
        options: wiring.MonitorOptions | None = None,
        sinks: wiring.Sinks | None = None,
        requests: wiring.Requests | None = None,
        session: wiring.SessionInfo | None = None,
    ) -> None:
        o = self.options = options or wiring.MonitorOptions()
        sinks = sinks or wiring.Sinks()
        self.capture, self.estimator = devices.capture, devices.estimator
        self.requests = requests or wiring.Requests()
        self.session = session or wiring.SessionInfo()
        self.wall = self.session.wall
        self.keeper = ProfileKeeper(slot.profile, slot.save, slot.path)
        self.presenter = Presenter(
            sinks.status or StatusLine(sys.stdout), sinks.preview, sinks.listener
        )
        self.recorder = SessionRecorder(
            self.presenter, self.wall, sinks.log, sinks.notifier, o.sample_every_s
        )
        self.scorer = LiveScorer(o.scoring)
        self.cadence = Cadence(
            self.estimator, o.rate_hz, o.max_rate_hz, o.temporal.persistence_s, o.gate
        )
        self.recent = RecentFrames()
        self.coach = Coach()
        self.end_reason = ""
        self._queued: deque[str] = deque()  # commands from other threads (request())
        self._capturing = False
        self._health_shown = OK
        self._stop = threading.Event()
        self._wait = self.session.wait or self._stop.wait  # interrupted by stop()

    @property
    def profile(self) -> Profile | None:
        return self.keeper.profile

    @property
    def totals(self) -> SessionTotals:
        return self.recorder.totals

    # ------------------------------------------------------------------ control

    def stop(self, reason: str = "stopped") -> None:
        if not self.end_reason:
            self.end_reason = reason
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request(self, command: str) -> None:
        """Ask for a preview-key command ("recalibrate", "quit", ...) from another thread."""
        self._queued.append(command)

    def _ensure_capturing(self) -> None:
        if not self._capturing:
            self.capture.start()
            self._capturing = True

    def _release(self) -> None:
        if self._capturing:
            self.capture.release()
            self._capturing = False
        self.cadence.forget()

    def _close_timeline(self) -> None:
        """Fold the timeline's totals in and start a fresh one (after a pause or recalibration)."""
        self.totals.add(self.scorer.restart())
        self.cadence.forget()

    # ------------------------------------------------------------------ calibration

    def calibrate(self) -> bool:
        """Measure the upright baseline from the live camera; True when a profile was saved."""
        o = self.options
        self._ensure_capturing()
        self.presenter.message(
            f"Calibrating: sit upright and comfortable, facing the screen, for "
            f"{o.calibration_s:g} s..."
        )
        self.presenter.tell("calibrating", seconds=o.calibration_s)
        frames = paced(
            self.capture,
            o.calibration_rate_hz,
            stop=self._stop,
            wait=self._wait,
            on_wait=self._calibration_waits,
        )
        log = calibration_window(frames, self.estimator, seconds=o.calibration_s)
        if self.capture.health.status == ENDED:
            self.stop("source ended")
        if self.stopping:
            return False
        return self._calibrated(log)

    def _calibration_waits(self, health: Health) -> None:
        self.presenter.show(f"calibration waiting: {health.message}")

    def _calibrated(self, log: LandmarkLog) -> bool:
        """The calibration window's profile, saved and used; False when it cannot be made."""
        name = self.profile.name if self.profile else "default"
        s = self.session
        try:
            profile = calibrate(log, name, s.source_name, None, s.model_variant, self.options.judge)
        except CalibrationError as exc:
            self.presenter.message(f"Calibration failed: {exc}")
            self.presenter.tell("calibration_failed", message=str(exc))
            return False
        unsaved = self.keeper.save(profile)  # a full disk must not end the session
        self.keeper.profile = profile
        self._close_timeline()
        self.presenter.message(f"Calibrated ({profile.view} view, {profile.frames} frames).")
        if unsaved:
            self.presenter.message(
                f"posturecam: {unsaved}; this session uses the new calibration, but the next "
                "start will not: free some disk space and recalibrate"
            )
        self.presenter.tell("calibrated", view=profile.view, frames=profile.frames)
        return True

    # ------------------------------------------------------------------ the loop

    def run(self) -> dict[str, Any]:
        """Monitor until stopped; returns the session summary (also stored in the log)."""
        started_wall = self.wall()
        self.recorder.start(
            started_wall,
            self.profile.name if self.profile else "",
            self.session.source_name,
            {"options": self.options.to_dict()},
        )
        try:
            if self.profile is None and not self.calibrate() and not self.stopping:
                self.stop("calibration failed")
            while not self.stopping:
                self._step()
        except BaseException as exc:
            self.end_reason = self.end_reason or f"error: {type(exc).__name__}: {exc}"
            raise
        finally:
            self._release()
            self._close_timeline()
            self.presenter.close()
            summary = self.recorder.end(self.end_reason or "stopped", self.wall() - started_wall)
        return summary

    def _held(self) -> str | None:
        control = self.requests.control
        return None if control is None else control.current().mode(self.wall())

    def _step(self) -> None:
        while self._queued and not self.stopping:
            self._handle_key(self._queued.popleft())
        if self.stopping:
            return
        self._check_feedback()
        held = self._held()
        if held is not None:
            self._hold(held)
            return
        self._ensure_capturing()
        began = time.monotonic()
        frame = self.capture.latest(timeout=1.0)
        if frame is None:
            self._no_frame()
            return
        if self._health_shown != OK and self.capture.health.status == OK:
            self.presenter.message("camera: back")
            self._health_shown = OK
        step = self._analyse(frame)
        self._wait(max(0.0, self.cadence.interval(step) - (time.monotonic() - began)))

    def _hold(self, held: str) -> None:
        """Paused or snoozed: the camera is released until the person says otherwise."""
        if self._capturing:
            self._release()
            self._close_timeline()
            self.presenter.message(
                f"{held}: camera released; `posturecam resume` to watch again"
                if held == PAUSED
                else f"{held}: camera released until the snooze ends "
                "(`posturecam resume` to end it now)"
            )
        self.recorder.sample(None, held)
        self._handle_key(self.presenter.held(held))
        self.presenter.show_held(held)
        self._wait(0.5)

    def _no_frame(self) -> None:
        """No frame this time: the end of a video, or camera trouble (said once a change)."""
        health = self.capture.health
        if health.status == ENDED:
            self.stop("source ended")
            return
        if health.status != self._health_shown:
            self.presenter.message(f"camera: {health.message}")
            self._health_shown = health.status
        self.cadence.forget()
        self.recorder.sample(None, NO_CAMERA)
        self._handle_key(self.presenter.no_frame(health))

    def _analyse(self, frame: Frame) -> Step:
        profile = self.profile
        assert profile is not None
        gap = self.cadence.gap(self.wall(), frame.t_s)
        if gap is not None:  # a computer that slept: timers start afresh, as after a pause
            self._close_timeline()
            self.presenter.message(
                f"no frames for {format_duration(gap)} (the computer slept?): timers start afresh"
            )
        landmarks, carried = self.cadence.landmarks(frame)
        verdict, step = self.scorer.score(frame, landmarks, carried, profile)
        totals = self.totals
        totals.frames += 1
        totals.model_frames += not carried
        if totals.first_judgement_s is None and verdict.present:
            totals.first_judgement_s = round(process_age_s(), 3)
        self.recent.remember(frame.t_s, verdict, step)
        for event in (*verdict.events, *step.events):
            self.recorder.advice(self.coach.advise(event))
        usable = frame.image is not None
        self.recorder.sample(
            frame.t_s,
            step.state,
            verdict.score,
            verdict.present,
            ";".join(verdict.issues),
            carried if usable else None,
        )
        slouched = self.session.slouched_before_s + totals.slouched_s + self.scorer.slouched_s
        health = self.capture.health
        self._handle_key(self.presenter.judged(frame, landmarks, verdict, step, slouched, health))
        return step

    def _handle_key(self, command: str | None) -> None:
        if command is None:
            return
        commands = self.requests.commands
        if command == QUIT:
            self.stop("quit")
        elif command == RECALIBRATE:
            self.calibrate()
        elif commands is not None and command == SNOOZE:
            commands.snooze(self.options.snooze_s)
        elif commands is not None and command == PAUSE:
            # The key toggles: 'p' while held resumes.
            if self._held() is None:
                commands.pause()
            else:
                commands.resume()

    # ------------------------------------------------------------------ feedback

    def _check_feedback(self) -> None:
        source = self.requests.feedback
        if source is None or self.profile is None:
            return
        request = source.poll(self.wall())
        if request is None:
            return
        ok, message = self.apply_feedback(request.action)
        try:
            source.answer(request, ok, message, self.wall())
        except OSError as exc:
            message += f" (the answer could not be written: {exc.strerror or exc})"
        self.presenter.message(f"feedback: {message}")
        self.presenter.tell("feedback", ok=ok, message=message)

    def apply_feedback(self, action: str) -> tuple[bool, str]:
        """Apply one feedback action; (ok, what changed). Never raises on a failed save."""
        assert self.profile is not None
        ok, message = self.keeper.apply(action, self.recent, self.scorer.settings(self.profile))
        if ok and action == fb.NOT_SLOUCHING and self.scorer.accept_upright():
            message += "; small slouches are now judged against how you sit now"
        return ok, message
