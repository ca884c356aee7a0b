"""Run inside a real X display with a tray host (see test_app_e2e_tray.py): the app's tray
icon on the real system tray, fed by the real Monitor on a fake camera and model.

    python tests/tray_child.py OUT.png    -> prints "tray ok <tooltip first line>"
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(out: str) -> int:
    import os
    import tempfile

    os.environ.setdefault("POSTURECAM_HOME", tempfile.mkdtemp(prefix="posturecam-tray-"))
    from posturecam.app.qtenv import prepare

    prepare()  # cv2 (imported by posturecam) points Qt at its own plugins
    from PySide6.QtWidgets import QApplication
    from qtfake import (
        RecordingNotifier,
        fake_start_for,
        fast_settings,
        pump,
        save_profile,
        wait_until,
    )

    from posturecam.app.controller import AppController

    app = QApplication(["posturecam"])
    app.setQuitOnLastWindowClosed(False)
    save_profile()
    captures: list = []
    done: list = []
    controller = AppController(
        fast_settings(),
        fake_start_for(captures, RecordingNotifier(), [("up", 10)]),
        on_quit=lambda: done.append(1),
    )
    ui = controller.ui
    if ui.tray is None:
        print("no tray: the tray host did not register")
        return 1
    controller.start()
    wait_until(lambda: controller.model.state == "upright", 15, "upright")
    pump(1.0)  # the tray host embeds and paints the icon
    screen = app.primaryScreen()
    geometry = screen.geometry()
    shot = screen.grabWindow(0, geometry.width() - 160, 0, 160, 40)
    shot.save(out)
    print("tray ok", ui.tray.isVisible(), ui.tray.toolTip().splitlines()[0], flush=True)
    controller.quit()
    wait_until(lambda: done, 10, "quit")
    return 0 if captures and captures[0].closed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))


def start_xvfb(size: str = "800x600x24"):
    """Xvfb on a free display number; returns (process, ":N") once its socket is there.

    (``-displayfd`` was flaky here: after some tests Xvfb could not write the number.)
    """
    import os
    import subprocess
    import time

    for number in range(91, 140):
        if os.path.exists(f"/tmp/.X{number}-lock") or os.path.exists(f"/tmp/.X11-unix/X{number}"):
            continue
        proc = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", size, "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(f"/tmp/.X11-unix/X{number}"):
                time.sleep(0.2)
                return proc, f":{number}"
            time.sleep(0.05)
        proc.terminate()
        proc.wait(5)
    raise RuntimeError("no free X display for Xvfb")
