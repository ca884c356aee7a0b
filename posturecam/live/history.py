"""`posturecam history` in words: the session log's days as a small aligned table."""

from __future__ import annotations

from posturecam.live.sessionlog import DaySummary, upright_share
from posturecam.text import format_duration


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f}%"


def format_history(days: list[DaySummary]) -> str:
    """A small aligned table, today first, then a total line over all the days given.

    A session that runs past midnight counts once on each day it ran, in the total too.
    """
    header = ("day", "monitored", "upright", "slouched", "alerts", "sessions")
    rows = []
    for i, d in enumerate(days):
        label = "today" if i == 0 else f"{d.date:%a %d %b}"
        rows.append(
            _row(label, d.monitored_s, d.upright_s, d.judged_s, d.slouched_s, d.alerts, d.sessions)
        )
    total = _row(
        f"{len(days)} days",
        sum(d.monitored_s for d in days),
        sum(d.upright_s for d in days),
        sum(d.judged_s for d in days),
        sum(d.slouched_s for d in days),
        sum(d.alerts for d in days),
        sum(d.sessions for d in days),
    )
    table = [header, *rows, total]
    widths = [max(len(r[c]) for r in table) for c in range(len(header))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(
            r[c].ljust(widths[c]) if c == 0 else r[c].rjust(widths[c]) for c in range(len(r))
        ).rstrip()

    rule = "-" * len(line(header))
    return "\n".join([line(header), *(line(r) for r in table[1:-1]), rule, line(total)])


def _row(
    label: str,
    monitored: float,
    upright: float,
    judged: float,
    slouched: float,
    alerts: int,
    sessions: int,
) -> tuple[str, ...]:
    return (
        label,
        format_duration(monitored),
        _percent(upright_share(upright, judged)),
        format_duration(slouched),
        str(alerts),
        str(sessions),
    )
