"""Preview overlay: draws landmarks, posture lines and a status panel on a copy of a frame.

Drawing only: the state, score and metrics arrive already computed, so what
the preview shows is exactly what the monitor decided (no second opinion
here). OpenCV drawing calls only; nothing is written to disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from posturecam.core.geometry import MIN_VISIBILITY, SIDE, near_side
from posturecam.core.temporal import ALERT, DRIFTING, SLOUCHING, UPRIGHT
from posturecam.core.types import LM, LandmarkBatch, Landmarks
from posturecam.text import format_duration

# BGR colours.
GREEN = (60, 200, 60)
AMBER = (0, 176, 255)
RED = (40, 40, 230)
GREY = (170, 170, 170)
DOT = (255, 255, 255)
TEXT = (255, 255, 255)
PANEL = (32, 32, 32)
PANEL_ALPHA = 0.6  # opacity of the panel's dark background

STATE_COLOURS: dict[str, tuple[int, int, int]] = {
    UPRIGHT: GREEN,
    DRIFTING: AMBER,
    SLOUCHING: RED,
    ALERT: RED,
}

# Lines drawn in each view, as pairs of landmarks.
FRONT_SEGMENTS: tuple[tuple[LM, LM], ...] = (
    (LM.LEFT_EAR, LM.LEFT_SHOULDER),
    (LM.RIGHT_EAR, LM.RIGHT_SHOULDER),
    (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER),
)
SIDE_SEGMENTS: dict[bool, tuple[tuple[LM, LM], ...]] = {  # keyed by "left side is near"
    True: ((LM.LEFT_EAR, LM.LEFT_SHOULDER), (LM.LEFT_SHOULDER, LM.LEFT_HIP)),
    False: ((LM.RIGHT_EAR, LM.RIGHT_SHOULDER), (LM.RIGHT_SHOULDER, LM.RIGHT_HIP)),
}

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_REFERENCE_SIDE = 480.0  # the image's shorter side at which the scale is 1
_MAX_COORD = 1e5  # keep wild coordinates within what OpenCV's int drawing accepts


@dataclass(frozen=True)
class OverlayInfo:
    """What the monitor decided about the frame being shown."""

    state: str  # upright/drifting/slouching/alert/away/undecided/paused/snoozed/no_camera
    score: float | None  # 0-100, or None when posture cannot be measured
    view: str  # "front", "side" or ""
    metrics: dict[str, float] = field(default_factory=dict)  # NaN is drawn as "--"
    status: str = ""  # camera/health line, e.g. "camera busy: retrying in 4 s"
    slouched_today_s: float = 0.0


def state_colour(state: str) -> tuple[int, int, int]:
    """Green, amber or red for the posture states; grey for everything else."""
    return STATE_COLOURS.get(state, GREY)


def format_value(value: float | None) -> str:
    """Three significant digits, or "--" when there is nothing to show."""
    if value is None or not math.isfinite(value):
        return "--"
    return f"{value:.3g}"


def panel_lines(info: OverlayInfo, detected: bool = True) -> list[str]:
    """The panel's text, one string a line (kept apart from drawing so it can be tested)."""
    score = "--" if info.score is None or not math.isfinite(info.score) else f"{info.score:.0f}"
    lines = [f"posture: {info.state}", f"score: {score}"]
    if not detected:
        lines.append("no person in view")
    elif info.view:
        lines.append(f"view: {info.view}")
    lines += [f"{name}: {format_value(value)}" for name, value in info.metrics.items()]
    if info.status:
        lines.append(info.status)
    lines.append(f"slouched today: {format_duration(info.slouched_today_s)}")
    return lines


def _scale(image: np.ndarray) -> float:
    return min(image.shape[:2]) / _REFERENCE_SIDE


def _to_image(landmarks: Landmarks, image: np.ndarray) -> np.ndarray:
    """Landmark pixels in this image, rescaled when they were found on a resized copy."""
    height, width = image.shape[:2]
    src_w, src_h = landmarks.image_size
    factor = np.array(
        [width / src_w if src_w > 0 else 1.0, height / src_h if src_h > 0 else 1.0], float
    )
    return landmarks.xy * factor


def _seen(landmarks: Landmarks, xy: np.ndarray) -> np.ndarray:
    if not landmarks.detected:
        return np.zeros(len(xy), bool)
    finite = np.all(np.isfinite(xy), axis=1) & np.all(np.abs(xy) < _MAX_COORD, axis=1)
    return finite & (landmarks.visibility >= MIN_VISIBILITY)


def _point(xy: np.ndarray) -> tuple[int, int]:
    x, y = np.rint(xy)
    return int(x), int(y)


def segments(landmarks: Landmarks, view: str) -> tuple[tuple[LM, LM], ...]:
    """Which landmark pairs to join: ear-shoulder-hip of the near side in side view,
    both ear-shoulder lines and the shoulder line otherwise; none without a person."""
    if not landmarks.detected:
        return ()
    if view == SIDE:
        left_is_near = bool(near_side(LandmarkBatch.stack([landmarks]))[0])
        return SIDE_SEGMENTS[left_is_near]
    return FRONT_SEGMENTS


def _draw_panel(out: np.ndarray, lines: list[str], colour: tuple[int, int, int]) -> None:
    scale = _scale(out)
    font_scale = max(0.35, 0.5 * scale)
    thickness = max(1, round(scale))
    pad = max(4, round(8 * scale))
    sizes = [cv2.getTextSize(line, _FONT, font_scale, thickness) for line in lines]
    line_h = max(h + base for (_, h), base in sizes) + max(2, round(4 * scale))
    height, width = out.shape[:2]
    x1 = min(width, 2 * pad + max(w for (w, _), _ in sizes))
    y1 = min(height, 2 * pad + line_h * len(lines))
    roi = out[:y1, :x1]
    dark = np.empty_like(roi)
    dark[:] = PANEL
    cv2.addWeighted(dark, PANEL_ALPHA, roi, 1.0 - PANEL_ALPHA, 0.0, dst=roi)
    for i, line in enumerate(lines):
        baseline_y = pad + line_h * i + sizes[i][0][1]
        text_colour = colour if i == 0 else TEXT
        cv2.putText(
            out, line, (pad, baseline_y), _FONT, font_scale, text_colour, thickness, cv2.LINE_AA
        )


def draw_overlay(image: np.ndarray, landmarks: Landmarks, info: OverlayInfo) -> np.ndarray:
    """A new BGR image: the frame with landmarks, posture lines and a status panel.

    The input image is left untouched, so the caller may keep analysing it.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"draw_overlay needs an HxWx3 uint8 BGR image, got {image.shape}")
    out = image.copy()
    scale = _scale(out)
    colour = state_colour(info.state)
    xy = _to_image(landmarks, out)
    seen = _seen(landmarks, xy)

    line_width = max(2, round(3 * scale))
    for a, b in segments(landmarks, info.view):
        if seen[a] and seen[b]:
            cv2.line(out, _point(xy[a]), _point(xy[b]), colour, line_width, cv2.LINE_AA)
    radius = max(2, round(3 * scale))
    for index in np.flatnonzero(seen):
        cv2.circle(out, _point(xy[index]), radius, DOT, -1, cv2.LINE_AA)

    _draw_panel(out, panel_lines(info, detected=landmarks.detected), colour)
    return out
