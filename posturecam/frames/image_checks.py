"""Is a camera image worth judging? Black (shutter closed, lens covered) or frozen (driver stuck).

Both are judged over time on a small copy of each image, which is cheap and
averages out sensor noise: a dark moment is not yet a closed shutter, and two
equal images are not yet a frozen driver. No image is kept beyond the last probe.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from posturecam.frames.imaging import fit

BLACK_REASON = "camera image is black (privacy shutter or lens covered?)"

# Black/frozen checks on a small copy: cheap, and averages out sensor noise. 80 divides the
# common camera widths (640, 1280, 1920), where area resizing is three times faster.
_PROBE_SIDE = 80
_FROZEN_MAX_DIFF = 1  # pixel levels; real sensors differ by more between frames

# What ``ImageChecks.check`` found.
USABLE = "usable"
DARK = "dark"  # black, but not yet for black_after_s
BLACK = "black"
FROZEN = "frozen"


def frozen_reason(seconds: float) -> str:
    """Skip reason for a frame that repeats the image of ``seconds`` ago."""
    return f"camera image has not changed for {seconds:.0f} s (frozen)"


@dataclass(frozen=True)
class Finding:
    """The verdict on one image: ``kind`` (USABLE, DARK, BLACK, FROZEN) and its skip reason."""

    kind: str
    reason: str = ""  # "" when usable
    still_s: float = 0.0  # how long the image has not changed (FROZEN)


class ImageChecks:
    """Black and frozen images over time, from the images of one capture session."""

    def __init__(self, black_level: float, black_after_s: float, frozen_after_s: float) -> None:
        self.black_level = float(black_level)
        self.black_after_s = float(black_after_s)
        self.frozen_after_s = float(frozen_after_s)
        self.reset()

    def reset(self) -> None:
        """Forget earlier images (after a pause or a reopened device)."""
        self._black_since: float | None = None
        self._prev_probe: np.ndarray | None = None
        self._prev_t: float | None = None
        self._same_since: float | None = None

    @property
    def unchanged(self) -> bool:
        """True while the image has stayed the same since an earlier frame."""
        return self._same_since is not None

    def check(self, image: np.ndarray, t: float) -> Finding:
        """Judge a BGR image taken at ``t`` seconds."""
        probe = fit(image, _PROBE_SIDE)
        if float(probe.mean()) < self.black_level:
            # A closed shutter is also "unchanged"; it is not a frozen driver.
            self._prev_probe, self._prev_t, self._same_since = None, None, None
            if self._black_since is None:
                self._black_since = t
            kind = BLACK if t - self._black_since >= self.black_after_s else DARK
            return Finding(kind, BLACK_REASON)
        self._black_since = None

        prev, prev_t = self._prev_probe, self._prev_t
        self._prev_probe, self._prev_t = probe, t
        same = (
            prev is not None
            and prev.shape == probe.shape
            and int(cv2.absdiff(prev, probe).max()) <= _FROZEN_MAX_DIFF
        )
        if not same:
            self._same_since = None
        elif self._same_since is None:
            self._same_since = prev_t
        if self._same_since is not None:
            still = t - self._same_since
            if still >= self.frozen_after_s:
                return Finding(FROZEN, frozen_reason(still), still)
        return Finding(USABLE)
