"""Replay outputs: frames.csv, events.jsonl and summary.json in one folder.

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

from posturecam.geometry import METRICS
from posturecam.storage import atomic_open

JUDGEMENT_COLUMNS = ("head_scale", "score", "slouched", "state", "issues")
COLUMNS = ("frame", "t_s", "source", "detected", "view", *METRICS, *JUDGEMENT_COLUMNS, "reason")

FRAMES = "frames.csv"
EVENTS = "events.jsonl"
SUMMARY = "summary.json"


def _cell(value: Any) -> str:
    """Empty for unknown; floats to 6 significant digits so files are stable and small."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else f"{float(value):.6g}"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def write_frames_csv(path: Path, columns: dict[str, Sequence[Any] | np.ndarray]) -> None:
    """Write one row per frame; columns missing from ``columns`` are left empty."""
    n = len(next(iter(columns.values()))) if columns else 0
    empty = [""] * n
    cols = [columns.get(name, empty) for name in COLUMNS]
    with atomic_open(path, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in zip(*cols, strict=True):
            writer.writerow([_cell(v) for v in row])


def write_events(path: Path, events: Iterable[dict[str, Any]]) -> None:
    with atomic_open(path) as fh:
        for event in events:
            fh.write(json.dumps(event, allow_nan=False) + "\n")


def read_frames_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
