"""Taking frames from a live capture at a chosen rate: calibrate, record and replay of a camera.

The one loop of "wait for a frame, check for the end, pace", over anything
with ``latest(timeout)`` and ``health`` (``capture.LiveCapture`` or a fake).
Trouble is waited through as during ``monitor``: a covered camera gives
skipped frames, a busy or unplugged one is retried while ``on_wait`` hears why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from posturecam.core.types import Frame
from posturecam.frames.capture import ENDED, RELEASED, Health


class Live(Protocol):
    """What ``paced`` needs of a capture: ``LiveCapture``, or a fake in tests."""

    def latest(self, timeout: float) -> Frame | None: ...

    @property
    def health(self) -> Health: ...


def paced(
    live: Live,
    rate_hz: float | None = None,
    *,
    stop: threading.Event | None = None,
    wait: Callable[[float], object] | None = None,
    on_wait: Callable[[Health], None] | None = None,
    timeout_s: float = 1.0,
) -> Iterator[Frame]:
    """Frames of a started capture at about ``rate_hz`` (every new frame when None).

    The one loop of "wait for a frame, check for the end, pace": it ends when
    the source has ended or was released, or when ``stop`` is set; a busy or
    lost camera is waited through, and ``on_wait`` hears why no frame came.
    Frame times decide the pacing (a frame a little early is close enough);
    ``wait`` sleeps between frames (default: ``stop.wait``, so a stop wakes it).
    """
    stop = stop or threading.Event()
    wait = wait or stop.wait
    interval = 1.0 / rate_hz if rate_hz else 0.0
    next_due: float | None = None
    while not stop.is_set():
        began = time.monotonic()
        frame = live.latest(timeout=timeout_s)
        if frame is None:
            health = live.health
            if health.status in (ENDED, RELEASED):
                return
            if on_wait is not None:
                on_wait(health)
            spare = timeout_s - (time.monotonic() - began)
            if spare > 0:  # a capture whose thread has stopped answers at once: do not spin
                wait(spare)
            continue
        if interval:
            if next_due is not None and frame.t_s < next_due - 0.25 * interval:
                continue
            next_due = (
                frame.t_s + interval if next_due is None else max(next_due + interval, frame.t_s)
            )
        yield frame
        if interval:
            wait(max(0.0, 0.9 * interval - (time.monotonic() - began)))
