"""Frame times of a video: container timestamps, or a frame rate where they fail.

Some containers report 0 or repeated POS_MSEC values; then frames are timed
as index / fps, and if that happens mid-stream the rate is estimated from the
good timestamps so far, so t_s stays continuous and non-decreasing.
"""

from __future__ import annotations

import math

from posturecam.errors import Remedy, SourceError


class VideoClock:
    """Turns container timestamps into t_s, falling back to a frame rate when they fail."""

    def __init__(self, rate: float | None, name: str) -> None:
        self.rate = rate
        self.name = name
        self.source = "container"
        self._first_ms = 0.0
        self._last_ms = -math.inf
        self._last_t = 0.0
        self._base = (0.0, 0)  # (t_s, index) the fps fallback counts from

    def stamp(self, index: int, msec: float) -> float:
        if self.source == "container":
            good = math.isfinite(msec) and (index == 0 or msec > self._last_ms)
            if good:
                if index == 0:
                    self._first_ms = msec
                self._last_ms = msec
                t = (msec - self._first_ms) / 1000.0
                self._base = (t, index)
            else:
                self._fall_back(index)
        if self.source == "fps":
            assert self.rate is not None
            t = self._base[0] + (index - self._base[1]) / self.rate
        t = max(t, self._last_t)
        self._last_t = t
        return t

    def _fall_back(self, index: int) -> None:
        self.source = "fps"
        if self.rate is None:
            t, i = self._base
            if i > 0 and t > 0:
                self.rate = i / t
            else:
                raise SourceError(
                    f"video {self.name} has no usable timestamps or frame rate; ",
                    Remedy("give_fps"),
                    " to time its frames",
                )
