"""Scenes for the monitor's CPU benchmark: a stand-in webcam built from the sample frames.

A scene is a person at a laptop camera at 640x480 and 15 frames/s, generated at
run time from ``sample_frames/hopper`` (no video is written anywhere): the
sample clip's frames as the person's posture, plus what a real webcam adds,
per-pixel sensor noise and slow auto-exposure drift, and in scene (c) the
sway and gestures of a person who moves a lot. ``SceneCamera`` serves it the
way a camera driver does: ``grab()`` returns a frame the driver queued or waits
for the next frame time, and costs nothing; ``retrieve()`` decodes a JPEG (what
OpenCV does with a camera's MJPG frame, charged to the monitor like a real
camera) and then applies the scene's effects, whose CPU time (the stand-in's own
cost, not the monitor's) it adds up in ``own_cpu_s``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from _common import iter_sample_images, letterbox

FPS = 15.0
SIZE = (640, 480)
# Buffers a driver fills while nobody grabs (V4L2's default count, in case a camera does
# not honour the monitor's request for one).
DRIVER_QUEUE = 4
SAMPLE_FPS = 2.0  # the sample clip's rate: each of its frames holds for 0.5 s
UPRIGHT = list(range(0, 20)) + list(range(212, 240))  # t 0-10 s and 106-120 s of the clip
SLUMPED = list(range(40, 200))  # t 20-100 s
# The subtle slouch: the head drops by this share of the ear-shoulder distance (a rigid
# shift; the neck shortens under it). The model sees less than the pixels move: 0.10
# measures as head_height about -5% (the judgement issue's subtle slouch) with scene c's
# sway, in VIDEO mode; monitor_cpu.py measures and prints it in every run.
SUBTLE_DROP = 0.10
# The sustained drop judges small slouches once it has learnt where the person sits
# (SustainedSettings.learn_s, 120 s): scene c's subtle slouch comes after that.
LEARN_S = 150.0


@dataclass(frozen=True)
class Part:
    """A stretch of a scene: which clip frames, and how the person moves meanwhile."""

    seconds: float
    frames: tuple[int, ...]
    slouch: str = ""  # "", "subtle" or "strong": what the benchmark expects to be alerted
    moving: bool = False  # sways and gestures (scene c)
    sink: float = 0.0  # the head drops this share of the ear-shoulder distance (subtle)
    # Sitting still: each clip frame is held for a while (5-40 s) before a small
    # movement to the next, instead of the clip's own 2 frames/s animation.
    still: bool = False


@dataclass(frozen=True)
class Scene:
    name: str
    what: str
    parts: tuple[Part, ...]
    lighting: float = 0.0  # relative change of exposure over the whole scene

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.parts)

    def slouches(self) -> list[tuple[float, float, str]]:
        """(start, end, kind) of every slouch the monitor should alert."""
        out, t = [], 0.0
        for p in self.parts:
            if p.slouch:
                out.append((t, t + p.seconds, p.slouch))
            t += p.seconds
        return out

    def part_at(self, t: float) -> tuple[Part, float]:
        start = 0.0
        for p in self.parts:
            if t < start + p.seconds:
                return p, t - start
            start += p.seconds
        return self.parts[-1], self.parts[-1].seconds


def scenes(b_seconds: float = 600.0) -> dict[str, Scene]:
    up = tuple(UPRIGHT)
    return {
        "a": Scene(
            "a",
            "20 s upright, then a strong slump held",
            (Part(20.0, up), Part(70.0, tuple(SLUMPED), "strong")),
        ),
        "b": Scene(
            "b",
            f"{b_seconds / 60:g} min of a still, upright person, small movements, light fading",
            (Part(b_seconds, up, still=True),),
            lighting=-0.15,
        ),
        "c": Scene(
            "c",
            "a person who moves a lot: a subtle slouch, then a strong one",
            (
                Part(LEARN_S, up, moving=True),
                Part(80.0, up, "subtle", moving=True, sink=SUBTLE_DROP),
                Part(40.0, up, moving=True),
                Part(80.0, tuple(SLUMPED), "strong", moving=True),
            ),
        ),
    }


@functools.cache
def _still_steps(seconds: float) -> np.ndarray:
    """When a still person moves a little: seeded dwell times of 5-40 s."""
    rng = np.random.default_rng(7)
    return np.cumsum(rng.uniform(5.0, 40.0, int(seconds / 5.0) + 2))


def clip_frame(part: Part, t_in: float) -> int:
    """The clip frame shown ``t_in`` s into a part (ping-pong, no jump cuts)."""
    n = len(part.frames)
    if part.still:
        k = int(np.searchsorted(_still_steps(part.seconds), t_in, side="right"))
    else:
        k = int(t_in * SAMPLE_FPS)
    if n == 1:
        return part.frames[0]
    period = 2 * n - 2
    k %= period
    return part.frames[k if k < n else period - k]


def encoded_clip() -> list[bytes]:
    """The sample clip letterboxed to 640x480, as JPEG bytes (a camera's MJPG frames).

    One image at a time: the stand-in must not inflate the monitor's peak memory.
    """
    out = []
    for img in iter_sample_images():
        ok, buf = cv2.imencode(".jpg", letterbox(img, *SIZE), [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise SystemExit("cannot encode a sample frame")
        out.append(buf.tobytes())
    return out


def head_drop_maps(shoulder_y: float, ear_y: float, drop: float) -> tuple[np.ndarray, np.ndarray]:
    """A remap that moves the head down by ``drop`` of the ear-shoulder distance.

    The head keeps its shape (a slouch lowers it, it does not squash the face); the
    neck between the chin and the shoulders shortens to make room, and the shoulders
    and everything under them stay.
    """
    w, h = SIZE
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    delta = drop * (shoulder_y - ear_y)
    chin = ear_y + 0.45 * (shoulder_y - ear_y)
    neck = chin + (ys - chin - delta) * (shoulder_y - chin) / (shoulder_y - chin - delta)
    src_y = np.where(ys < chin + delta, ys - delta, np.where(ys < shoulder_y, neck, ys))
    return xs, np.clip(src_y, 0, h - 1).astype(np.float32)


class SceneCamera:
    """A camera-like device (LiveCapture's Device) playing a scene in real time."""

    def __init__(
        self,
        scene: Scene,
        clip: list[bytes],
        shoulder_y: float,
        ear_y: float,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scene = scene
        self.clip = clip
        self.clock = clock
        self.t0 = clock()
        self.k = -1  # the frame last grabbed
        self._next = 0  # the next frame the camera takes
        self._queued: list[int] = []  # frames taken while nobody grabbed, oldest first
        self.ended = False
        self.own_cpu_s = 0.0
        rng = np.random.default_rng(seed)
        # Sensor noise: a few fields of per-pixel noise (sd 2.5 levels), a new one for
        # every frame retrieved. Never the same twice in a row: a real sensor never
        # repeats a frame bit for bit, and the monitor rightly takes a picture that stays
        # identical for 10 s as a frozen camera (cycling by the frame number did that
        # at 1 frame/s, where every 15th frame drew the same field).
        self.noise = [rng.normal(0, 2.5, (*SIZE[::-1], 3)).astype(np.int16) for _ in range(3)]
        self._rng, self._field = rng, 0
        self.sway = rng.uniform(0, 2 * math.pi, 4)
        self._heads = (shoulder_y, ear_y)
        self._maps: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def isOpened(self) -> bool:  # OpenCV's spelling
        return True

    def grab(self) -> bool:
        """The oldest frame the driver queued, else wait for the next; nothing is decoded.

        Like a driver, frames that come while nobody grabs fill a few buffers
        (``DRIVER_QUEUE``) and the rest are dropped, so a grab after a pause
        returns old frames at once before it waits for a new one.
        """
        arrived = math.floor((self.clock() - self.t0) * FPS)  # the newest frame taken so far
        if arrived >= self._next:
            room = DRIVER_QUEUE - len(self._queued)
            self._queued.extend(range(self._next, min(arrived + 1, self._next + room)))
            self._next = arrived + 1
        if self._queued:
            nxt = self._queued.pop(0)
        else:
            nxt, self._next = self._next, self._next + 1
            delay = self.t0 + nxt / FPS - self.clock()
            if delay > 0:
                time.sleep(delay)
        if nxt / FPS >= self.scene.seconds:
            self.ended = True
            return False
        self.k = nxt
        return True

    def timestamp_s(self) -> float:
        return self.k / FPS

    def retrieve(self) -> tuple[bool, np.ndarray]:
        t = self.k / FPS
        part, t_in = self.scene.part_at(t)
        data = np.frombuffer(self.clip[clip_frame(part, t_in)], np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)  # the camera-like cost: the monitor's
        started = time.thread_time()
        image = self._effects(image, part, t)
        self.own_cpu_s += time.thread_time() - started
        return True, image

    def _effects(self, image: np.ndarray, part: Part, t: float) -> np.ndarray:
        if part.sink:
            if part.sink not in self._maps:
                self._maps[part.sink] = head_drop_maps(*self._heads, part.sink)
            image = cv2.remap(image, *self._maps[part.sink], cv2.INTER_LINEAR)
        if part.moving:
            # Talking and gesturing: the upper body sways and turns a little, all the time.
            p = self.sway
            dx = 14.0 * math.sin(2 * math.pi * t / 3.1 + p[0])
            dy = 5.0 * math.sin(2 * math.pi * t / 4.3 + p[1])
            angle = 3.0 * math.sin(2 * math.pi * t / 5.7 + p[2])
            scale = 1.0 + 0.03 * math.sin(2 * math.pi * t / 7.9 + p[3])
            m = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] * 0.8), angle, scale)
            m[:, 2] += (dx, dy)
            image = cv2.warpAffine(image, m, SIZE, borderMode=cv2.BORDER_REPLICATE)
        # Auto-exposure: slow drift over the scene, plus a breath of flicker.
        gain = 1.0 + self.scene.lighting * t / self.scene.seconds
        gain *= 1.0 + 0.01 * math.sin(2 * math.pi * t / 37.0)
        exposed = cv2.convertScaleAbs(image, alpha=gain).astype(np.int16)
        n = len(self.noise)
        self._field = (self._field + 1 + int(self._rng.integers(n - 1))) % n
        exposed += self.noise[self._field]
        return np.clip(exposed, 0, 255, out=exposed).astype(np.uint8)

    def release(self) -> None:
        self.ended = True
