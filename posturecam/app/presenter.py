"""What the tray shows for what the monitor reports: label, glyph and colour per state.

Qt-free and judgement-free: it maps the monitor's own state names (and a few of
the app's: starting, calibrating, not calibrated, setup changed) to a look, and
keeps the latest report so the tooltip and the status line can be rebuilt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from posturecam.live.control import Control
from posturecam.live.states import (
    ALERT,
    AWAY,
    DRIFTING,
    NO_CAMERA,
    PAUSED,
    POSTURE_STATES,
    SLOUCHING,
    SNOOZED,
    UNDECIDED,
    UPRIGHT,
)

STARTING, CALIBRATING, NOT_CALIBRATED = "starting", "calibrating", "not_calibrated"
SETUP_CHANGED, STOPPED = "setup_changed", "stopped"


@dataclass(frozen=True)
class Look:
    """A state's face: the glyph carries the meaning too, so it never rests on colour alone."""

    label: str
    glyph: str  # a shape name icons.py draws
    colour: str  # #rrggbb


LOOKS: dict[str, Look] = {
    STARTING: Look("starting", "dots", "#9e9e9e"),
    UPRIGHT: Look("upright", "check", "#2e7d32"),
    DRIFTING: Look("drifting", "wave", "#f9a825"),
    SLOUCHING: Look("slouching", "down", "#ef6c00"),
    ALERT: Look("time to sit tall", "bang", "#c62828"),
    AWAY: Look("away", "dash", "#607d8b"),
    UNDECIDED: Look("cannot see you well", "question", "#9e9e9e"),
    PAUSED: Look("paused", "pause", "#455a64"),
    SNOOZED: Look("snoozed", "moon", "#5c6bc0"),
    NO_CAMERA: Look("camera unavailable", "cross", "#6d4c41"),
    SETUP_CHANGED: Look("camera or desk moved: settling", "turn", "#8e24aa"),
    CALIBRATING: Look("calibrating: sit tall", "ring", "#1565c0"),
    NOT_CALIBRATED: Look("not calibrated", "ring", "#78909c"),
    STOPPED: Look("stopped", "cross", "#424242"),
}
# Posture states the monitor judged: the first of these ends the "starting" look.
JUDGED = POSTURE_STATES


def look(state: str) -> Look:
    return LOOKS.get(state, LOOKS[UNDECIDED])


@dataclass
class TrayModel:
    """The latest report, folded from the monitor's listener calls (kind, data)."""

    state: str = STARTING
    detail: str = ""  # camera message, calibration result, ...
    share_upright: float | None = None  # today's, from the session log
    profile: str = "default"
    held: str | None = None  # "paused" | "snoozed" | None, from the control file
    held_until: float | None = None  # a snooze's end (epoch)
    setup_changed: bool = False
    locked: bool = False  # the screen is locked: the monitor holds itself paused
    first_judged_at: float | None = None  # time.monotonic() of the first judged state

    def apply(self, kind: str, data: dict[str, Any]) -> bool:
        """Fold one report in; True when what the tray shows changed."""
        before = (self.state, self.detail, self.setup_changed)
        if kind == "step":
            self.state = str(data.get("state", UNDECIDED))
            self.detail = str(data.get("camera", ""))
            if self.state in JUDGED and self.first_judged_at is None:
                self.first_judged_at = time.monotonic()
        elif kind == "held":
            self.state, self.detail = str(data.get("state", PAUSED)), ""
        elif kind == "camera":
            self.state, self.detail = NO_CAMERA, str(data.get("message", ""))
        elif kind == "calibrating":
            self.state, self.detail = CALIBRATING, f"{data.get('seconds', 8):g} s"
        elif kind == "calibrated":
            self.state, self.setup_changed = STARTING, False
            self.detail = f"calibrated: {data.get('view', '')} view"
        elif kind == "calibration_failed":
            self.state, self.detail = NOT_CALIBRATED, str(data.get("message", ""))
        elif kind == "event":
            kind_of = data.get("type")
            if kind_of == SETUP_CHANGED:
                self.setup_changed = True
            elif kind_of == "baseline_reanchored":
                self.setup_changed = False
        elif kind == "stopped":
            self.state, self.detail = STOPPED, str(data.get("reason", ""))
        return before != (self.state, self.detail, self.setup_changed)

    def follow_control(self, control: Control, now: float) -> None:
        """The snooze end shown in the menu, from the same file `posturecam snooze` writes."""
        self.held = control.mode(now)
        self.held_until = control.snooze_until if self.held == SNOOZED else None

    @property
    def shown_state(self) -> str:
        """A moved camera outranks the posture states, which it makes meaningless."""
        if self.setup_changed and self.state in JUDGED:
            return SETUP_CHANGED
        return self.state

    def status_line(self) -> str:
        text = f"posturecam: {look(self.shown_state).label}"
        detail = "screen locked" if self.locked and self.state == PAUSED else self.detail
        return f"{text} ({detail})" if detail else text

    def tooltip(self) -> str:
        share = (
            f"upright {self.share_upright:.0%} of today's judged time"
            if self.share_upright is not None
            else "nothing judged today yet"
        )
        return f"{self.status_line()}\n{share}\nprofile: {self.profile}"
