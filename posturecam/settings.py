"""Settings files: TOML with [judge], [temporal], [baseline] and [monitor] tables, checked strictly.

[judge]
noise_k = 3.0
sensitivity = { head_drop = 1.2 }   # >1 = more sensitive

[temporal]
persistence_s = 90
break_after_s = 0                   # 0 turns break reminders off

[baseline]
drift_tau_s = 0                     # 0: never follow slow drift

[monitor]
source = "0"                        # camera index or video file
rate_hz = 1.0

The monitor reads one such file from the user's config directory
(``config_path``); flags override it. Defaults apply only when that file is
absent: a broken file is an error, never silently ignored.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from posturecam.core.adapt import AdaptSettings
from posturecam.core.rules import JudgeSettings
from posturecam.core.temporal import TemporalSettings
from posturecam.errors import SettingsError
from posturecam.paths import config_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

ENV_CONFIG = "POSTURECAM_CONFIG"
CONFIG_NAME = "config.toml"
MAX_SNOOZE_MINUTES = 24 * 60.0  # as `posturecam snooze` allows
TABLES = ("judge", "temporal", "baseline", "monitor", "app")
# The desktop app's own [app] table (its nudges): name -> default. The CLI checks it too, so a
# file the app's settings dialog wrote is one `posturecam monitor` accepts.
APP_KEYS: dict[str, bool] = {"glow": False, "sounds": False}


@dataclass(frozen=True)
class MonitorSettings:
    """How the live monitor runs; every field can also be given as a flag."""

    source: str = "0"  # camera index or video file
    profile: str = "default"  # calibration profile name or path
    rate_hz: float = 1.0  # while posture is settled: most of the day
    max_rate_hz: float = 5.0  # while posture is drifting/slouching
    notify: bool = True  # desktop notifications (the terminal line is always printed)
    preview: bool = False
    snooze_minutes: float = 30.0  # the 's' key in the preview
    gate: bool = True  # change gating: reuse the last landmarks while the picture is still
    recheck_s: float = 5.0  # ...but run the model at least this often

    def __post_init__(self) -> None:
        for name in ("source", "profile"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"[monitor] {name} must be a non-empty string, got {value!r}")
        for name in ("notify", "preview", "gate"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(f"[monitor] {name} must be true or false, got {value!r}")
        for name in ("rate_hz", "max_rate_hz", "snooze_minutes", "recheck_s"):
            value = getattr(self, name)
            if not _is_number(value) or not (value > 0 and math.isfinite(value)):
                raise ValueError(f"[monitor] {name} must be a number greater than 0, got {value!r}")
        if self.snooze_minutes > MAX_SNOOZE_MINUTES:
            raise ValueError(
                f"[monitor] snooze_minutes must be more than 0 and at most {MAX_SNOOZE_MINUTES:g} "
                f"(24 h), got {self.snooze_minutes!r}"
            )
        if self.max_rate_hz < self.rate_hz:
            raise ValueError(
                f"[monitor] max_rate_hz ({self.max_rate_hz}) must not be below "
                f"rate_hz ({self.rate_hz}); raise max_rate_hz or lower rate_hz"
            )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorSettings:
        known = [f.name for f in fields(cls)]
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(f"unknown monitor setting(s) {sorted(unknown)}; known: {known}")
        values = dict(data)
        source = values.get("source")
        # `source = 0` is the natural way to write a camera index in TOML.
        if isinstance(source, int) and not isinstance(source, bool) and source >= 0:
            values["source"] = str(source)
        return cls(**values)

    def updated(self, **values: Any) -> MonitorSettings:
        """These settings with flags applied; a flag left as None keeps the file's value."""
        given = {k: v for k, v in values.items() if v is not None}
        try:
            return replace(self, **given)
        except (TypeError, ValueError) as exc:  # an unknown field name or a bad value
            raise SettingsError(str(exc)) from exc


@dataclass(frozen=True)
class Settings:
    judge: JudgeSettings | None = None  # None: keep the profile's own settings
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    adapt: AdaptSettings = field(default_factory=AdaptSettings)  # the [baseline] table


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_app_table(values: dict[str, Any]) -> dict[str, bool]:
    """The [app] table with defaults filled in; the same check for the CLI and the app."""
    unknown = set(values) - set(APP_KEYS)
    if unknown:
        raise SettingsError(f"unknown app setting(s) {sorted(unknown)}; known: {list(APP_KEYS)}")
    for name, value in values.items():
        if not isinstance(value, bool):
            raise SettingsError(f"[app] {name} must be true or false, got {value!r}")
    return {**APP_KEYS, **values}


