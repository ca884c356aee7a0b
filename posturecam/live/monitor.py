"""The live monitor: fresh camera frames -> pose -> judgement -> a calm timeline -> nudges.

One frame at a time through the same geometry, judgement and temporal layer
as replay. Everything it talks to (camera, model, session log, control file,
notifier, preview, clocks) is passed in, so the loop runs in tests with fakes.
Time comes from frame timestamps; the wall clock only dates the session log.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from posturecam.core.adapt import AdaptSettings, BaselineTracker, views_of
from posturecam.core.coach import Coach
from posturecam.core.geometry import FRONT, MetricTable, compute_metrics
from posturecam.core.judge import JudgeSettings, judge, limits, with_evidence
from posturecam.core.temporal import (
    ALERT,
    DRIFTING,
    SLOUCHING,
    UPRIGHT,
    Event,
    PostureTimeline,
    Step,
    TemporalSettings,
)
from posturecam.core.types import Frame, LandmarkBatch, Landmarks
from posturecam.errors import CalibrationError, PosturecamError
from posturecam.frames.capture import ENDED, OK, LiveCapture
from posturecam.frames.engine import LandmarkLog, run_pose
from posturecam.frames.pose import PoseEstimator
from posturecam.live import feedback as fb
from posturecam.live.calibration import calibrate
from posturecam.live.control import ControlWatcher
from posturecam.live.gating import ChangeGate, GateSettings
from posturecam.live.notify import NotificationHub
from posturecam.live.overlay import OverlayInfo, draw_overlay
from posturecam.live.sessionlog import SessionLog, format_duration
from posturecam.profiles import Profile

_IMPORTED = time.monotonic()
PAUSED, SNOOZED, NO_CAMERA = "paused", "snoozed", "no_camera"
# Sample faster this close to an alert, so it comes on time without a high rate all along.
_ALERT_LEAD_S = 3.0
# Longer than this between two analysed frames (by the wall clock or the frames' own
# times) is a gap: suspend, a stalled camera. Paused and snoozed time is not a gap.
SLEEP_GAP_S = 30.0


@dataclass(frozen=True)
class MonitorOptions:
    rate_hz: float = 1.0  # while posture is settled: low cost
    max_rate_hz: float = 5.0  # while drifting or slouching: prompt alerts
    snooze_s: float = 1800.0  # the preview's 's' key
    sample_every_s: float = 1.0  # session log resolution
    calibration_s: float = 8.0
    calibration_rate_hz: float = 5.0
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    judge: JudgeSettings | None = None  # None: the profile's own settings
    adapt: AdaptSettings = field(default_factory=AdaptSettings)
    gate: GateSettings = field(default_factory=GateSettings)  # reuse landmarks of a still scene


@dataclass(frozen=True)
class FrameVerdict:
    """One frame judged: what the overlay shows and the timeline consumes."""

    present: bool | None  # None: the frame itself was unusable
    worst: float  # NaN: cannot measure
    score: float  # NaN: cannot measure
    issues: tuple[str, ...]
    view: str
    metrics: dict[str, float]
    carried_over: bool = False  # landmarks reused from an earlier frame: the model did not run
    events: tuple[Event, ...] = ()  # the moving baseline's (setup changed, re-anchored)


def judge_frame(
    frame: Frame,
    landmarks: Landmarks,
    profile: Profile,
    settings: JudgeSettings,
    tracker: BaselineTracker | None = None,
    carried_over: bool = False,
) -> FrameVerdict:
    """Metrics and judgement of one frame against the profile (a batch of one).

    ``tracker`` is the session's moving baseline: the same rules replay applies.
    """
    if frame.image is None or not landmarks.detected:
        events: tuple[Event, ...] = ()
        if tracker is not None:  # replay's tracker sees these frames too: so must this one
            events = tuple(tracker.update(frame.t_s, math.nan, None, carried_over)[1])
        present = None if frame.image is None else False
        return FrameVerdict(present, math.nan, math.nan, (), "", {}, carried_over, events)
    batch = LandmarkBatch.stack([landmarks])
    table: MetricTable = compute_metrics(batch, np.array([frame.image.shape[1]]), profile.view)
    verdict = judge(table, profile.baseline(), profile.view, settings)
    events = ()
    if tracker is not None and np.isfinite(verdict.limit):
        view = views_of(table.values)[0]
        moved, new = tracker.update(frame.t_s, float(verdict.evidence[0]), view, carried_over)
        verdict = with_evidence(verdict, np.array([moved]))
        events = tuple(new)
    issues = str(verdict.issues[0])
    return FrameVerdict(
        present=True,
        worst=float(verdict.worst[0]),
        score=float(verdict.score[0]),
        issues=tuple(issues.split(";")) if issues else (),
        view=str(table.view[0]),
        metrics={k: float(v[0]) for k, v in table.values.items()},
        carried_over=carried_over,
        events=events,
    )


@dataclass
class SessionTotals:
    """What the shutdown summary reports; seconds from frame timestamps."""

    time_in: Counter = field(default_factory=Counter)
    alerts: int = 0
    frames: int = 0
    model_frames: int = 0  # frames the model ran on; the others were carried over (gating)
    first_judgement_s: float | None = None  # from process start to the first judged frame

    def add(self, time_in: dict[str, float]) -> None:
        self.time_in.update(time_in)

    @property
    def judged_s(self) -> float:
        return sum(self.time_in[s] for s in (UPRIGHT, DRIFTING, SLOUCHING, ALERT))

    @property
    def slouched_s(self) -> float:
        return self.time_in[SLOUCHING] + self.time_in[ALERT]

    def as_dict(self) -> dict[str, Any]:
        judged = self.judged_s
        return {
            "frames": self.frames,
            "model_frames": self.model_frames,
            "first_judgement_s": self.first_judgement_s,
            "alerts": self.alerts,
            "time_in_state_s": {k: round(v, 1) for k, v in sorted(self.time_in.items())},
            "share_upright": round(self.time_in[UPRIGHT] / judged, 3) if judged else None,
            "slouched_s": round(self.slouched_s, 1),
        }


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


def summary_text(totals: SessionTotals, duration_s: float) -> str:
    d = totals.as_dict()
    share = d["share_upright"]
    upright = f"upright {share:.0%} of the judged time" if share is not None else "nothing judged"
    return (
        f"session {format_duration(duration_s)}: {upright}, slouched "
        f"{format_duration(totals.slouched_s)}, {totals.alerts} alert(s)"
    )


class StatusLine:
    """One line in the terminal, rewritten in place on a tty; changes only, on a pipe."""

    def __init__(self, stream: TextIO, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self._last = ""
        self._width = 0

    def show(self, text: str) -> None:
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
            self.stream.flush()
        elif text != self._last:
            self.stream.write(text + "\n")
            self.stream.flush()
        self._last = text

    def clear(self) -> None:
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
        self._last = ""

    def message(self, text: str) -> None:
        """A line that stays (alerts, camera problems): clear the status line first."""
        self.clear()
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last = ""


class Preview(Protocol):
    """What the loop needs of a preview window (posturecam.live.preview.PreviewWindow)."""

    def show(self, image: np.ndarray) -> str | None: ...
    def poll(self) -> str | None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class ControlCommands:
    """What the preview's keys do; the same functions `posturecam pause|snooze|resume` call."""

    pause: Callable[[], Any]
    resume: Callable[[], Any]
    snooze: Callable[[float], Any]


