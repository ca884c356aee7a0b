"""Change gating on synthetic frame sequences: when the model may be skipped, and when not."""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
import pytest

from posturecam.live.gating import ChangeGate, GateSettings, change, thumbnail

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "sample_frames" / "astronaut" / "frame_0000.jpg"


@functools.cache
def room() -> np.ndarray:
    rng = np.random.default_rng(0)
    walls = cv2.GaussianBlur(rng.uniform(40, 160, (480, 640)).astype(np.float32), (0, 0), 12)
    return np.repeat(walls[:, :, None], 3, axis=2)


def person(head_y: float = 170.0, gain: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """640x480: a textured room, a torso and a head whose centre sits at ``head_y``."""
    image = room().copy()
    cv2.rectangle(image, (190, 300), (450, 480), (90.0, 80.0, 120.0), -1)
    # Sub-pixel head position: drawn at 8x and shifted by the fraction.
    cv2.circle(image, (320 * 8, round(head_y * 8)), 70 * 8, (190.0, 170.0, 160.0), -1, shift=3)
    return np.clip(image * gain + offset, 0, 255)


def camera(image: np.ndarray, seed: int, sd: float = 3.0) -> np.ndarray:
    """Per-pixel sensor noise, like a webcam's."""
    noisy = image + np.random.default_rng(seed).normal(0.0, sd, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def learned(gate: ChangeGate, image: np.ndarray, t0: float = 0.0) -> float:
    """Feed the learning frames (the model runs on each); returns the next time."""
    t = t0
    for i in range(gate.settings.learn_frames + 1):
        assert gate.decide(camera(image, 100 + i), t)
        t += 0.5
    assert gate.noise is not None
    return t


def test_identical_frames_skip_the_model_until_the_recheck():
    gate = ChangeGate(GateSettings(recheck_s=3.0))
    still = person()
    t = learned(gate, still)
    ran = [gate.decide(camera(still, 7), t + 0.5 * i) for i in range(1, 13)]
    # The last run was at t - 0.5: skipped until 3 s have passed, then it runs again.
    assert ran[:4] == [False] * 4 and ran[4] is True  # t + 2.5: 3 s after the last run
    assert sum(ran) == 2  # and again at t + 5.5
    assert gate.carried == 10


def test_sensor_noise_and_a_slow_brightness_ramp_do_not_trigger_it():
    gate = ChangeGate(GateSettings(recheck_s=1e9))
    t = learned(gate, person())
    # Auto-exposure drifts: 20% gain and +15 levels over 5 minutes (a frame every 2.5 s).
    for i in range(120):
        f = i / 120
        frame = camera(person(gain=1.0 + 0.2 * f, offset=15 * f), 1000 + i)
        assert not gate.decide(frame, t + 2.5 * i), f"triggered at frame {i}"


def test_a_real_photo_with_noise_is_still_and_a_shifted_one_is_not():
    photo = cv2.imread(str(PHOTO))
    assert photo is not None
    gate = ChangeGate(GateSettings(recheck_s=1e9))
    t = learned(gate, photo.astype(np.float32))
    assert not gate.decide(camera(photo.astype(np.float32), 55), t)
    moved = np.roll(photo, 6, axis=0).astype(np.float32)  # everything 6 px lower
    assert gate.decide(camera(moved, 56), t + 0.5)


def test_a_slow_slump_triggers_before_it_could_cross_the_slouch_threshold():
    """The head sinks 0.25 px a frame; compared with the last *inferred* frame it adds up.

    A 5% head_height drop (the subtle slouch) lowers a head ~150 px above the
    shoulders by ~7 px at 640x480: the gate must fire well before that.
    """
    gate = ChangeGate(GateSettings(recheck_s=1e9))
    t = learned(gate, person(170.0))
    fired_at = None
    for i in range(1, 60):
        if gate.decide(camera(person(170.0 + 0.25 * i), 200 + i), t + 0.5 * i):
            fired_at = 0.25 * i
            break
    assert fired_at is not None and fired_at <= 3.0, fired_at


def test_force_runs_the_model_and_disabled_gating_always_runs_it():
    gate = ChangeGate()
    still = person()
    t = learned(gate, still)
    assert gate.decide(camera(still, 9), t, force=True)
    off = ChangeGate(GateSettings(enabled=False))
    t = learned(off, still)
    assert all(off.decide(camera(still, 300 + i), t + 0.5 * i) for i in range(10))


def test_moving_during_the_first_frames_cannot_switch_gating_off():
    gate = ChangeGate(GateSettings(recheck_s=1e9))
    for i in range(gate.settings.learn_frames + 1):
        gate.decide(camera(person(150.0 + 8 * (i % 2)), i), 0.5 * i)  # nodding while learning
    assert gate.noise == pytest.approx(gate.settings.max_noise)
    assert gate.decide(camera(person(185.0), 99), 10.0)  # a clear slump still shows


def test_reset_forgets_the_reference_and_the_noise():
    gate = ChangeGate()
    learned(gate, person())
    gate.reset()
    assert gate.noise is None and gate.decide(camera(person(), 1), 100.0)


def test_thumbnail_is_normalised_and_change_is_zero_for_the_same_picture():
    image = camera(person(), 3)
    a = thumbnail(image)
    assert a.shape == (48, 64) and abs(float(a.mean())) < 1e-3
    assert change(a, thumbnail(image)) == 0.0
    flat = thumbnail(np.full((480, 640, 3), 128, np.uint8))
    assert np.all(flat == 0)  # no contrast: nothing to normalise, and no division by zero


@pytest.mark.parametrize("bad", [{"recheck_s": 0.0}, {"recheck_s": float("nan")}, {"noise_k": -1}])
def test_bad_settings_say_what_is_wrong(bad):
    with pytest.raises(ValueError, match="must be"):
        GateSettings(**bad)
