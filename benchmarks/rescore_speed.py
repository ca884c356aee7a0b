"""Re-scoring speed: load a landmark recording, score it and follow it in time, no model.

Builds a synthetic recording of ``--frames`` frames at 15 fps (default
1,000,000, about 18.5 hours): a person at a laptop with 2 px landmark jitter,
upright stretches, slumps of 20 s to 5 min (some leaning in or to the side as
well, so frames carry several issues), brief glances away, 3% missed
detections, absences of a few minutes, a few unreadable frames and a few
gaps in the timestamps. It is saved with ``posturecam.research.recording.save`` to a
temp dir, then each round times

* load: ``recording.load`` (file -> LandmarkLog, float64 like run_pose makes);
* score: ``scoring.score`` (metrics, baseline, judgement) against a profile
  calibrated on the first 8 s, as ``posturecam rescore --profile`` does;
* follow: what ``analysis.analyse`` adds to the score (what ``posturecam rescore``
  runs): states, alerts, breaks, away/back and the coach's advice.

Writing frames.csv / events.jsonl is output, not re-scoring, so it is not in
the total; ``--csv-frames`` (default 100,000) times writing frames.csv for a
slice of that many frames separately. Prints a table and, as its last line,
one JSON object with the medians over ``--rounds``.

    python benchmarks/rescore_speed.py [--frames 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import median

from posturecam.core.types import LM, NUM_LANDMARKS, LandmarkBatch
from posturecam.frames.engine import LandmarkLog
from posturecam.live.calibration import calibrate
from posturecam.research import recording
from posturecam.research.analysis import analyse
from posturecam.research.options import ProfileBaseline, ScoringOptions
from posturecam.research.outputs import write_frames_csv
from posturecam.research.run_folder import RECORDING
from posturecam.research.scoring import score

TARGET_FRAMES_PER_S = 150_000
FPS = 15.0
CALIBRATION_S = 8.0
HEAD = (LM.NOSE, LM.LEFT_EAR, LM.RIGHT_EAR, LM.LEFT_EYE, LM.RIGHT_EYE)


def _template() -> tuple[np.ndarray, np.ndarray]:
    """Image and world landmarks of an upright person facing a 640x480 camera.

    The same layout as ``tests/factories.front_pose()`` (centre (320, 330),
    200 px shoulders, neck 0.55 and nose 0.75 shoulder widths high).
    """
    cx, cy, w = 320.0, 330.0, 200.0
    xy = np.tile([cx, cy + w], (NUM_LANDMARKS, 1))
    ear_y = cy - 0.55 * w
    xy[LM.LEFT_SHOULDER] = (cx + w / 2, cy)
    xy[LM.RIGHT_SHOULDER] = (cx - w / 2, cy)
    xy[LM.LEFT_EAR] = (cx + 0.35 * w, ear_y)
    xy[LM.RIGHT_EAR] = (cx - 0.35 * w, ear_y)
    xy[LM.NOSE] = (cx, cy - 0.75 * w)
    xy[LM.LEFT_EYE] = (cx + 0.12 * w, ear_y - 0.05 * w)
    xy[LM.RIGHT_EYE] = (cx - 0.12 * w, ear_y - 0.05 * w)
    world = np.zeros((NUM_LANDMARKS, 3))
    world[LM.LEFT_SHOULDER] = (0.18, -0.45, 0.0)
    world[LM.RIGHT_SHOULDER] = (-0.18, -0.45, 0.0)
    world[LM.LEFT_EAR] = (0.07, -0.6, -0.05)
    world[LM.RIGHT_EAR] = (-0.07, -0.6, -0.05)
    return xy, world


def _episodes(rng: np.random.Generator, n: int, fps: float) -> tuple[np.ndarray, ...]:
    """Per-frame head drop, lean-in factor and sideways lean from alternating episodes."""
    drop = np.zeros(n)
    lean_in = np.zeros(n)
    side = np.zeros(n)
    i = int(CALIBRATION_S * fps) + int(rng.integers(0, 30 * fps))
    while i < n:
        length = int(rng.uniform(20, 300) * fps)
        ramp = min(int(rng.uniform(2, 10) * fps), length // 2)
        shape = np.ones(length)
        shape[:ramp] = np.linspace(0, 1, ramp)
        shape[length - ramp :] = np.linspace(1, 0, ramp)
        stop = min(i + length, n)
        part = shape[: stop - i]
        drop[i:stop] = rng.uniform(0.15, 0.35) * part
        if rng.random() < 0.4:
            lean_in[i:stop] = rng.uniform(0.1, 0.3) * part
        if rng.random() < 0.3:
            side[i:stop] = rng.choice([-1, 1]) * rng.uniform(0.1, 0.3) * part
        i = stop + int(rng.uniform(30, 400) * fps)  # then upright for a while
    return drop, lean_in, side


def synthetic_log(frames: int, fps: float = FPS, seed: int = 0) -> LandmarkLog:
    """A long, realistic landmark log, float32-exact like the one run_pose makes."""
    rng = np.random.default_rng(seed)
    n = frames
    t = np.arange(n) / fps
    gaps = rng.random(n) < 2e-5  # a stalled camera: timestamps jump by 6-60 s
    t += np.cumsum(np.where(gaps, rng.uniform(6, 60, n), 0.0))
    drop, lean_in, side = _episodes(rng, n, fps)

    base_xy, base_world = _template()
    xy = np.repeat(base_xy[None], n, axis=0)
    sway = 3.0 * np.sin(2 * np.pi * t / 47.0)
    xy[:, :, 0] += sway[:, None]
    centre = base_xy[[LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER]].mean(axis=0)
    head = list(HEAD)
    rise = centre[1] - xy[:, head, 1]
    xy[:, head, 1] = centre[1] - rise * (1 - drop[:, None])
    xy[:, head, 0] += (side * 200.0)[:, None]
    xy = centre + (xy - centre) * (1 + lean_in)[:, None, None]
    xy += 2.0 * rng.standard_normal(xy.shape, dtype=np.float32)

    vis = 0.9 + 0.1 * rng.random((n, NUM_LANDMARKS), dtype=np.float32)
    glance = np.zeros(n, bool)
    for start in rng.choice(n, max(1, n // 2000), replace=False):
        glance[start : start + int(rng.integers(2, 30))] = True
    glance[: int(CALIBRATION_S * fps)] = False
    xy[glance, LM.NOSE, 0] += 60
    vis[glance, LM.RIGHT_EAR] = 0.2

    detected = rng.random(n) > 0.03
    for start in rng.choice(n, max(1, n // 60000), replace=False):  # away for 1-10 minutes
        detected[start : start + int(rng.uniform(60, 600) * fps)] = False
    skipped = rng.random(n) < 0.001
    detected[: int(CALIBRATION_S * fps)] = True
    skipped[: int(CALIBRATION_S * fps)] = False
    detected &= ~skipped
    world = base_world + 0.005 * rng.standard_normal((n, NUM_LANDMARKS, 3), dtype=np.float32)
    z = 20.0 * rng.standard_normal((n, NUM_LANDMARKS), dtype=np.float32)
    xy[~detected] = np.nan
    z[~detected] = np.nan
    world[~detected] = np.nan
    vis[~detected] = 0.0

    def f32(a: np.ndarray) -> np.ndarray:
        return a.astype(np.float32).astype(float)

    batch = LandmarkBatch(
        xy=f32(xy), z=f32(z), visibility=f32(vis), world=f32(world), detected=detected
    )
    width = np.where(skipped, 0, 640)
    return LandmarkLog(
        frame=np.arange(n),
        t_s=t,
        name=np.full(n, "desk-day.mp4", dtype=object),
        skip_reason=np.where(skipped, "cannot decode frame", "").astype(object),
        width=width,
        height=np.where(skipped, 0, 480),
        landmarks=batch,
        model_seconds=n * 0.03,
    )


def _head(log: LandmarkLog, stop: int) -> LandmarkLog:
    b = log.landmarks
    return LandmarkLog(
        frame=log.frame[:stop],
        t_s=log.t_s[:stop],
        name=log.name[:stop],
        skip_reason=log.skip_reason[:stop],
        width=log.width[:stop],
        height=log.height[:stop],
        landmarks=LandmarkBatch(
            xy=b.xy[:stop],
            z=b.z[:stop],
            visibility=b.visibility[:stop],
            world=b.world[:stop],
            detected=b.detected[:stop],
        ),
    )


def rescore_once(path: Path, options: ScoringOptions) -> dict:
    """What `posturecam rescore` computes: load, then metrics, judgement, states and events."""
    t0 = time.perf_counter()
    log, _meta = recording.load(path)
    t1 = time.perf_counter()
    scored = score(log, options)  # timed alone for the breakdown; analyse() repeats it
    t2 = time.perf_counter()
    analysis = analyse(log, options)
    t3 = time.perf_counter()
    verdict = analysis.scored.judgement
    assert verdict is not None
    del scored
    return {
        "load_s": t1 - t0,
        "score_s": t2 - t1,
        "follow_s": max(0.0, (t3 - t2) - (t2 - t1)),  # states + coached events
        "total_s": (t1 - t0) + (t3 - t2),
        "frames": len(log),
        "alerts": sum(e["type"] == "alert" for e in analysis.events),
        "events": len(analysis.events),
        "frames_with_issues": int(np.count_nonzero(verdict.issues != "")),
        "share_slouched": float(np.nanmean(verdict.slouched)),
    }


def time_csv(log: LandmarkLog, options: ScoringOptions, out: Path) -> float:
    """Seconds to write frames.csv for ``log`` (already analysed)."""
    columns = analyse(log, options).columns
    t0 = time.perf_counter()
    write_frames_csv(out, columns)
    return time.perf_counter() - t0


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=1_000_000, help="frames in the recording")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds (median reported)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--csv-frames",
        type=int,
        default=100_000,
        help="also time writing frames.csv for this many frames (0: skip)",
    )
    args = ap.parse_args(argv)
    if args.frames < 1000 or args.rounds < 1 or args.csv_frames < 0:
        ap.error("--frames must be >= 1000, --rounds >= 1 and --csv-frames >= 0")
    return args


def _timed_rounds(path: Path, options: ScoringOptions, rounds: int) -> list[dict]:
    runs = []
    columns = ("round", "load s", "score s", "follow s", "total s", "frames/s")
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, (5, 8, 8, 9, 8, 10), strict=True)))
    for r in range(rounds):
        run = rescore_once(path, options)
        runs.append(run)
        print(
            f"{r + 1:>5} {run['load_s']:8.3f} {run['score_s']:8.3f} {run['follow_s']:9.3f} "
            f"{run['total_s']:8.3f} {run['frames'] / run['total_s']:10.0f}"
        )
    return runs


def _summary(args: argparse.Namespace, runs: list[dict], saved: dict) -> dict:
    """The medians, printed, and the JSON line's content."""
    load_s, score_s, follow_s, total_s = (
        median([x[k] for x in runs]) for k in ("load_s", "score_s", "follow_s", "total_s")
    )
    fps = args.frames / total_s
    last = runs[-1]
    print(
        f"median: load {load_s:.3f} s, score {score_s:.3f} s, follow {follow_s:.3f} s, "
        f"total {total_s:.3f} s = {fps:,.0f} frames/s (target {TARGET_FRAMES_PER_S:,}: "
        f"{'met' if fps >= TARGET_FRAMES_PER_S else 'NOT met'})"
    )
    print(
        f"content: {last['frames_with_issues'] / args.frames:.0%} of frames with issues, "
        f"{last['share_slouched']:.0%} of decided frames slouched, {last['alerts']} alerts, "
        f"{last['events']} events"
    )
    csv_s = saved["csv_s"]
    if csv_s is not None:
        n_csv = min(args.csv_frames, args.frames)
        print(f"writing frames.csv (not in the total): {n_csv} frames in {csv_s:.2f} s")
    size = saved["size"]
    return {
        "benchmark": "rescore_speed",
        "frames": args.frames,
        "rounds": args.rounds,
        "load_s": round(load_s, 4),
        "score_s": round(score_s, 4),
        "follow_s": round(follow_s, 4),
        "total_s": round(total_s, 4),
        "frames_per_s": round(fps),
        "target_frames_per_s": TARGET_FRAMES_PER_S,
        "meets_target": fps >= TARGET_FRAMES_PER_S,
        "recording_bytes": size,
        "bytes_per_frame": round(size / args.frames, 1),
        "save_s": round(saved["save_s"], 3),
        "alerts": last["alerts"],
        "events": last["events"],
        "share_frames_with_issues": round(last["frames_with_issues"] / args.frames, 4),
        "csv_frames": min(args.csv_frames, args.frames) if csv_s is not None else 0,
        "csv_write_s": round(csv_s, 3) if csv_s is not None else None,
    }


