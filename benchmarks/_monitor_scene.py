"""Child process of benchmarks/monitor_cpu.py: the real monitor watching a stand-in camera.

    python benchmarks/_monitor_scene.py SCENE --shoulder-y Y --ear-y Y [--calibrate] [--b-seconds S]

Runs ``posturecam.live.launch.run_monitor`` exactly as ``posturecam monitor`` does
(settings from $POSTURECAM_HOME, the real MediaPipe model from
$POSTURECAM_MODEL), with the camera replaced by ``_scenes.SceneCamera``.
``--calibrate`` first measures the profile on the scene's first 8 s (and
exits). The last line printed is JSON: the stand-in's own CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scenes import Part, Scene, SceneCamera, encoded_clip, scenes

from posturecam.frames.capture import LiveCapture
from posturecam.frames.pose import MediaPipePose
from posturecam.live import launch as live
from posturecam.settings import MonitorSettings, Settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scene")
    ap.add_argument("--shoulder-y", type=float, required=True)
    ap.add_argument("--ear-y", type=float, required=True)
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--b-seconds", type=float, default=600.0)
    args = ap.parse_args()
    scene = scenes(args.b_seconds)[args.scene]
    if args.calibrate:  # 12 s of the scene's upright start: the monitor calibrates on 8 s
        first = scene.parts[0]
        scene = Scene(scene.name, "calibration", (Part(12.0, first.frames, moving=first.moving),))
    model = os.environ["POSTURECAM_MODEL"]
    camera = SceneCamera(scene, encoded_clip(), args.shoulder_y, args.ear_y)
    capture = LiveCapture(lambda: camera, "stand-in camera", max_side=640)
    cfg = Settings(monitor=MonitorSettings(profile="bench", notify=False))
    live.run_monitor(
        cfg, lambda mode: MediaPipePose(model, mode), recalibrate=args.calibrate, capture=capture
    )
    print(json.dumps({"standin_cpu_s": round(camera.own_cpu_s, 3)}), flush=True)


if __name__ == "__main__":
    main()