class FeedbackSource(Protocol):
    """Where feedback requests come from and answers go (feedback.FeedbackWatcher)."""

    def poll(self, now: float) -> fb.Request | None: ...
    def answer(self, request: fb.Request, ok: bool, message: str, now: float) -> None: ...


UNDO_DEPTH = 10  # feedback steps the monitor can undo (the profile file's backup: one)

# What a listener (the desktop app) hears: ``listener(kind, data)`` from the monitor's thread.
# Kinds: "step" (a judged frame), "held" (paused/snoozed), "camera" (no frame: health),
# "event" (as logged), "calibrating", "calibrated", "calibration_failed", "feedback".
Listener = Callable[[str, dict[str, Any]], None]


class Monitor:
    """Runs until stopped (signal, 'q', end of a video source); never crashes on camera trouble."""

    def __init__(
        self,
        capture: LiveCapture,
        estimator: PoseEstimator,
        profile: Profile | None,
        save_profile: Callable[[Profile], None],
        *,
        options: MonitorOptions | None = None,
        log: SessionLog | None = None,
        notifier: NotificationHub | None = None,
        control: ControlWatcher | None = None,
        preview: Preview | None = None,
        status: StatusLine | None = None,
        wall: Callable[[], float] = time.time,
        source_name: str = "",
        model_variant: str = "",
        slouched_before_s: float = 0.0,
        commands: ControlCommands | None = None,
        wait: Callable[[float], Any] | None = None,
        feedback: FeedbackSource | None = None,
        profile_path: Path | None = None,
        listener: Listener | None = None,
    ) -> None:
        self.listener = listener
        self._requests: deque[str] = deque()  # commands from other threads (request())
        self.capture = capture
        self.estimator = estimator
        self.profile = profile
        self.save_profile = save_profile
        self.options = options or MonitorOptions()
        self.log = log
        self.notifier = notifier
        self.control = control
        self.preview = preview
        self.status = status or StatusLine(sys.stdout)
        self.wall = wall
        self.source_name = source_name
        self.model_variant = model_variant
        self.slouched_before_s = slouched_before_s
        self.commands = commands
        self.coach = Coach()
        self.totals = SessionTotals()
        self.timeline = PostureTimeline(self.options.temporal)
        self._tracker: BaselineTracker | None = None
        self._tracker_key: tuple[int, JudgeSettings] | None = None
        self.gate = ChangeGate(self.options.gate)
        self._seen: Landmarks | None = None  # the landmarks of the gate's reference frame
        self._watch = False  # posture on the move: the model runs on every frame
        self._last_seen: tuple[float, float] | None = None  # (wall, t_s) of the last frame
        self.session_id: int | None = None
        self.end_reason = ""
        self._capturing = False
        self._last_sample_t: float | None = None
        self._last_sample_wall: float | None = None
        self._next_sample: float | None = None
        self._health_shown = OK
        self._stop = threading.Event()
        # Sleeping between frames; interrupted by stop(). Tests pass a no-op.
        self._wait = wait or self._stop.wait
        # Feedback: recent judged frames, the last alert's episode, profiles to undo to.
        self.feedback = feedback
        self.profile_path = profile_path  # where save_profile writes; its backup sits beside it
        self.recent: deque[fb.Judged] = deque(maxlen=fb.HISTORY_FRAMES)
        self.episode: fb.Episode | None = None
        self._left_upright_t: float | None = None
        self._undo: deque[Profile] = deque(maxlen=UNDO_DEPTH)

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
        self._requests.append(command)

    def _tell(self, kind: str, /, **data: Any) -> None:
        if self.listener is not None:
            self.listener(kind, data)

    def _settings(self) -> JudgeSettings:
        assert self.profile is not None
        return self.options.judge or self.profile.settings

    def _ensure_capturing(self) -> None:
        if not self._capturing:
            self.capture.start()
            self._capturing = True

    def _release(self) -> None:
        if self._capturing:
            self.capture.release()
            self._capturing = False
        self._forget_scene()

    def _forget_scene(self) -> None:
        """The next frame runs the model: after a pause, recalibration or no camera."""
        self.gate.reset()
        self._seen = None
        self._last_seen = None

    def _close_timeline(self) -> None:
        """Fold the timeline's totals in and start a fresh one (after a pause or recalibration)."""
        self.totals.add(self.timeline.time_in)
        self.timeline = PostureTimeline(self.options.temporal)
        self._tracker = None
        self._forget_scene()

    def _baseline_tracker(self) -> BaselineTracker | None:
        """The session's moving baseline, new whenever the profile or its threshold changes."""
        if self.profile is None or self.profile.view != FRONT:
            return None
        key = (id(self.profile), self._settings())
        if self._tracker is None or self._tracker_key != key:  # not per frame: per profile
            limit = limits(self.profile.baseline(), self._settings()).slouch
            if self._tracker is None or self._tracker.limit != limit:
                self._tracker = BaselineTracker(limit, self.options.adapt)
            self._tracker_key = key
        return self._tracker

    # ------------------------------------------------------------------ calibration

    def calibrate(self) -> bool:
        """Measure the upright baseline from the live camera; True when a profile was saved."""
        o = self.options
        self._ensure_capturing()
        self.status.message(
            f"Calibrating: sit upright and comfortable, facing the screen, for "
            f"{o.calibration_s:g} s..."
        )
        self._tell("calibrating", seconds=o.calibration_s)
        frames: list[Frame] = []
        start: float | None = None
        interval = 1.0 / o.calibration_rate_hz
        while not self.stopping:
            frame = self.capture.latest(timeout=1.0)
            if frame is None:
                health = self.capture.health
                if health.status == ENDED:
                    self.stop("source ended")
                    break
                self.status.show(f"calibration waiting: {health.message}")
                continue
            start = frame.t_s if start is None else start
            if frame.t_s - start >= o.calibration_s:
                break
            frames.append(frame)
            self._wait(interval)
        if self.stopping:
            return False
        log: LandmarkLog = run_pose(frames, self.estimator)
        name = self.profile.name if self.profile else "default"
        try:
            profile = calibrate(
                log, name, self.source_name, None, self.model_variant, self.options.judge
            )
        except CalibrationError as exc:
            self.status.message(f"Calibration failed: {exc}")
            self._tell("calibration_failed", message=str(exc))
            return False
        unsaved = self._save(profile)  # a full disk must not end the session
        self.profile = profile
        self._close_timeline()
        self.status.message(f"Calibrated ({profile.view} view, {profile.frames} frames).")
        if unsaved:
            self.status.message(
                f"posturecam: {unsaved}; this session uses the new calibration, but the next "
                "start will not: free some disk space and recalibrate"
            )
        self._tell("calibrated", view=profile.view, frames=profile.frames)
        return True

    # ------------------------------------------------------------------ the loop

    def run(self) -> dict[str, Any]:
        """Monitor until stopped; returns the session summary (also stored in the log)."""
        started_wall = self.wall()
        if self.log is not None:
            self.session_id = self.log.start_session(
                started_wall,
                self.profile.name if self.profile else "",
                self.source_name,
                {"options": _jsonable(self.options)},
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
            if self.preview is not None:
                self.preview.close()
            duration = self.wall() - started_wall
            summary = {
                **self.totals.as_dict(),
                "duration_s": round(duration, 1),
                "end_reason": self.end_reason or "stopped",
            }
            if self.log is not None and self.session_id is not None:
                self.log.end_session(self.session_id, self.wall(), summary["end_reason"], summary)
                self._log_notice()
            self.status.message(summary_text(self.totals, duration))
        return summary

    def _held(self) -> str | None:
        if self.control is None:
            return None
        return self.control.current().mode(self.wall())

    def _step(self) -> None:
        while self._requests and not self.stopping:
            self._handle_key(self._requests.popleft())
        if self.stopping:
            return
        self._check_feedback()
        held = self._held()
        if held is not None:
            if self._capturing:
                self._release()
                self._close_timeline()
                self.status.message(
                    f"{held}: camera released; `posturecam resume` to watch again"
                    if held == PAUSED
                    else f"{held}: camera released until the snooze ends "
                    "(`posturecam resume` to end it now)"
                )
            self._sample(None, held, math.nan, None, "")
            self._tell("held", state=held)
            self._handle_key(self.preview.poll() if self.preview else None)
            self.status.show(f"posturecam: {held}")
            self._wait(0.5)
            return
        self._ensure_capturing()
        began = time.monotonic()
        frame = self.capture.latest(timeout=1.0)
        if frame is None:
            health = self.capture.health
            if health.status == ENDED:
                self.stop("source ended")
                return
            if health.status != self._health_shown:
                self.status.message(f"camera: {health.message}")
                self._health_shown = health.status
            self._forget_scene()
            self._sample(None, NO_CAMERA, math.nan, None, "")
            self._tell("camera", status=health.status, message=health.message)
            self._handle_key(self.preview.poll() if self.preview else None)
            return
        if self._health_shown != OK and self.capture.health.status == OK:
            self.status.message("camera: back")
            self._health_shown = OK
        step = self._analyse(frame)
        self._watch = self._watchful(step)
        rate = self.options.max_rate_hz if self._watch else self.options.rate_hz
        self._wait(max(0.0, 1.0 / rate - (time.monotonic() - began)))

    def _watchful(self, step: Step) -> bool:
        """Posture on the move: drifting, or an alert about to fall due.

        A settled state (upright, even near the threshold, or slouching well
        before the alert) keeps the low base rate and change gating, which is most
        of the day and most of the CPU saving: a slump changes the picture, so the
        gate runs the model on it at once, and the base rate sees it within a second.
        """
        t = self.options.temporal
        if step.state == DRIFTING:
            return True
        if step.state == SLOUCHING:
            return step.slouch_s >= t.persistence_s - _ALERT_LEAD_S
        return False

    def _analyse(self, frame: Frame) -> Step:
        assert self.profile is not None
        self._check_gap(frame.t_s)
        landmarks, carried = self._landmarks(frame)
        verdict = judge_frame(
            frame, landmarks, self.profile, self._settings(), self._baseline_tracker(), carried
        )
        step = self.timeline.update(frame.t_s, verdict.present, verdict.worst, verdict.issues)
        self.totals.frames += 1
        self.totals.model_frames += not carried
        if self.totals.first_judgement_s is None and verdict.present:
            self.totals.first_judgement_s = round(process_age_s(), 3)
        self._remember(frame.t_s, verdict, step)
        for event in (*verdict.events, *step.events):
            self._event(self.coach.advise(event).to_dict(), frame.t_s)
        self._sample(
            frame.t_s,
            step.state,
            verdict.score,
            verdict.present,
            ";".join(verdict.issues),
            carried if frame.image is not None else None,
        )
        slouched = (
            self.slouched_before_s
            + self.totals.slouched_s
            + self.timeline.time_in[SLOUCHING]
            + self.timeline.time_in[ALERT]
        )
        score = "--" if math.isnan(verdict.score) else f"{verdict.score:3.0f}"
        health = self.capture.health
        note = "" if health.status == OK else f" | {health.message}"
        self.status.show(
            f"posturecam: {step.state:<9} score {score} | slouched today "
            f"{format_duration(slouched)}{note}"
        )
        self._tell(
            "step",
            state=step.state,
            score=None if math.isnan(verdict.score) else verdict.score,
            issues=verdict.issues,
            view=verdict.view,
            slouched_today_s=slouched,
            camera=note.strip(" |"),
        )
        if self.preview is not None and frame.image is not None:
            info = OverlayInfo(
                state=step.state,
                score=None if math.isnan(verdict.score) else verdict.score,
                view=verdict.view,
                metrics=verdict.metrics,
                status=note.strip(" |"),
                slouched_today_s=slouched,
            )
            self._handle_key(self.preview.show(draw_overlay(frame.image, landmarks, info)))
        return step

    def _check_gap(self, t_s: float) -> None:
        """A computer that slept (or a camera that stalled) is a gap, not slouching or presence.

        Frame times may stop while the machine sleeps (monotonic clocks do), so the
        wall clock is compared too. After a gap the timers start afresh, as after a pause.
        """
        now = self.wall()
        last, self._last_seen = self._last_seen, (now, t_s)
        if last is None:
            return
        gap = max(now - last[0], t_s - last[1])
        if gap > SLEEP_GAP_S:
            self._close_timeline()
            self.status.message(
                f"no frames for {format_duration(gap)} (the computer slept?): timers start afresh"
            )

    def _landmarks(self, frame: Frame) -> tuple[Landmarks, bool]:
        """This frame's landmarks, and whether they were carried over from the last model run.

        While posture is on the move the model runs on every frame; otherwise the
        change gate may reuse the last landmarks of a scene that has not changed.
        """
        if frame.image is None:
            return Landmarks.empty(), False
        if self._seen is not None and not self.gate.decide(frame.image, frame.t_s, self._watch):
            return self._seen, True
        if self._seen is None:
            self.gate.decide(frame.image, frame.t_s, force=True)  # the first reference
        self._seen = self.estimator.detect(frame)
        return self._seen, False

    def _event(self, event: dict[str, Any], t_s: float) -> None:
        self._tell("event", **event)
        if self.log is not None and self.session_id is not None:
            data = {k: v for k, v in event.items() if k not in ("t_s", "type")}
            self.log.add_event(self.session_id, self.wall(), t_s, event["type"], data)
            self._log_notice()
        if event["type"] == "alert":
            self.totals.alerts += 1
        message = event.get("message")
        if message:
            title = "posturecam: time to sit tall" if event["type"] == "alert" else "posturecam"
            body = message + ("\n" + event["red_flags"] if event.get("red_flags") else "")
            if self.notifier is not None:
                self.status.clear()  # the notifier's line must not land on the status line
                self.notifier.notify(title, body)
            else:
                self.status.message(f"{title}: {body}")

    def _log_notice(self) -> None:
        """Say once that the session log cannot be written (a full disk), and when it can."""
        assert self.log is not None
        notice = self.log.notice()
        if notice is not None:
            self.status.message(notice)
            self._tell("log", message=notice)

    def _sample(
        self,
        t_s: float | None,
        state: str,
        score: float,
        present: bool | None,
        issues: str,
        carried: bool | None = None,
    ) -> None:
        """At most one session-log row per ``sample_every_s`` of wall time."""
        if self.log is None or self.session_id is None:
            return
        now = self.wall()
        if self._next_sample is not None and now < self._next_sample:
            return
        # A fixed 1 Hz grid (not "1 s after the last row"), so frames at 2/s give 1 row/s.
        step = self.options.sample_every_s
        self._next_sample = (
            now + step if self._next_sample is None else max(self._next_sample + step, now)
        )
        dt = 0.0 if self._last_sample_wall is None else now - self._last_sample_wall
        self._last_sample_wall = now
        self.log.add_sample(
            self.session_id,
            now,
            t_s if t_s is not None else math.nan,
            min(dt, 5.0 * self.options.sample_every_s),
            state,
            None if math.isnan(score) else round(score, 1),
            present,
            issues,
            carried,
        )
        self._log_notice()

    def _handle_key(self, command: str | None) -> None:
        if command is None:
            return
        if command == "quit":
            self.stop("quit")
        elif command == "recalibrate":
            self.calibrate()
        elif self.commands is not None and command == "snooze":
            self.commands.snooze(self.options.snooze_s)
        elif self.commands is not None and command == "pause":
            # The key toggles: 'p' while held resumes.
            if self._held() is None:
                self.commands.pause()
            else:
                self.commands.resume()

    # ------------------------------------------------------------------ feedback

    def _remember(self, t_s: float, verdict: FrameVerdict, step: Step) -> None:
        """Keep the judged frame's metrics (bounded) and where the last alert's episode began."""
        if self.recent and t_s < self.recent[-1].t_s:  # a new clock (camera restarted)
            self.recent.clear()
            self.episode, self._left_upright_t = None, None
        for event in step.events:
            if event.type == "state" and event.data.get("from") == UPRIGHT:
                self._left_upright_t = event.t_s
            elif event.type == "alert":
                start = self._left_upright_t
                self.episode = fb.Episode(event.t_s if start is None else start, event.t_s)
        if verdict.present is True and not verdict.carried_over and verdict.metrics:
            self.recent.append(fb.Judged(t_s, dict(verdict.metrics), verdict.carried_over))
        while self.recent and self.recent[0].t_s < t_s - fb.HISTORY_S:
            self.recent.popleft()

    def _check_feedback(self) -> None:
        if self.feedback is None or self.profile is None:
            return
        request = self.feedback.poll(self.wall())
        if request is None:
            return
        ok, message = self.apply_feedback(request.action)
        try:
            self.feedback.answer(request, ok, message, self.wall())
        except OSError as exc:
            message += f" (the answer could not be written: {exc.strerror or exc})"
        self.status.message(f"feedback: {message}")
        self._tell("feedback", ok=ok, message=message)

    def apply_feedback(self, action: str) -> tuple[bool, str]:
        """Apply one feedback action; (ok, what changed). Never raises on a failed save."""
        assert self.profile is not None
        old = self.profile
        if action == fb.UNDO:
            return self._undo_feedback()
        outcome = fb.apply(old, action, list(self.recent), self.episode, self._settings())
        if outcome.profile is None:
            return True, outcome.message
        backup = self._backup_text()
        error = self._save(outcome.profile)
        if error:
            return False, f"{error}; the feedback was not applied and the profile is unchanged"
        self._undo.append(old)
        if backup is not None and self.profile_path is not None:
            # If this fails, undo still works in this session, from memory.
            with contextlib.suppress(OSError):
                _write_text(_backup_path(self.profile_path), backup)
        self.profile = outcome.profile
        return True, outcome.message

    def _undo_feedback(self) -> tuple[bool, str]:
        assert self.profile is not None
        from_file = not self._undo
        if from_file:
            previous = self._load_backup()
            if previous is None:
                return True, "nothing to undo: no feedback was given to this profile"
        else:
            previous = self._undo[-1]
        error = self._save(previous)
        if error:
            return False, f"{error}; nothing was undone"
        if not from_file:
            self._undo.pop()
        if self.profile_path is not None and (from_file or not self._undo):
            with contextlib.suppress(OSError):
                _backup_path(self.profile_path).unlink(missing_ok=True)
        message = fb.describe_change(
            self.profile, previous, self._settings(), "undid the last feedback"
        )
        self.profile = previous
        return True, message

    def _save(self, profile: Profile) -> str:
        """Save through ``save_profile``; "" on success, else what went wrong."""
        try:
            self.save_profile(profile)
        except (OSError, PosturecamError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            where = f" to {self.profile_path}" if self.profile_path else ""
            return f"could not save the profile{where} ({reason})"
        return ""

    def _backup_text(self) -> str | None:
        if self.profile_path is None:
            return None
        try:
            return self.profile_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _load_backup(self) -> Profile | None:
        if self.profile_path is None:
            return None
        from posturecam.profiles import load

        backup = _backup_path(self.profile_path)
        if not backup.is_file():
            return None
        try:
            previous = load(backup)
        except PosturecamError:
            return None
        return previous if previous.view == self.profile.view else None  # type: ignore[union-attr]


def _backup_path(profile_path: Path) -> Path:
    """The profile file as it was before the last feedback (not a *.json, so not a profile)."""
    return profile_path.with_name(profile_path.name + ".before-feedback")


def _write_text(path: Path, text: str) -> None:
    from posturecam.storage import write_text

    write_text(path, text)


def _jsonable(options: MonitorOptions) -> dict[str, Any]:
    return {
        "rate_hz": options.rate_hz,
        "max_rate_hz": options.max_rate_hz,
        "temporal": options.temporal.to_dict(),
        "judge": options.judge.to_dict() if options.judge else None,
    }
