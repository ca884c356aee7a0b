"""Stretch suggestions: a validated catalog (data, not code) and a calm, reproducible picker.

The catalog lives in ``posturecam/core/data/stretches.json`` so health content can be
reviewed and corrected without touching code. Validation is strict because a
typo there would otherwise surface as a wrong or empty suggestion mid-session.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import Any

from posturecam.core.catalog_format import BREAK, KNOWN_ISSUES, KNOWN_TARGETS, validate
from posturecam.errors import PosturecamError

#: When no detected issue matches, suggest something for the rounded upper back.
GENERAL_TARGETS: tuple[str, ...] = ("trunk_flexion", "head_drop")
_POSITION_TEXT = {
    "seated": "seated",
    "standing": "standing",
    "floor": "on the floor",
    "doorway": "in a doorway",
    "foam_roller": "on a foam roller",
}

Range = tuple[int, int]


@dataclass(frozen=True)
class Dose:
    """How long and how often; None means "not applicable" (e.g. no hold for a walk)."""

    hold_s: Range | None = None
    reps: Range | None = None
    sets: Range | None = None

    def text(self) -> str:
        """Human dose, e.g. "hold 15-30 s, 2-4 times" or "hold 5 s, 8-10 repetitions"."""
        parts = []
        if self.hold_s:
            parts.append(f"hold {_span(self.hold_s)} s")
        if self.reps:
            parts.append(f"{_span(self.reps)} repetitions")
        if self.sets:
            parts.append(f"{_span(self.sets)} {'sets' if self.reps else 'times'}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, list[int] | None]:
        return {k: list(v) if v else None for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Stretch:
    """One catalog entry; ``targets`` are judge issue names (or "break")."""

    id: str
    name: str
    targets: tuple[str, ...]
    position: str
    desk_friendly: bool
    steps: tuple[str, ...]
    dose: Dose
    cautions: tuple[str, ...]

    @property
    def is_break(self) -> bool:
        return BREAK in self.targets

    def to_dict(self) -> dict[str, Any]:
        """The same shape as the catalog file entry (used by ``--json``)."""
        return {
            "id": self.id,
            "name": self.name,
            "targets": list(self.targets),
            "position": self.position,
            "desk_friendly": self.desk_friendly,
            "steps": list(self.steps),
            "dose": self.dose.to_dict(),
            "cautions": list(self.cautions),
        }


@dataclass(frozen=True)
class Catalog:
    """The validated catalog: entries in file order plus the safety texts."""

    version: int
    red_flags: str
    general_caution: str
    stretches: tuple[Stretch, ...]

    def by_id(self, stretch_id: str) -> Stretch:
        for s in self.stretches:
            if s.id == stretch_id:
                return s
        raise KeyError(stretch_id)

    def for_issue(self, issue: str | None) -> tuple[Stretch, ...]:
        """Entries targeting ``issue`` (all when None); unknown names are a user error."""
        if issue is None:
            return self.stretches
        _check_issue(issue)
        return tuple(s for s in self.stretches if issue in s.targets)


def _span(r: Range) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


def _check_issue(issue: str) -> None:
    if issue not in KNOWN_TARGETS:
        raise PosturecamError(f"unknown issue {issue!r}; known issues: {', '.join(KNOWN_TARGETS)}")


# --- loading ---------------------------------------------------------------------------------


def _range_or_none(v: list[int] | None) -> Range | None:
    return (v[0], v[1]) if v else None


def _build(data: dict[str, Any]) -> Catalog:
    stretches = tuple(
        Stretch(
            id=e["id"],
            name=e["name"],
            targets=tuple(e["targets"]),
            position=e["position"],
            desk_friendly=e["desk_friendly"],
            steps=tuple(e["steps"]),
            dose=Dose(*(_range_or_none(e["dose"][k]) for k in ("hold_s", "reps", "sets"))),
            cautions=tuple(e["cautions"]),
        )
        for e in data["stretches"]
    )
    return Catalog(data["version"], data["red_flags"], data["general_caution"], stretches)


def _parse(text: str, where: str) -> Catalog:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PosturecamError(
            f"stretch catalog {where} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); fix the file or reinstall posturecam"
        ) from None
    problems = validate(data)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise PosturecamError(
            f"stretch catalog {where} has {len(problems)} problem(s); fix the file or "
            f"reinstall posturecam:\n{listing}"
        )
    return _build(data)


@lru_cache(maxsize=1)
def _packaged() -> Catalog:
    resource = resources.files("posturecam.core").joinpath("data", "stretches.json")
    try:
        text = resource.read_text(encoding="utf-8")
    except OSError as exc:
        raise PosturecamError(
            f"the packaged stretch catalog cannot be read ({exc}); reinstall posturecam"
        ) from None
    return _parse(text, "(packaged)")


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """The packaged catalog (cached), or the file at ``path`` (tests, local overrides)."""
    if path is None:
        return _packaged()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PosturecamError(f"cannot read stretch catalog {path}: {exc.strerror}") from None
    return _parse(text, str(path))


# --- picking ---------------------------------------------------------------------------------


def _issue_names(issues: Sequence[str] | str) -> tuple[str, ...]:
    """Accept a list of names or the judge's ";"-joined string; drop unknown names."""
    if isinstance(issues, str):
        issues = issues.split(";")
    names = (i.strip() for i in issues)
    return tuple(dict.fromkeys(i for i in names if i in KNOWN_ISSUES))


