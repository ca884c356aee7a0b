"""manifest.csv, the file that times an image folder: find it, parse it, refuse ambiguity.

One row per image (``file,t_s``), times strictly increasing so frame order and
time order agree; every listed file must be an image in the folder. Each
refusal names the line and what to change.
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
import unicodedata
from pathlib import Path

from posturecam.errors import SourceError
from posturecam.frames.files import file_kind, read_regular, stat_problem
from posturecam.frames.imaging import IMAGE_EXTENSIONS

MANIFEST = "manifest.csv"
# manifest.csv is parsed whole; 64 MiB is over a million rows.
MAX_MANIFEST_BYTES = 64 * 2**20


def nfc(name: str) -> str:
    """macOS may hand back decomposed names; compare manifest and disk names in one form."""
    return unicodedata.normalize("NFC", name)


def manifest_present(path: Path) -> bool:
    """True if the folder has a manifest; one that cannot be used as a file is an error.

    A manifest.csv that is a symlink loop, a FIFO or a directory is refused here,
    rather than silently timing the folder some other way.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise SourceError(
                f"{path} is a link to a missing file; fix or remove the link"
            ) from None
        return False
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {stat_problem(exc)}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(
            f"{path} is a {file_kind(st.st_mode)}, not a regular file; "
            f"replace it with a CSV file (header 'file,t_s')"
        )
    return True


def read_manifest(path: Path, images: list[str]) -> list[tuple[str, float]]:
    """Parse manifest.csv into (file, t_s) rows, refusing anything ambiguous."""
    data, problem = read_regular(path, MAX_MANIFEST_BYTES)
    if data is None:
        raise SourceError(f"cannot read {path}: {problem.removeprefix('cannot read file: ')}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path} is not UTF-8 text; save it as UTF-8 CSV") from exc

    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [c.strip().lower() for c in header[:2]] != ["file", "t_s"]:
        got = ",".join(header) if header else "nothing"
        raise SourceError(f"{path} line 1: header must be 'file,t_s', got '{got}'")
    rows = _Rows(path, images)
    try:
        for cells in reader:
            rows.add(reader.line_num, cells)
    except csv.Error as exc:
        raise SourceError(f"{path} line {reader.line_num}: not valid CSV ({exc})") from None
    if not rows.rows:
        raise SourceError(f"{path} lists no files; add one 'file,t_s' row per image")
    return rows.rows


class _Rows:
    """The manifest's rows so far, and the checks each new row must pass."""

    def __init__(self, path: Path, images: list[str]) -> None:
        self.path = path
        self.on_disk = {nfc(n): n for n in images}
        self.folded: dict[str, list[str]] = {}
        for n in images:
            self.folded.setdefault(nfc(n).casefold(), []).append(n)
        self.rows: list[tuple[str, float]] = []
        self.seen: dict[str, int] = {}
        self.prev: tuple[float, int] | None = None

    def fail(self, line: int, what: str) -> SourceError:
        return SourceError(f"{self.path} line {line}: {what}")

    def add(self, line: int, cells: list[str]) -> None:
        if not any(c.strip() for c in cells):
            return
        if len(cells) < 2:
            raise self.fail(line, f"expected 'file,t_s', got '{','.join(cells)}'")
        file_cell, t_cell = cells[0].strip(), cells[1].strip()
        if not file_cell:
            raise self.fail(line, "file name is empty")
        try:
            t_s = float(t_cell)
        except ValueError:
            raise self.fail(line, f"t_s '{t_cell}' is not a number of seconds") from None
        if not math.isfinite(t_s):
            raise self.fail(line, f"t_s '{t_cell}' must be a finite number of seconds")
        key = nfc(file_cell)
        if key in self.seen:
            raise self.fail(line, f"'{file_cell}' is listed twice (first on line {self.seen[key]})")
        if key not in self.on_disk:
            raise self.fail(line, _missing_file_message(self.path.parent, file_cell, self.folded))
        if self.prev is not None and t_s <= self.prev[0]:
            raise self.fail(
                line,
                f"t_s {t_cell} is not after {self.prev[0]:g} on line {self.prev[1]}; "
                "times must strictly increase, so sort rows by time and drop duplicates",
            )
        self.seen[key] = line
        self.prev = (t_s, line)
        self.rows.append((self.on_disk[key], t_s))


def _missing_file_message(folder: Path, name: str, folded: dict[str, list[str]]) -> str:
    """Explain why a manifest row names no usable image, with a guess if case differs."""
    if (folder / name).is_file():
        exts = " ".join(sorted(IMAGE_EXTENSIONS))
        return f"'{name}' is not an image this source reads (extensions {exts})"
    guess = folded.get(nfc(name).casefold())
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    return f"file '{name}' not found in {folder}{hint}"
