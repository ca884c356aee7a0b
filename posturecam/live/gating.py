"""Change gating: run the pose model only when the picture changed since it last ran.

A person at a desk is still most of the time, so most live frames show what the
model already saw. Each frame is shrunk to a small grey thumbnail, normalised
for brightness and contrast (auto-exposure drifts slowly all day), and compared
with the thumbnail of the last frame the model ran on. Within this camera's own
noise, measured over the first frames of a session, the last landmarks are
reused. Because the comparison is with the last *inferred* frame, a slow slump
accumulates until it shows; and the model still runs every ``recheck_s``
seconds, so a change the thumbnail misses is seen anyway. Live sources only:
replay analyses every frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class GateSettings:
    enabled: bool = True
    # The model runs at least this often, whatever the thumbnail says: a slump the
    # thumbnail missed is seen within 5 s, inside the subtle slouch's 10 s allowance
    # (a strong slump changes the picture, so it is seen at once).
    recheck_s: float = 5.0
    noise_k: float = 3.0  # a change is this many times the camera's own frame-to-frame noise
    learn_frames: int = 8  # frame pairs that measure the noise at the start (model always runs)
    size: tuple[int, int] = (64, 48)  # thumbnail width, height
    # Bounds on the measured noise, in normalised grey levels (contrast 32 per unit of
    # spread): a person moving during the first seconds must not switch gating off.
    min_noise: float = 0.5
    max_noise: float = 4.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.recheck_s) and self.recheck_s > 0):
            raise ValueError(f"recheck_s must be a number of seconds > 0, got {self.recheck_s}")
        if not (math.isfinite(self.noise_k) and self.noise_k > 0):
            raise ValueError(f"noise_k must be a number > 0, got {self.noise_k}")


def thumbnail(image: np.ndarray, size: tuple[int, int] = GateSettings.size) -> np.ndarray:
    """Grey, area-averaged (sensor noise averages out), zero mean and fixed contrast."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    small -= float(small.mean())
    spread = float(small.std())
    return small * (32.0 / spread) if spread > 1e-3 else small


def change(a: np.ndarray, b: np.ndarray) -> float:
    """How much the picture changed: the 99th percentile of per-pixel differences.

    A head that moves changes a few dozen pixels along its outline; a mean over
    the whole picture would dilute that into the noise.
    """
    return float(np.percentile(np.abs(a - b), 99.0))


class ChangeGate:
    """Decides, frame by frame, whether the model must run (one per live session)."""

    def __init__(self, settings: GateSettings | None = None) -> None:
        self.settings = settings or GateSettings()
        self.reset()

    def reset(self) -> None:
        """Forget the reference (after a pause, a recalibration or camera trouble)."""
        self._ref: np.ndarray | None = None
        self._ref_t = -math.inf
        self._learned: list[float] = []
        self.noise: float | None = None
        self.ran = 0
        self.carried = 0

    @property
    def limit(self) -> float:
        """The change that counts as "something moved" (NaN while still learning)."""
        return math.nan if self.noise is None else self.settings.noise_k * self.noise

    def decide(self, image: np.ndarray, t_s: float, force: bool = False) -> bool:
        """True: run the model on this frame (it becomes the reference). False: reuse."""
        s = self.settings
        thumb = thumbnail(image, s.size)
        ref = self._ref
        if ref is not None and ref.shape == thumb.shape:
            moved = change(thumb, ref)
            if self.noise is None:
                self._learned.append(moved)
                if len(self._learned) >= s.learn_frames:
                    measured = float(np.median(self._learned))
                    self.noise = min(max(measured, s.min_noise), s.max_noise)
            elif (
                s.enabled
                and not force
                and t_s - self._ref_t < s.recheck_s
                and moved <= s.noise_k * self.noise
            ):
                self.carried += 1
                return False
        self._ref, self._ref_t = thumb, t_s
        self.ran += 1
        return True
