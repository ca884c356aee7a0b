"""Framing hints for the setup preview: is the camera placed so the monitor can see you?

Qt-free. These look at where landmarks are in the picture (in view, visible, big
enough, lit), never at how you sit: posture is the monitor's job, not the setup's.
"""

from __future__ import annotations

import numpy as np

from posturecam.core.types import LM, Landmarks

MIN_VISIBILITY = 0.5
DARK_LEVEL = 45.0  # mean grey level (0-255) below which the picture is too dark
GOOD = "good framing: sit as you usually do and start the calibration"


def brightness(image: np.ndarray) -> float:
    """Mean grey level of a subsampled copy: cheap enough for every preview frame."""
    return float(image[::8, ::8].mean())


def _seen(lm: Landmarks, index: LM, width: int, height: int) -> bool:
    x, y = lm.xy[index]
    inside = 0 <= x < width and 0 <= y < height
    return bool(inside and lm.visibility[index] >= MIN_VISIBILITY)


def framing_hints(lm: Landmarks, width: int, height: int, level: float | None) -> list[str]:
    """What to fix, most important first; ``[GOOD]`` when nothing needs fixing."""
    hints: list[str] = []
    if level is not None and level < DARK_LEVEL:
        hints.append("more light: the picture is too dark")
    if not lm.detected:
        return [*hints, "no one in view: sit in front of the camera"]
    shoulders = [_seen(lm, i, width, height) for i in (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER)]
    head = [_seen(lm, i, width, height) for i in (LM.NOSE, LM.LEFT_EAR, LM.RIGHT_EAR)]
    if not all(shoulders):
        hints.append("move back or tilt the screen: shoulders not in view")
    if not head[0]:
        hints.append("lower the camera or sit up into view: face not in view")
    elif not all(head[1:]):
        hints.append("face the screen: one ear is hidden")
    if all(shoulders):
        span = abs(lm.xy[LM.LEFT_SHOULDER][0] - lm.xy[LM.RIGHT_SHOULDER][0]) / max(width, 1)
        if span > 0.85:
            hints.append("move back a little: too close to the camera")
        elif span < 0.18:
            hints.append("move closer: too far from the camera")
    return hints or [GOOD]
