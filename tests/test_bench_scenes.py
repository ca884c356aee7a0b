"""The monitor benchmark's stand-in camera behaves like a camera where the monitor can tell."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _scenes import DRIVER_QUEUE, FPS, SceneCamera, encoded_clip, scenes


def test_a_still_scene_never_repeats_a_frame_bit_for_bit_at_one_frame_a_second():
    # A real sensor's noise differs in every frame; a picture identical for 10 s is
    # what the monitor calls a frozen camera, so the stand-in must never show one.
    scene = scenes(60.0)["b"]
    cam = SceneCamera(scene, encoded_clip(), shoulder_y=300.0, ear_y=150.0, clock=lambda: 0.0)
    last = None
    for second in range(12):
        cam.k = int(second * FPS)  # what a monitor reading once a second retrieves
        ok, image = cam.retrieve()
        assert ok and image.shape == (480, 640, 3)
        if last is not None:
            assert not np.array_equal(image, last)
        last = image


def test_frames_that_come_while_nobody_grabs_fill_a_few_buffers_and_the_rest_are_dropped():
    # Like a driver: a grab a second after the last returns the queued (old) frames at
    # once, then waits for a new one; a queue without bound would serve the past forever.
    now = [0.0]
    cam = SceneCamera(scenes(60.0)["b"], [], 300.0, 150.0, clock=lambda: now[0])
    now[0] = 1.0
    taken = []
    for _ in range(DRIVER_QUEUE + 1):
        assert cam.grab()
        taken.append(cam.k)
    assert taken == [*range(DRIVER_QUEUE), round(1.0 * FPS) + 1]