# What a number in these tables may be (the tables' own checks refuse the rest; a TOML
# boolean is no number, though Python counts it as one).
_RANGES = {
    "temporal": ">= 0",
    "baseline": ">= 0",
    "judge.noise_k": ">= 0",
    "judge.slouch_k": ">= 0",
    "judge.floor": "> 0",
    "judge.sensitivity": "> 0",
    "judge.weights": ">= 0",
    "judge.recline": ">= 0",
    "judge.sustained": ">= 0",
}


def _check_numbers(table: str, values: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Refuse booleans, text and inf/nan where a table holds numbers (or tables of them)."""
    for key, value in values.items():
        default = defaults.get(key)
        if key not in defaults or isinstance(default, (bool, str)):
            continue  # unknown keys and non-numbers: the table's own check
        entries = value.items() if isinstance(default, dict) and isinstance(value, dict) else None
        for name, item in entries or [(key, value)]:
            if not (_is_number(item) and math.isfinite(item)):
                where = key if entries is None else f"{key}.{name}"
                allowed = _RANGES.get(f"{table}.{key}", _RANGES.get(table))
                what = f"a finite number {allowed}" if allowed else "a finite number"
                raise SettingsError(f"[{table}] {where} must be {what}, not {_shown(item)}")


def _shown(value: Any) -> str:
    """A value as the TOML file spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, (int, float, str)) else type(value).__name__


def _parse(data: dict[str, Any]) -> Settings:
    unknown = set(data) - set(TABLES)
    if unknown:
        raise SettingsError(
            f"unknown table(s) {sorted(unknown)}; use [judge], [temporal], [baseline] and [monitor]"
            " (and [app] for the desktop app)"
        )
    for table in TABLES:
        if table in data and not isinstance(data[table], dict):
            raise SettingsError(f"{table} must be a table ([{table}]), not a single value")
    check_app_table(data.get("app", {}))
    _check_numbers("judge", data.get("judge", {}), JudgeSettings().to_dict())
    _check_numbers("temporal", data.get("temporal", {}), TemporalSettings().to_dict())
    _check_numbers("baseline", data.get("baseline", {}), AdaptSettings().to_dict())
    try:
        judge = JudgeSettings.from_dict(data["judge"]) if "judge" in data else None
        temporal_data = dict(data.get("temporal", {}))
        if temporal_data.get("break_after_s") == 0:
            temporal_data["break_after_s"] = None
        temporal = TemporalSettings.from_dict(temporal_data)
        monitor = MonitorSettings.from_dict(data.get("monitor", {}))
        adapt = AdaptSettings.from_dict(data.get("baseline", {}))
    except (TypeError, ValueError, AttributeError) as exc:
        raise SettingsError(str(exc)) from exc
    return Settings(judge, temporal, monitor, adapt)


def parse(data: dict[str, Any], where: str = "settings") -> Settings:
    try:
        return _parse(data)
    except SettingsError as exc:
        raise SettingsError(f"{where}: {exc}") from exc


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]")


def _line_of(text: str, table: str, key: str | None) -> int | None:
    """1-based line of ``key`` in ``[table]`` (or of the table header), if it can be found."""
    current = ""
    header_line = None
    key_pattern = re.compile(rf"""^\s*(["']?){re.escape(key)}\1\s*=""") if key else None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1)
            if current == table and header_line is None:
                header_line = number
            continue
        if current == table and key_pattern is not None and key_pattern.match(line):
            return number
    return header_line


def _names(value: Any) -> list[str]:
    """Keys of a value and of the tables inside it (an inline table's keys are on its line)."""
    if not isinstance(value, dict):
        return []
    return [str(k) for k in value] + [n for v in value.values() for n in _names(v)]


