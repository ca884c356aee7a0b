"""A seeded, physically posed person at a laptop webcam, as a ``LandmarkLog``.

Why: real recordings of whole working days with known slouches do not exist
in ``../shared``, and hand-made landmark factories cannot say whether an
ordinary movement (a glance at the keyboard, a long chat turned away, leaning
back) looks like a slouch to the metrics. Here a 3D skeleton in metres is
posed by a few joint angles and shifts over time, projected through a pinhole
camera, and given per-landmark jitter; slouches are scripted with a known
start and a depth calibrated against ``posturecam.core.geometry``.

Frames: camera x right, y down, z away from the camera (metres). The body
frame has the same axes, origin at the hip midpoint, which is also how
MediaPipe's world landmarks are laid out (so world = body points, unrotated).
The person faces the camera; their left side is on the image right.

Everything is vectorised over frames: 8 hours at 2 frames/s take seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from posturecam.core.geometry import compute_metrics
from posturecam.core.types import LM, NUM_LANDMARKS, LandmarkBatch
from posturecam.frames.engine import LandmarkLog

FPS = 2.0  # the live monitor's frame rate
WIDTH, HEIGHT = 640, 480
FOCAL_PX = 600.0  # a typical laptop webcam (about 56 degrees across 640 px)
CALIBRATION_S = 8.0  # steady, upright start: nothing is scheduled in it

CHANNELS = (
    "trunk_pitch",  # rad, + = top of the trunk forward (towards the camera)
    "trunk_roll",  # rad, + = lean towards the person's left (image right)
    "trunk_yaw",  # rad, + = chest turns towards the image right
    "neck_flex",  # rad, + = neck bends forward, relative to the trunk
    "head_pitch",  # rad, absolute, + = face looks down
    "head_yaw",  # rad, absolute, + = face turns towards the image right
    "head_roll",  # rad, + = head tilts towards the person's left shoulder
    "shoulder_rise",  # m, shoulders lifted (stretching, breathing)
    "shoulder_protract",  # m, shoulders rounded forward
    "shift_x",  # m, hips move towards the image right
    "shift_y",  # m, hips sink (down)
    "shift_z",  # m, hips move away from the camera
    "away",  # 0..1, envelope of standing up and walking off
)

# Face points relative to the ear midpoint, metres, x = person's left, y down, z back.
_FACE = {
    LM.NOSE: (0.0, 0.020, -0.110),
    LM.LEFT_EYE_INNER: (0.016, -0.015, -0.088),
    LM.LEFT_EYE: (0.032, -0.015, -0.085),
    LM.LEFT_EYE_OUTER: (0.046, -0.015, -0.078),
    LM.RIGHT_EYE_INNER: (-0.016, -0.015, -0.088),
    LM.RIGHT_EYE: (-0.032, -0.015, -0.085),
    LM.RIGHT_EYE_OUTER: (-0.046, -0.015, -0.078),
    LM.MOUTH_LEFT: (0.024, 0.050, -0.090),
    LM.MOUTH_RIGHT: (-0.024, 0.050, -0.090),
}
# The head pitches and turns about the upper neck, a little below and in front of the ears.
_PIVOT_FROM_EARS = np.array([0.0, 0.020, -0.010])

GROUPS: dict[str, tuple[int, ...]] = {
    "nose": (LM.NOSE,),
    "ears": (LM.LEFT_EAR, LM.RIGHT_EAR),
    "shoulders": (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER),
}
# Eyes and mouth move with the nose; the rest of the body (out of frame) like the shoulders.
_FACE_GROUP = "nose"
_BODY_GROUP = "shoulders"


@dataclass(frozen=True)
class Jitter:
    """Per-frame landmark noise, independent from frame to frame (2 frames/s).

    ``image``: group -> (x, y) standard deviation in shoulder widths, so it
    scales with the person's size in the image. ``world``: group -> (x, y, z)
    standard deviation in metres.
    """

    image: Mapping[str, tuple[float, float]]
    world: Mapping[str, tuple[float, float, float]]

    @classmethod
    def none(cls) -> Jitter:
        return cls({g: (0.0, 0.0) for g in GROUPS}, {g: (0.0, 0.0, 0.0) for g in GROUPS})

    @classmethod
    def nominal(cls) -> Jitter:
        """A fixed stand-in for the measured noise, so tests need no model.

        The live monitor runs MediaPipe in VIDEO mode at 2 frames/s, where its
        temporal landmark smoothing (driven by timestamps) hides much less
        noise than at 30 fps. Pose Landmarker full over the good clip of
        ../shared/datasets/frontal-webcam-1subject, stamped 0.5 s apart,
        gave (benchmarks/false_alarms.py; robust sd of the second difference
        / sqrt(6)), in shoulder widths for image x, y: nose 0.0032, 0.0025;
        ears 0.0020, 0.0018; shoulders 0.0032, 0.0025 (0.5-0.9 px at 265 px
        shoulders); world x, y, z in mm: nose 3.4, 2.3, 6.8; ears 3.4, 1.9,
        6.6; shoulders 2.1, 2.2, 5.5. These are those numbers, rounded up.
        (At 30 fps stamps it is 2-3x less; IMAGE mode about 2x more.)
        """
        return cls(
            image={
                "nose": (0.0032, 0.0026),
                "ears": (0.002, 0.0018),
                "shoulders": (0.0033, 0.0025),
            },
            world={
                "nose": (0.0035, 0.0023, 0.0068),
                "ears": (0.0034, 0.002, 0.0066),
                "shoulders": (0.0022, 0.0022, 0.0055),
            },
        )

    def scaled(self, factor: float) -> Jitter:
        """The same noise ``factor`` times as large (for sensitivity checks)."""
        return Jitter(
            {g: (x * factor, y * factor) for g, (x, y) in self.image.items()},
            {g: (x * factor, y * factor, z * factor) for g, (x, y, z) in self.world.items()},
        )

    def per_landmark(self) -> tuple[np.ndarray, np.ndarray]:
        """(33, 2) image and (33, 3) world standard deviations, groups spread to every landmark."""
        img = np.tile(np.asarray(self.image[_BODY_GROUP], float), (NUM_LANDMARKS, 1))
        wld = np.tile(np.asarray(self.world[_BODY_GROUP], float), (NUM_LANDMARKS, 1))
        for idx in _FACE:
            img[idx] = self.image[_FACE_GROUP]
            wld[idx] = self.world[_FACE_GROUP]
        for group, ids in GROUPS.items():
            img[list(ids)] = self.image[group]
            wld[list(ids)] = self.world[group]
        return img, wld


@dataclass(frozen=True)
class Person:
    """Body proportions and where they sit in front of the camera (metres, radians)."""

    shoulder_half: float = 0.19  # half the distance between the shoulder landmarks
    ear_half: float = 0.072
    trunk_len: float = 0.50  # hip midpoint up to the shoulder line
    neck_len: float = 0.14  # base of the neck (C7) to the upper neck pivot
    neck_angle: float = math.radians(38.0)  # forward lean of that line when sitting well
    face_scale: float = 1.0
    distance: float = 0.72  # camera to hip midpoint
    eyes_below_camera: float = 0.0  # camera near eye height
    lateral: float = 0.0  # hips' offset towards the image right

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Person:
        """A plausible adult: proportions within a few percent, the laptop 0.6-0.8 m away."""
        return cls(
            shoulder_half=float(rng.normal(0.19, 0.01)),
            ear_half=float(rng.normal(0.072, 0.004)),
            trunk_len=float(rng.normal(0.50, 0.025)),
            neck_len=float(rng.normal(0.14, 0.008)),
            neck_angle=math.radians(float(rng.normal(38.0, 4.0))),
            face_scale=float(rng.normal(1.0, 0.04)),
            distance=float(rng.uniform(0.65, 0.80)),
            eyes_below_camera=float(rng.uniform(-0.02, 0.03)),
            lateral=float(rng.uniform(-0.05, 0.05)),
        )


@dataclass(frozen=True)
class Episode:
    """One scripted movement: channel deltas at full strength, smooth ramps in and out.

    The envelope rises from ``t0`` to ``t1``, holds, and falls from ``t2`` to
    ``t3``. ``start_s``/``end_s`` are the ramps' midpoints: where the movement
    is half done, which is when a person would say it began or ended.
    """

    kind: str
    t0: float
    t1: float
    t2: float
    t3: float
    deltas: Mapping[str, float]
    info: Mapping[str, float] = field(default_factory=dict)

    @property
    def start_s(self) -> float:
        return (self.t0 + self.t1) / 2

    @property
    def end_s(self) -> float:
        return (self.t2 + self.t3) / 2

    def envelope(self, t: np.ndarray) -> np.ndarray:
        rise = _smoothstep((t - self.t0) / max(self.t1 - self.t0, 1e-9))
        fall = 1.0 - _smoothstep((t - self.t2) / max(self.t3 - self.t2, 1e-9))
        return np.minimum(rise, fall)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _episode(
    kind: str, start: float, hold: float, ramp_in: float, ramp_out: float, deltas: dict
) -> Episode:
    """An episode whose ramps are centred on ``start`` and ``start + hold``."""
    end = start + hold
    return Episode(
        kind,
        start - ramp_in / 2,
        start + ramp_in / 2,
        end - ramp_out / 2,
        end + ramp_out / 2,
        deltas,
    )


def _deg(x: float) -> float:
    return math.radians(x)


# ---- ordinary movements: what each looks like, with seeded amplitudes ---------------------


def turn(rng: np.random.Generator, start: float, duration: float | None = None) -> Episode:
    """A short look aside (the chest follows a little)."""
    yaw = _deg(rng.uniform(10, 40)) * rng.choice((-1.0, 1.0))
    hold = duration if duration is not None else rng.uniform(2, 10)
    ramp = rng.uniform(0.5, 1.5)
    return _episode("turn", start, hold, ramp, ramp, {"head_yaw": yaw, "trunk_yaw": 0.15 * yaw})


def glance_down(
    rng: np.random.Generator,
    start: float,
    duration: float | None = None,
    pitch_deg: float | None = None,
) -> Episode:
    """Looking at the keyboard or a phone: the head pitches, the ears stay about level."""
    pitch = _deg(pitch_deg if pitch_deg is not None else rng.uniform(15, 30))
    # Log-uniform 2-20 s: most glances are short, a few are long reads.
    hold = duration if duration is not None else float(np.exp(rng.uniform(np.log(2), np.log(20))))
    ramp = rng.uniform(0.4, 1.0)
    deltas = {"head_pitch": pitch, "neck_flex": _deg(rng.uniform(0, 3))}
    return _episode("glance", start, hold, ramp, ramp, deltas)


def drink(rng: np.random.Generator, start: float, duration: float | None = None) -> Episode:
    """Drinking from a cup: the head tilts back, the trunk a little."""
    hold = duration if duration is not None else rng.uniform(2, 6)
    deltas = {"head_pitch": -_deg(rng.uniform(20, 35)), "trunk_pitch": -_deg(rng.uniform(0, 5))}
    return _episode("drink", start, hold, 1.0, 1.0, deltas)


def stretch(rng: np.random.Generator, start: float, duration: float | None = None) -> Episode:
    """Arms up over the head: the shoulders rise, the back arches, the head tips back."""
    hold = duration if duration is not None else rng.uniform(5, 15)
    deltas = {
        "shoulder_rise": rng.uniform(0.02, 0.04),
        "trunk_pitch": -_deg(rng.uniform(0, 8)),
        "head_pitch": -_deg(rng.uniform(0, 15)),
    }
    return _episode("stretch", start, hold, 1.5, 2.0, deltas)


def talk(rng: np.random.Generator, start: float, duration: float | None = None) -> Episode:
    """Turned towards a colleague for a couple of minutes: head and chest both turn."""
    side = rng.choice((-1.0, 1.0))
    hold = duration if duration is not None else rng.uniform(90, 150)
    deltas = {
        "head_yaw": side * _deg(rng.uniform(45, 60)),
        "trunk_yaw": side * _deg(rng.uniform(10, 25)),
    }
    return _episode("talk", start, hold, 2.0, 2.0, deltas)


def lean_back(rng: np.random.Generator, start: float, duration: float | None = None) -> Episode:
    """Reclining against the chair back; the neck bends forward to keep the face to the screen."""
    back = _deg(rng.uniform(10, 15))
    hold = duration if duration is not None else rng.uniform(150, 210)
    deltas = {
        "trunk_pitch": -back,
        "neck_flex": 0.6 * back,
        "shift_y": 0.01,  # sinking into the chair a little
        "shift_z": -0.02,  # and the hips sliding forward on the seat
    }
    return _episode("lean_back", start, hold, 3.0, 3.0, deltas)


def leave(rng: np.random.Generator, start: float, duration: float | None = None) -> Episode:
    """Standing up and walking off (no person), then sitting down again."""
    hold = duration if duration is not None else rng.uniform(60, 300)
    deltas = {"away": 1.0, "shift_y": -0.55, "shift_z": 0.25}
    return _episode("away", start, hold, 3.0, 3.0, deltas)


# Slouch at depth 1: trunk and neck flex, shoulders round, the person sinks and the hips
# slide forward; the gaze stays near the screen (head_pitch barely moves), so the head
# drops and comes forward relative to the shoulders and nearer the camera.
SLOUCH_PER_DEPTH = {
    "trunk_pitch": _deg(12.0),
    "neck_flex": _deg(15.0),
    "head_pitch": _deg(3.0),
    "shoulder_protract": 0.02,
    "shift_y": 0.015,
    "shift_z": -0.03,
}


def slouch(
    start: float, depth: float, rng: np.random.Generator, duration: float = 180.0
) -> Episode:
    """A slouch of ``duration`` seconds between the midpoints of its ramps."""
    deltas = {k: v * depth for k, v in SLOUCH_PER_DEPTH.items()}
    ep = _episode("slouch", start, duration, rng.uniform(2, 6), rng.uniform(2, 4), deltas)
    return replace(ep, info={"depth": depth})


SHORT_KINDS = {"turn": turn, "glance": glance_down, "drink": drink, "stretch": stretch}
LONG_KINDS = {"talk": talk, "lean_back": lean_back, "away": leave}
# Short movements cannot happen during these (a head turn while turned to a colleague).
EXCLUSIVE = {"talk", "away"}


@dataclass(frozen=True)
class Habits:
    """How often ordinary movements happen, per hour of sitting at the desk.

    Plausible office-work rates, not fitted to anything: glances at the
    keyboard or a phone and short looks aside are frequent; long chats,
    leaning back and leaving the desk happen a few times a day.
    """

    per_hour: Mapping[str, float] = field(
        default_factory=lambda: {
            "turn": 20.0,
            "glance": 15.0,
            "drink": 4.0,
            "stretch": 1.0,
            "talk": 0.4,
            "lean_back": 0.4,
            "away": 0.6,
        }
    )
    settle_every_s: tuple[float, float] = (480.0, 720.0)  # slow drift knots ~10 min apart


# ---- schedule --------------------------------------------------------------------------


def _free(start: float, end: float, taken: Sequence[tuple[float, float]], margin: float) -> bool:
    return all(end + margin <= a or start - margin >= b for a, b in taken)


def schedule(
    duration_s: float,
    rng: np.random.Generator,
    habits: Habits | None = None,
    fixed: Sequence[Episode] = (),
    ordinary: bool = True,
) -> list[Episode]:
    """Seeded timeline: ``fixed`` episodes (slouches) first, then long, then short movements.

    Long movements never overlap each other or a fixed episode (1 min apart);
    short ones never overlap each other, a chat or an absence.
    """
    habits = habits or Habits()
    episodes = list(fixed)
    if not ordinary:
        return sorted(episodes, key=lambda e: e.t0)
    hours = duration_s / 3600.0
    taken = [(e.t0, e.t3) for e in episodes]
    for kind, make in LONG_KINDS.items():
        # Stochastic rounding: the right count on average, exact-ish over long runs.
        n = int(np.floor(habits.per_hour[kind] * hours + rng.uniform()))
        for _ in range(n):
            for _attempt in range(200):
                ep = make(rng, rng.uniform(CALIBRATION_S + 30.0, duration_s))
                if ep.t3 < duration_s - 5.0 and _free(ep.t0, ep.t3, taken, 60.0):
                    episodes.append(ep)
                    taken.append((ep.t0, ep.t3))
                    break
    blocked = sorted((e.t0, e.t3) for e in episodes if e.kind in EXCLUSIVE)
    # One Poisson stream of short movements over the free time, kinds in proportion to
    # their rates; each waits for the previous one to end, so none is dropped for overlap.
    kinds = list(SHORT_KINDS)
    rates = np.array([habits.per_hour[k] for k in kinds], float)
    if rates.sum() <= 0:
        return sorted(episodes, key=lambda e: e.t0)
    mean_gap = 3600.0 / rates.sum()
    t = CALIBRATION_S + 2.0
    while True:
        t += rng.exponential(mean_gap)
        kind = kinds[rng.choice(len(kinds), p=rates / rates.sum())]
        ep = SHORT_KINDS[kind](rng, t)
        if ep.t3 > duration_s:
            break
        clash = [b for a, b in blocked if not ep.t3 + 2.0 <= a and not ep.t0 - 2.0 >= b]
        if clash:
            t = max(clash) + 2.0
            continue
        episodes.append(ep)
        t = ep.t3 + 1.0
    return sorted(episodes, key=lambda e: e.t0)


def settle_knots(
    duration_s: float, rng: np.random.Generator, habits: Habits | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Slow settling in the chair: offsets at knots ~10 min apart (zero at the start).

    Mostly position (a few cm: a few % of size and height in the image).
    """
    habits = habits or Habits()
    lo, hi = habits.settle_every_s
    times = [0.0]
    while times[-1] < duration_s:
        times.append(times[-1] + rng.uniform(lo, hi))
    k = len(times)
    offsets = {
        "shift_x": rng.normal(0, 0.015, k),
        "shift_y": rng.uniform(-0.005, 0.015, k),
        "shift_z": rng.normal(0, 0.02, k),
        # Posture itself drifts only a little (about 1-2% of head_height per degree of neck).
        "trunk_pitch": rng.normal(0, _deg(0.7), k),
        "trunk_roll": rng.normal(0, _deg(1.0), k),
        "neck_flex": rng.normal(0, _deg(0.7), k),
    }
    for v in offsets.values():
        v[0] = 0.0
    return np.array(times), offsets


