"""config.toml round trip for the settings dialog, keeping the user's comments and layout.

Qt-free. tomlkit edits the document in place; before anything is written the new
text goes through the CLI's own check (settings.parse), so the dialog accepts
exactly what `posturecam monitor` accepts, with the same messages. A file that is
already broken is never overwritten: the dialog shows its error (with the line).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError

from posturecam.settings import (
    APP_KEYS,
    MonitorSettings,
    Settings,
    SettingsError,
    load,
    parse,
)
from posturecam.storage import write_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

Key = tuple[str, str]  # (table, key)


@dataclass(frozen=True)
class Field:
    table: str
    key: str
    label: str
    kind: str  # "float" | "bool" | "str"
    low: float = 0.0
    high: float = 1e6
    help: str = ""


FIELDS = (
    Field("monitor", "source", "Camera", "str", help="camera index (0, 1, ...) or a video file"),
    Field("monitor", "profile", "Profile", "str", help="calibration profile name"),
    Field("monitor", "rate_hz", "Frames per second while upright", "float", 0.1, 30),
    Field("monitor", "max_rate_hz", "Frames per second while slouching", "float", 0.1, 30),
    Field("temporal", "persistence_s", "Nudge after slouching for (s)", "float", 0, 3600),
    Field("temporal", "break_after_s", "Break reminder after (s; 0 = off)", "float", 0, 86400),
    Field("monitor", "snooze_minutes", "Default snooze (min)", "float", 1, 1440),
    Field("monitor", "notify", "Desktop notifications", "bool"),
    Field("app", "glow", "Gentle glow on the screen edges while slouching", "bool"),
    Field("app", "sounds", "A short sound with each alert", "bool"),
)


def defaults() -> dict[Key, Any]:
    monitor, temporal = MonitorSettings(), Settings().temporal
    out: dict[Key, Any] = {("monitor", f.name): getattr(monitor, f.name) for f in fields(monitor)}
    out.update({("temporal", f.name): getattr(temporal, f.name) for f in fields(temporal)})
    out.update({("app", k): v for k, v in APP_KEYS.items()})
    return out


@dataclass
class ConfigFile:
    path: Path
    text: str  # as read; "" when the file does not exist
    doc: tomlkit.TOMLDocument | None  # None when the file is not valid TOML
    error: str = ""  # the CLI's message when the file is broken; then it is never written
    existed: bool = False

    def values(self) -> dict[Key, Any]:
        """What each field is now: the file's value, else the default the CLI would use."""
        out = defaults()
        if self.doc is not None:
            data = self.doc.unwrap()
            for f in FIELDS:
                table = data.get(f.table)
                if isinstance(table, dict) and f.key in table:
                    out[(f.table, f.key)] = table[f.key]
        if out[("temporal", "break_after_s")] is None:
            out[("temporal", "break_after_s")] = 0.0
        return out


def read(path: Path) -> ConfigFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile(path, "", tomlkit.document())
    except (OSError, UnicodeDecodeError) as exc:
        return ConfigFile(path, "", None, f"cannot read {path}: {exc}", True)
    try:
        load(path)  # the CLI's check: the same message, with the line
    except SettingsError as exc:
        error = str(exc)
    else:
        error = ""
    try:
        doc = tomlkit.parse(text)
    except ParseError:
        doc = None
    return ConfigFile(path, text, doc, error, True)


def _plain(value: Any, kind: str) -> Any:
    if kind == "float":
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "bool":
        return bool(value)
    return str(value).strip()


def render(cf: ConfigFile, changes: dict[Key, Any]) -> str:
    """The file's text with only the changed keys set; comments and order stay."""
    if cf.doc is None or cf.error:
        raise SettingsError(
            f"{cf.error or f'{cf.path} is not valid TOML'}; fix the file first (it was not changed)"
        )
    doc = tomlkit.parse(cf.text) if cf.text else tomlkit.document()
    kinds = {(f.table, f.key): f.kind for f in FIELDS}
    current = cf.values()
    for key, value in changes.items():
        value = _plain(value, kinds.get(key, "str"))
        if key in current and current[key] == value:
            continue
        table, name = key
        if table not in doc:
            doc.add(table, tomlkit.table())
        doc[table][name] = value  # type: ignore[index]
    return tomlkit.dumps(doc)


def check(text: str, path: Path) -> Settings:
    """The CLI's validation of this text (messages name the file)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from exc
    return parse(data, where=f"settings file {path}")


def save(cf: ConfigFile, changes: dict[Key, Any]) -> Settings:
    """Validate, then write atomically; raises SettingsError (and writes nothing) when bad."""
    text = render(cf, changes)
    settings = check(text, cf.path)
    if text != cf.text:
        try:
            cf.path.parent.mkdir(parents=True, exist_ok=True)
            write_text(cf.path, text)
        except OSError as exc:
            raise SettingsError(f"cannot write {cf.path}: {exc.strerror or exc}") from exc
    return settings
