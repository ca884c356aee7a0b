"""Seeded factories of synthetic landmarks and a fake pose estimator."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from posturecam.core.types import LM, NUM_LANDMARKS, Frame, Landmarks


def front_pose(
    neck_height: float | None = None,
    nose_height: float = 0.75,
    shoulder_width: float = 200.0,
    ear_ratio: float = 0.7,
    center: tuple[float, float] = (320.0, 330.0),
    head_forward_z: float = -0.05,
    lateral: float = 0.0,
    image_size: tuple[int, int] = (640, 480),
    jitter: float = 0.0,
    rng: np.random.Generator | None = None,
    visibility: float = 0.99,
) -> Landmarks:
    """A person facing the camera, built from the metrics we expect to read back.

    Without ``neck_height`` the ears follow the nose (0.55 at the upright 0.75):
    a lower nose is the whole head sinking, as in a slump. Pass ``neck_height``
    to move the nose alone (a glance down).
    """
    if neck_height is None:
        neck_height = 0.55 * nose_height / 0.75
    cx, cy = center
    w = shoulder_width
    xy = np.zeros((NUM_LANDMARKS, 2))
    xy[:] = (cx, cy + w)  # lower body, out of the way
    ear_y = cy - neck_height * w
    # The subject's left is on the image right (camera not mirrored).
    xy[LM.LEFT_SHOULDER] = (cx + w / 2, cy)
    xy[LM.RIGHT_SHOULDER] = (cx - w / 2, cy)
    ear_x = cx + lateral * w
    xy[LM.LEFT_EAR] = (ear_x + ear_ratio * w / 2, ear_y)
    xy[LM.RIGHT_EAR] = (ear_x - ear_ratio * w / 2, ear_y)
    xy[LM.NOSE] = (ear_x, cy - nose_height * w)
    xy[LM.LEFT_EYE] = (ear_x + 0.12 * w, ear_y - 0.05 * w)
    xy[LM.RIGHT_EYE] = (ear_x - 0.12 * w, ear_y - 0.05 * w)
    if jitter and rng is not None:
        xy = xy + rng.normal(0, jitter, xy.shape)
    world = np.zeros((NUM_LANDMARKS, 3))
    world[LM.LEFT_SHOULDER] = (0.18, -0.45, 0.0)
    world[LM.RIGHT_SHOULDER] = (-0.18, -0.45, 0.0)
    world[LM.LEFT_EAR] = (0.07, -0.6, head_forward_z)
    world[LM.RIGHT_EAR] = (-0.07, -0.6, head_forward_z)
    vis = np.full(NUM_LANDMARKS, visibility)
    return Landmarks(
        xy=xy,
        z=np.zeros(NUM_LANDMARKS),
        visibility=vis,
        presence=vis.copy(),
        world=world,
        image_size=image_size,
    )


def side_pose(
    neck_inclination: float = 10.0,
    torso_inclination: float = 5.0,
    facing: str = "right",
    near: str = "left",
    hip: tuple[float, float] = (300.0, 900.0),
    torso_len: float = 350.0,
    neck_len: float = 120.0,
) -> Landmarks:
    """A person seen side-on; the far side is shifted and deeper (but still 'visible')."""
    sign = 1.0 if facing == "right" else -1.0
    hip_xy = np.array(hip)
    t, n = np.radians(torso_inclination), np.radians(neck_inclination)
    shoulder = hip_xy + torso_len * np.array([sign * np.sin(t), -np.cos(t)])
    ear = shoulder + neck_len * np.array([sign * np.sin(n), -np.cos(n)])
    xy = np.tile(hip_xy, (NUM_LANDMARKS, 1)).astype(float)
    z = np.zeros(NUM_LANDMARKS)
    world = np.zeros((NUM_LANDMARKS, 3))
    near_ids = (LM.LEFT_EAR, LM.LEFT_SHOULDER, LM.LEFT_HIP)
    far_ids = (LM.RIGHT_EAR, LM.RIGHT_SHOULDER, LM.RIGHT_HIP)
    if near == "right":
        near_ids, far_ids = far_ids, near_ids
    for idx, p in zip(near_ids, (ear, shoulder, hip_xy), strict=True):
        xy[idx] = p
        z[idx] = -50.0
        world[idx, 2] = -0.15
    # Far side: a hidden, oddly-placed skeleton MediaPipe still reports as visible.
    for idx, p in zip(far_ids, (ear, shoulder, hip_xy), strict=True):
        xy[idx] = p + (sign * 40.0, 30.0)
        z[idx] = 50.0
        world[idx, 2] = 0.15
    xy[LM.NOSE] = ear + (sign * 40.0, 15.0)
    world[LM.LEFT_SHOULDER, 0] = 0.02
    world[LM.RIGHT_SHOULDER, 0] = -0.02
    vis = np.full(NUM_LANDMARKS, 0.99)
    return Landmarks(
        xy=xy, z=z, visibility=vis, presence=vis.copy(), world=world, image_size=(720, 1280)
    )


def blank_frames(n: int, fps: float = 2.0, size: tuple[int, int] = (64, 48)) -> list[Frame]:
    img = np.zeros((size[1], size[0], 3), np.uint8)
    return [Frame(img, i / fps, i, f"f{i}.jpg") for i in range(n)]


class FakePose:
    """Stands in for MediaPipe: returns landmarks from a function of the frame."""

    def __init__(self, fn: Callable[[Frame], Landmarks]) -> None:
        self.fn = fn
        self.calls: list[int] = []
        self.closed = False

    def detect(self, frame: Frame) -> Landmarks:
        self.calls.append(frame.index)
        return self.fn(frame)

    def close(self) -> None:
        self.closed = True
