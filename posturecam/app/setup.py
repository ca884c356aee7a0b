"""The guided setup: choose the camera, see the framing hints, calibrate after a countdown,
optionally show your usual slouch, read the result, choose nudges and start at login.

The preview is shown, never stored; calibration uses the landmarks the preview
already found. A failed calibration says why and writes nothing.
"""

from __future__ import annotations

import glob
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QColor, QFont, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from posturecam import profiles
from posturecam.app import autostart, configfile
from posturecam.app.painting import painter
from posturecam.app.preview import PreviewWorker, Seen, landmark_log
from posturecam.core.baseline import WINDOW_S
from posturecam.core.types import LM, Landmarks
from posturecam.errors import PosturecamError
from posturecam.frames.capture import LiveCapture
from posturecam.frames.pose import PoseEstimator
from posturecam.live.calibration import add_slouch, calibrate
from posturecam.profiles import Profile
from posturecam.settings import Settings

PREVIEW, COUNTDOWN, UPRIGHT, SLOUCH_COUNTDOWN, SLOUCH, RESULT = (
    "preview", "countdown", "upright", "slouch_countdown", "slouch", "result",
)  # fmt: skip
BONES = (
    (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER),
    (LM.LEFT_EAR, LM.LEFT_SHOULDER),
    (LM.RIGHT_EAR, LM.RIGHT_SHOULDER),
    (LM.LEFT_EAR, LM.NOSE),
    (LM.RIGHT_EAR, LM.NOSE),
)


def find_cameras(configured: str = "0") -> list[str]:
    """Camera indexes to offer: the configured source first, then /dev/video* on Linux."""
    found = [configured]
    if sys.platform.startswith("linux"):
        for path in sorted(glob.glob("/dev/video*")):
            m = re.fullmatch(r"/dev/video(\d+)", path)
            if m:
                found.append(m.group(1))
    else:
        found += ["0", "1"]
    return list(dict.fromkeys(found))


