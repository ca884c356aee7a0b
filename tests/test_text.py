"""posturecam.text: the one formatter of durations and clock times."""

from __future__ import annotations

import pytest

from posturecam.text import format_clock, format_duration, format_duration_long


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "0s"),
        (0, "0s"),
        (40.4, "40s"),
        (59.4, "59s"),
        (59.6, "1m"),
        (720, "12m"),
        (3569, "59m"),
        (3600, "1h00m"),
        (7500, "2h05m"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(42.25, "42.2 s"), (119.5, "2 min 00 s"), (125.0, "2 min 05 s"), (3720.0, "1 h 02 min")],
)
def test_format_duration_long(seconds: float, text: str) -> None:
    assert format_duration_long(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00"), (75.9, "01:15"), (599.0, "09:59"), (3725.0, "1:02:05"), (-61.5, "-01:01")],
)
def test_format_clock(seconds: float, text: str) -> None:
    assert format_clock(seconds) == text


def test_it_is_the_one_formatter():
    """The formatters it replaced (session log, report) are gone, not kept beside it."""
    from posturecam.live import sessionlog
    from posturecam.research import report

    assert not hasattr(sessionlog, "format_duration")
    assert not any(hasattr(report, name) for name in ("clock", "duration_text"))
