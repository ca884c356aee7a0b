"""The live session's record: its totals, one session-log row a second, its events in the log,
and the nudges they carry to the notifier (or the terminal). Advice stays typed until here."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from posturecam.core.coach import Advice
from posturecam.core.temporal import UPRIGHT
from posturecam.live.notify import NotificationHub
from posturecam.live.presenter import Presenter
from posturecam.live.sessionlog import SessionLog
from posturecam.live.states import JUDGED, SLOUCHED
from posturecam.text import format_duration


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
        return sum(self.time_in[s] for s in JUDGED)

    @property
    def slouched_s(self) -> float:
        return sum(self.time_in[s] for s in SLOUCHED)

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


def summary_text(totals: SessionTotals, duration_s: float) -> str:
    d = totals.as_dict()
    share = d["share_upright"]
    upright = f"upright {share:.0%} of the judged time" if share is not None else "nothing judged"
    return (
        f"session {format_duration(duration_s)}: {upright}, slouched "
        f"{format_duration(totals.slouched_s)}, {totals.alerts} alert(s)"
    )


class SessionRecorder:
    """Sends the session to the log (when there is one) and its advice to the notifier."""

    def __init__(
        self,
        presenter: Presenter,
        wall: Callable[[], float],
        log: SessionLog | None = None,
        notifier: NotificationHub | None = None,
        sample_every_s: float = 1.0,
    ) -> None:
        self.presenter = presenter
        self.wall = wall
        self.log = log
        self.notifier = notifier
        self.sample_every_s = sample_every_s
        self.totals = SessionTotals()
        self.session_id: int | None = None
        self._next_sample: float | None = None
        self._last_sample_wall: float | None = None

    @property
    def logging(self) -> bool:
        return self.log is not None and self.session_id is not None

    def start(self, started_at: float, profile: str, source: str, settings: dict) -> None:
        if self.log is not None:
            self.session_id = self.log.start_session(started_at, profile, source, settings)

    def end(self, reason: str, duration_s: float) -> dict[str, Any]:
        """Close the session; its summary (also stored in the log, and said in one line)."""
        summary = {
            **self.totals.as_dict(),
            "duration_s": round(duration_s, 1),
            "end_reason": reason,
        }
        if self.log is not None and self.session_id is not None:
            self.log.end_session(self.session_id, self.wall(), reason, summary)
            self._log_notice()
        self.presenter.message(summary_text(self.totals, duration_s))
        return summary

    def advice(self, advice: Advice) -> None:
        """One event: to the listener and the log as its dict, its words to the notifier."""
        data = advice.to_dict()
        self.presenter.tell("event", **data)
        if self.log is not None and self.session_id is not None:
            fields = {k: v for k, v in data.items() if k not in ("t_s", "type")}
            self.log.add_event(self.session_id, self.wall(), advice.t_s, advice.type, fields)
            self._log_notice()
        if advice.is_alert:
            self.totals.alerts += 1
        if not advice.message:
            return
        if self.notifier is not None:
            self.presenter.status.clear()  # the notifier's line must not land on the status line
            self.notifier.notify(advice.title, advice.body)
        else:
            self.presenter.message(f"{advice.title}: {advice.body}")

    def sample(
        self,
        t_s: float | None,
        state: str,
        score: float = math.nan,
        present: bool | None = None,
        issues: str = "",
        carried: bool | None = None,
    ) -> None:
        """At most one session-log row per ``sample_every_s`` of wall time."""
        if self.log is None or self.session_id is None:
            return
        now = self.wall()
        if self._next_sample is not None and now < self._next_sample:
            return
        # A fixed 1 Hz grid (not "1 s after the last row"), so frames at 2/s give 1 row/s.
        every = self.sample_every_s
        self._next_sample = (
            now + every if self._next_sample is None else max(self._next_sample + every, now)
        )
        dt = 0.0 if self._last_sample_wall is None else now - self._last_sample_wall
        self._last_sample_wall = now
        self.log.add_sample(
            self.session_id,
            now,
            t_s if t_s is not None else math.nan,
            min(dt, 5.0 * every),
            state,
            None if math.isnan(score) else round(score, 1),
            present,
            issues,
            carried,
        )
        self._log_notice()

    def _log_notice(self) -> None:
        """Say once that the session log cannot be written (a full disk), and when it can."""
        assert self.log is not None
        notice = self.log.notice()
        if notice is not None:
            self.presenter.message(notice)
            self.presenter.tell("log", message=notice)
