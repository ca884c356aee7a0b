"""Landmarks of the real labelled photos, computed once per test session."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posturecam.core.geometry import MetricTable
from posturecam.core.types import Frame, LandmarkBatch
from posturecam.frames.engine import LandmarkLog, measure
from posturecam.frames.pose import IMAGE, MediaPipePose


def natural_key(text: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


@dataclass(frozen=True, eq=False)
class LabelledSet:
    rows: list[dict[str, str]]
    log: LandmarkLog
    metrics: MetricTable

    def column(self, name: str) -> np.ndarray:
        return np.array([r[name] for r in self.rows], dtype=object)


def load_labelled(root: Path, model: Path, view: str | None = None) -> LabelledSet:
    with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    lms, widths, heights = [], [], []
    with MediaPipePose(model, IMAGE) as pose:
        for i, row in enumerate(rows):
            image = cv2.imread(str(root / row["path"]), cv2.IMREAD_COLOR)
            lms.append(pose.detect(Frame(image, float(i), i, row["path"])))
            heights.append(image.shape[0])
            widths.append(image.shape[1])
    n = len(rows)
    log = LandmarkLog(
        frame=np.arange(n),
        t_s=np.arange(n, dtype=float),
        name=np.array([r["path"] for r in rows], dtype=object),
        skip_reason=np.full(n, "", dtype=object),
        width=np.array(widths),
        height=np.array(heights),
        landmarks=LandmarkBatch.stack(lms),
    )
    return LabelledSet(rows, log, measure(log, view))
