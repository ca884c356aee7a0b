"""Durations and clock times as a person reads them: the one home of time formatting.

Pure functions of seconds, no I/O: the terminal, the overlay, the session history, the report
and the desktop app all phrase a span of time through these.
"""

from __future__ import annotations

import math


def format_duration(seconds: float) -> str:
    """``2h05m``, ``12m``, ``40s``: minutes are what a person reads a day in.

    Negative spans read as ``0s``; under a minute is whole seconds, from there whole minutes.
    """
    seconds = max(0.0, seconds)
    if round(seconds) < 60:
        return f"{round(seconds)}s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def format_duration_long(seconds: float) -> str:
    """A duration in words for reports: ``42.5 s``, ``2 min 05 s``, ``1 h 02 min``."""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    total = round(seconds)
    if total < 3600:
        return f"{total // 60} min {total % 60:02d} s"
    return f"{total // 3600} h {total % 3600 // 60:02d} min"


def format_clock(t_s: float) -> str:
    """``mm:ss`` (``h:mm:ss`` from an hour on), truncated like a stopwatch: a time in a run."""
    total = math.floor(abs(float(t_s)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    sign = "-" if t_s < 0 else ""
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m:02d}:{s:02d}"
