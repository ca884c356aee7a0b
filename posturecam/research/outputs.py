"""The frames table and the events file: frames.csv, frames.parquet and events.jsonl.

The column order is a contract researchers load with pandas; append new
columns at the end of a group rather than renaming.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from posturecam.core.geometry import METRICS
from posturecam.errors import OutputError, Remedy
from posturecam.research.run_folder import FRAMES
from posturecam.storage import atomic_open

JUDGEMENT_COLUMNS = (
    "head_scale",
    "evidence",
    "evidence_zero",
    "score",
    "slouched",
    "state",
    "issues",
    "sustained",
)
COLUMNS = ("frame", "t_s", "source", "detected", "view", *METRICS, *JUDGEMENT_COLUMNS, "reason")


def _cell(value: Any) -> str:
    """Empty for unknown; floats to 6 significant digits so files are stable and small.

    Metrics only: timestamps go through ``_exact_cell``.
    """
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else f"{float(value):.6g}"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def _exact_cell(value: Any) -> str:
    """A float that reads back bit for bit: Python's shortest repr, without a trailing ".0".

    So 0.5 stays "0.5", 2.0 is "2" (as with 6 digits), 1/30 is "0.03333333333333333" and an
    epoch time 1733040000.25 is "1733040000.25" (6 digits gave "1.73304e+09").
    """
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if math.isnan(v):
            return ""
        text = repr(v)
        return text[:-2] if text.endswith(".0") else text
    return _cell(value)


EXACT_COLUMNS = ("t_s",)  # written losslessly; metrics keep 6 significant digits


def write_frames_csv(
    path: Path, columns: dict[str, Sequence[Any] | np.ndarray], exact_time: bool = True
) -> None:
    """Write one row per frame; columns missing from ``columns`` are left empty.

    ``t_s`` is written exactly; ``exact_time=False`` writes it to 6 significant digits as
    posturecam did before recording version 2 (rescore of an old recording uses it so its
    frames.csv comes out byte for byte as its replay wrote it).
    """
    n = len(next(iter(columns.values()))) if columns else 0
    empty = [""] * n
    cols = [columns.get(name, empty) for name in COLUMNS]
    exact = EXACT_COLUMNS if exact_time else ()
    cells = [_exact_cell if name in exact else _cell for name in COLUMNS]
    with atomic_open(path, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in zip(*cols, strict=True):
            writer.writerow([cell(v) for cell, v in zip(cells, row, strict=True)])


def write_events(path: Path, events: Iterable[dict[str, Any]]) -> None:
    with atomic_open(path) as fh:
        for event in events:
            fh.write(json.dumps(event, allow_nan=False) + "\n")


def read_frames_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --- typed columns: one table drives the CSV reader and the Parquet writer -------------------

INT, FLOAT, TEXT, BOOL = "int64", "float64", "string", "bool"
# Arrow type names. In numpy (read_frames) BOOL columns become float 1.0/0.0/NaN, the judge's
# own encoding of a nullable verdict, so "unknown" survives without an object array.
COLUMN_TYPES: dict[str, str] = {
    "frame": INT,
    "t_s": FLOAT,
    "source": TEXT,
    "detected": BOOL,  # None: the frame itself was unusable
    "view": TEXT,
    **dict.fromkeys(METRICS, FLOAT),
    "head_scale": FLOAT,
    "evidence": FLOAT,
    "evidence_zero": FLOAT,
    "score": FLOAT,
    "slouched": BOOL,  # written from float 1/0/NaN
    "state": TEXT,
    "issues": TEXT,
    "sustained": FLOAT,  # the sustained drop's severity (sequences; empty for stills)
    "reason": TEXT,
}

_PYARROW_MISSING = "Parquet export needs pyarrow: pip install 'posturecam[parquet]'"


def _is_null(value: Any) -> bool:
    if value is None or (isinstance(value, str) and value == ""):
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _float_values(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Floats with NaN for None/"" (CSV cells, Python lists from the engine)."""
    try:
        return np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return np.array([np.nan if _is_null(v) else float(v) for v in values], np.float64)


