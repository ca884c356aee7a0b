"""`posturecam app` as a user starts it: the real model, a video standing in for the camera,
Qt offscreen; it says when it watches, and SIGTERM (a quit) closes the session like Ctrl-C."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import cv2
import pytest

pytest.importorskip("PySide6.QtWidgets")

from conftest import ROOT, SAMPLE_FRAMES


def make_video(path, seconds: float = 14.0, fps: float = 10.0) -> None:
    """The upright start of sample_frames/hopper (its first 10 s) as a 10 frames/s video."""
    files = sorted((SAMPLE_FRAMES / "hopper").glob("frame_*.jpg"))[:20]
    first = cv2.imread(str(files[0]))
    h, w = first.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for k in range(round(seconds * fps)):
        writer.write(cv2.imread(str(files[(k // 5) % len(files)])))
    writer.release()


@pytest.mark.integration
def test_the_app_watches_with_the_real_model_and_quits_cleanly(model_path, tmp_path):
    video = tmp_path / "webcam.avi"
    make_video(video)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(POSTURECAM_HOME=str(tmp_path / "home"), POSTURECAM_MODEL=str(model_path),
               QT_QPA_PLATFORM="offscreen")  # fmt: skip
    cli = [sys.executable, "-m", "posturecam"]
    subprocess.run([*cli, "calibrate", "--source", str(video), "--seconds", "6", "--profile",
                    "e2e", "--no-progress"], env=env, check=True, capture_output=True,
                   cwd=ROOT, timeout=120)  # fmt: skip
    child = subprocess.Popen(
        [*cli, "app", "--source", str(video), "--profile", "e2e", "--no-tray"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not any("watching (" in line for line in lines):
        assert child.poll() is None, "".join(lines)
        assert time.monotonic() < deadline, "".join(lines)
        time.sleep(0.1)
    child.send_signal(signal.SIGTERM)
    assert child.wait(30) == 0
    reader.join(5)
    out = "".join(lines)
    assert "watching (upright after" in out and "Traceback" not in out
    db = sqlite3.connect(tmp_path / "home" / "sessions.sqlite3")
    ((reason, summary),) = db.execute("SELECT end_reason, summary FROM sessions").fetchall()
    db.close()
    assert reason == "quit" and '"frames"' in summary
