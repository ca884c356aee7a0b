"""Generate the deterministic sample frame sets in ``sample_frames/``.

Why: tests, benchmarks and demos need a "person at a laptop camera who slumps
and recovers" clip with known ground truth, but we cannot ship recordings of
real users. Instead we take two public-domain portrait photos that installed
packages already ship and animate a slump with smooth image warps, so the
frames stay photographic and MediaPipe sees them like webcam frames.

Sources (both public domain):

* ``hopper``: matplotlib's ``grace_hopper.jpg`` (US Navy portrait of
  Commodore Grace Hopper).
* ``astronaut``: ``skimage.data.astronaut()`` (NASA portrait of astronaut
  Eileen Collins).

Each set folder gets ``frame_NNNN.jpg``, ``manifest.csv`` (``file,t_s``) and
``expected.json`` (``{"upright": [[t0, t1], ...], "slouched": [[t0, t1]]}``,
steady phases only, transitions excluded).

Usage::

    python scripts/make_sample_frames.py               # (re)generate
    python scripts/make_sample_frames.py --check       # regenerate, then check
    python scripts/make_sample_frames.py --check-only  # check existing frames

The check runs the real Pose Landmarker (``POSTURECAM_MODEL`` or the shared
default path) in VIDEO mode and verifies that every frame has a person and
that the neck-height metric separates upright from slouched frames.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "sample_frames"
DEFAULT_MODEL = "/work/shared/models/pose_landmarker_full.task"

FPS = 2.0
OUT_WIDTH = 360
# ~80 as intended for webcam-like JPEGs; 77 keeps both sets well under the 10 MB budget.
JPEG_QUALITY = 77
# Webcam-like softness (Gaussian sigma in output px). It also drops the source
# photos' film grain / JPEG noise, which keeps sample_frames/ well under 10 MB.
SOFTEN_SIGMA = 0.9
MAX_TOTAL_BYTES = 10_000_000

# Timeline in seconds: (start, end, phase). "slump"/"recover" are eased
# transitions; only the steady phases appear in expected.json.
TIMELINE: tuple[tuple[float, float, str], ...] = (
    (0.0, 10.0, "upright"),
    (10.0, 20.0, "slump"),
    (20.0, 100.0, "slouched"),
    (100.0, 106.0, "recover"),
    (106.0, 120.0, "upright"),
)
DURATION_S = TIMELINE[-1][1]


@dataclass(frozen=True)
class SetSpec:
    """Geometry (source-image pixels) and slump strength for one photo.

    Landmark-ish positions were read once from the upright photo with the
    Pose Landmarker and are hard-coded so that generation never needs
    MediaPipe (and stays deterministic across model versions).
    """

    name: str
    load_rgb: Callable[[], np.ndarray]
    seed: int
    crop: tuple[int, int, int, int]  # x0, y0, x1, y1
    head_center: tuple[float, float]  # roughly the ear midpoint
    head_half_width: float
    head_reach_up: float  # weight extent above the centre (covers hair/hat)
    head_reach_down: float  # weight extent below the centre (fades out over the neck)
    shoulder_center: tuple[float, float]  # shoulder midpoint
    shoulder_half_width: float  # weight extent either side of the body centre line
    shoulder_reach_up: float
    shoulder_reach_down: float  # the upper torso moves with the shoulders
    head_drop: float  # px the head moves down when fully slouched
    head_scale: float  # head growth when fully slouched (comes nearer the camera)
    shoulder_rise: float  # px the shoulders move up when fully slouched
    shoulder_narrow: float  # horizontal scale of the shoulder region when slouched
    headroom: float  # rows of plain background above the head in the photo


def _load_hopper() -> np.ndarray:
    """Grace Hopper portrait shipped with matplotlib, as RGB uint8."""
    import matplotlib.cbook

    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _load_astronaut() -> np.ndarray:
    """Eileen Collins portrait shipped with scikit-image, as RGB uint8."""
    import skimage.data

    return np.ascontiguousarray(skimage.data.astronaut()[:, :, :3])


SPECS: tuple[SetSpec, ...] = (
    SetSpec(
        name="hopper",
        load_rgb=_load_hopper,
        seed=1906,
        crop=(4, 0, 508, 528),
        head_center=(267.0, 214.0),
        head_half_width=150.0,
        head_reach_up=330.0,
        head_reach_down=150.0,
        shoulder_center=(276.0, 425.0),
        shoulder_half_width=306.0,
        shoulder_reach_up=108.0,
        shoulder_reach_down=216.0,
        head_drop=72.0,
        head_scale=1.04,
        shoulder_rise=24.0,
        shoulder_narrow=0.985,
        headroom=20.0,
    ),
    SetSpec(
        name="astronaut",
        load_rgb=_load_astronaut,
        seed=1999,
        crop=(16, 0, 416, 408),
        head_center=(229.0, 115.0),
        head_half_width=95.0,
        head_reach_up=220.0,
        head_reach_down=70.0,
        shoulder_center=(209.0, 248.0),
        shoulder_half_width=166.0,
        shoulder_reach_up=58.0,
        shoulder_reach_down=117.0,
        head_drop=56.0,
        head_scale=1.03,
        shoulder_rise=16.0,
        shoulder_narrow=0.985,
        headroom=12.0,
    ),
)


# --------------------------------------------------------------------------- timeline


def frame_times() -> np.ndarray:
    """Frame timestamps in seconds: a steady FPS grid over the whole timeline."""
    n = round(DURATION_S * FPS)
    return np.arange(n) / FPS


def slump_amount(t: float) -> float:
    """0 = upright, 1 = fully slouched; cosine-eased so motion starts/stops gently."""
    for start, end, phase in TIMELINE:
        if start <= t < end or (t == end == DURATION_S):
            if phase == "upright":
                return 0.0
            if phase == "slouched":
                return 1.0
            u = (t - start) / (end - start)
            ease = 0.5 - 0.5 * np.cos(np.pi * u)
            return float(ease if phase == "slump" else 1.0 - ease)
    return 0.0


def expected_windows() -> dict[str, list[list[float]]]:
    """Steady-phase windows (transitions excluded) for expected.json."""
    out: dict[str, list[list[float]]] = {"upright": [], "slouched": []}
    for start, end, phase in TIMELINE:
        if phase in out:
            out[phase].append([start, end])
    return out


# --------------------------------------------------------------------------- warping


def _bump(
    xx: np.ndarray,
    yy: np.ndarray,
    center: tuple[float, float],
    half_width: float,
    reach_up: float,
    reach_down: float,
) -> np.ndarray:
    """Flat-topped (super-Gaussian) weight: ~1 over a region, smooth fall-off.

    A flat top moves a body part rigidly (faces stay undistorted); the smooth
    tail spreads the stretch/compression over the background and neck.
    """
    dx = (xx - center[0]) / half_width
    dy = yy - center[1]
    dy = np.where(dy < 0, dy / reach_up, dy / reach_down)
    r2 = dx * dx + dy * dy
    return np.exp(-(r2 * r2))


def warp_maps(
    spec: SetSpec,
    shape: tuple[int, int],
    amount: float,
    sway: tuple[float, float],
    shift: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Backward maps for cv2.remap: for each output pixel, where to sample the photo.

    Head: translated down (plus sway) and scaled up around its centre. Shoulders:
    raised and narrowed around the body's centre line. Each transform is blended
    in with a bump weight placed at the part's *destination*, so the part itself
    moves rigidly and only the surroundings stretch.
    """
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)

    hx, hy = spec.head_center
    dx_head = sway[0]
    dy_head = amount * spec.head_drop + sway[1]
    scale = 1.0 + amount * (spec.head_scale - 1.0)
    head_dst = (hx + dx_head, hy + dy_head)
    w_head = _bump(
        xx, yy, head_dst, spec.head_half_width * scale, spec.head_reach_up, spec.head_reach_down
    )
    # Inverse of p -> c + d + s (p - c), minus the identity.
    head_ux = hx + (xx - head_dst[0]) / scale - xx
    head_uy = hy + (yy - head_dst[1]) / scale - yy

    sx, sy = spec.shoulder_center
    rise = amount * spec.shoulder_rise
    narrow = 1.0 + amount * (spec.shoulder_narrow - 1.0)
    sh_dst = (sx, sy - rise)
    w_sh = _bump(
        xx,
        yy,
        sh_dst,
        spec.shoulder_half_width,
        spec.shoulder_reach_up,
        spec.shoulder_reach_down,
    )
    sh_ux = sx + (xx - sx) / narrow - xx
    sh_uy = np.full_like(yy, rise)

    map_x = xx + w_head * head_ux + w_sh * sh_ux + shift[0]
    map_y = yy + w_head * head_uy + w_sh * sh_uy + shift[1]
    return map_x.astype(np.float32), map_y.astype(np.float32)