def _bool_values(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Nullable booleans as float 1.0/0.0/NaN (from bool, None, 0/1, NaN or "1"/"0")."""
    return np.array([np.nan if _is_null(v) else float(bool(float(v))) for v in values], np.float64)


def _text_values(values: Sequence[Any] | np.ndarray) -> list[str | None]:
    """Text as is ("" stays "": no issues, no reason); None or a float NaN becomes null."""
    nan = [v is None or (isinstance(v, float) and math.isnan(v)) for v in values]
    return [None if missing else str(v) for v, missing in zip(values, nan, strict=True)]


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise OutputError(_PYARROW_MISSING) from None
    return pyarrow


def write_frames_parquet(path: Path, columns: dict[str, Sequence[Any] | np.ndarray]) -> None:
    """Write the frames table as typed Parquet (same columns and order as frames.csv).

    Unknown values are nulls, not NaN or "", so pandas/polars see real missing data;
    columns missing from ``columns`` are all-null. Written atomically.
    """
    pa = _pyarrow()
    n = len(next(iter(columns.values()))) if columns else 0
    arrays = []
    for name, kind in COLUMN_TYPES.items():
        values = columns.get(name)
        dtype = pa.type_for_alias(kind)
        if values is None:
            arrays.append(pa.nulls(n, type=dtype))
        elif len(values) != n:
            raise ValueError(f"column {name} has {len(values)} values, expected {n}")
        elif kind == TEXT:
            arrays.append(pa.array(_text_values(values), type=dtype))
        elif kind == INT:
            arrays.append(pa.array([None if _is_null(v) else int(v) for v in values], dtype))
        else:
            floats = _float_values(values) if kind == FLOAT else _bool_values(values)
            data = floats.astype(bool) if kind == BOOL else floats
            arrays.append(pa.array(data, type=dtype, mask=np.isnan(floats)))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(list(COLUMN_TYPES.items())))
    with atomic_open(path, "wb") as fh:
        pa.parquet.write_table(table, fh)


def _parse_column(name: str, cells: list[str], where: Path) -> np.ndarray:
    kind = COLUMN_TYPES.get(name, TEXT)
    try:
        if kind == TEXT:
            return np.array(cells, dtype=str)
        if kind == BOOL:
            return _bool_values(cells)
        floats = _float_values(cells)
    except ValueError as exc:
        raise OutputError(
            f"{where}: column {name} holds a value that is not a number ({exc}); "
            "re-run the replay to write the file again."
        ) from None
    if kind == INT and not np.isnan(floats).any():
        return floats.astype(np.int64)
    return floats


def _read_csv_columns(path: Path) -> dict[str, np.ndarray]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise OutputError(f"cannot read {path} ({exc}); re-run the replay to write it.") from None
    if not header:
        raise OutputError(f"{path} is empty; re-run the replay to write it again.")
    if any(len(row) != len(header) for row in rows):
        raise OutputError(f"{path} has rows of the wrong length; re-run the replay to write it.")
    cells = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    return {
        name: _parse_column(name, list(col), path) for name, col in zip(header, cells, strict=True)
    }


def _read_parquet_columns(path: Path) -> dict[str, np.ndarray]:
    pa = _pyarrow()
    try:
        table = pa.parquet.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise OutputError(f"cannot read {path} ({exc}); re-run the replay to write it.") from None
    out = {}
    for name in table.column_names:
        column = table.column(name)
        kind = COLUMN_TYPES.get(name, TEXT)
        if kind == TEXT:
            values = column.to_pylist()
            out[name] = np.array(["" if v is None else str(v) for v in values], dtype=str)
            continue
        floats = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        floats = np.asarray(floats, dtype=np.float64)  # nulls are NaN
        ok = kind == INT and not np.isnan(floats).any()
        out[name] = floats.astype(np.int64) if ok else floats
    return out


def read_frames(path_or_dir: Path) -> dict[str, np.ndarray]:
    """The frames table as typed numpy arrays, the same from CSV and from Parquet.

    A folder means its frames.csv. Floats use NaN for unknown, text uses "", BOOL
    columns are float 1.0/0.0/NaN; ``frame`` is int64 unless some value is missing.
    Columns absent from an older file are filled with unknowns, so every name in
    COLUMNS is present; extra columns are kept as text.
    """
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / FRAMES
    if not path.is_file():
        raise OutputError(f"{path} not found; ", Remedy("replay_first", out="DIR"), ".")
    parquet = path.suffix == ".parquet"
    columns = _read_parquet_columns(path) if parquet else _read_csv_columns(path)
    n = len(next(iter(columns.values()))) if columns else 0
    for name, kind in COLUMN_TYPES.items():
        if name not in columns:
            columns[name] = np.full(n, "", dtype=str) if kind == TEXT else np.full(n, np.nan)
    return {name: columns[name] for name in (*COLUMNS, *(c for c in columns if c not in COLUMNS))}
