"""Pause, snooze and resume a running monitor from another terminal, through a small file.

Why a file and not a socket or a signal: it works the same on every platform, survives a monitor
restart (a monitor started during a snooze starts snoozed), and needs no server. The file is
``data_dir()/control.json``, ``{"paused": bool, "snooze_until": epoch | null, "updated": epoch}``,
replaced atomically, so a reader sees the old file or the new one. The monitor polls it through
a ``ControlWatcher`` (one ``stat`` per loop, re-read only when the file changed).

A second file, ``monitor.lock``, is held with an OS lock (through filelock) by the running
monitor, which writes its pid in it (the OS drops the lock when the process dies, even on
``kill -9``), so `posturecam pause` can tell whether a monitor is there to obey it and a second
monitor refuses to start.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from posturecam.errors import ControlError
from posturecam.live.states import PAUSED, SNOOZED
from posturecam.paths import data_dir
from posturecam.storage import write_json

FILE_NAME = "control.json"
LOCK_NAME = "monitor.lock"
MAX_DURATION_S = 24 * 3600.0


@dataclass(frozen=True)
class Control:
    """What the user asked the monitor to do; the default is "watch"."""

    paused: bool = False
    snooze_until: float | None = None  # epoch seconds

    def mode(self, now: float) -> str | None:
        """``"paused"`` | ``"snoozed"`` | None (watch); a pause wins over a snooze."""
        if self.paused:
            return PAUSED
        if self.snooze_until is not None and now < self.snooze_until:
            return SNOOZED
        return None


def control_path() -> Path:
    return data_dir() / FILE_NAME


def lock_path() -> Path:
    return data_dir() / LOCK_NAME


# ---------------------------------------------------------------------- the control file


def read(path: Path | None = None) -> Control:
    """The current request; a missing or unreadable file means "watch" (never raises).

    A damaged file cannot be half-written by us (writes are atomic), so it is something else's
    doing; ignoring it keeps the monitor watching, and the next pause/snooze/resume replaces it.
    """
    path = path or control_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return Control()
    return _from_dict(data)


def _from_dict(data: object) -> Control:
    if not isinstance(data, dict):
        return Control()
    paused = data.get("paused") is True
    until = data.get("snooze_until")
    if isinstance(until, bool) or not isinstance(until, (int, float)) or not math.isfinite(until):
        until = None
    return Control(paused=paused, snooze_until=None if until is None else float(until))


def write(control: Control, path: Path | None = None, now: float | None = None) -> Control:
    """Replace the control file atomically (also replaces a damaged one)."""
    path = path or control_path()
    data = {
        "paused": control.paused,
        "snooze_until": control.snooze_until,
        "updated": time.time() if now is None else now,
    }
    try:
        write_json(path, data)
    except OSError as exc:
        raise ControlError(
            f"cannot write {path} ({exc.strerror or exc}); check that the folder is writable "
            "or set POSTURECAM_HOME."
        ) from exc
    return control


def pause(now: float | None = None, path: Path | None = None) -> Control:
    """Stop watching (and release the camera) until `resume`."""
    return write(Control(paused=True), path, now)


def resume(now: float | None = None, path: Path | None = None) -> Control:
    """Watch again now: ends a pause and any snooze."""
    return write(Control(), path, now)


def snooze(seconds: float, now: float | None = None, path: Path | None = None) -> Control:
    """Stop watching for ``seconds`` from now; replaces a pause (the user said when to return)."""
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_DURATION_S):
        raise ControlError(f"snooze for more than 0 s and at most 24 h, not {seconds:g} s")
    now = time.time() if now is None else now
    return write(Control(snooze_until=now + seconds), path, now)


def describe(control: Control, now: float | None = None) -> str:
    """One line for the CLI: what a monitor does under this request."""
    now = time.time() if now is None else now
    mode = control.mode(now)
    if mode == PAUSED:
        return "paused: not watching until `posturecam resume`"
    if mode == SNOOZED:
        assert control.snooze_until is not None
        until = _when(control.snooze_until, now)
        return f"snoozed until {until} (`posturecam resume` to end it now)"
    return "watching"


def _when(at: float, now: float) -> str:
    """``14:30`` today; with the date when it is another day (a 24 h snooze ends tomorrow)."""
    try:
        until, today = datetime.fromtimestamp(at), datetime.fromtimestamp(now).date()
    except (OverflowError, OSError, ValueError):  # a hand-edited control file
        return f"epoch {at:g} s"
    if until.date() == today:
        return f"{until:%H:%M}"
    day = "tomorrow, " if (until.date() - today).days == 1 else ""
    return f"{until:%H:%M} {day}{until:%a %Y-%m-%d}"


_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile(
    rf"""
    (?:(?P<h>{_NUMBER})\s*(?:h|hr|hrs|hours?))?\s*
    (?:(?P<m>{_NUMBER})\s*(?:m|min|mins|minutes?))?\s*
    (?:(?P<s>{_NUMBER})\s*(?:s|sec|secs|seconds?))?
    """,
    re.VERBOSE,
)


def parse_duration(text: str) -> float:
    """``30m``, ``1h``, ``90s``, ``1h30m``; a bare number is minutes. Seconds, > 0 and <= 24 h."""
    usage = f"snooze takes a duration like 30m, 1h or 90s (at most 24h), not {text!r}"
    cleaned = text.strip().lower()
    if re.fullmatch(_NUMBER, cleaned):
        seconds = float(cleaned) * 60
    else:
        match = _DURATION.fullmatch(cleaned)
        if not cleaned or match is None or not any(match.groupdict().values()):
            raise ControlError(usage)
        parts = match.groupdict()
        seconds = sum(
            float(parts[unit]) * factor
            for unit, factor in (("h", 3600), ("m", 60), ("s", 1))
            if parts[unit]
        )
    if not 0 < seconds <= MAX_DURATION_S:
        raise ControlError(usage)
    return seconds


class ControlWatcher:
    """What the monitor polls every loop: one ``stat``, a re-read only when the file changed."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or control_path()
        self._key: tuple[int, int, int] | None = None
        self._control = Control()

    def current(self) -> Control:
        try:
            st = os.stat(self.path)
        except OSError:
            self._key, self._control = None, Control()
            return self._control
        # The inode changes with every atomic replace, so even a same-size write within the
        # file system's mtime resolution is noticed.
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if key != self._key:
            self._key, self._control = key, read(self.path)
        return self._control


