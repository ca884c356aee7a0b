"""The app's tray icon on a real system tray (Xvfb, the trayer tray host, a session bus),
fed by the real Monitor on a fake camera and model; and the tray host itself, for
test_app_e2e_tray.py and scripts/screenshots.py.

    python tests/app/tray_child.py OUT.png    -> prints "tray ok <visible> <tooltip first line>"
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOLS = ("Xvfb", "trayer", "dbus-run-session")
TRAYER = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width",
          "120", "--heighttype", "pixel", "--height", "28", "--transparent", "false"]  # fmt: skip


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def start_xvfb(size: str = "800x600x24") -> tuple[subprocess.Popen, str]:
    """Xvfb on a free display number; returns (process, ":N") once its socket is there.

    (``-displayfd`` was flaky here: after some tests Xvfb could not write the number.)
    """
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


@contextlib.contextmanager
def tray_host() -> Iterator[dict[str, str]]:
    """Xvfb and trayer for as long as the block runs; yields the environment to run Qt in."""
    xvfb, display_name = start_xvfb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}  # cv2 set some
    env.update(DISPLAY=display_name, QT_QPA_PLATFORM="xcb")
    tray = subprocess.Popen(TRAYER, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        yield env
    finally:
        for proc in (tray, xvfb):
            proc.terminate()
            proc.wait(5)


def run_child(out: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """This file as a child on a private session bus, inside ``tray_host()``'s display."""
    return subprocess.run(
        ["dbus-run-session", "--", sys.executable, str(Path(__file__)), str(out)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _wait_for(predicate: Callable[[], bool], seconds: float) -> None:
    """Run Qt's events until ``predicate()`` (no pytest-qt in this child process)."""
    from PySide6.QtTest import QTest

    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s")
        QTest.qWait(10)


def main(out: str) -> int:
    import tempfile

    sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parents[1])]
    os.environ.setdefault("POSTURECAM_HOME", tempfile.mkdtemp(prefix="posturecam-tray-"))
    from posturecam.app.qtenv import prepare

    prepare()  # cv2 (imported by posturecam) points Qt at its own plugins
    from appfakes import RecordingNotifier, fake_start_for, fast_settings, save_profile
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

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
    _wait_for(lambda: controller.model.state == "upright", 15)
    QTest.qWait(1000)  # the tray host embeds and paints the icon
    geometry = app.primaryScreen().geometry()
    shot = app.primaryScreen().grabWindow(0, geometry.width() - 160, 0, 160, 40)
    shot.save(out)
    print("tray ok", ui.tray.isVisible(), ui.tray.toolTip().splitlines()[0], flush=True)
    controller.quit()
    _wait_for(lambda: bool(done), 10)
    return 0 if captures and captures[0].closed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
