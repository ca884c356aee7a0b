"""The batch's record, batch.json: a row per source, kept true while the batch runs.

It is written (atomically) whenever a source finishes, says whether the batch
is running, finished or was interrupted, and is read again by the next batch
in the same folder: which folders that batch started, and whether it was
killed (or still runs elsewhere).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from typing import Any

from posturecam import __version__
from posturecam.errors import OutputError, PosturecamError, Remedy
from posturecam.research.batch_plan import BatchItem, identity
from posturecam.research.run_folder import BATCH_FILE, space_remedy
from posturecam.storage import write_json

DONE, RESUMED, FAILED, PENDING = "done", "resumed", "failed", "pending"


def _read_json(path: Path) -> Any:
    """The record's JSON, or None when it is missing or cannot be read (no record, then)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def claimed(out_root: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(folder name, source) -> row, for the sources an earlier batch in this folder started."""
    data = _read_json(out_root / BATCH_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        return {}
    return {
        (Path(str(s.get("out_dir", ""))).name, identity(str(s.get("source", "")))): s
        for s in data["sources"]
        if isinstance(s, dict)
    }


class Record:
    """The batch's state, written to batch.json (atomically) whenever a source finishes."""

    def __init__(self, out_root: Path, key: str, items: list[BatchItem], model: Any) -> None:
        self.path = out_root / BATCH_FILE
        self.key = key
        self.model = json.loads(json.dumps(model or {}, default=str))
        self.rows = [
            {
                "spec": item.spec,
                "source": item.source,
                "out_dir": str(item.out_dir),
                "status": PENDING,
                "error": "",
                "frames": 0,
                "wall_s": 0.0,
                "files": {},
            }
            for item in items
        ]
        # The errors as raised, so the command line can word their advice with its flags.
        self.errors: list[PosturecamError | str] = ["" for _ in items]

    def set(
        self,
        index: int,
        status: str,
        error: PosturecamError | str = "",
        frames: int = 0,
        wall: float = 0.0,
        files: dict[str, Any] | None = None,
    ) -> None:
        """Record a source's state; batch.json gets the error's flag-free words."""
        row = self.rows[index]
        row.update(status=status, error=str(error), frames=frames, wall_s=wall, files=files or {})
        self.errors[index] = error

    def count(self, status: str) -> int:
        return sum(row["status"] == status for row in self.rows)

    def write(self, state: str) -> None:
        data = {
            "posturecam": __version__,
            "run_key": self.key,
            "state": state,  # running | finished | interrupted
            "pid": os.getpid(),  # a "running" batch whose process is gone was interrupted
            "host": socket.gethostname(),
            "model": self.model,
            "counts": {s: self.count(s) for s in (DONE, RESUMED, FAILED, PENDING)},
            "sources": self.rows,
        }
        try:
            write_json(self.path, data)
        except OSError as exc:
            raise OutputError(
                f"cannot write {self.path} ({exc.strerror or exc}); ", *space_remedy(exc)
            ) from exc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # another user's process exists; a silly pid does not
    return True


def previous_run(out_root: Path) -> str:
    """A note when batch.json says ``running`` for a process that is gone (killed batch).

    Marks that record interrupted. Refuses (OutputError) while that process still runs on
    this machine: two batches writing one folder would overwrite each other's record.
    """
    path = out_root / BATCH_FILE
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("state") != "running":
        return ""
    pid = data.get("pid")
    here = data.get("host") in (None, socket.gethostname())  # None: an older record
    if here and isinstance(pid, int) and pid != os.getpid() and _alive(pid):
        raise OutputError(
            f"another batch (process {pid}) is writing into {out_root}; wait for it to "
            "finish or stop it, or ",
            Remedy("choose_out_folder"),
            f" (if none runs, delete {path})",
        )
    with contextlib.suppress(OSError, TypeError, ValueError):
        write_json(path, {**data, "state": "interrupted"})
    if not here:  # cannot be checked from here: say whose it was
        who = f"it ran on {data.get('host') or 'another machine'}; if it still runs, stop this one"
    else:
        who = f"process {pid} ended without finishing" if isinstance(pid, int) else "it ended"
    return (
        f"the previous batch in {out_root} was interrupted ({who}); "
        "finished sources are checked and kept, the rest run again"
    )
