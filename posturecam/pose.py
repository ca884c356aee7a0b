"""The MediaPipe adapter: the only module that imports mediapipe.

Everything else sees ``Landmarks``, so the model can be faked in tests and
replaced without touching geometry or judgement.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from posturecam.errors import ModelError
from posturecam.types import NUM_LANDMARKS, Frame, Landmarks

VIDEO = "video"
IMAGE = "image"
_DEVNULL: int | None = None


class PoseEstimator(Protocol):
    """Anything that turns a frame into landmarks (the real model or a fake)."""

    def detect(self, frame: Frame) -> Landmarks: ...

    def close(self) -> None: ...


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence MediaPipe's C++ logging (glog/TFLite), which ignores Python settings.

    Set POSTURECAM_DEBUG=1 to see it.
    """
    if os.environ.get("POSTURECAM_DEBUG"):
        yield
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    global _DEVNULL
    if _DEVNULL is None:
        _DEVNULL = os.open(os.devnull, os.O_WRONLY)  # opened once: this runs every frame
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        os.dup2(_DEVNULL, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def to_landmarks(result: object, width: int, height: int) -> Landmarks:
    """Turn a MediaPipe PoseLandmarkerResult into our type (first person only)."""
    poses = getattr(result, "pose_landmarks", None) or []
    if not poses:
        return Landmarks.empty((width, height))
    pose = poses[0]
    worlds = getattr(result, "pose_world_landmarks", None) or []
    if len(pose) != NUM_LANDMARKS:
        return Landmarks.empty((width, height))
    arr = np.fromiter(
        (v for p in pose for v in (p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0)),
        dtype=float,
        count=NUM_LANDMARKS * 5,
    ).reshape(NUM_LANDMARKS, 5)
    world = (
        np.fromiter(
            (v for w in worlds[0] for v in (w.x, w.y, w.z)), dtype=float, count=NUM_LANDMARKS * 3
        ).reshape(NUM_LANDMARKS, 3)
        if worlds and len(worlds[0]) == NUM_LANDMARKS
        else np.full((NUM_LANDMARKS, 3), np.nan)
    )
    return Landmarks(
        xy=arr[:, :2] * (width, height),
        z=arr[:, 2] * width,  # MediaPipe scales z roughly like x
        visibility=arr[:, 3],
        presence=arr[:, 4],
        world=world,
        image_size=(width, height),
    )


class MediaPipePose:
    """PoseLandmarker in VIDEO mode (tracking, for sequences) or IMAGE mode (unrelated stills)."""

    def __init__(
        self,
        model_path: str | Path,
        mode: str = VIDEO,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        if mode not in (VIDEO, IMAGE):
            raise ValueError(f"mode must be {VIDEO!r} or {IMAGE!r}")
        with quiet_native_stderr():
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision

            self._mp = mp
            running_mode = vision.RunningMode.VIDEO if mode == VIDEO else vision.RunningMode.IMAGE
            options = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(model_path)),
                running_mode=running_mode,
                num_poses=1,
                min_pose_detection_confidence=min_detection_confidence,
                min_pose_presence_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
            try:
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
            except (RuntimeError, ValueError) as exc:
                raise ModelError(
                    f"MediaPipe could not load the model {model_path}: {exc}. "
                    "Check it with `posturecam model verify`."
                ) from exc
        self.mode = mode
        self._last_ms = -1

    def detect(self, frame: Frame) -> Landmarks:
        if frame.image is None:
            raise ValueError("cannot detect on a skipped frame")
        h, w = frame.image.shape[:2]
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        with quiet_native_stderr():
            if self.mode == VIDEO:
                # VIDEO mode needs strictly increasing integer milliseconds.
                ms = max(round(frame.t_s * 1000), self._last_ms + 1)
                self._last_ms = ms
                result = self._landmarker.detect_for_video(image, ms)
            else:
                result = self._landmarker.detect(image)
        return to_landmarks(result, w, h)

    def close(self) -> None:
        if self._landmarker is not None:
            with quiet_native_stderr():
                self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> MediaPipePose:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