def _band_noise(rng: np.random.Generator, n: int, fps: float, period_s: float) -> np.ndarray:
    """Unit-variance noise with fluctuations slower than about ``period_s``."""
    white = rng.normal(size=n)
    spec = np.fft.rfft(white)
    freq = np.fft.rfftfreq(n, 1.0 / fps)
    spec *= np.exp(-0.5 * (freq * period_s) ** 2)
    out = np.fft.irfft(spec, n)
    sd = out.std()
    return out / sd if sd > 0 else out


def _channels(
    t: np.ndarray,
    episodes: Sequence[Episode],
    rng: np.random.Generator,
    background: bool,
    habits: Habits,
) -> dict[str, np.ndarray]:
    """Pose channels per frame: episodes added up, plus settling, sway and breathing."""
    n = t.size
    ch = {name: np.zeros(n) for name in CHANNELS}
    fps = 1.0 / float(np.median(np.diff(t))) if n > 1 else FPS
    for ep in episodes:
        lo, hi = np.searchsorted(t, [ep.t0, ep.t3 + 1.0 / fps])
        env = ep.envelope(t[lo:hi])
        for name, amp in ep.deltas.items():
            ch[name][lo:hi] += amp * env
    if not background:
        return ch
    duration = float(t[-1]) if n else 0.0
    knots, offsets = settle_knots(duration, rng, habits)
    seg = np.clip(np.searchsorted(knots, t, side="right") - 1, 0, knots.size - 2)
    frac = _smoothstep((t - knots[seg]) / (knots[seg + 1] - knots[seg]))
    for name, v in offsets.items():
        ch[name] += v[seg] + (v[seg + 1] - v[seg]) * frac
    # Postural sway: small, slow and always there.
    sway = {
        "trunk_pitch": (_deg(0.5), 20.0),
        "trunk_roll": (_deg(0.4), 20.0),
        "neck_flex": (_deg(0.5), 10.0),
        "head_pitch": (_deg(1.0), 4.0),
        "head_yaw": (_deg(1.5), 4.0),
        "head_roll": (_deg(0.8), 6.0),
        "shift_x": (0.003, 15.0),
        "shift_y": (0.002, 15.0),
        "shift_z": (0.004, 15.0),
    }
    for name, (sd, period) in sway.items():
        ch[name] += sd * _band_noise(rng, n, fps, period)
    breath = rng.uniform(0.2, 0.3)
    ch["shoulder_rise"] += 0.002 * np.sin(2 * np.pi * breath * t + rng.uniform(0, 2 * np.pi))
    return ch


