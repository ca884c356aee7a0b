"""A gentle coloured glow on the screen edges while slouching lasts; it fades out on sitting up.

One click-through, focus-free, always-on-top window per screen. It follows the
monitor's reported state (it judges nothing) and hides entirely when faded out,
so it costs nothing while you sit well.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QLinearGradient, QPaintEvent, QScreen
from PySide6.QtWidgets import QWidget

from posturecam.app.painting import painter
from posturecam.live.states import ALERT, SLOUCHING

# How strong the glow gets per reported state (0: none).
TARGETS = {SLOUCHING: 0.45, ALERT: 0.9}
FADE_IN_S, FADE_OUT_S = 4.0, 1.0  # from nothing to full, and back
TICK_MS = 40
EDGE = 0.06  # of the screen's shorter side
COLOUR = QColor(255, 140, 40)


class GlowWindow(QWidget):
    """Paints the edge gradient; never takes focus or clicks."""

    FLAGS = (
        Qt.WindowType.FramelessWindowHint
        | Qt.WindowType.WindowStaysOnTopHint
        | Qt.WindowType.Tool
        | Qt.WindowType.WindowTransparentForInput
        | Qt.WindowType.WindowDoesNotAcceptFocus
        | Qt.WindowType.X11BypassWindowManagerHint
    )

    def __init__(self, screen: QScreen) -> None:
        super().__init__(None, self.FLAGS)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.level = 0.0
        self.setScreen(screen)
        self.setGeometry(screen.geometry())

    def paintEvent(self, _event: QPaintEvent) -> None:
        with painter(self, smooth=False) as p:
            w, h = float(self.width()), float(self.height())
            edge = max(8.0, EDGE * min(w, h))
            strong = QColor(COLOUR)
            strong.setAlphaF(max(0.0, min(1.0, self.level)) * 0.8)
            clear = QColor(COLOUR)
            clear.setAlphaF(0.0)
            for rect, start, end in (
                (QRectF(0, 0, w, edge), QPointF(0, 0), QPointF(0, edge)),
                (QRectF(0, h - edge, w, edge), QPointF(0, h), QPointF(0, h - edge)),
                (QRectF(0, 0, edge, h), QPointF(0, 0), QPointF(edge, 0)),
                (QRectF(w - edge, 0, edge, h), QPointF(w, 0), QPointF(w - edge, 0)),
            ):
                gradient = QLinearGradient(start, end)
                gradient.setColorAt(0.0, strong)
                gradient.setColorAt(1.0, clear)
                p.fillRect(rect, gradient)


class Glow(QObject):
    """Fades the per-screen windows towards the level the latest state asks for."""

    def __init__(self, enabled: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self.level = 0.0
        self.target = 0.0
        self.windows: list[GlowWindow] = []
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._step)

    def on_report(self, kind: str, data: dict) -> None:
        if kind == "step":
            self.set_target(TARGETS.get(str(data.get("state")), 0.0))
        elif kind in ("held", "camera", "stopped", "calibrating"):
            self.set_target(0.0)

    def set_target(self, target: float) -> None:
        self.target = target if self.enabled else 0.0
        if self.target != self.level and not self._timer.isActive():
            self._timer.start(TICK_MS)

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            self.set_target(0.0)

    def _step(self) -> None:
        dt = TICK_MS / 1000.0
        if self.level < self.target:
            self.level = min(self.target, self.level + dt / FADE_IN_S)
        else:
            self.level = max(self.target, self.level - dt / FADE_OUT_S)
        if self.level <= 0.0:
            self._hide()
        else:
            self._show()
        if self.level == self.target:
            self._timer.stop()

    def _show(self) -> None:
        if not self.windows:
            self.windows = [GlowWindow(s) for s in QGuiApplication.screens()]
        for window in self.windows:
            window.level = self.level
            if not window.isVisible():
                window.show()
            window.update()

    def _hide(self) -> None:
        for window in self.windows:
            window.hide()
            window.deleteLater()
        self.windows = []

    def close(self) -> None:
        self._timer.stop()
        self.level = self.target = 0.0
        self._hide()
