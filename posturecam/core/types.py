"""Data passed between pipeline stages: frames in, landmarks out."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

NUM_LANDMARKS = 33


class LM(IntEnum):
    """BlazePose landmark indices, so geometry never uses magic numbers."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


@dataclass(frozen=True, eq=False)
class Frame:
    """One image from any source, stamped with its own time.

    ``t_s`` is seconds from the start of the source (manifest, container or
    monotonic clock), never derived from a frame count by the consumer.
    A frame that could not be decoded keeps its slot with ``image=None`` and
    ``skip_reason`` set, so outputs still record it.
    """

    image: np.ndarray | None  # HxWx3 uint8 BGR
    t_s: float
    index: int
    name: str
    skip_reason: str = ""

    def __post_init__(self) -> None:
        if self.image is None:
            if not self.skip_reason:
                raise ValueError("a Frame without an image needs a skip_reason")
            return
        img = self.image
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"Frame.image must be HxWx3 uint8 BGR, got {img.shape} {img.dtype}")

    @property
    def ok(self) -> bool:
        return self.image is not None


@dataclass(frozen=True, eq=False)
class Landmarks:
    """Pose of one person in one frame, or the explicit empty value.

    ``xy`` is in pixels of the analysed image (y down); ``z`` is MediaPipe's
    relative depth scaled like x (smaller is nearer the camera); ``world`` is
    metric, hip-centred. The empty value has NaN everywhere and zero
    visibility, so "no person" can never be mistaken for a pose.
    """

    xy: np.ndarray  # (33, 2) float pixels
    z: np.ndarray  # (33,)
    visibility: np.ndarray  # (33,)
    presence: np.ndarray  # (33,)
    world: np.ndarray  # (33, 3) metres
    image_size: tuple[int, int] = (0, 0)  # (width, height)
    _empty: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        shapes = {
            "xy": (NUM_LANDMARKS, 2),
            "z": (NUM_LANDMARKS,),
            "visibility": (NUM_LANDMARKS,),
            "presence": (NUM_LANDMARKS,),
            "world": (NUM_LANDMARKS, 3),
        }
        for name, shape in shapes.items():
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.shape != shape:
                got = getattr(arr, "shape", type(arr).__name__)
                raise ValueError(f"Landmarks.{name} must have shape {shape}, got {got}")

    @classmethod
    def empty(cls, image_size: tuple[int, int] = (0, 0)) -> Landmarks:
        return cls(
            xy=np.full((NUM_LANDMARKS, 2), np.nan),
            z=np.full(NUM_LANDMARKS, np.nan),
            visibility=np.zeros(NUM_LANDMARKS),
            presence=np.zeros(NUM_LANDMARKS),
            world=np.full((NUM_LANDMARKS, 3), np.nan),
            image_size=image_size,
            _empty=True,
        )

    @property
    def detected(self) -> bool:
        return not self._empty


@dataclass(frozen=True, eq=False)
class LandmarkBatch:
    """Landmarks of many frames stacked on a leading axis, for vectorised geometry."""

    xy: np.ndarray  # (N, 33, 2)
    z: np.ndarray  # (N, 33)
    visibility: np.ndarray  # (N, 33)
    world: np.ndarray  # (N, 33, 3)
    detected: np.ndarray  # (N,) bool

    def __post_init__(self) -> None:
        n = self.detected.shape[0]
        expected = {
            "xy": (n, NUM_LANDMARKS, 2),
            "z": (n, NUM_LANDMARKS),
            "visibility": (n, NUM_LANDMARKS),
            "world": (n, NUM_LANDMARKS, 3),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"LandmarkBatch.{name} must have shape {shape}")

    def __len__(self) -> int:
        return int(self.detected.shape[0])

    @classmethod
    def stack(cls, items: list[Landmarks]) -> LandmarkBatch:
        if not items:
            return cls(
                xy=np.zeros((0, NUM_LANDMARKS, 2)),
                z=np.zeros((0, NUM_LANDMARKS)),
                visibility=np.zeros((0, NUM_LANDMARKS)),
                world=np.zeros((0, NUM_LANDMARKS, 3)),
                detected=np.zeros(0, bool),
            )
        return cls(
            xy=np.stack([i.xy for i in items]),
            z=np.stack([i.z for i in items]),
            visibility=np.stack([i.visibility for i in items]),
            world=np.stack([i.world for i in items]),
            detected=np.array([i.detected for i in items], bool),
        )
