"""A monitor in a child process with a fake camera and model, for signal and control tests.

Run as ``python tests/monitor_child.py``; prints ``camera started`` and
``camera released`` as the fake camera is taken and let go.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from factories import FakePose, front_pose

from posturecam import profiles
from posturecam.core.types import Frame
from posturecam.frames.capture import OK, Health
from posturecam.frames.engine import run_pose
from posturecam.live import launch as live
from posturecam.live.calibration import calibrate
from posturecam.settings import MonitorSettings, Settings

IMG = np.zeros((48, 64, 3), np.uint8)


class ChildCamera:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.index = 0
        self.health = Health(OK, "ok")

    def start(self) -> None:
        print("camera started", flush=True)

    def release(self) -> None:
        print("camera released", flush=True)

    close = release

    def latest(self, timeout: float) -> Frame:
        time.sleep(0.02)
        self.index += 1
        return Frame(IMG, time.monotonic() - self.t0, self.index, "up")


def pose(_frame: Frame):
    return front_pose()


def main() -> None:
    frames = [Frame(IMG, i * 0.2, i, "up") for i in range(40)]
    profile = calibrate(run_pose(frames, FakePose(pose)), "child", "fake")
    profiles.save(profile, "child")
    cfg = Settings(monitor=MonitorSettings(profile="child", rate_hz=20.0, max_rate_hz=20.0,
                                           notify=False))  # fmt: skip
    live.run_monitor(cfg, lambda mode: FakePose(pose), capture=ChildCamera())
    # What a day-long monitor carries in memory: none of the research or plotting stack.
    heavy = ("matplotlib", "pyarrow", "dask", "mediapipe.tasks.python.audio")
    print("heavy modules:", ",".join(m for m in heavy if m in sys.modules) or "none", flush=True)
    print("monitor exited cleanly", flush=True)


if __name__ == "__main__":
    main()
