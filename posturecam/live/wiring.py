"""What a live monitor is built from: its options, and the groups of things it talks to
(devices, the profile slot, sinks, requests, the session's facts and clocks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from posturecam.core.adapt import AdaptSettings
from posturecam.core.baseline import WINDOW_S
from posturecam.core.rules import JudgeSettings
from posturecam.core.temporal import TemporalSettings
from posturecam.frames.capture import LiveCapture
from posturecam.frames.pose import PoseEstimator
from posturecam.live import feedback as fb
from posturecam.live.control import ControlWatcher
from posturecam.live.gating import GateSettings
from posturecam.live.notify import NotificationHub
from posturecam.live.presenter import Listener, Preview, StatusLine
from posturecam.live.scoring import ScoringOptions
from posturecam.live.sessionlog import SessionLog
from posturecam.profiles import Profile


@dataclass(frozen=True)
class MonitorOptions:
    """How the monitor samples, judges and calibrates (from the config file)."""

    rate_hz: float = 1.0  # while posture is settled: low cost
    max_rate_hz: float = 5.0  # while drifting or slouching: prompt alerts
    snooze_s: float = 1800.0  # the preview's 's' key
    sample_every_s: float = 1.0  # session log resolution
    calibration_s: float = WINDOW_S
    calibration_rate_hz: float = 5.0
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    judge: JudgeSettings | None = None  # None: the profile's own settings
    adapt: AdaptSettings = field(default_factory=AdaptSettings)
    gate: GateSettings = field(default_factory=GateSettings)  # reuse landmarks of a still scene

    @property
    def scoring(self) -> ScoringOptions:
        return ScoringOptions(self.temporal, self.judge, self.adapt)

    def to_dict(self) -> dict[str, Any]:
        """What the session log keeps of the options."""
        return {
            "rate_hz": self.rate_hz,
            "max_rate_hz": self.max_rate_hz,
            "temporal": self.temporal.to_dict(),
            "judge": self.judge.to_dict() if self.judge else None,
        }


@dataclass(frozen=True)
class Devices:
    """What the monitor watches with."""

    capture: LiveCapture
    estimator: PoseEstimator


@dataclass(frozen=True)
class ProfileSlot:
    """The profile to judge against (None: calibrate first) and how to save a new one."""

    profile: Profile | None
    save: Callable[[Profile], None]
    path: Path | None = None  # where ``save`` writes; feedback's backup sits beside it


@dataclass(frozen=True)
class Sinks:
    """Where what the monitor sees goes; each is optional but the status line."""

    log: SessionLog | None = None
    notifier: NotificationHub | None = None
    status: StatusLine | None = None  # None: a status line on stdout
    preview: Preview | None = None
    listener: Listener | None = None


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


@dataclass(frozen=True)
class Requests:
    """Where the person's requests come from: the control file, the keys, feedback."""

    control: ControlWatcher | None = None
    commands: ControlCommands | None = None
    feedback: FeedbackSource | None = None


@dataclass(frozen=True)
class SessionInfo:
    """About this session: its source, the model, today so far, and its clocks."""

    source_name: str = ""
    model_variant: str = ""
    slouched_before_s: float = 0.0  # earlier today, from the session log
    wall: Callable[[], float] = time.time
    wait: Callable[[float], Any] | None = None  # sleeping between frames; None: until stop()