def fold_above(map_y: np.ndarray, headroom: float) -> np.ndarray:
    """Mirror samples above the photo back and forth within its top background strip.

    When the head drops, the gap above it is filled from above row 0. Plain
    BORDER_REFLECT about row 0 would mirror the hair/hat back in; folding into
    the few rows of plain background above the head keeps it backdrop-only.
    """
    out = map_y.copy()
    above = out < 0
    folded = np.mod(-out[above], 2 * headroom)
    out[above] = np.where(folded < headroom, folded, 2 * headroom - folded)
    return out


def min_jacobian(map_x: np.ndarray, map_y: np.ndarray) -> float:
    """Smallest Jacobian determinant of a backward map; <= 0 means the warp folds."""
    dxdy, dxdx = np.gradient(map_x.astype(np.float64))
    dydy, dydx = np.gradient(map_y.astype(np.float64))
    return float((dxdx * dydy - dxdy * dydx).min())


def render_frame(
    spec: SetSpec,
    rgb: np.ndarray,
    amount: float,
    sway: tuple[float, float],
    shift: tuple[float, float],
    gain: float,
) -> np.ndarray:
    """Warp, crop, resize and brightness-jitter one frame (RGB uint8)."""
    map_x, map_y = warp_maps(spec, rgb.shape[:2], amount, sway, shift)
    map_y = fold_above(map_y, spec.headroom)
    warped = cv2.remap(rgb, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    x0, y0, x1, y1 = spec.crop
    crop = warped[y0:y1, x0:x1]
    out_h = round((y1 - y0) * OUT_WIDTH / (x1 - x0))
    small = cv2.resize(crop, (OUT_WIDTH, out_h), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), SOFTEN_SIGMA)
    return np.clip(small.astype(np.float32) * gain, 0, 255).round().astype(np.uint8)