def _save(log: LandmarkLog, path: Path) -> dict:
    t0 = time.perf_counter()
    recording.save(path, log, {"source": "desk-day.mp4", "benchmark": "rescore_speed"})
    save_s = time.perf_counter() - t0
    size = path.stat().st_size
    print(
        f"saved {path.name}: {size / 1e6:.1f} MB ({size / len(log):.0f} bytes/frame) "
        f"in {save_s:.2f} s"
    )
    return {"save_s": save_s, "size": size}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    t0 = time.perf_counter()
    log = synthetic_log(args.frames, seed=args.seed)
    calib = _head(log, int(CALIBRATION_S * FPS))
    profile = calibrate(calib, "bench", "desk-day.mp4")
    options = ScoringOptions(baseline=ProfileBaseline(profile, "bench"))
    print(
        f"synthetic recording: {args.frames} frames at {FPS:g} fps "
        f"({(log.t_s[-1] - log.t_s[0]) / 3600:.1f} h), built in {time.perf_counter() - t0:.1f} s"
    )
    with tempfile.TemporaryDirectory(prefix="posturecam-rescore-") as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / RECORDING
        saved = _save(log, path)
        saved["csv_s"] = None
        if args.csv_frames:
            head = _head(log, min(args.csv_frames, len(log)))
            saved["csv_s"] = time_csv(head, options, tmp / "f.csv")
        del log, calib
        runs = _timed_rounds(path, options, args.rounds)
    print(json.dumps(_summary(args, runs, saved)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
