"""Charts drawn with QPainter (no charts add-on): today's timeline and per-day bars."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from posturecam.app.logdata import Sample
from posturecam.app.painting import painter
from posturecam.app.presenter import look
from posturecam.live.sessionlog import DaySummary

GRID = QColor("#d0d0d0")
TEXT = QColor("#404040")


def runs(samples: list[Sample], gap_s: float = 5.0) -> list[tuple[str, float, float]]:
    """(state, start, end) of consecutive samples in one state; a gap ends a run."""
    out: list[tuple[str, float, float]] = []
    for s in samples:
        start = s.at - max(s.dt_s, 1.0)
        if out and out[-1][0] == s.state and start - out[-1][2] <= gap_s:
            out[-1] = (s.state, out[-1][1], s.at)
        else:
            out.append((s.state, start, s.at))
    return out


class TimelineView(QWidget):
    """One coloured strip per logged second (the state's colour) and the score above it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples: list[Sample] = []
        self.setMinimumHeight(130)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(640, 140)

    def set_samples(self, samples: list[Sample]) -> None:
        self.samples = samples
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        with painter(self) as p:
            self._paint(p)

    def _paint(self, p: QPainter) -> None:
        w, h = self.width(), self.height()
        left, right, top, strip_h, label_h = 34.0, 8.0, 8.0, 18.0, 16.0
        plot = QRectF(left, top, w - left - right, h - top - strip_h - label_h - 6)
        strip = QRectF(left, plot.bottom() + 4, plot.width(), strip_h)
        p.setPen(GRID)
        for score in (0, 50, 100):
            y = plot.bottom() - plot.height() * score / 100
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(TEXT)
            p.drawText(QRectF(0, y - 8, left - 4, 16), Qt.AlignmentFlag.AlignRight, str(score))
            p.setPen(GRID)
        if not self.samples:
            p.setPen(TEXT)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "nothing monitored today yet")
            return
        t0 = self.samples[0].at - self.samples[0].dt_s
        t1 = max(self.samples[-1].at, t0 + 60.0)

        def x(t: float) -> float:
            return strip.left() + strip.width() * (t - t0) / (t1 - t0)

        for state, start, end in runs(self.samples):  # state strip, one rect per run
            x0, x1 = x(start), x(end)
            p.fillRect(QRectF(x0, strip.top(), max(1.0, x1 - x0), strip.height()),
                       QColor(look(state).colour))  # fmt: skip
        path, pen_down = QPainterPath(), False
        for s in self.samples:  # score line, broken where nothing was judged
            if s.score is None:
                pen_down = False
                continue
            point = QPointF(x(s.at), plot.bottom() - plot.height() * s.score / 100)
            if pen_down:
                path.lineTo(point)
            else:
                path.moveTo(point)
                pen_down = True
        p.setPen(QPen(QColor("#1565c0"), 1.5))
        p.drawPath(path)
        p.setPen(TEXT)
        for t, align in ((t0, Qt.AlignmentFlag.AlignLeft), (t1, Qt.AlignmentFlag.AlignRight)):
            label = datetime.fromtimestamp(t).strftime("%H:%M")
            p.drawText(QRectF(strip.left(), strip.bottom() + 2, strip.width(), label_h),
                       align, label)  # fmt: skip


class DayBars(QWidget):
    """Upright share of the judged time per day, oldest on the left; empty days stay blank."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.days: list[DaySummary] = []
        self.setMinimumHeight(140)

    def sizeHint(self) -> QSize:
        return QSize(320, 150)

    def set_days(self, days: list[DaySummary]) -> None:
        self.days = list(reversed(days))  # oldest first
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        with painter(self, smooth=False) as p:
            self._paint(p)

    def _paint(self, p: QPainter) -> None:
        w, h = self.width(), self.height()
        p.setPen(TEXT)
        p.drawText(QRectF(0, 0, w, 16), Qt.AlignmentFlag.AlignLeft, self.title)
        plot = QRectF(4, 20, w - 8, h - 40)
        p.setPen(GRID)
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        if not self.days:
            return
        slot = plot.width() / len(self.days)
        good, weak = QColor(look("upright").colour), QColor(look("slouching").colour)
        for k, day in enumerate(self.days):
            x = plot.left() + k * slot + slot * 0.15
            if day.share_upright is not None:
                top = plot.bottom() - plot.height() * day.share_upright
                p.fillRect(QRectF(x, top, slot * 0.7, plot.bottom() - top),
                           good if day.share_upright >= 0.5 else weak)  # fmt: skip
        p.setPen(TEXT)
        for k in (0, len(self.days) - 1):
            day = self.days[k]
            align = Qt.AlignmentFlag.AlignLeft if k == 0 else Qt.AlignmentFlag.AlignRight
            p.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), 16), align,
                       day.date.strftime("%a %d %b"))  # fmt: skip