def jitter(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame (sway[n,2], shift[n,2], gain[n]) so no two frames are identical.

    Sway is a smooth AR(1) walk (people drift, they do not teleport); shift and
    gain are independent sub-pixel / ~1 % camera noise.
    """
    rng = np.random.default_rng(seed)
    sway = np.zeros((n, 2))
    for i in range(1, n):
        sway[i] = 0.85 * sway[i - 1] + rng.normal(0.0, (0.9, 0.4))
    shift = rng.normal(0.0, 0.25, size=(n, 2))
    gain = 1.0 + rng.normal(0.0, 0.01, size=n)
    return sway, shift, gain


def generate_set(spec: SetSpec, out_dir: Path) -> None:
    """Write one set's frames, manifest.csv and expected.json (replacing old output)."""
    rgb = spec.load_rgb()
    # Guard against parameter edits that would fold the image over itself.
    jac = min_jacobian(*warp_maps(spec, rgb.shape[:2], 1.0, (0.0, 0.0), (0.0, 0.0)))
    if jac < 0.3:
        raise ValueError(f"{spec.name}: warp too strong (min Jacobian {jac:.2f})")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    times = frame_times()
    sway, shift, gain = jitter(spec.seed, len(times))
    rows: list[tuple[str, str]] = []
    for i, t in enumerate(times):
        frame = render_frame(
            spec, rgb, slump_amount(float(t)), tuple(sway[i]), tuple(shift[i]), float(gain[i])
        )
        name = f"frame_{i:04d}.jpg"
        ok = cv2.imwrite(
            str(out_dir / name),
            cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_OPTIMIZE, 1],
        )
        if not ok:
            raise OSError(f"could not write {out_dir / name}")
        rows.append((name, f"{t:.3f}"))
    with (out_dir / "manifest.csv").open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("file", "t_s"))
        writer.writerows(rows)
    (out_dir / "expected.json").write_text(json.dumps(expected_windows()) + "\n")


README_TEXT = """\
# Sample frames

Synthetic "person at a laptop camera" clips for tests, benchmarks and demos.
Each folder is one clip at 2 frames/s: upright, a gradual slump (head drops and
comes forward, shoulders round), the slump held, recovery, upright again.

- `frame_NNNN.jpg`: the frames (about 360 px wide).
- `manifest.csv`: `file,t_s` (timestamp in seconds).
- `expected.json`: ground-truth windows in seconds, `{"upright": [[t0, t1], ...],
  "slouched": [[t0, t1]]}`; the transitions in between are deliberately left out.

Source photos (public domain), animated with smooth image warps:

- `hopper/`: Commodore Grace Hopper, US Navy photo (shipped with matplotlib as
  `grace_hopper.jpg`).
- `astronaut/`: astronaut Eileen Collins, NASA photo (shipped with
  scikit-image as `skimage.data.astronaut()`).

Regenerate (deterministic, byte-identical output; needs matplotlib and
scikit-image installed, which ship the photos):

    python scripts/make_sample_frames.py

Check them against the real Pose Landmarker (uses `$POSTURECAM_MODEL`):

    python scripts/make_sample_frames.py --check-only
"""


# --------------------------------------------------------------------------- check


def dir_size_bytes(path: Path) -> int:
    """Apparent size like ``du -sb`` (falls back to summing file sizes)."""
    if shutil.which("du"):
        out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
        return int(out.stdout.split()[0])
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _metrics(lms: list, width: int, height: int) -> tuple[float, float, float]:
    """(neck_height, nose_height, ear_distance / shoulder_width) in pixel units."""

    def pt(i: int) -> np.ndarray:
        return np.array([lms[i].x * width, lms[i].y * height])

    nose, l_ear, r_ear, l_sh, r_sh = (pt(i) for i in (0, 7, 8, 11, 12))
    sh_mid = (l_sh + r_sh) / 2
    ear_mid = (l_ear + r_ear) / 2
    sh_w = float(np.linalg.norm(l_sh - r_sh))
    return (
        float(sh_mid[1] - ear_mid[1]) / sh_w,
        float(sh_mid[1] - nose[1]) / sh_w,
        float(np.linalg.norm(l_ear - r_ear)) / sh_w,
    )


