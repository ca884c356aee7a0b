"""CPU, memory and alert delay of the live monitor, headless, on a 640x480 video source.

The video plays at real time as a stand-in webcam: upright for ``--slouch-at``
seconds, then slumped until the end. The monitor runs with default settings
(2 frames/s while upright, persistence 60 s) in a child process, exactly as
a user starts it; the child's CPU time comes from /proc (steady state, after
start-up) and from wait4 (everything), its peak RSS from wait4. The alert
delay is the first alert's frame time in the session log minus the slouch
start. A reference measured in the same run, the model's own CPU per frame
times the sampling rate, says how much of the cost is the model.

    python benchmarks/monitor_cpu.py [--seconds 90] [--slouch-at 20]

The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, letterbox, ping_pong, sample_images

TARGET_CPU = 0.08
TARGET_RSS_MB = 400
PERSISTENCE_S = 60.0  # TemporalSettings default
CLK_TCK = os.sysconf("SC_CLK_TCK")


def make_video(path: Path, seconds: float, slouch_at: float, fps: float = 15.0) -> None:
    """Upright sample frames (0-10 s of hopper) then slumped ones (20-100 s), 640x480 MJPG."""
    images = [letterbox(img, 640, 480) for img in sample_images()]
    upright = images[:20]  # t 0-10 s in sample_frames/hopper/expected.json
    slumped = images[40:200]  # t 20-100 s
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    n_up = round(slouch_at * fps)
    n_all = round(seconds * fps)
    # Each sample frame holds for 0.5 s, as in the 2 fps sample set.
    hold = max(1, round(fps / 2))
    up_order = ping_pong(len(upright), n_up // hold + 1)
    down_order = ping_pong(len(slumped), (n_all - n_up) // hold + 1)
    for k in range(n_all):
        if k < n_up:
            writer.write(upright[up_order[k // hold]])
        else:
            writer.write(slumped[down_order[(k - n_up) // hold]])
    writer.release()


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, all threads


def model_cpu_per_frame(video: Path, model: str, frames: int = 60) -> float:
    """Reference: CPU seconds per frame of a bare PoseLandmarker VIDEO loop, same frames."""
    sys.path.insert(0, str(ROOT))
    from posturecam.pose import VIDEO, MediaPipePose
    from posturecam.types import Frame

    cap = cv2.VideoCapture(str(video))
    images = []
    while len(images) < frames:
        ok, img = cap.read()
        if not ok:
            break
        images.append(img)
    cap.release()
    with MediaPipePose(model, VIDEO) as pose:
        pose.detect(Frame(images[0], 0.0, 0, "warm"))
        start = time.process_time()
        for i, img in enumerate(images[1:], 1):
            pose.detect(Frame(img, i * 0.5, i, "ref"))
        return (time.process_time() - start) / (len(images) - 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=90.0, help="video length (>= 60)")
    ap.add_argument("--slouch-at", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=10.0, help="start-up excluded from steady CPU")
    args = ap.parse_args()
    model = os.environ.get(
        "POSTURECAM_MODEL", str(ROOT.parent / "shared/models/pose_landmarker_full.task")
    )

    with tempfile.TemporaryDirectory(prefix="posturecam-cpu-") as tmp:
        tmp_path = Path(tmp)
        video = tmp_path / "webcam.avi"
        make_video(video, args.seconds, args.slouch_at)
        env = {**os.environ, "POSTURECAM_HOME": str(tmp_path / "home"), "POSTURECAM_MODEL": model}
        cli = [sys.executable, "-m", "posturecam"]
        subprocess.run(
            [*cli, "calibrate", "--source", str(video), "--seconds", "8", "--profile", "bench",
             "--no-progress"],
            env=env, check=True, capture_output=True, cwd=ROOT,
        )  # fmt: skip
        reference = model_cpu_per_frame(video, model)

        started = time.monotonic()
        log_out = open(tmp_path / "monitor.out", "w+")  # noqa: SIM115 - read back below
        child = subprocess.Popen(
            [*cli, "monitor", "--source", str(video), "--profile", "bench", "--no-notify"],
            env=env, cwd=ROOT, stdout=log_out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        warm_cpu = warm_t = end_cpu = end_t = None
        while True:
            # wait4 (not poll) reaps the child, and gives its exact CPU totals and peak RSS.
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.25)
            now = time.monotonic()
            cpu = cpu_seconds(child.pid)
            if cpu is None:
                continue
            if warm_cpu is None and now - started >= args.warmup:
                warm_cpu, warm_t = cpu, now
            elif warm_cpu is not None:
                end_cpu, end_t = cpu, now
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        log_out.seek(0)
        output = log_out.read()
        log_out.close()
        if child.returncode != 0:
            sys.exit(f"monitor failed ({child.returncode}):\n{output}")
        db = sqlite3.connect(tmp_path / "home" / "sessions.sqlite3")
        alert = db.execute("SELECT min(t_s) FROM events WHERE type = 'alert'").fetchone()[0]
        samples = db.execute("SELECT count(*) FROM samples").fetchone()[0]
        db.close()

    steady = (
        (end_cpu - warm_cpu) / (end_t - warm_t)
        if warm_cpu is not None and end_cpu is not None and end_t > warm_t
        else None
    )
    total_cpu = usage.ru_utime + usage.ru_stime
    peak_mb = usage.ru_maxrss / 1024
    delay = alert - args.slouch_at if alert is not None else None
    floor = 2.0 * reference
    print(
        f"video: {args.seconds:g} s, 640x480, slouch from {args.slouch_at:g} s; wall {wall:.1f} s"
    )
    print(f"steady CPU: {steady:.3f} of a core (target <= {TARGET_CPU})")
    print(f"CPU incl. start-up: {total_cpu / wall:.3f} of a core ({total_cpu:.1f} s)")
    print(f"model alone at 2 frames/s (reference): {floor:.3f} of a core "
          f"({reference * 1000:.1f} ms CPU per frame)")  # fmt: skip
    print(f"peak RSS: {peak_mb:.0f} MB (target <= {TARGET_RSS_MB})")
    if delay is not None:
        print(f"alert {delay:.1f} s after the slouch began (target <= {PERSISTENCE_S + 1:g})")
    else:
        print("no alert")
    print(f"session log samples: {samples}")
    print("monitor output (last lines):", *output.strip().splitlines()[-3:], sep="\n  ")
    print(
        json.dumps(
            {
                "benchmark": "monitor_cpu",
                "wall_s": round(wall, 1),
                "cpu_cores": round(steady, 4) if steady is not None else None,
                "cpu_cores_incl_startup": round(total_cpu / wall, 4),
                "model_reference_cores_at_2fps": round(floor, 4),
                "cpu_ratio_to_reference": round(steady / floor, 2) if steady else None,
                "peak_rss_mb": round(peak_mb, 1),
                "alert_delay_s": round(delay, 2) if delay is not None else None,
                "persistence_s": PERSISTENCE_S,
                "samples_logged": samples,
                "meets": {
                    "cpu": steady is not None and steady <= TARGET_CPU,
                    "rss": peak_mb <= TARGET_RSS_MB,
                    "alert": delay is not None and delay <= PERSISTENCE_S + 1,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
