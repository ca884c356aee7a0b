"""Record a frame set from a live source: the one command that writes images, only where told.

The result is an image folder with manifest.csv (``file,t_s``) that ``replay``
reads as it is. Each image is in place before its manifest row is written and
flushed, so Ctrl-C or a crash keeps every frame already recorded.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posturecam.errors import Given, OutputError, Remedy
from posturecam.frames.capture import LiveCapture
from posturecam.frames.imaging import IMAGE_EXTENSIONS
from posturecam.frames.manifest import MANIFEST
from posturecam.frames.pacing import paced

JPEG_QUALITY = 92


@dataclass(frozen=True)
class RecordResult:
    out_dir: Path
    frames: int
    skipped: int  # black/frozen camera images, not written
    duration_s: float
    end_reason: str


def check_record_dir(out_dir: Path, force: bool) -> None:
    """Never mix two recordings: images or a manifest already there need ``force``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(Given("out_dir", path=out_dir), " is a file; choose a folder name.")
    if not out_dir.exists():
        return
    old = [
        p for p in out_dir.iterdir() if p.name == MANIFEST or p.suffix.lower() in IMAGE_EXTENSIONS
    ]
    if old and not force:
        raise OutputError(
            f"{out_dir} already holds a recording ({len(old)} files); ",
            Remedy("choose_out_folder"),
            " or ",
            Remedy("force_replace"),
            ".",
        )
    for p in old:
        p.unlink()


def _write_image(path: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise OutputError(f"could not encode a frame as JPEG for {path}")
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data.tobytes())
    os.replace(tmp, path)


def record(
    capture: LiveCapture,
    out_dir: str | Path,
    *,
    seconds: float | None,
    fps: float,
    stop: threading.Event | None = None,
    force: bool = False,
    on_frame: Callable[[int, float], None] | None = None,  # a progress line
) -> RecordResult:
    """Save ``fps`` frames a second until ``seconds`` have passed, the source ends or ``stop``."""
    out_dir = Path(out_dir)
    check_record_dir(out_dir, force)
    out_dir.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    written = skipped = 0
    t0: float | None = None
    last_t = 0.0
    end_reason = "stopped"  # by Ctrl-C / SIGTERM through ``stop``
    manifest = open(out_dir / MANIFEST, "w", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        manifest.write("file,t_s\n")
        manifest.flush()
        capture.start()
        for frame in paced(capture, fps, stop=stop):
            t0 = frame.t_s if t0 is None else t0
            t = frame.t_s - t0
            if seconds is not None and t >= seconds:
                end_reason = "time up"
                break
            if frame.image is None:
                skipped += 1
                continue
            name = f"frame_{written:06d}.jpg"
            _write_image(out_dir / name, frame.image)
            manifest.write(f"{name},{t:.3f}\n")
            manifest.flush()
            os.fsync(manifest.fileno())
            written += 1
            last_t = t
            if on_frame is not None:
                on_frame(written, t)
        else:
            if not stop.is_set():
                end_reason = "source ended"
    finally:
        with contextlib.suppress(OSError):
            manifest.close()
        capture.release()
    return RecordResult(out_dir, written, skipped, last_t, end_reason)
