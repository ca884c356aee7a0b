"""Posture metrics from landmarks: pure numpy, vectorised over frames.

Every metric is NaN, with a reason, when the landmarks it needs are missing
or not visible enough: "cannot measure" must never look like a posture.
Image coordinates are pixels with y pointing down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posturecam.core.types import LM, LandmarkBatch

MIN_VISIBILITY = 0.5
# Shoulder-line yaw (from world landmarks) above which a person is seen side-on.
SIDE_YAW_DEG = 50.0

FRONT = "front"
SIDE = "side"
VIEWS = (FRONT, SIDE)

FRONT_METRICS = (
    "neck_height",
    "nose_height",
    "head_height",
    "ear_height",
    "head_pitch",
    "neck_angle",
    "ear_span",
    "shoulder_span",
    "head_forward_z",
    "shoulder_tilt",
    "head_tilt",
    "lateral_offset",
    "shoulder_x",
    "shoulder_y",
    "shoulder_yaw",
)
SIDE_METRICS = ("neck_inclination", "torso_inclination", "ear_shoulder_hip")
METRICS = FRONT_METRICS + SIDE_METRICS

_SIDES = {
    "left": (LM.LEFT_EAR, LM.LEFT_SHOULDER, LM.LEFT_HIP),
    "right": (LM.RIGHT_EAR, LM.RIGHT_SHOULDER, LM.RIGHT_HIP),
}


@dataclass(frozen=True, eq=False)
class MetricTable:
    """Metrics of N frames: one float array per metric, plus view and reason per frame."""

    values: dict[str, np.ndarray]
    view: np.ndarray  # (N,) str: "front", "side" or "" when no person
    reason: np.ndarray  # (N,) str: why some metric of the view is NaN; "" when all measured

    def __len__(self) -> int:
        return int(self.view.shape[0])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a - b, axis=-1)


def _lean_from_vertical(vec: np.ndarray, facing: np.ndarray) -> np.ndarray:
    """Angle in degrees between an image vector and straight up, positive towards ``facing``.

    Signed, so that reclining (negative) is not mistaken for hunching (positive).
    """
    return np.degrees(np.arctan2(vec[..., 0] * facing, -vec[..., 1]))


def _line_tilt(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signed tilt of the line a-b in degrees, positive when its image-right end is lower.

    Independent of which point is left in the image, so mirrored cameras agree.
    """
    d = b - a
    flip = d[..., 0] < 0
    d = np.where(flip[..., None], -d, d)
    return np.degrees(np.arctan2(d[..., 1], d[..., 0]))


def _visible(batch: LandmarkBatch, *indices: int) -> np.ndarray:
    return np.all(batch.visibility[:, list(indices)] >= MIN_VISIBILITY, axis=1) & batch.detected


def shoulder_yaw(batch: LandmarkBatch) -> np.ndarray:
    """Angle of the shoulder line away from the image plane (0 = facing the camera), degrees."""
    d = batch.world[:, LM.LEFT_SHOULDER] - batch.world[:, LM.RIGHT_SHOULDER]
    return np.degrees(np.arctan2(np.abs(d[:, 2]), np.abs(d[:, 0])))


def detect_view(batch: LandmarkBatch) -> np.ndarray:
    """Per-frame view guess: "side" when the shoulders turn well away from the camera."""
    yaw = shoulder_yaw(batch)
    view = np.where(yaw > SIDE_YAW_DEG, SIDE, FRONT).astype(object)
    view[~batch.detected | np.isnan(yaw)] = ""
    return view


def dominant_view(views: np.ndarray) -> str:
    """The view of most frames with a person; a recording is scored in one view."""
    seen = views[views != ""]
    if seen.size == 0:
        return FRONT
    return SIDE if np.count_nonzero(seen == SIDE) > seen.size / 2 else FRONT


def near_side(batch: LandmarkBatch) -> np.ndarray:
    """Which body side faces the camera, per frame: True for the left side.

    MediaPipe reports high visibility even for the hidden far side, so
    visibility cannot decide; the near side is the one with smaller depth.
    World depth is used when it separates the sides clearly, image depth
    otherwise.
    """
    left = [int(i) for i in _SIDES["left"]]
    right = [int(i) for i in _SIDES["right"]]
    world_dz = np.mean(batch.world[:, left, 2] - batch.world[:, right, 2], axis=1)
    image_dz = np.mean(batch.z[:, left] - batch.z[:, right], axis=1)
    dz = np.where(np.abs(world_dz) > 0.05, world_dz, image_dz)
    return dz < 0


