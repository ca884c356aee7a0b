"""One QPainter for a block of drawing, always ended: an unended painter warns and leaks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from PySide6.QtGui import QPaintDevice, QPainter


@contextlib.contextmanager
def painter(device: QPaintDevice, smooth: bool = True) -> Iterator[QPainter]:
    """``with painter(self) as p:`` in a paintEvent; ``smooth``: antialiased edges."""
    p = QPainter(device)
    try:
        if smooth:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
        yield p
    finally:
        p.end()