def check_set(set_dir: Path, model_path: str) -> bool:
    """Run the Pose Landmarker over one set and print per-window metric stats."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    with (set_dir / "manifest.csv").open() as f:
        rows = list(csv.DictReader(f))
    windows = json.loads((set_dir / "expected.json").read_text())
    times = [float(r["t_s"]) for r in rows]
    ok = all(b > a for a, b in itertools.pairwise(times))
    if not ok:
        print(f"{set_dir.name}: t_s not strictly increasing")

    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model_path),
        running_mode=vision.RunningMode.VIDEO,
    )
    metrics: dict[float, tuple[float, float, float]] = {}
    with vision.PoseLandmarker.create_from_options(opts) as lm:
        for row, t in zip(rows, times, strict=True):
            bgr = cv2.imread(str(set_dir / row["file"]), cv2.IMREAD_COLOR)
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            res = lm.detect_for_video(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), round(t * 1000)
            )
            if res.pose_landmarks:
                metrics[t] = _metrics(res.pose_landmarks[0], rgb.shape[1], rgb.shape[0])

    missed = [t for t in times if t not in metrics]
    print(f"\n[{set_dir.name}] detected {len(metrics)}/{len(times)} frames", end="")
    print(f" (missed at t={missed})" if missed else "")
    header = f"{'window':<22}{'n':>4}{'det':>5}"
    for name in ("neck_height", "nose_height", "ear/shoulder"):
        header += f"  {name + ' med [min, max]':>29}"
    print(header)

    per_window: dict[str, list[tuple[float, float, float]]] = {}
    for label in ("upright", "slouched"):
        for t0, t1 in windows[label]:
            in_win = [t for t in times if t0 <= t <= t1]
            vals = [metrics[t] for t in in_win if t in metrics]
            per_window.setdefault(label, []).extend(vals)
            _print_row(f"{label} {t0:g}-{t1:g}s", len(in_win), vals)
    for label, vals in per_window.items():
        _print_row(f"{label} (all)", len(vals), vals)

    up = np.array([v[0] for v in per_window["upright"]])
    sl = np.array([v[0] for v in per_window["slouched"]])
    drop = 1.0 - float(np.median(sl)) / float(np.median(up))
    separated = bool(sl.max() < up.min())
    print(
        f"neck_height: slouched median {drop:.1%} below upright; "
        f"gap (upright min - slouched max) = {up.min() - sl.max():+.3f}"
    )
    passed = ok and not missed and separated and drop >= 0.15
    print(f"[{set_dir.name}] {'PASS' if passed else 'FAIL'}")
    return passed


def _print_row(label: str, n: int, vals: list[tuple[float, float, float]]) -> None:
    """One table row: median [min, max] for each metric."""
    line = f"{label:<22}{n:>4}{len(vals):>5}"
    arr = np.array(vals) if vals else np.full((1, 3), np.nan)
    for k in range(3):
        col = arr[:, k]
        cell = f"{np.median(col):.3f} [{col.min():.3f}, {col.max():.3f}]"
        line += f"  {cell:>29}"
    print(line)


def run_check(out_dir: Path, model_path: str) -> bool:
    """Check every set plus the total size budget."""
    results = [check_set(out_dir / spec.name, model_path) for spec in SPECS]
    size = dir_size_bytes(out_dir)
    size_ok = size < MAX_TOTAL_BYTES
    print(
        f"\ntotal size of {out_dir.name}/: {size} bytes ({size / 1e6:.2f} MB) "
        f"{'OK' if size_ok else 'TOO BIG'} (limit {MAX_TOTAL_BYTES})"
    )
    return all(results) and size_ok


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--check", action="store_true", help="generate, then run the check")
    parser.add_argument("--check-only", action="store_true", help="check existing frames only")
    parser.add_argument(
        "--model",
        default=os.environ.get("POSTURECAM_MODEL", DEFAULT_MODEL),
        help="pose_landmarker .task file (default: $POSTURECAM_MODEL or the shared model)",
    )
    args = parser.parse_args(argv)

    if not args.check_only:
        for spec in SPECS:
            generate_set(spec, args.out / spec.name)
            print(f"wrote {args.out / spec.name}")
        (args.out / "README.md").write_text(README_TEXT)
    if args.check or args.check_only:
        return 0 if run_check(args.out, args.model) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
