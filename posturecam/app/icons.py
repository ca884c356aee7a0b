"""Tray icons drawn by code with QPainter: a coloured disc and a white glyph per state."""

from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

from posturecam.app.painting import painter
from posturecam.app.presenter import look

Point = tuple[float, float]

# Glyphs drawn as strokes of a round white pen: polylines in the unit square of the disc.
LINES: dict[str, tuple[tuple[Point, ...], ...]] = {
    "check": (((0.28, 0.52), (0.44, 0.68), (0.73, 0.34)),),
    "down": (((0.5, 0.25), (0.5, 0.72)), ((0.32, 0.55), (0.5, 0.73), (0.68, 0.55))),
    "bang": (((0.5, 0.22), (0.5, 0.58)), ((0.5, 0.74), (0.5, 0.76))),
    "dash": (((0.3, 0.5), (0.7, 0.5)),),
    "pause": (((0.4, 0.3), (0.4, 0.7)), ((0.6, 0.3), (0.6, 0.7))),
    "cross": (((0.33, 0.33), (0.67, 0.67)), ((0.67, 0.33), (0.33, 0.67))),
}


def _at(s: float) -> Callable[[float, float], QPointF]:
    """Unit-square coordinates to points in a square of side ``s``."""
    return lambda x, y: QPointF(x * s, y * s)


def _box(s: float, x0: float, y0: float, x1: float, y1: float) -> QRectF:
    pt = _at(s)
    return QRectF(pt(x0, y0), pt(x1, y1))


def _wave(path: QPainterPath, s: float) -> None:
    pt = _at(s)
    path.moveTo(pt(0.24, 0.55))
    path.cubicTo(pt(0.36, 0.35), pt(0.46, 0.35), pt(0.5, 0.5))
    path.cubicTo(pt(0.54, 0.65), pt(0.64, 0.65), pt(0.76, 0.45))


def _turn(path: QPainterPath, s: float) -> None:
    pt = _at(s)
    path.arcMoveTo(_box(s, 0.28, 0.28, 0.72, 0.72), 60)
    path.arcTo(_box(s, 0.28, 0.28, 0.72, 0.72), 60, 270)
    path.moveTo(pt(0.62, 0.22))
    path.lineTo(pt(0.62, 0.33))
    path.lineTo(pt(0.72, 0.33))


def _ring(path: QPainterPath, s: float) -> None:
    path.addEllipse(_box(s, 0.3, 0.3, 0.7, 0.7))
    path.addEllipse(_box(s, 0.46, 0.46, 0.54, 0.54))


def _dots(path: QPainterPath, s: float) -> None:
    for x in (0.32, 0.5, 0.68):
        path.addEllipse(_box(s, x - 0.04, 0.46, x + 0.04, 0.54))


CURVES: dict[str, Callable[[QPainterPath, float], None]] = {
    "wave": _wave, "turn": _turn, "ring": _ring, "dots": _dots,
}  # fmt: skip


def _moon(p: QPainter, s: float) -> None:
    """A filled crescent: a disc with a bite out of it."""
    disc, bite = QPainterPath(), QPainterPath()
    disc.addEllipse(_box(s, 0.27, 0.27, 0.73, 0.73))
    bite.addEllipse(_box(s, 0.42, 0.18, 0.86, 0.62))
    p.fillPath(disc.subtracted(bite), Qt.GlobalColor.white)


def _question(p: QPainter, s: float) -> None:
    """ "?" as bold text: the glyph of "not calibrated" and of anything unknown."""
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(s * 0.6))
    p.setFont(font)
    p.setPen(Qt.GlobalColor.white)
    p.drawText(QRectF(0, 0, s, s), Qt.AlignmentFlag.AlignCenter, "?")


def _glyph(p: QPainter, glyph: str, s: float) -> None:
    """Draw one glyph in a square of side ``s`` (the disc's box)."""
    if glyph == "moon":
        return _moon(p, s)
    path = QPainterPath()
    if glyph in LINES:
        pt = _at(s)
        for first, *rest in LINES[glyph]:
            path.moveTo(pt(*first))
            for point in rest:
                path.lineTo(pt(*point))
    elif glyph in CURVES:
        CURVES[glyph](path, s)
    else:
        return _question(p, s)
    pen = QPen(Qt.GlobalColor.white, max(1.5, s * 0.09))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    return None


def state_pixmap(state: str, size: int = 64) -> QPixmap:
    """The icon of one state; draws on a transparent pixmap (works offscreen)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    with painter(pixmap) as p:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(look(state).colour))
        m = size * 0.04
        p.drawEllipse(QRectF(m, m, size - 2 * m, size - 2 * m))
        _glyph(p, look(state).glyph, float(size))
    return pixmap


@functools.lru_cache(maxsize=64)
def state_icon(state: str) -> QIcon:
    """Drawn once per state and kept: the tray refreshes often, the looks never change."""
    icon = QIcon()
    for size in (16, 22, 32, 64):
        icon.addPixmap(state_pixmap(state, size))
    return icon
