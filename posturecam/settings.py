"""Settings files: TOML with a [judge] and a [temporal] table, checked strictly.

[judge]
noise_k = 3.0
sensitivity = { head_drop = 1.2 }   # >1 = more sensitive

[temporal]
persistence_s = 90
break_after_s = 0                   # 0 turns break reminders off
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posturecam.errors import PosturecamError
from posturecam.judge import JudgeSettings
from posturecam.temporal import TemporalSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class SettingsError(PosturecamError):
    """A settings file cannot be used as written."""


@dataclass(frozen=True)
class Settings:
    judge: JudgeSettings | None = None  # None: keep the profile's own settings
    temporal: TemporalSettings = field(default_factory=TemporalSettings)


def parse(data: dict[str, Any], where: str = "settings") -> Settings:
    unknown = set(data) - {"judge", "temporal"}
    if unknown:
        raise SettingsError(
            f"{where}: unknown table(s) {sorted(unknown)}; use [judge] and [temporal]"
        )
    try:
        judge = JudgeSettings.from_dict(data["judge"]) if "judge" in data else None
        temporal_data = dict(data.get("temporal", {}))
        if temporal_data.get("break_after_s") == 0:
            temporal_data["break_after_s"] = None
        temporal = TemporalSettings.from_dict(temporal_data)
    except (TypeError, ValueError, AttributeError) as exc:
        raise SettingsError(f"{where}: {exc}") from exc
    return Settings(judge, temporal)


def load(path: str | Path) -> Settings:
    """Read a settings file; the error names the line of a TOML syntax error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message includes "(at line N, column M)"
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from exc
    return parse(data, where=f"settings file {path}")


def parse_sensitivity(items: list[str]) -> dict[str, float]:
    """``ISSUE=VALUE`` pairs from the command line."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise SettingsError(
                f"--sensitivity takes ISSUE=NUMBER (e.g. head_drop=1.5), got {item!r}"
            ) from None
    return out