class StretchPicker:
    """Chooses what to suggest, without randomness so a replay suggests the same things.

    Candidates are ranked by how many detected issues they target, then
    desk-friendly first. The picker rotates through the best-ranked group,
    least-used first, widening to the next group only when needed to avoid
    suggesting the same stretch twice in a row.
    """

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog if catalog is not None else load_catalog()
        self._uses: Counter[str] = Counter()
        self._last: str | None = None
        self._last_break: str | None = None

    @property
    def last(self) -> Stretch | None:
        return self.catalog.by_id(self._last) if self._last else None

    def _choose(self, ranked: list[tuple[tuple, Stretch]], avoid: str | None) -> Stretch | None:
        pool: list[Stretch] = []
        for _, group in groupby(ranked, key=lambda item: item[0]):
            pool.extend(s for _, s in group)
            options = [s for s in pool if s.id != avoid]
            if options:
                return min(options, key=lambda s: (self._uses[s.id], pool.index(s)))
        return None

    def _ranked(
        self, issues: tuple[str, ...], position_ok: Callable[[str], bool] | None
    ) -> list[tuple[tuple, Stretch]]:
        ranked = []
        for index, s in enumerate(self.catalog.stretches):
            if s.is_break or (position_ok is not None and not position_ok(s.position)):
                continue
            overlap = sum(1 for i in issues if i in s.targets)
            if overlap:
                ranked.append(((-overlap, not s.desk_friendly), index, s))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [(key, s) for key, _, s in ranked]

    def pick(
        self,
        issues: Sequence[str] | str,
        position_ok: Callable[[str], bool] | None = None,
    ) -> Stretch | None:
        """A stretch for the detected issues, never the previous one; None if nothing fits.

        ``position_ok(position)`` may veto positions (e.g. no floor work today).
        With no matching entry, general upper-back entries are suggested.
        """
        choice = None
        names = _issue_names(issues)
        if names:
            choice = self._choose(self._ranked(names, position_ok), self._last)
        if choice is None:
            choice = self._choose(self._ranked(GENERAL_TARGETS, position_ok), self._last)
        if choice is not None:
            self._uses[choice.id] += 1
            self._last = choice.id
        return choice

    def pick_break(self) -> Stretch:
        """A break suggestion, rotating in catalog order (a lone entry may repeat)."""
        ranked = [((0,), s) for s in self.catalog.stretches if s.is_break]
        if not ranked:  # validation guarantees one; guard hand-built catalogs
            raise PosturecamError("the stretch catalog has no break suggestions")
        choice = self._choose(ranked, self._last_break) or ranked[0][1]
        self._uses[choice.id] += 1
        self._last_break = choice.id
        return choice


class RedFlagPolicy:
    """When to repeat the "see a professional" advice: once per session, and at every break.

    Alerts come often, so repeating the advice each time would teach people to
    ignore it; breaks are rarer and a natural moment to check in with the body.
    Asking ``due("alert")`` counts as showing it.
    """

    KINDS = ("alert", "break")

    def __init__(self) -> None:
        self._alert_shown = False

    def due(self, kind: str) -> bool:
        if kind == "break":
            return True
        if kind == "alert":
            shown, self._alert_shown = self._alert_shown, True
            return not shown
        raise ValueError(f"unknown notice kind {kind!r}; expected one of {self.KINDS}")


def red_flag_notice(catalog: Catalog | None = None) -> str:
    """The red-flag advice from the catalog, ready to show."""
    catalog = catalog if catalog is not None else load_catalog()
    return f"When to get help: {catalog.red_flags}"


# --- presenting ------------------------------------------------------------------------------


def format_stretch(s: Stretch) -> str:
    """Multi-line human text: name, position, numbered steps, dose, cautions."""
    where = _POSITION_TEXT.get(s.position, s.position)
    if s.desk_friendly:
        where += ", at your desk"
    lines = [f"{s.name} ({where})"]
    lines += [f"  {n}. {step}" for n, step in enumerate(s.steps, 1)]
    dose = s.dose.text()
    if dose:
        lines.append(f"  Dose: {dose}")
    lines += [f"  Caution: {c}" for c in s.cautions]
    return "\n".join(lines)


def catalog_as_json(catalog: Catalog, for_issue: str | None = None) -> list[dict[str, Any]]:
    """Entries as plain dicts for ``posturecam stretches --json``."""
    return [s.to_dict() for s in catalog.for_issue(for_issue)]


def list_text(catalog: Catalog, for_issue: str | None = None) -> str:
    """The plain listing for ``posturecam stretches``, with the safety texts around it."""
    chosen = catalog.for_issue(for_issue)
    title = f"Stretches for {for_issue}" if for_issue else "All stretches"
    blocks = [f"{title} ({len(chosen)}):\n{catalog.general_caution}"]
    blocks += [
        f"[{s.id}] {format_stretch(s)}\n  Helps with: {', '.join(s.targets)}" for s in chosen
    ]
    blocks.append(red_flag_notice(catalog))
    return "\n\n".join(blocks) + "\n"
