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


def test_matches_the_formatters_it_replaces() -> None:
    """Until their owners switch, the old formatters must agree with these on a sweep."""
    from posturecam.live import sessionlog
    from posturecam.research import report

    spans = [-3.0, 0.0, 0.4, 29.5, 59.5, 60.0, 89.9, 3599.4, 3600.0, 86399.0, 90061.7]
    for s in spans:
        if hasattr(sessionlog, "format_duration"):
            assert sessionlog.format_duration(s) == format_duration(s)
        if hasattr(report, "duration_text"):
            assert report.duration_text(s) == format_duration_long(s)
        if hasattr(report, "clock"):
            assert report.clock(s) == format_clock(s)
