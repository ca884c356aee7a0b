"""Words for the temporal layer's events: what to say, which stretch to suggest, when to
point to a professional. Same in replay and live use, so replays show what users saw."""

from __future__ import annotations

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


class Coach:
    """Turns events into advice; keeps the session memory (no repeats, red flags once)."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog if catalog is not None else load_catalog()
        self.picker = StretchPicker(self.catalog)
        self.red_flags = RedFlagPolicy()

    def advise(self, event: Event) -> dict[str, Any]:
        """The event as a JSON-ready dict, with a message and stretch ids for alerts and breaks."""
        out = event.to_dict()
        if event.type == "alert":
            out.update(self._alert(event))
        elif event.type == "break":
            stretch = self.picker.pick_break()
            minutes = round(event.data.get("present_s", 0) / 60)
            out["stretches"] = [stretch.id]
            out["message"] = (
                f"You have been at the screen for {minutes} min: time for a short break.\n"
                + format_stretch(stretch)
            )
        elif event.type == "setup_changed":
            out["message"] = (
                "The camera or your seat seems to have moved: posture is not judged until "
                "the new view has settled for a few seconds (or recalibrate)."
            )
        elif event.type == "baseline_reanchored":
            out["message"] = "The new camera view has settled: posture is judged again."
        if event.type in ("alert", "break") and self.red_flags.due(event.type):
            out["red_flags"] = red_flag_notice(self.catalog)
        return out

    def _alert(self, event: Event) -> dict[str, Any]:
        issues = list(event.data.get("issues", []))
        minutes = event.data.get("slouched_s", 0) / 60
        what = (
            _ISSUE_WORDS.get(issues[0], "your posture has slipped")
            if issues
            else ("your posture has slipped")
        )
        level = event.data.get("level", CUE)
        stretch = self.picker.pick(issues)
        ids = [stretch.id] if stretch else []
        head = f"For about {minutes:.0f} min {what}. Sit tall: ears over shoulders."
        if level == CUE or stretch is None:
            hint = f" If you like, try: {stretch.name}." if stretch else ""
            return {"stretches": ids, "message": head + hint}
        text = head + "\n" + format_stretch(stretch)
        if level == BREAK:
            pause = self.picker.pick_break()
            ids.append(pause.id)
            text += "\nThis keeps happening: stand up for a short break.\n" + format_stretch(pause)
        return {"stretches": ids, "message": text}
