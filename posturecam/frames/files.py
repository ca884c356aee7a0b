"""Reading a user's file safely: regular files only, bounded in size, and why not in words.

Frame folders and manifests come from users and may hold FIFOs, devices,
symlink loops or huge files named like images; these helpers never open what
is not a regular file, never read past a bound, and phrase every refusal for
the person who has to fix it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from posturecam.errors import SourceError

NOT_REGULAR = "not a regular file"
SYMLINK_LOOP = "symlink loop (too many levels of symbolic links)"


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words a user knows."""
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


def stat_problem(exc: OSError) -> str:
    """Why a path cannot be looked at: a symlink loop or the system's own words."""
    if exc.errno == errno.ELOOP:
        return SYMLINK_LOOP
    return exc.strerror or str(exc)


def size_text(n: int) -> str:
    """A byte count for a message: whole MiB where exact, else bytes."""
    return f"{n >> 20} MiB" if n and n % 2**20 == 0 else f"{n:,} bytes"


def read_regular(path: Path, limit: int) -> tuple[bytes | None, str]:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Returns ``(data, "")`` or ``(None, reason)``. The file is stat'ed (following
    links) before it is opened, so a FIFO, socket, device or directory is never
    opened, and a file over the bound is never read. The open is non-blocking and
    re-checked with fstat, so a file swapped for a FIFO in between cannot hang us,
    and at most ``limit`` bytes are read even if the file grows meanwhile.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, f"cannot read file: {stat_problem(exc)}"
    if not stat.S_ISREG(st.st_mode):
        return None, f"{NOT_REGULAR} ({file_kind(st.st_mode)})"
    if st.st_size > limit:
        return None, f"file too large ({size_text(st.st_size)}; limit {size_text(limit)})"
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return None, f"cannot read file: {stat_problem(exc)}"
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None, f"{NOT_REGULAR} (changed while being opened)"
            data = fh.read(limit + 1)
    except OSError as exc:
        return None, f"cannot read file: {stat_problem(exc)}"
    if len(data) > limit:
        return None, f"file too large (grew past the limit of {size_text(limit)})"
    return data, ""


def resolve_path(path: str | Path) -> Path:
    """``Path.resolve()``, with a symlink loop as a ``SourceError`` naming the path.

    Python before 3.13 raises RuntimeError for a loop, later ones OSError (ELOOP).
    """
    try:
        return Path(path).resolve()
    except RuntimeError as exc:
        raise SourceError(f"cannot open {path}: {SYMLINK_LOOP}") from exc
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {stat_problem(exc)}") from exc