# ---- body, camera, landmarks --------------------------------------------------------------


def _rot_x(a: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([i, o, o, o, c, -s, o, s, c], -1).reshape(a.shape + (3, 3))


def _rot_y(a: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([c, o, s, o, i, o, -s, o, c], -1).reshape(a.shape + (3, 3))


def _rot_z(a: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([c, -s, o, s, c, o, o, o, i], -1).reshape(a.shape + (3, 3))


def _orient(pitch: np.ndarray, roll: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Rotation: pitch forward (+), then roll to the left (+), then turn to image right (+)."""
    return _rot_y(-yaw) @ _rot_z(roll) @ _rot_x(pitch)


def _apply(rot: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N,3,3) rotations of (K,3) points -> (N,K,3)."""
    return np.einsum("nij,kj->nki", rot, points)


def body_points(person: Person, ch: Mapping[str, np.ndarray]) -> np.ndarray:
    """(N, 33, 3) landmarks in metres relative to the hip midpoint (MediaPipe world layout)."""
    n = ch["trunk_pitch"].shape[0]
    p = person
    pts = np.zeros((n, NUM_LANDMARKS, 3))
    trunk = _orient(ch["trunk_pitch"], ch["trunk_roll"], ch["trunk_yaw"])
    # Shoulders in the trunk frame: rise lifts them, protraction brings them forward and in.
    protract = ch["shoulder_protract"]
    sh = np.zeros((n, 2, 3))
    sh[:, 0, 0] = p.shoulder_half - 0.3 * protract
    sh[:, 1, 0] = -(p.shoulder_half - 0.3 * protract)
    sh[:, :, 1] = (-p.trunk_len - ch["shoulder_rise"])[:, None]
    sh[:, :, 2] = -protract[:, None]
    pts[:, [LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER]] = np.einsum("nij,nkj->nki", trunk, sh)
    # The neck starts a little above and behind the shoulder line.
    base = _apply(trunk, np.array([[0.0, -p.trunk_len - 0.03, 0.05]]))[:, 0]
    neck = trunk @ _rot_x(p.neck_angle + ch["neck_flex"])
    pivot = base + _apply(neck, np.array([[0.0, -p.neck_len, 0.0]]))[:, 0]
    head = _orient(ch["head_pitch"], ch["head_roll"], ch["head_yaw"])
    ears = np.array([[p.ear_half, 0.0, 0.0], [-p.ear_half, 0.0, 0.0]])
    face_ids = list(_FACE)
    face = np.array([_FACE[i] for i in face_ids]) * p.face_scale
    local = np.vstack([ears, face]) - _PIVOT_FROM_EARS
    head_pts = pivot[:, None, :] + _apply(head, local)
    pts[:, [LM.LEFT_EAR, LM.RIGHT_EAR]] = head_pts[:, :2]
    pts[:, face_ids] = head_pts[:, 2:]
    # Hips turn with the chest only; arms reach forward to the keyboard; legs under the desk.
    hips = _apply(_rot_y(-ch["trunk_yaw"]), np.array([[0.10, 0.0, 0.0], [-0.10, 0.0, 0.0]]))
    pts[:, [LM.LEFT_HIP, LM.RIGHT_HIP]] = hips
    for side, (sh_i, el, wr, pi, ix, th) in {
        0: (
            LM.LEFT_SHOULDER,
            LM.LEFT_ELBOW,
            LM.LEFT_WRIST,
            LM.LEFT_PINKY,
            LM.LEFT_INDEX,
            LM.LEFT_THUMB,
        ),
        1: (
            LM.RIGHT_SHOULDER,
            LM.RIGHT_ELBOW,
            LM.RIGHT_WRIST,
            LM.RIGHT_PINKY,
            LM.RIGHT_INDEX,
            LM.RIGHT_THUMB,
        ),
    }.items():
        sign = 1.0 if side == 0 else -1.0
        pts[:, el] = pts[:, sh_i] + (sign * 0.03, 0.27, -0.06)
        pts[:, wr] = pts[:, el] + (-sign * 0.05, 0.02, -0.25)
        for finger in (pi, ix, th):
            pts[:, finger] = pts[:, wr] + (-sign * 0.02, 0.02, -0.06)
    for hip_i, kn, an, he, ft, sign in (
        (LM.LEFT_HIP, LM.LEFT_KNEE, LM.LEFT_ANKLE, LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX, 1.0),
        (LM.RIGHT_HIP, LM.RIGHT_KNEE, LM.RIGHT_ANKLE, LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX, -1.0),
    ):
        pts[:, kn] = pts[:, hip_i] + (sign * 0.02, 0.0, -0.45)
        pts[:, an] = pts[:, kn] + (0.0, 0.45, 0.02)
        pts[:, he] = pts[:, an] + (0.0, 0.05, 0.05)
        pts[:, ft] = pts[:, an] + (0.0, 0.07, -0.15)
    return pts


def _hip_position(person: Person, ch: Mapping[str, np.ndarray]) -> np.ndarray:
    """Hip midpoint in camera coordinates, placed so the eyes sit near the camera's height."""
    neutral = {name: np.zeros(1) for name in CHANNELS}
    eye_y = body_points(person, neutral)[0, [LM.LEFT_EYE, LM.RIGHT_EYE], 1].mean()
    return np.stack(
        [
            person.lateral + ch["shift_x"],
            person.eyes_below_camera - eye_y + ch["shift_y"],
            person.distance + ch["shift_z"],
        ],
        axis=-1,
    )


def _ear_hidden(head_yaw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Visibility factor of (left, right) ear as the head turns away from it.

    MediaPipe keeps reporting a turned-away ear with fairly high visibility
    (../shared/datasets/README.md); it falls only past ~40 degrees of yaw
    and reaches 0.5 around 80 degrees here.
    """
    deg = np.degrees(head_yaw)
    # Positive yaw turns the face to the image right, taking the left ear behind the head.
    left = 1.0 - np.clip((deg - 40.0) / 40.0, 0.0, 1.0) * 0.5
    right = 1.0 - np.clip((-deg - 40.0) / 40.0, 0.0, 1.0) * 0.5
    return left, right


def render(
    person: Person,
    t: np.ndarray,
    ch: Mapping[str, np.ndarray],
    jitter: Jitter,
    rng: np.random.Generator,
) -> LandmarkLog:
    """Project the posed body into a 640x480 camera and build the landmark log."""
    n = t.size
    world = body_points(person, ch)
    cam = world + _hip_position(person, ch)[:, None, :]
    depth = cam[..., 2]
    xy = np.empty((n, NUM_LANDMARKS, 2))
    xy[..., 0] = WIDTH / 2 + FOCAL_PX * cam[..., 0] / depth
    xy[..., 1] = HEIGHT / 2 + FOCAL_PX * cam[..., 1] / depth
    z = world[..., 2] * FOCAL_PX / person.distance  # relative depth scaled like x

    # Visibility: high in the frame, falling off outside it; a turned-away ear a bit less.
    outside = np.maximum.reduce(
        [-xy[..., 0], xy[..., 0] - WIDTH, -xy[..., 1], xy[..., 1] - HEIGHT, np.zeros(xy.shape[:2])]
    )
    vis = 0.995 - np.abs(rng.normal(0, 0.004, (n, NUM_LANDMARKS)))
    vis *= np.clip(1.0 - outside / 40.0, 0.05, 1.0)
    left, right = _ear_hidden(ch["head_yaw"])
    vis[:, LM.LEFT_EAR] *= left
    vis[:, LM.RIGHT_EAR] *= right

    sd_img, sd_world = jitter.per_landmark()
    sh_w = np.linalg.norm(xy[:, LM.LEFT_SHOULDER] - xy[:, LM.RIGHT_SHOULDER], axis=1)
    xy = xy + rng.normal(size=xy.shape) * sd_img * sh_w[:, None, None]
    world = world + rng.normal(size=world.shape) * sd_world

    detected = (ch["away"] < 0.98) & (xy[:, LM.NOSE, 1] > -0.25 * HEIGHT)
    gone = ~detected
    xy[gone] = np.nan
    z = np.where(gone[:, None], np.nan, z)
    vis[gone] = 0.0
    world[gone] = np.nan
    return LandmarkLog(
        frame=np.arange(n),
        t_s=t,
        name=np.array([f"sim_{i:06d}" for i in range(n)], dtype=object),
        skip_reason=np.full(n, "", dtype=object),
        width=np.full(n, WIDTH),
        height=np.full(n, HEIGHT),
        landmarks=LandmarkBatch(xy=xy, z=z, visibility=vis, world=world, detected=detected),
    )


# ---- calibrating slouch depth against the project's own metric ----------------------------


def head_height_ratio(person: Person, depths: np.ndarray) -> np.ndarray:
    """head_height at each slouch depth over head_height upright, noise-free, neutral posture."""
    depths = np.concatenate([[0.0], np.asarray(depths, float)])
    ch = {name: np.zeros(depths.size) for name in CHANNELS}
    for name, per in SLOUCH_PER_DEPTH.items():
        ch[name] = per * depths
    log = render(person, np.arange(depths.size) / FPS, ch, Jitter.none(), np.random.default_rng(0))
    hh = compute_metrics(log.landmarks, WIDTH, "front")["head_height"]
    return hh[1:] / hh[0]


def slouch_depth(person: Person, drop: float) -> float:
    """The slouch depth at which head_height falls by ``drop`` (0.05 = 5%) from upright."""
    grid = np.linspace(0.0, 1.0, 201)
    ratio = head_height_ratio(person, grid)
    if not np.all(np.diff(ratio) < 0):
        raise ValueError("head_height must fall steadily with slouch depth")
    if not ratio[-1] <= 1.0 - drop:
        raise ValueError(f"cannot slouch deep enough for a {drop:.0%} drop")
    return float(np.interp(1.0 - drop, ratio[::-1], grid[::-1]))


# ---- the whole simulation ------------------------------------------------------------------


@dataclass(frozen=True)
class SlouchPlan:
    """A slouch to script: when (ramp midpoint), how deep in head_height terms, how long."""

    start_s: float
    drop: float  # fall of head_height relative to upright: 0.05 subtle, 0.20 strong
    duration_s: float = 180.0


@dataclass(frozen=True, eq=False)
class Simulation:
    log: LandmarkLog
    person: Person
    episodes: list[Episode]
    channels: dict[str, np.ndarray]

    @property
    def slouches(self) -> list[Episode]:
        return [e for e in self.episodes if e.kind == "slouch"]

    @property
    def slouch_starts(self) -> list[float]:
        return [e.start_s for e in self.slouches]

    def activity(self, after_s: float = 0.0) -> np.ndarray:
        """Per frame, the movement going on ("" for none), counting ``after_s`` past its end.

        When movements overlap, the first of PRIORITY wins.
        """
        t = self.log.t_s
        label = np.full(t.size, "", dtype=object)
        rank = np.full(t.size, len(PRIORITY))
        for ep in self.episodes:
            r = PRIORITY.index(ep.kind)
            lo, hi = np.searchsorted(t, [ep.t0, ep.t3 + after_s])
            sl = slice(lo, hi)
            better = rank[sl] > r
            label[sl] = np.where(better, ep.kind, label[sl])
            rank[sl] = np.where(better, r, rank[sl])
        return label


PRIORITY = ("away", "slouch", "talk", "lean_back", "stretch", "drink", "glance", "turn")


def spaced_slouches(
    drops: Sequence[float],
    rng: np.random.Generator,
    gap_s: tuple[float, float] = (600.0, 1200.0),
    duration_s: float = 180.0,
) -> tuple[list[SlouchPlan], float]:
    """Slouches in the given order, each after an upright gap; returns them and the run length."""
    plans = []
    t = CALIBRATION_S
    for drop in drops:
        t += rng.uniform(*gap_s)
        plans.append(SlouchPlan(t, drop, duration_s))
        t += duration_s
    return plans, t + rng.uniform(*gap_s)


def simulate(
    duration_s: float,
    seed: int,
    *,
    person: Person | None = None,
    jitter: Jitter | None = None,
    slouches: Sequence[SlouchPlan] = (),
    episodes: Sequence[Episode] = (),
    ordinary: bool = True,
    background: bool = True,
    habits: Habits | None = None,
    fps: float = FPS,
) -> Simulation:
    """Simulate ``duration_s`` seconds of a person at the desk, deterministic per ``seed``.

    ``person`` defaults to one sampled from the seed; ``jitter`` to
    ``Jitter.nominal()``. ``slouches`` are scripted at their depth for that
    person; ``episodes`` are added as given; ``ordinary`` schedules seeded
    everyday movements around them; ``background`` adds settling, sway and
    breathing.
    """
    rng = np.random.default_rng(seed)
    person = person or Person.sample(rng)
    jitter = jitter if jitter is not None else Jitter.nominal()
    habits = habits or Habits()
    depths = {d: slouch_depth(person, d) for d in {p.drop for p in slouches}}
    fixed = [
        replace(
            slouch(p.start_s, depths[p.drop], rng, p.duration_s),
            info={"drop": p.drop, "depth": depths[p.drop]},
        )
        for p in slouches
    ]
    fixed += list(episodes)
    plan = schedule(duration_s, rng, habits, fixed, ordinary)
    t = np.arange(round(duration_s * fps)) / fps
    ch = _channels(t, plan, rng, background, habits)
    log = render(person, t, ch, jitter, rng)
    return Simulation(log, person, plan, ch)