def _front_metrics(batch: LandmarkBatch, width: np.ndarray) -> tuple[dict, np.ndarray]:
    xy = batch.xy
    l_sh, r_sh = xy[:, LM.LEFT_SHOULDER], xy[:, LM.RIGHT_SHOULDER]
    l_ear, r_ear = xy[:, LM.LEFT_EAR], xy[:, LM.RIGHT_EAR]
    nose = xy[:, LM.NOSE]
    sh_mid = (l_sh + r_sh) / 2
    ear_mid = (l_ear + r_ear) / 2
    sh_w = _dist(l_sh, r_sh)
    ear_w = _dist(l_ear, r_ear)

    shoulders_ok = _visible(batch, LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER) & (sh_w > 1.0)
    ears_ok = _visible(batch, LM.LEFT_EAR, LM.RIGHT_EAR)
    nose_ok = _visible(batch, LM.NOSE)
    world = batch.world
    w_ear = (world[:, LM.LEFT_EAR] + world[:, LM.RIGHT_EAR]) / 2
    w_sh = (world[:, LM.LEFT_SHOULDER] + world[:, LM.RIGHT_SHOULDER]) / 2
    ear_z, sh_z = w_ear[:, 2], w_sh[:, 2]
    neck = w_ear - w_sh

    with np.errstate(invalid="ignore", divide="ignore"):
        nose_rise = sh_mid[:, 1] - nose[:, 1]
        span = np.sqrt(sh_w * ear_w)
        raw = {
            "neck_height": ((sh_mid[:, 1] - ear_mid[:, 1]) / sh_w, shoulders_ok & ears_ok),
            "nose_height": (nose_rise / sh_w, shoulders_ok & nose_ok),
            # Normalising by both spans cancels zoom and distance, and averages
            # out shoulders rolling forward (sh_w) against head turns (ear_w).
            "head_height": (nose_rise / span, shoulders_ok & ears_ok & nose_ok),
            # The ears sit near the head's pitch axis: they drop with a slump (the
            # neck flexes, the head comes down and forward) far more than with a
            # glance at the keyboard, which mostly drops the nose (head_pitch).
            "ear_height": ((sh_mid[:, 1] - ear_mid[:, 1]) / span, shoulders_ok & ears_ok),
            "head_pitch": ((ear_mid[:, 1] - nose[:, 1]) / ear_w, ears_ok & nose_ok),
            # World landmarks are metres and hip-centred: the neck's lean towards
            # the camera, free of zoom and distance (y down, z negative towards it).
            "neck_angle": (
                np.degrees(np.arctan2(-neck[:, 2], -neck[:, 1])),
                shoulders_ok & ears_ok,
            ),
            "ear_span": (ear_w / width, ears_ok),
            "shoulder_span": (sh_w / width, shoulders_ok),
            "head_forward_z": (ear_z - sh_z, shoulders_ok & ears_ok),
            "shoulder_tilt": (_line_tilt(l_sh, r_sh), shoulders_ok),
            "head_tilt": (_line_tilt(l_ear, r_ear), ears_ok),
            "lateral_offset": ((ear_mid[:, 0] - sh_mid[:, 0]) / sh_w, shoulders_ok & ears_ok),
            # Where the body sits in the image: a moved camera shows as a jump here.
            "shoulder_x": (sh_mid[:, 0] / width, shoulders_ok),
            "shoulder_y": (sh_mid[:, 1] / width, shoulders_ok),
            # A body turned away (not a moved camera) shows here, in degrees.
            "shoulder_yaw": (shoulder_yaw(batch), shoulders_ok),
        }
    reason = np.full(len(batch), "", dtype=object)
    reason[~ears_ok] = "ears not visible"
    reason[~shoulders_ok] = "shoulders not visible"
    reason[~shoulders_ok & ~ears_ok] = "ears and shoulders not visible"
    return {k: np.where(ok, v, np.nan) for k, (v, ok) in raw.items()}, reason


def _side_metrics(batch: LandmarkBatch) -> tuple[dict, np.ndarray]:
    left = near_side(batch)
    n = len(batch)
    rows = np.arange(n)
    pick = {
        part: np.where(left, _SIDES["left"][k], _SIDES["right"][k]).astype(int)
        for k, part in enumerate(("ear", "shoulder", "hip"))
    }
    ear = batch.xy[rows, pick["ear"]]
    shoulder = batch.xy[rows, pick["shoulder"]]
    hip = batch.xy[rows, pick["hip"]]
    vis = batch.visibility
    ok_ear = (vis[rows, pick["ear"]] >= MIN_VISIBILITY) & batch.detected
    ok_sh = (vis[rows, pick["shoulder"]] >= MIN_VISIBILITY) & batch.detected
    ok_hip = (vis[rows, pick["hip"]] >= MIN_VISIBILITY) & batch.detected

    up = ear - shoulder
    down = hip - shoulder
    # The face points where the nose is, relative to the ear: +1 image-right, -1 left.
    facing = np.where(batch.xy[:, LM.NOSE, 0] >= ear[:, 0], 1.0, -1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        norms = np.linalg.norm(up, axis=1) * np.linalg.norm(down, axis=1)
        cos = np.sum(up * down, axis=1) / norms
    raw = {
        "neck_inclination": (_lean_from_vertical(up, facing), ok_ear & ok_sh),
        "torso_inclination": (_lean_from_vertical(shoulder - hip, facing), ok_sh & ok_hip),
        "ear_shoulder_hip": (np.degrees(np.arccos(np.clip(cos, -1, 1))), ok_ear & ok_sh & ok_hip),
    }
    reason = np.full(n, "", dtype=object)
    reason[~ok_hip] = "hip not visible"
    reason[~ok_ear] = "ear not visible"
    reason[~ok_sh] = "shoulder not visible"
    return {k: np.where(ok, v, np.nan) for k, (v, ok) in raw.items()}, reason


def compute_metrics(
    batch: LandmarkBatch, image_width: np.ndarray | float, view: str | None = None
) -> MetricTable:
    """Metrics of every frame in one view (``None`` = the recording's dominant view).

    A recording is scored in one view so that its metrics stay comparable;
    the other view's metrics are NaN.
    """
    if view is not None and view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    n = len(batch)
    chosen = view or dominant_view(detect_view(batch))
    width = np.broadcast_to(np.asarray(image_width, float), (n,))
    values = {name: np.full(n, np.nan) for name in METRICS}
    if chosen == FRONT:
        measured, reason = _front_metrics(batch, width)
    else:
        measured, reason = _side_metrics(batch)
    values.update(measured)
    views = np.where(batch.detected, chosen, "").astype(object)
    reason = np.where(batch.detected, reason, "no person detected").astype(object)
    return MetricTable(values=values, view=views, reason=reason)
