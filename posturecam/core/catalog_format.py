"""The stretch catalog's file format, checked strictly: every problem, one readable line each.

Health content lives in a data file (``posturecam/core/data/stretches.json``) so it can be
reviewed without touching code; a typo there would otherwise surface as a wrong or empty
suggestion mid-session, and a forceful self-manipulation ("popping" the back) must never
get in, not even as a "don't".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from posturecam.core.rules import DEFAULT_RULES

BREAK = "break"
#: Issue names a stretch may target: every judged issue, plus "break" suggestions.
KNOWN_ISSUES: tuple[str, ...] = tuple(DEFAULT_RULES)
KNOWN_TARGETS: tuple[str, ...] = (*KNOWN_ISSUES, BREAK)
POSITIONS: tuple[str, ...] = ("seated", "standing", "floor", "doorway", "foam_roller")
HOLD_RANGE_S = (5, 60)
REPS_RANGE = (1, 30)
SETS_RANGE = (1, 6)
#: Forceful self-manipulation must never be suggested, not even as "don't".
BANNED = re.compile(r"\b(?:pop(?:s|ped|ping)?|crack(?:s|ed|ing)?)\b|self-adjust|manipulat", re.I)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOP_KEYS = {"version", "red_flags", "general_caution", "stretches"}
_ENTRY_KEYS = {"id", "name", "targets", "position", "desk_friendly", "steps", "dose", "cautions"}
_DOSE_KEYS = {"hold_s", "reps", "sets"}


def _is_text(v: object) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _text_list(v: object, where: str, problems: list[str]) -> None:
    if not isinstance(v, list) or not v:
        problems.append(f"{where}: must be a non-empty list of strings")
        return
    for i, item in enumerate(v):
        if not _is_text(item):
            problems.append(f"{where}[{i}]: must be a non-empty string")


def _range(v: object, where: str, bounds: tuple[int, int], unit: str, problems: list[str]) -> None:
    if v is None:
        return
    ok = (
        isinstance(v, list)
        and len(v) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
    )
    if not ok:
        problems.append(f"{where}: must be null or [min, max] whole numbers, got {v!r}")
        return
    lo, hi = v
    if lo > hi:
        problems.append(f"{where}: min {lo} is above max {hi}")
    if lo < bounds[0] or hi > bounds[1]:
        problems.append(f"{where}: must lie within {bounds[0]}-{bounds[1]}{unit}, got {v!r}")


def _strings(node: object, where: str) -> Iterable[tuple[str, str]]:
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, f"{where}.{k}" if where else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _strings(v, f"{where}[{i}]")


def _validate_entry(entry: object, where: str, problems: list[str]) -> None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be an object")
        return
    for key in sorted(_ENTRY_KEYS - set(entry)):
        problems.append(f"{where}: missing field {key!r}")
    for key in sorted(set(entry) - _ENTRY_KEYS):
        problems.append(f"{where}: unknown field {key!r}")
    if "id" in entry and not (isinstance(entry["id"], str) and _SLUG.match(entry["id"])):
        problems.append(f"{where}.id: must be a lowercase slug like 'chin-tuck'")
    if "name" in entry and not _is_text(entry["name"]):
        problems.append(f"{where}.name: must be a non-empty string")
    if "targets" in entry:
        targets = entry["targets"]
        _text_list(targets, f"{where}.targets", problems)
        if isinstance(targets, list):
            for t in targets:
                if isinstance(t, str) and t not in KNOWN_TARGETS:
                    problems.append(
                        f"{where}.targets: unknown issue {t!r} (known: {', '.join(KNOWN_TARGETS)})"
                    )
            if len(set(map(str, targets))) != len(targets):
                problems.append(f"{where}.targets: duplicate names")
    if "position" in entry and entry["position"] not in POSITIONS:
        problems.append(
            f"{where}.position: {entry['position']!r} is not one of {', '.join(POSITIONS)}"
        )
    if "desk_friendly" in entry and not isinstance(entry["desk_friendly"], bool):
        problems.append(f"{where}.desk_friendly: must be true or false")
    if "steps" in entry:
        _text_list(entry["steps"], f"{where}.steps", problems)
    if "cautions" in entry:
        _text_list(entry["cautions"], f"{where}.cautions", problems)
    if "dose" in entry:
        dose = entry["dose"]
        if not isinstance(dose, dict):
            problems.append(f"{where}.dose: must be an object with hold_s, reps and sets")
            return
        for key in sorted(_DOSE_KEYS - set(dose)):
            problems.append(f"{where}.dose: missing field {key!r}")
        for key in sorted(set(dose) - _DOSE_KEYS):
            problems.append(f"{where}.dose: unknown field {key!r}")
        _range(dose.get("hold_s"), f"{where}.dose.hold_s", HOLD_RANGE_S, " s", problems)
        _range(dose.get("reps"), f"{where}.dose.reps", REPS_RANGE, "", problems)
        _range(dose.get("sets"), f"{where}.dose.sets", SETS_RANGE, "", problems)


def validate(data: object) -> list[str]:
    """Every problem in a parsed catalog, one readable line each; empty means valid."""
    if not isinstance(data, dict):
        return ["catalog: top level must be a JSON object"]
    problems: list[str] = []
    for key in sorted(_TOP_KEYS - set(data)):
        problems.append(f"catalog: missing field {key!r}")
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(f"catalog: unknown field {key!r}")
    if "version" in data and (data["version"] != 1 or isinstance(data["version"], bool)):
        problems.append(f"version: only version 1 is supported, got {data['version']!r}")
    for key in ("red_flags", "general_caution"):
        if key in data and not _is_text(data[key]):
            problems.append(f"{key}: must be a non-empty string")
    entries = data.get("stretches")
    if "stretches" in data and (not isinstance(entries, list) or not entries):
        problems.append("stretches: must be a non-empty list")
    elif isinstance(entries, list):
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            where = f"stretches[{i}]"
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                where = f"stretches[{i}] ({entry['id']})"
                if entry["id"] in seen:
                    problems.append(f"{where}.id: duplicate id {entry['id']!r}")
                seen.add(entry["id"])
            _validate_entry(entry, where, problems)
        has_break = any(
            isinstance(e, dict) and isinstance(e.get("targets"), list) and BREAK in e["targets"]
            for e in entries
        )
        if not has_break:
            problems.append("stretches: at least one entry must target 'break'")
    for where, text in _strings(data, ""):
        match = BANNED.search(text)
        if match:
            problems.append(
                f"{where}: banned word {match.group(0)!r} (never suggest forceful "
                "self-treatment of the spine)"
            )
    return problems
