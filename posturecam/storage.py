"""Atomic file writes: a crash or Ctrl-C leaves the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_TEMP_TRIES = 100
_TEMP_HEX = 6  # bytes of randomness in a temporary name: ``.NAME.<12 hex>.tmp``
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _create_temp(path: Path) -> tuple[int, str]:
    """Create a new file beside ``path`` with mode ``0o666 & ~umask``, as open() would.

    Not mkstemp (always 0o600) plus a chmod: that needs the umask, which can only be read
    by changing it, a race with other threads creating files. The kernel applies it here.
    """
    for _ in range(_TEMP_TRIES):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(_TEMP_HEX)}.tmp")
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it into place only on success.

    The result gets the permissions of any file the user creates (the umask decides).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": "utf-8", "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _temp_pattern(name: str) -> re.Pattern[str]:
    """Temporary names of ``name`` (also of a temporary file's own temporary file)."""
    part = rf"\.[0-9a-f]{{{2 * _TEMP_HEX}}}\.tmp"
    return re.compile(rf"\.+{re.escape(name)}{part}(?:{part})*")


def remove_stale_temps(folder: str | Path, names: tuple[str, ...]) -> int:
    """Remove temporary files a killed writer left beside ``names``; returns how many.

    Only for folders with one writer at a time (a run folder): another process's
    temporary file of the same name would be removed too.
    """
    patterns = [_temp_pattern(name) for name in names]
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        if entry.name.startswith(".") and any(p.fullmatch(entry.name) for p in patterns):
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def write_json(path: str | Path, data: Any) -> None:
    with atomic_open(path) as fh:
        json.dump(data, fh, indent=2, sort_keys=False, allow_nan=False)
        fh.write("\n")


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)


def _sync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable where the OS allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def probe_writable(folder: str | Path) -> None:
    """Create ``folder`` if needed and write and remove a small file in it.

    Raises OSError (EACCES, EROFS, ENOSPC, ELOOP, ...) when it cannot be written, so a
    caller can refuse before its expensive work instead of failing at the end.
    """
    folder = Path(folder)
    try:
        os.stat(folder)  # a link loop (here or in a parent) raises ELOOP
    except FileNotFoundError:
        if folder.is_symlink():
            raise FileNotFoundError(
                errno.ENOENT, "it is a symbolic link to a folder that does not exist", str(folder)
            ) from None
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(folder / "posturecam-probe")
    try:
        os.write(fd, b"posturecam")
        os.fsync(fd)
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


class StagedFiles:
    """New versions of several files in one folder, swapped in together.

    ``path(name)`` reserves a temporary file beside ``folder/name`` for a writer to
    fill (replacing it, e.g. through ``atomic_open``), after removing ones a killed run
    left (a run folder has one writer); nothing the folder held before changes until
    ``commit``. Leaving the ``with`` block without a commit (an error,
    Ctrl-C) removes every temporary file. ``commit`` removes the old ``last`` file first,
    renames the others into place, then ``last``: a ``last`` file (a summary) that is
    present always describes files that are present.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._staged: dict[str, Path] = {}

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()

    def path(self, name: str) -> Path:
        if name in self._staged:
            raise ValueError(f"{name} is staged twice")
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.folder, (name,))
        fd, tmp = _create_temp(self.folder / name)
        os.close(fd)
        self._staged[name] = Path(tmp)
        return Path(tmp)

    def discard(self) -> None:
        for tmp in self._staged.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self._staged.clear()

    def commit(self, last: str, stale: tuple[str, ...] = ()) -> None:
        """Swap the staged files in, ``last`` last; remove ``stale`` names not staged."""
        if last not in self._staged:
            raise ValueError(f"{last} is not staged")
        fresh = set(self._staged)
        (self.folder / last).unlink(missing_ok=True)
        _sync_dir(self.folder)
        for name in [n for n in self._staged if n != last]:
            os.replace(self._staged[name], self.folder / name)
            del self._staged[name]
        for name in stale:
            if name not in fresh:
                with contextlib.suppress(FileNotFoundError):
                    (self.folder / name).unlink()
        _sync_dir(self.folder)
        os.replace(self._staged[last], self.folder / last)
        del self._staged[last]
        _sync_dir(self.folder)