class PreviewView(QWidget):
    """The camera picture with the landmarks the monitor uses and a large caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.landmarks: Landmarks | None = None
        self.caption = ""
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_frame(self, image: QImage | None, landmarks: Landmarks | None) -> None:
        self.image, self.landmarks = image, landmarks
        self.update()

    def set_caption(self, text: str) -> None:
        self.caption = text
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        with painter(self) as p:
            p.fillRect(self.rect(), QColor("#202020"))
            if self.image is not None:
                self._paint_frame(p)
            if self.caption:
                font = QFont()
                font.setPixelSize(max(18, self.height() // 8))
                font.setBold(True)
                p.setFont(font)
                p.setPen(QColor("white"))
                p.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter, self.caption)

    def _paint_frame(self, p: QPainter) -> None:
        assert self.image is not None
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        ox, oy = (self.width() - iw * scale) / 2, (self.height() - ih * scale) / 2
        p.drawImage(QRectF(ox, oy, iw * scale, ih * scale), self.image)
        lm = self.landmarks
        if lm is None or not lm.detected:
            return

        def at(i: LM) -> QPointF:
            x, y = lm.xy[i]
            return QPointF(ox + x * scale, oy + y * scale)

        p.setPen(QPen(QColor("#80d8ff"), 3))
        for a, b in BONES:
            if lm.visibility[a] >= 0.5 and lm.visibility[b] >= 0.5:
                p.drawLine(at(a), at(b))
        p.setBrush(QColor("#ffffff"))
        for i in (LM.NOSE, LM.LEFT_EAR, LM.RIGHT_EAR, LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER):
            if lm.visibility[i] >= 0.5:
                p.drawEllipse(at(i), 4, 4)


class SetupWindow(QWidget):
    """The guided setup's one window; ``on_done`` gets the saved profile (or None) on close."""

    def __init__(
        self,
        cfg: Settings,
        cfg_path: Path,
        open_source: Callable[[str], LiveCapture],
        make_estimator: Callable[[], PoseEstimator],
        *,
        cameras: Callable[[str], list[str]] = find_cameras,
        countdown_s: int = 3,
        calibration_s: float = WINDOW_S,
        tick_ms: int = 1000,
        model_variant: str = "",
        on_done: Callable[[Profile | None], Any] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("posturecam: guided setup")
        self.cfg, self.cfg_path = cfg, cfg_path
        self.open_source, self.make_estimator = open_source, make_estimator
        self.countdown_s, self.calibration_s, self.tick_ms = countdown_s, calibration_s, tick_ms
        self.model_variant = model_variant
        self.on_done = on_done
        self.phase = PREVIEW
        self.collected: list[Seen] = []
        self.profile: Profile | None = None
        self.saved_to: Path | None = None
        self.hints: list[str] = []
        self.worker: PreviewWorker | None = None
        self._left = 0
        self._done_called = False

        self._make_widgets(cameras(cfg.monitor.source), configfile.read(cfg_path).values())
        self._lay_out()
        self.resize(560, 640)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    def _make_widgets(self, cameras: list[str], values: dict[configfile.Key, Any]) -> None:
        """The camera choice, the preview, the hints, the steps' buttons and the nudges."""
        self.camera = QComboBox()
        self.camera.addItems(cameras)
        self.camera.currentTextChanged.connect(lambda _t: self.start_preview())
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.start_preview)
        self.view = PreviewView()
        self.hint = QLabel("starting the camera…")
        self.hint.setWordWrap(True)
        self.status = QLabel("Sit as you usually do, facing the screen.")
        self.status.setWordWrap(True)
        self.calibrate_button = QPushButton("Calibrate (sit tall for 8 s)")
        self.calibrate_button.clicked.connect(self.start_calibration)
        self.slouch_button = QPushButton("Optional: now show me your usual slouch")
        self.slouch_button.clicked.connect(self.start_slouch)
        self.slouch_button.hide()
        self.notify = QCheckBox("Desktop notification when slouching lasts")
        self.notify.setChecked(bool(values[("monitor", "notify")]))
        self.glow = QCheckBox("Gentle glow on the screen edges")
        self.glow.setChecked(bool(values[("app", "glow")]))
        self.login = QCheckBox("Start posturecam at login")
        self.login.setChecked(autostart.installed())
        self.done_button = QPushButton("Done: start monitoring")
        self.done_button.clicked.connect(self.finish)
        self.done_button.setEnabled(False)

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Camera:"))
        top.addWidget(self.camera, 1)
        top.addWidget(self.retry)
        buttons = QHBoxLayout()
        buttons.addWidget(self.calibrate_button)
        buttons.addWidget(self.slouch_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        for box in (self.notify, self.glow, self.login):
            layout.addWidget(box)
        layout.addWidget(self.done_button)

    # ------------------------------------------------------------------ preview

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.worker is None:
            self.start_preview()

    def start_preview(self) -> None:
        """(Re)open the chosen camera; a busy or missing one is said, with Retry."""
        self.stop_preview()
        source = self.camera.currentText()
        self.phase = PREVIEW if self.profile is None else RESULT
        self.collected = []
        self.view.set_caption("")
        self.hint.setText(f"opening camera {source}…")
        worker = PreviewWorker(lambda: self.open_source(source), self.make_estimator, self)
        worker.on_seen.append(self._on_seen)
        worker.health.connect(self._on_health)
        worker.failed.connect(self._on_failed)
        self.worker = worker
        worker.start()

    def stop_preview(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop()
            worker.wait(5000)
            worker.deleteLater()  # owned by this window until Qt deletes it

    def _on_failed(self, message: str) -> None:
        self.hint.setText(f"{message}\nRetry, or choose another camera.")
        self.view.show_frame(None, None)

    def _on_health(self, status: str, message: str) -> None:
        self.hint.setText(
            f"camera {self.camera.currentText()}: {message}\n"
            "Retry, or choose another camera (a video call may be using it)."
        )

    def _on_seen(self, image: QImage, seen: Seen, hints: list[str]) -> None:
        self.view.show_frame(image, seen.landmarks)
        self.hints = hints
        self.hint.setText("\n".join(hints))
        if self.phase in (UPRIGHT, SLOUCH):
            self.collected.append(seen)
            span = seen.t_s - self.collected[0].t_s
            left = max(0.0, self.calibration_s - span)
            self.view.set_caption(f"{left:.0f}")
            if span >= self.calibration_s:
                self._finish_phase()

    # ------------------------------------------------------------------ calibration

    def start_calibration(self) -> None:
        self._countdown(COUNTDOWN, "Sit comfortably tall, facing the screen…")

    def start_slouch(self) -> None:
        self._countdown(SLOUCH_COUNTDOWN, "Now sit the way you do when you slouch…")

    def _countdown(self, phase: str, text: str) -> None:
        self.phase, self._left = phase, self.countdown_s
        self.status.setText(text)
        self.calibrate_button.setEnabled(False)
        self.slouch_button.setEnabled(False)
        self.done_button.setEnabled(False)
        self._timer.start(self.tick_ms)
        self._tick()

    def _tick(self) -> None:
        if self.phase not in (COUNTDOWN, SLOUCH_COUNTDOWN):
            self._timer.stop()
            return
        if self._left > 0:
            self.view.set_caption(str(self._left))
            self._left -= 1
            return
        self._timer.stop()
        self.collected = []
        self.phase = UPRIGHT if self.phase == COUNTDOWN else SLOUCH
        self.view.set_caption("hold still")

    def _finish_phase(self) -> None:
        phase, seen = self.phase, self.collected
        self.collected = []
        self.view.set_caption("")
        self.calibrate_button.setEnabled(True)
        self.slouch_button.setEnabled(True)
        try:
            log = landmark_log(seen)
            if phase == UPRIGHT:
                profile = calibrate(
                    log, self._name(), f"camera {self.camera.currentText()}", None,
                    self.model_variant, self.cfg.judge,
                )  # fmt: skip
            else:
                assert self.profile is not None
                profile = add_slouch(self.profile, log)
            self.saved_to = profiles.save(profile, self._target(), overwrite_other_view=True)
        except PosturecamError as exc:
            self.phase = RESULT if self.profile is not None else PREVIEW
            what = "Calibration" if phase == UPRIGHT else "The slouch step"
            self.status.setText(f"{what} failed: {exc}\nNothing was saved; try again.")
            self.done_button.setEnabled(self.profile is not None)
            return
        self.profile, self.phase = profile, RESULT
        self.status.setText(result_text(profile, slouch=phase == SLOUCH))
        self.slouch_button.setVisible(phase == UPRIGHT)
        self.done_button.setEnabled(True)

    def _name(self) -> str:
        return self._target().stem

    def _target(self) -> Path:
        return profiles.profile_path(self.cfg.monitor.profile)

    # ------------------------------------------------------------------ leaving

    def finish(self) -> None:
        """Save the chosen nudges and login item, close, and hand the profile over."""
        changes = {("monitor", "notify"): self.notify.isChecked()}
        if self.glow.isEnabled():
            changes[("app", "glow")] = self.glow.isChecked()
        try:
            cf = configfile.read(self.cfg_path)
            if not cf.error:
                configfile.save(cf, {**changes, ("monitor", "source"): self.camera.currentText()})
            if self.login.isChecked() != autostart.installed():
                autostart.install() if self.login.isChecked() else autostart.remove()
        except PosturecamError as exc:
            self.status.setText(f"{exc}\nThe profile is saved; the other choices were not.")
            return
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        self.stop_preview()
        event.accept()
        if not self._done_called:
            self._done_called = True
            if self.on_done is not None:
                self.on_done(self.profile)


def result_text(profile: Profile, slouch: bool) -> str:
    """The short result: view, how many frames, and what comes next."""
    steps = "upright and slouch" if slouch else "upright"
    return (
        f"{profile.view} view, {profile.frames} frames ({steps}): ready. "
        "Choose how to be nudged, then Done."
    )
