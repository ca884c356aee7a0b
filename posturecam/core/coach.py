"""Words for the temporal layer's events: what to say, which stretch to suggest, when to
point to a professional. Same in replay and live use, so replays show what users saw.

``Coach.advise`` makes an ``Advice``: the event with its words, typed until a sink writes
it (``Advice.to_dict`` is the one JSON form: events.jsonl and the session log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posturecam.core.stretches import (
    Catalog,
    RedFlagPolicy,
    StretchPicker,
    format_stretch,
    load_catalog,
    red_flag_notice,
)
from posturecam.core.temporal import BREAK, CUE, Event

ALERT_TITLE = "posturecam: time to sit tall"
TITLE = "posturecam"

_ISSUE_WORDS = {
    "head_drop": "your head has dropped",
    "head_forward": "your head is forward of your shoulders",
    "forward_head": "your head is forward of your shoulders",
    "trunk_flexion": "your back is rounding forward",
    "leaning_in": "you are leaning in towards the screen",
    "side_lean": "you are leaning to one side",
    "shoulder_tilt": "one shoulder is lower",
    "head_tilt": "your head is tilted",
}


@dataclass(frozen=True)
class Advice:
    """One event and what to tell the person about it (nothing to say: ``message`` "")."""

    event: Event
    message: str = ""
    stretches: tuple[str, ...] | None = None  # None: the event suggests no stretch at all
    red_flags: str = ""  # when to see a professional (once a session)

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def t_s(self) -> float:
        return self.event.t_s

    @property
    def is_alert(self) -> bool:
        return self.event.type == "alert"

    @property
    def title(self) -> str:
        """A notification's title."""
        return ALERT_TITLE if self.is_alert else TITLE

    @property
    def body(self) -> str:
        """A notification's body: the message, and the red flags when they are due."""
        return self.message + ("\n" + self.red_flags if self.red_flags else "")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the event's fields, then stretches, message and red flags."""
        out = self.event.to_dict()
        if self.stretches is not None:
            out["stretches"] = list(self.stretches)
        if self.message:
            out["message"] = self.message
        if self.red_flags:
            out["red_flags"] = self.red_flags
        return out


class Coach:
    """Turns events into advice; keeps the session memory (no repeats, red flags once)."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog if catalog is not None else load_catalog()
        self.picker = StretchPicker(self.catalog)
        self.red_flags = RedFlagPolicy()

    def advise(self, event: Event) -> Advice:
        """The event with a message, and stretch ids for alerts and breaks."""
        stretches: tuple[str, ...] | None = None
        message = ""
        if event.type == "alert":
            stretches, message = self._alert(event)
        elif event.type == "break":
            stretch = self.picker.pick_break()
            minutes = round(event.data.get("present_s", 0) / 60)
            stretches = (stretch.id,)
            message = (
                f"You have been at the screen for {minutes} min: time for a short break.\n"
                + format_stretch(stretch)
            )
        elif event.type == "setup_changed":
            message = (
                "The camera or your seat seems to have moved: posture is not judged until "
                "the new view has settled for a few seconds (or recalibrate)."
            )
        elif event.type == "baseline_reanchored":
            message = "The new camera view has settled: posture is judged again."
        flags = ""
        if event.type in ("alert", "break") and self.red_flags.due(event.type):
            flags = red_flag_notice(self.catalog)
        return Advice(event, message, stretches, flags)

    def _alert(self, event: Event) -> tuple[tuple[str, ...], str]:
        issues = list(event.data.get("issues", []))
        minutes = event.data.get("slouched_s", 0) / 60
        what = (
            _ISSUE_WORDS.get(issues[0], "your posture has slipped")
            if issues
            else ("your posture has slipped")
        )
        level = event.data.get("level", CUE)
        stretch = self.picker.pick(issues)
        ids = (stretch.id,) if stretch else ()
        head = f"For about {minutes:.0f} min {what}. Sit tall: ears over shoulders."
        if level == CUE or stretch is None:
            hint = f" If you like, try: {stretch.name}." if stretch else ""
            return ids, head + hint
        text = head + "\n" + format_stretch(stretch)
        if level == BREAK:
            pause = self.picker.pick_break()
            ids += (pause.id,)
            text += "\nThis keeps happening: stand up for a short break.\n" + format_stretch(pause)
        return ids, text
