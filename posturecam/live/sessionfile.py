"""The session log's file: SQLite in WAL mode, checked before use, created or upgraded in
place (rows kept), and the transactions every read and write runs in."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from posturecam.errors import SessionLogError

# 2: samples.carried (the monitor reused the last landmarks: change gating). A
# version-1 log is upgraded in place when opened; its old rows say NULL (unknown).
SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 5000
_SQLITE_HEADER = b"SQLite format 3\x00"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    ended_at REAL,
    end_reason TEXT,
    profile TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    summary TEXT
);
CREATE TABLE IF NOT EXISTS samples (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at REAL NOT NULL,
    t_s REAL,
    dt_s REAL NOT NULL,
    state TEXT NOT NULL,
    score REAL,
    present INTEGER,
    issues TEXT NOT NULL DEFAULT '',
    carried INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at REAL NOT NULL,
    t_s REAL,
    type TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS samples_at ON samples(at);
CREATE INDEX IF NOT EXISTS samples_session ON samples(session_id, at);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE INDEX IF NOT EXISTS events_session ON events(session_id, at);
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open or create the log at ``path``; never changes a file it refuses to use."""
    _check_header(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SessionLogError(
            f"cannot create the folder for the session log {path} "
            f"({exc.strerror or exc}); make it writable or set POSTURECAM_HOME."
        ) from exc
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _open_error(path, exc) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SessionLogError(
                f"the session log {path} was written by a newer posturecam (schema "
                f"{version}, this one knows {SCHEMA_VERSION}); upgrade posturecam, or move "
                "the file aside to start a new log (it was left as it is)."
            )
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise SessionLogError(
                f"the session log {path} cannot use write-ahead logging (journal mode "
                f"{mode!r}); keep it on a local disk, or set POSTURECAM_HOME to one."
            )
        conn.execute("PRAGMA synchronous = NORMAL")
        if version < SCHEMA_VERSION:
            with transaction(conn, "BEGIN IMMEDIATE"):
                _create(conn)
    except SessionLogError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise _open_error(path, exc) from exc
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, begin: str = "BEGIN") -> Iterator[None]:
    """An explicit transaction on an autocommit connection; ROLLBACK on any error."""
    conn.execute(begin)
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (a full disk)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def _create(conn: sqlite3.Connection) -> None:
    """Create the tables, or bring an older log up to this schema (rows kept)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(samples)")}
    if "carried" not in columns:  # a version-1 log
        conn.execute("ALTER TABLE samples ADD COLUMN carried INTEGER")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _check_header(path: Path) -> None:
    """Refuse a non-empty file that is not SQLite before SQLite touches it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SessionLogError(
            f"cannot read the session log {path} ({exc.strerror or exc}); check its "
            "permissions or set POSTURECAM_HOME to another folder."
        ) from exc
    if head and head != _SQLITE_HEADER:
        raise SessionLogError(_not_a_database(path))


def _not_a_database(path: Path) -> str:
    return (
        f"{path} is not a posturecam session log (not an SQLite database); move it aside "
        "and a new log will be started (the file was left as it is)."
    )


def _open_error(path: Path, exc: sqlite3.Error) -> SessionLogError:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return SessionLogError(_not_a_database(path))
    return SessionLogError(
        f"cannot open the session log {path} ({text}); check that its folder is writable, "
        "or set POSTURECAM_HOME to a folder that is."
    )
