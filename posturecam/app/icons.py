"""Tray icons drawn by code with QPainter: a coloured disc and a white glyph per state."""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

from posturecam.app.presenter import look


def _glyph(p: QPainter, glyph: str, s: float) -> None:
    """Draw one glyph in a square of side ``s`` (the disc's box)."""

    def pt(x: float, y: float) -> QPointF:
        return QPointF(x * s, y * s)

    path = QPainterPath()
    if glyph == "check":
        path.moveTo(pt(0.28, 0.52))
        path.lineTo(pt(0.44, 0.68))
        path.lineTo(pt(0.73, 0.34))
    elif glyph == "wave":
        path.moveTo(pt(0.24, 0.55))
        path.cubicTo(pt(0.36, 0.35), pt(0.46, 0.35), pt(0.5, 0.5))
        path.cubicTo(pt(0.54, 0.65), pt(0.64, 0.65), pt(0.76, 0.45))
    elif glyph == "down":
        path.moveTo(pt(0.5, 0.25))
        path.lineTo(pt(0.5, 0.72))
        path.moveTo(pt(0.32, 0.55))
        path.lineTo(pt(0.5, 0.73))
        path.lineTo(pt(0.68, 0.55))
    elif glyph == "bang":
        path.moveTo(pt(0.5, 0.22))
        path.lineTo(pt(0.5, 0.58))
        path.moveTo(pt(0.5, 0.74))
        path.lineTo(pt(0.5, 0.76))
    elif glyph == "dash":
        path.moveTo(pt(0.3, 0.5))
        path.lineTo(pt(0.7, 0.5))
    elif glyph == "pause":
        path.moveTo(pt(0.4, 0.3))
        path.lineTo(pt(0.4, 0.7))
        path.moveTo(pt(0.6, 0.3))
        path.lineTo(pt(0.6, 0.7))
    elif glyph == "cross":
        path.moveTo(pt(0.33, 0.33))
        path.lineTo(pt(0.67, 0.67))
        path.moveTo(pt(0.67, 0.33))
        path.lineTo(pt(0.33, 0.67))
    elif glyph == "moon":
        path.addEllipse(QRectF(pt(0.27, 0.27), pt(0.73, 0.73)))
        bite = QPainterPath()
        bite.addEllipse(QRectF(pt(0.42, 0.18), pt(0.86, 0.62)))
        p.fillPath(path.subtracted(bite), Qt.GlobalColor.white)
        return
    elif glyph == "turn":
        path.arcMoveTo(QRectF(pt(0.28, 0.28), pt(0.72, 0.72)), 60)
        path.arcTo(QRectF(pt(0.28, 0.28), pt(0.72, 0.72)), 60, 270)
        path.moveTo(pt(0.62, 0.22))
        path.lineTo(pt(0.62, 0.33))
        path.lineTo(pt(0.72, 0.33))
    elif glyph == "ring":
        path.addEllipse(QRectF(pt(0.3, 0.3), pt(0.7, 0.7)))
        path.addEllipse(QRectF(pt(0.46, 0.46), pt(0.54, 0.54)))
    elif glyph == "dots":
        for x in (0.32, 0.5, 0.68):
            path.addEllipse(QRectF(pt(x - 0.04, 0.46), pt(x + 0.04, 0.54)))
    else:  # "question" and anything unknown: a drawn text glyph
        font = QFont()
        font.setBold(True)
        font.setPixelSize(int(s * 0.6))
        p.setFont(font)
        p.setPen(Qt.GlobalColor.white)
        p.drawText(QRectF(0, 0, s, s), Qt.AlignmentFlag.AlignCenter, "?")
        return
    pen = QPen(Qt.GlobalColor.white, max(1.5, s * 0.09))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)


def state_pixmap(state: str, size: int = 64) -> QPixmap:
    """The icon of one state; draws on a transparent pixmap (works offscreen)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(look(state).colour))
        m = size * 0.04
        p.drawEllipse(QRectF(m, m, size - 2 * m, size - 2 * m))
        _glyph(p, look(state).glyph, float(size))
    finally:
        p.end()
    return pixmap


@functools.lru_cache(maxsize=64)
def state_icon(state: str) -> QIcon:
    """Drawn once per state and kept: the tray refreshes often, the looks never change."""
    icon = QIcon()
    for size in (16, 22, 32, 64):
        icon.addPixmap(state_pixmap(state, size))
    return icon
