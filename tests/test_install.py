"""The install gives one consistent OpenCV and a working console script."""

import importlib.metadata as md
import subprocess
import sys
from pathlib import Path

import cv2

OPENCV_DISTS = (
    "opencv-python",
    "opencv-contrib-python",
    "opencv-python-headless",
    "opencv-contrib-python-headless",
)


def _installed(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def test_one_consistent_cv2():
    installed = {d: v for d in OPENCV_DISTS if (v := _installed(d))}
    assert installed, "no OpenCV distribution installed"
    # Several distributions write into the same cv2/ folder; if their versions
    # differ, cv2 is a mix of two builds. Same version for all, matching cv2.
    base = {v.rsplit(".", 1)[0] if v.count(".") >= 3 else v for v in installed.values()}
    assert len(base) == 1, f"mixed OpenCV installs: {installed}"
    assert cv2.__version__ in next(iter(base)), (cv2.__version__, installed)
    # The module that imports belongs to an installed distribution's files.
    cv2_file = Path(cv2.__file__).resolve()
    owners = [
        d
        for d in installed
        if any(Path(f.locate()).resolve() == cv2_file for f in (md.files(d) or []))
    ]
    assert owners, f"{cv2_file} belongs to none of {sorted(installed)}"
    # And it works for what we use it for.
    import numpy as np

    ok, buf = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    assert ok and cv2.imdecode(buf, cv2.IMREAD_COLOR).shape == (8, 8, 3)


def test_mediapipe_offers_the_tasks_api_and_pose_uses_only_it():
    # In a fresh interpreter: pose.py defers MediaPipe's package inits in this one.
    # (Which modules may import mediapipe at all: tests/test_layers.py.)
    check = "from mediapipe.tasks.python import vision; assert hasattr(vision, 'PoseLandmarker')"
    subprocess.run([sys.executable, "-c", check], check=True, capture_output=True)
    pose = Path(__file__).resolve().parents[1] / "posturecam" / "frames" / "pose.py"
    assert "solutions" not in pose.read_text()


def test_python_dash_m_and_console_script_agree():
    out = subprocess.run(
        [sys.executable, "-m", "posturecam", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("posturecam ")