def _mentions(message: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", message) is not None


def _locate(text: str, data: dict[str, Any], message: str) -> int | None:
    """Best guess at the line a validation message is about: a key it names, else its table."""
    message = message.split("; known:")[0]  # the list of valid names is not what went wrong
    for table, content in data.items():
        if not isinstance(content, dict):  # a top-level key where a table belongs
            if _mentions(message, table):
                return _line_of(text, "", table)
            continue
        for key, value in content.items():
            if any(_mentions(message, name) for name in [str(key), *_names(value)]):
                line = _line_of(text, table, str(key))
                if line is not None:
                    return line
    for table in data:
        if _mentions(message, table):
            line = _line_of(text, table, None)
            if line is not None:
                return line
    return None


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    """Text and data of a TOML file; errors name the file and, for syntax, the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"settings file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message includes "(at line N, column M)"
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from exc
    except RecursionError:
        raise SettingsError(
            f"settings file {path} nests arrays or tables too deeply to be a settings file; "
            "write plain [table] sections of key = value lines"
        ) from None
    return text, data


def _parse_file(path: Path, text: str, data: dict[str, Any]) -> Settings:
    try:
        return _parse(data)
    except SettingsError as exc:
        line = _locate(text, data, str(exc))
        at = f", line {line}" if line is not None else ""
        raise SettingsError(f"settings file {path}{at}: {exc}") from exc


def load(path: str | Path) -> Settings:
    """Read a settings file; the error names the line of a TOML syntax error."""
    path = Path(path)
    try:
        text, data = _read(path)
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror or exc}") from exc
    return _parse_file(path, text, data)


def config_path() -> Path:
    """The user's settings file: $POSTURECAM_CONFIG, $POSTURECAM_HOME/config.toml, else the
    platform's user config folder (so tests and CI can isolate it)."""
    explicit = os.environ.get(ENV_CONFIG)
    if explicit:
        return Path(explicit).expanduser()
    return config_dir() / CONFIG_NAME


def load_user(path: Path | None = None) -> tuple[Settings, Path, bool]:
    """(settings, path, existed): defaults only when the file is absent, never when broken."""
    path = Path(path) if path is not None else config_path()
    try:
        text, data = _read(path)
    except FileNotFoundError:
        return Settings(), path, False
    except OSError as exc:
        raise SettingsError(
            f"cannot read settings file {path}: {exc.strerror or exc}; fix its permissions, "
            f"or point ${ENV_CONFIG} at another file"
        ) from exc
    return _parse_file(path, text, data), path, True


# --- writing the effective settings back out -------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # shortest text that reads back to the same float
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value")


def _table(name: str, values: dict[str, Any], notes: dict[str, str], prefix: str = "") -> list[str]:
    lines = [f"{prefix}[{name}]"]
    for key, value in values.items():
        line = f"{prefix}{_toml_key(key)} = {_toml_value(value)}"
        note = notes.get(key)
        lines.append(f"{line:<40}  # {note}" if note else line)
    return lines


_MONITOR_NOTES = {
    "source": "camera index or video file",
    "profile": "calibration profile name or path",
    "rate_hz": "frames analysed per second",
    "max_rate_hz": "...while posture is drifting or slouching",
    "notify": "desktop notifications (a terminal line is always printed)",
    "preview": "show the camera with the overlay",
    "snooze_minutes": "what the 's' key in the preview snoozes",
    "gate": "skip the model while the picture has not changed",
    "recheck_s": "...but run it at least this often (seconds)",
}
_JUDGE_NOTES = {
    "noise_k": "threshold = noise_k x calibration noise",
    "sensitivity": "per issue; >1 = more sensitive",
    "recline": "sequences: evidence given back per unit the body moved away",
    "sustained": "sequences: line of the held small drop; 0 = off",
}


def show(settings: Settings) -> str:
    """The effective settings as TOML that ``load`` reads back to equal ``settings``."""
    lines = [
        "# posturecam settings. Flags on the command line override these values.",
        "",
        "# [monitor]: the live monitor: camera, calibration profile, sampling and nudges.",
        *_table("monitor", settings.monitor.to_dict(), _MONITOR_NOTES),
        "",
        "# [judge]: how far from your calibrated baseline counts as an issue.",
    ]
    if settings.judge is None:
        lines += [
            "# Not set: each calibration profile's own judge settings apply (these are the",
            "# defaults). Remove the leading '# ' to override every profile.",
            *_table("judge", JudgeSettings().to_dict(), _JUDGE_NOTES, prefix="# "),
        ]
    else:
        lines += _table("judge", settings.judge.to_dict(), _JUDGE_NOTES)
    temporal = settings.temporal.to_dict()
    if temporal["break_after_s"] is None:
        temporal["break_after_s"] = 0
    notes = {
        "persistence_s": "slouched this long -> alert",
        "break_after_s": "0 turns break reminders off",
    }
    lines += [
        "",
        "# [temporal]: timing of states, alerts and breaks, in seconds of the camera's clock.",
        *_table("temporal", temporal, notes),
        "",
        "# [baseline]: in sequences, follow slow drift while you sit calmly, and notice a",
        "# moved camera (frames undecided until the new view settles). drift_tau_s = 0: off.",
        *_table("baseline", settings.adapt.to_dict(), {}),
    ]
    return "\n".join(lines) + "\n"