# ---------------------------------------------------------------------- the monitor lock

_LOCK_WAIT_S = 0.25  # a moment's retry: `running_monitor` takes the lock briefly to test it


def _lock(path: Path, wait_s: float) -> Any:
    """The OS lock on ``path`` (filelock: flock, or LockFileEx on Windows); the file stays."""
    from filelock import FileLock  # imported here: `posturecam pause` need not pay for it

    return FileLock(
        path, timeout=wait_s, thread_local=False, preserve_lock_file=True, on_acquired=_write_pid
    )


def _write_pid(fd: int) -> None:
    """Record the holder's pid in the lock file, for `pause` and the "already running" line."""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_bytes()[:32].decode("ascii", "replace").strip()
    except OSError:  # Windows: the holder's lock covers the pid's first byte
        return None
    return int(text) if text.isdigit() else None


def _holder_pid(path: Path) -> int:
    """The pid the holder wrote; it writes it right after locking, so wait a moment for it."""
    for _ in range(20):
        pid = _read_pid(path)
        if pid is not None:
            return pid
        time.sleep(0.01)
    return 0


def _unusable(path: Path, exc: OSError) -> ControlError:
    return ControlError(
        f"cannot open the monitor lock {path} ({exc.strerror or exc}); check that the "
        "folder is writable or set POSTURECAM_HOME."
    )


@contextlib.contextmanager
def monitor_lock(path: Path | None = None) -> Iterator[None]:
    """Hold ``monitor.lock`` for as long as the monitor runs; refuse if another monitor holds it.

    The lock is the OS's, so it is released when the process exits in any way; the file itself
    stays (deleting a lock file races with the next monitor taking it).
    """
    from filelock import Timeout

    path = path or lock_path()
    lock = _lock(path, _LOCK_WAIT_S)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        pid = _holder_pid(path)
        who = f" (pid {pid})" if pid else ""
        raise ControlError(
            f"another posturecam monitor is already running{who}; stop it or use `posturecam pause`"
        ) from None
    except OSError as exc:
        raise _unusable(path, exc) from exc
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.truncate(path, 0)
        lock.release()


def running_monitor(path: Path | None = None) -> int | None:
    """The pid of the monitor holding the lock, or None when no monitor runs.

    Returns 0 in the rare case a monitor holds the lock but its pid could not be read yet, so
    compare with None, not by truth value.
    """
    from filelock import Timeout

    path = path or lock_path()
    if not path.exists():
        return None
    lock = _lock(path, 0)
    try:
        lock.acquire()
    except Timeout:
        return _holder_pid(path)
    except OSError as exc:
        raise ControlError(
            f"cannot open the monitor lock {path} ({exc.strerror or exc}); check its permissions."
        ) from exc
    lock.release()
    return None
