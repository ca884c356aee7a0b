"""Shared helpers for benchmarks: test inputs built from the bundled sample frames."""

from __future__ import annotations

import csv
import statistics
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_FRAMES = ROOT / "sample_frames"
DEFAULT_SAMPLE = SAMPLE_FRAMES / "hopper"


def letterbox(img: np.ndarray, width: int, height: int, fill: int = 0) -> np.ndarray:
    """Scale ``img`` to fit inside width x height keeping its aspect ratio, then pad."""
    h, w = img.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(img, (nw, nh), interpolation=interp)
    top = (height - nh) // 2
    left = (width - nw) // 2
    return cv2.copyMakeBorder(
        resized,
        top,
        height - nh - top,
        left,
        width - nw - left,
        cv2.BORDER_CONSTANT,
        value=(fill, fill, fill),
    )


def iter_sample_images(folder: Path = DEFAULT_SAMPLE) -> Iterator[np.ndarray]:
    """The sample frames (BGR) in manifest order, one at a time."""
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as fh:
        names = [row["file"] for row in csv.DictReader(fh)]
    if not names:
        raise SystemExit(f"no sample frames listed in {folder / 'manifest.csv'}")
    for name in names:
        img = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
        if img is None:
            raise SystemExit(f"cannot read sample frame {folder / name}")
        yield img


def sample_images(folder: Path = DEFAULT_SAMPLE) -> list[np.ndarray]:
    """The sample frames (BGR) in manifest order."""
    return list(iter_sample_images(folder))


def ping_pong(n_src: int, n_out: int) -> list[int]:
    """Source indices 0..n-1, n-2..1, 0.. repeated: a long sequence with no jump cuts."""
    if n_src == 1:
        return [0] * n_out
    cycle = list(range(n_src)) + list(range(n_src - 2, 0, -1))
    return [cycle[k % len(cycle)] for k in range(n_out)]


def make_sequence(
    out: Path,
    frames: int,
    *,
    kind: str = "video",
    fps: float = 15.0,
    size: tuple[int, int] = (640, 480),
    sample: Path = DEFAULT_SAMPLE,
    jpeg_quality: int = 90,
) -> Path:
    """Write a ``size`` sequence of ``frames`` frames of the sample person.

    ``kind="video"`` writes an MJPG .avi at ``fps`` and returns its path;
    ``kind="folder"`` writes JPEGs plus manifest.csv (``t_s = k / fps``) and
    returns the folder.
    """
    width, height = size
    boxed = [letterbox(img, width, height) for img in sample_images(sample)]
    order = ping_pong(len(boxed), frames)
    if kind == "video":
        out.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
        if not writer.isOpened():
            raise SystemExit(f"cv2.VideoWriter cannot write MJPG to {out}")
        writer.set(cv2.VIDEOWRITER_PROP_QUALITY, jpeg_quality)
        try:
            for i in order:
                writer.write(boxed[i])
        finally:
            writer.release()
        return out
    if kind == "folder":
        out.mkdir(parents=True, exist_ok=True)
        params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
        with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["file", "t_s"])
            for k, i in enumerate(order):
                name = f"frame_{k:05d}.jpg"
                if not cv2.imwrite(str(out / name), boxed[i], params):
                    raise SystemExit(f"cannot write {out / name}")
                w.writerow([name, f"{k / fps:.6f}"])
        return out
    raise ValueError(f"kind must be 'video' or 'folder', got {kind!r}")


def decode_all(source: Path) -> tuple[list[np.ndarray], list[float]]:
    """Decode every frame of a video or manifest folder into memory: (BGR images, t_s)."""
    images: list[np.ndarray] = []
    times: list[float] = []
    if source.is_dir():
        with open(source / "manifest.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                img = cv2.imread(str(source / row["file"]), cv2.IMREAD_COLOR)
                if img is None:
                    raise SystemExit(f"cannot decode {source / row['file']}")
                images.append(img)
                times.append(float(row["t_s"]))
        return images, times
    cap = cv2.VideoCapture(str(source))
    if not cap.isOpened():
        raise SystemExit(f"cannot open video {source}")
    try:
        while True:
            ok, img = cap.read()
            if not ok or img is None:
                break
            times.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
            images.append(img)
    finally:
        cap.release()
    if times:
        t0 = times[0]
        times = [t - t0 for t in times]
    return images, times


def median(values: list[float]) -> float:
    return float(statistics.median(values))
