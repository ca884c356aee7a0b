"""The live monitor's state names: the timeline's own (core.temporal), the three the monitor
adds while it does not watch, and the groups its time is counted in (what the app shows)."""

from __future__ import annotations

from posturecam.core.temporal import ALERT, AWAY, DRIFTING, SLOUCHING, UNDECIDED, UPRIGHT
from posturecam.core.temporal import STATES as POSTURE_STATES

__all__ = [
    "ALERT",
    "AWAY",
    "DRIFTING",
    "JUDGED",
    "NOT_MONITORED",
    "NO_CAMERA",
    "PAUSED",
    "POSTURE_STATES",
    "SLOUCHED",
    "SLOUCHING",
    "SNOOZED",
    "STATES",
    "UNDECIDED",
    "UPRIGHT",
]
PAUSED, SNOOZED, NO_CAMERA = "paused", "snoozed", "no_camera"
# Every state a session-log sample may have: the timeline's, then the monitor's.
STATES = (*POSTURE_STATES, PAUSED, SNOOZED, NO_CAMERA)
NOT_MONITORED = (PAUSED, SNOOZED, NO_CAMERA)
JUDGED = (UPRIGHT, DRIFTING, SLOUCHING, ALERT)
SLOUCHED = (SLOUCHING, ALERT)
