"""Render the desktop app's windows offscreen to PNG files for the README.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [--out docs/images]

The setup window is fed from sample_frames/hopper (the real model draws its
landmarks; set POSTURECAM_MODEL); the dashboard reads a session log made up here
for the picture (a morning of samples), in a temporary folder. Nothing from
../shared is used and no camera is opened.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from posturecam.core.types import Frame  # noqa: E402
from posturecam.frames.capture import OK, Health  # noqa: E402


class SampleCamera:
    """sample_frames/<clip> played as a camera (the LiveCapture methods the setup uses)."""

    def __init__(self, folder: Path, start: int = 0) -> None:
        self.files = sorted(folder.glob("frame_*.jpg"))[start:]
        self.index = 0
        self.health = Health(OK, "ok")

    def start(self) -> None:
        pass

    def latest(self, timeout: float) -> Frame | None:
        time.sleep(0.02)
        path = self.files[self.index % len(self.files)]
        image = cv2.imread(str(path))
        frame = Frame(image, self.index * 0.5, self.index, path.name)
        self.index += 1
        return frame

    def release(self) -> None:
        pass

    close = release


def pump(seconds: float) -> None:
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def fill_log(path: Path) -> float:
    """A made-up morning: upright, a slump with one alert, away, upright; and earlier days."""
    from posturecam.live.sessionlog import SessionLog

    today = datetime.combine(datetime.now().date(), datetime.min.time())
    start = (today + timedelta(hours=9)).timestamp()
    plan = (["upright"] * 1500 + ["drifting"] * 60 + ["slouching"] * 240 + ["alert"] * 120
            + ["upright"] * 900 + ["away"] * 300 + ["upright"] * 1200 + ["drifting"] * 90
            + ["upright"] * 600)  # fmt: skip
    with SessionLog.open(path) as log:
        for back, share in ((1, 0.81), (2, 0.74), (3, 0.0), (4, 0.69), (5, 0.77), (8, 0.6),
                            (12, 0.72), (20, 0.66)):  # fmt: skip
            if not share:
                continue
            sid = log.start_session(start - back * 86400, "laptop", "0", {})
            for k in range(600):
                state = "upright" if k < share * 600 else "slouching"
                log.add_sample(sid, start - back * 86400 + k * 6, k * 6.0, 6.0, state, 80.0, True)
            log.end_session(sid, start - back * 86400 + 3600, "quit", {})
        sid = log.start_session(start, "laptop", "0", {})
        for k, state in enumerate(plan):
            levels = {"upright": 86.0, "drifting": 62.0}
            score = None if state == "away" else levels.get(state, 38.0)
            if score is not None:
                score += 4.0 * ((k // 37) % 3 - 1)
            log.add_sample(sid, start + k, float(k), 1.0, state, score, state != "away")
        data = {
            "message": "For about 5 min your head has dropped. Sit tall: ears over shoulders.",
            "stretches": ["chin-tuck"],
        }
        log.add_event(sid, start + 1860, 1860.0, "alert", data)
        log.end_session(sid, start + len(plan), "quit", {})
    return start + len(plan) + 60


def real_tray(path: Path) -> Path | None:
    """The icon on a real tray: Xvfb, trayer and a session bus (skipped when absent)."""
    sys.path.insert(0, str(ROOT / "tests" / "app"))
    from tray_child import missing_tools, run_child, tray_host

    if missing_tools():
        print(f"skipped tray-real.png: needs {', '.join(missing_tools())}")
        return None
    with tray_host() as env:
        done = run_child(path, env)
    if done.returncode != 0 or not path.is_file():
        print(f"skipped tray-real.png: {done.stdout.strip()} {done.stderr.strip()[-900:]}")
        return None
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPixmap

    shot = QPixmap(str(path))
    shot.scaled(shot.width() * 2, shot.height() * 2, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation).save(str(path))  # fmt: skip
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "images"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtGui import QColor, QPainter, QPixmap
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["posturecam-screenshots"])
    home = Path(tempfile.mkdtemp(prefix="posturecam-shots-"))
    os.environ["POSTURECAM_HOME"] = str(home)
    os.environ["XDG_CONFIG_HOME"] = str(home / "xdg")
    written: list[Path] = []
    real = real_tray(out / "tray-real.png")  # first: a child process on its own X display
    if real is not None:
        written.append(real)

    def save(pixmap: QPixmap, name: str) -> None:
        path = out / name
        pixmap.save(str(path))
        written.append(path)

    # Tray icons, one per state, with their labels.
    from posturecam.app.icons import state_pixmap
    from posturecam.app.presenter import LOOKS

    states = list(LOOKS)
    strip = QPixmap(250 * 3, 40 * ((len(states) + 2) // 3))
    strip.fill(QColor("#f4f4f4"))
    p = QPainter(strip)
    for k, state in enumerate(states):
        x, y = 250 * (k % 3), 40 * (k // 3)
        p.drawPixmap(x + 6, y + 6, state_pixmap(state, 28))
        p.drawText(x + 40, y + 25, LOOKS[state].label)
    p.end()
    save(strip, "tray-icons.png")

    # The tray menu, in the fallback window's state (offscreen has no tray).
    from posturecam.app.presenter import TrayModel
    from posturecam.app.tray import Actions, TrayUI

    def noop(*_a: object) -> None:
        return None

    model = TrayModel(state="upright", share_upright=0.78, profile="laptop")
    ui = TrayUI(model, Actions(*[noop] * 10, profiles=lambda: ["docked", "laptop"]),
                tray_available=False)  # fmt: skip
    ui.refresh()
    ui.menu.adjustSize()
    save(ui.menu.grab(), "tray-menu.png")
    assert ui.window is not None
    ui.window.adjustSize()
    save(ui.window.grab(), "fallback-window.png")

    # The dashboard from the made-up log.
    from posturecam.app.dashboard import DashboardWindow

    log_path = home / "sessions.sqlite3"
    now = fill_log(log_path)
    dash = DashboardWindow(log_path, now=now)
    dash.show()
    pump(0.2)
    dash.alerts.setCurrentRow(0)
    pump(0.1)
    save(dash.grab(), "dashboard.png")
    dash.close()

    # Settings.
    from posturecam.app.settings_dialog import SettingsDialog

    (home / "config.toml").write_text("# my settings\n[monitor]\nrate_hz = 2\n")
    dialog = SettingsDialog(home / "config.toml", platform="xcb")
    dialog.adjustSize()
    save(dialog.grab(), "settings.png")

    # The setup window on sample frames with the real model's landmarks.
    from posturecam.app.setup import SetupWindow
    from posturecam.frames import model as model_mod
    from posturecam.frames.pose import VIDEO, MediaPipePose
    from posturecam.settings import Settings

    resolved = model_mod.resolve(None, model_mod.DEFAULT_VARIANT)
    window = SetupWindow(
        Settings(), home / "config.toml",
        lambda _s: SampleCamera(ROOT / "sample_frames" / "hopper"),
        lambda: MediaPipePose(resolved.path, VIDEO),
        cameras=lambda s: [s, "1"],
    )  # fmt: skip
    window.resize(520, 620)
    window.show()
    deadline = time.monotonic() + 30
    while window.view.landmarks is None and time.monotonic() < deadline:
        pump(0.1)
    pump(0.5)
    save(window.grab(), "setup.png")
    window.close()

    # The glow on a plain "desktop".
    from posturecam.app.glow import GlowWindow

    glow = GlowWindow(app.primaryScreen())
    glow.setGeometry(0, 0, 480, 270)
    glow.level = 0.9
    desk = QPixmap(480, 270)
    desk.fill(QColor("#3c4a5a"))
    p = QPainter(desk)
    p.fillRect(60, 40, 360, 190, QColor("#fafafa"))
    p.drawPixmap(0, 0, glow.grab())
    p.end()
    save(desk, "glow.png")

    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
