"""The monitor benchmark's stand-in camera behaves like a camera where the monitor can tell."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _scenes import FPS, SceneCamera, encoded_clip, scenes


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
