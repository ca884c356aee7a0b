"""The one camera stack: always the freshest frame, never a crash.

``LiveCapture`` serves monitor, record, and calibrate and replay of a camera
(those through ``pacing.paced`` and ``sources.CameraSource``), so a covered,
frozen or unplugged camera means the same everywhere.

A grabber thread owns the device (OpenCV captures are not thread-safe). It
grabs when ``latest()`` asks for a frame: ``grab()`` only dequeues a buffer,
and one that comes back at once was queued by the driver while nobody asked,
so it is skipped for the next, which waits for a new frame. The expensive
``retrieve()`` decode runs only on that one. Between requests it grabs only
twice a second, to notice a camera that went away: a grab per camera frame cost
more than the monitor's own work on a still scene. A camera that is busy,
unplugged, covered or frozen shows up in ``health`` and is retried with backoff;
the monitor keeps running and treats such moments as "cannot measure", never as
posture. No image is ever written to disk.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

import numpy as np

from posturecam.core.types import Frame
from posturecam.frames.devices import Device, live_device
from posturecam.frames.image_checks import (
    BLACK,
    FROZEN,
    USABLE,
    ImageChecks,
)
from posturecam.frames.imaging import (
    DEFAULT_MAX_SIDE,
    MIN_SIDE,
    fit,
    to_bgr8,
)

log = logging.getLogger(__name__)

# Health statuses (plain strings so the terminal, logs and JSON can show them as they are).
STARTING = "starting"
OK = "ok"
BUSY = "busy"  # cannot open: another app has it, unplugged, or no permission
LOST = "lost"  # stopped delivering after it worked
ENDED = "ended"  # a video file standing in for the camera has finished
RELEASED = "released"  # released on purpose (pause, snooze)
# BLACK (privacy shutter or lens covered) and FROZEN (identical images for long) come from
# image_checks, which judges them.
STATUSES = (STARTING, OK, BUSY, LOST, BLACK, FROZEN, ENDED, RELEASED)

_LOST_AFTER_FAILS = 10  # consecutive failed grabs ...
_LOST_AFTER_S = 2.0  # ... or failing for this long means the device is gone
_FAIL_PAUSE_S = 0.02  # between failed grabs, so a dead device does not spin a core
# Nobody waits for a frame: grab only this often, to notice a camera that went away (a
# grab per camera frame woke the thread 15-30 times a second for nothing).
_IDLE_PROBE_S = 0.5
# A frame is asked for: a grab that came back sooner than _BLOCKED_S did not wait for its
# frame, so the driver had queued it while nobody asked (older than the request). Up to
# _MAX_STALE of them are skipped, undecoded, for the next. Only on a device whose grab()
# has been seen to wait: one that never does has no queue to read this from.
_BLOCKED_S = 0.002
_MAX_STALE = 8
_BACKOFF_RESET_S = 10.0  # healthy delivery this long forgives earlier failures
_JOIN_TIMEOUT_S = 5.0  # a driver stuck in grab() must not hang pause/quit

_KEEP, _REOPEN, _END = "keep", "reopen", "end"


@dataclass(frozen=True)
class Health:
    """What the capture is doing now, phrased for the user."""

    status: str
    message: str  # one line that says what the user can do
    retry_in_s: float | None = None  # seconds until the next reopen attempt, if waiting


def _safe_release(device: Device) -> None:
    """Release a device that may already be broken; failing here must not stop the retries."""
    try:
        device.release()
    except Exception:  # a driver error on release leaves nothing for us to do
        log.debug("releasing the capture device failed", exc_info=True)


class LiveCapture:
    """Freshest frames from a camera (or a real-time video), surviving device trouble.

    Use from one consumer thread: ``start()``, then ``latest(timeout)`` in the
    monitor loop, ``release()`` to pause (the camera light goes off) and
    ``start()`` to resume. ``health`` says what is wrong and when it retries.
    """

    def __init__(
        self,
        open_device: Callable[[], Device],
        name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        backoff: Sequence[float] = (1, 2, 4, 8, 15, 30),
        black_level: float = 8.0,
        black_after_s: float = 2.0,
        frozen_after_s: float = 10.0,
        max_side: int = DEFAULT_MAX_SIDE,
    ) -> None:
        delays = tuple(float(b) for b in backoff)
        if not delays or any(not math.isfinite(b) or b < 0 for b in delays):
            raise ValueError(f"backoff must be non-negative seconds, at least one; got {backoff}")
        if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < MIN_SIDE:
            raise ValueError(f"max_side must be an integer of at least {MIN_SIDE}, got {max_side}")
        self._open_device = open_device
        self.name = name
        self._clock = clock
        self._backoff = delays
        self.max_side = max_side

        # Shared between the consumer and the grabber thread; guarded by _cond.
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None
        self._running = False
        self._status = STARTING
        self._message = f"{name}: not started"
        self._retry_at: float | None = None  # time.monotonic() of the next reopen attempt
        self._waiting_req: int | None = None  # the latest() call waiting for a frame
        self._next_req = 0
        self._handover: tuple[int, Frame] | None = None
        self._index = 0
        self._last_t: float | None = None
        self._t0: float | None = None
        self._first_open: bool | None = None  # did the first open since start() succeed?

        # Owned by the grabber thread.
        self._attempt = 0
        self._fails = 0
        self._stale = 0  # queued frames skipped for the request waiting now
        self._blocks = False  # has a grab waited for its frame (a driver's queue)?
        self._fail_since: float | None = None
        self._ok_since: float | None = None
        self._checks = ImageChecks(black_level, black_after_s, frozen_after_s)

    # ------------------------------------------------------------------ consumer side

    def start(self) -> None:
        """Start the grabber thread, which opens the device (retrying with backoff)."""
        with self._cond:
            if self._thread is not None and self._thread.is_alive():
                return  # already running; a thread that has ended (video over) is replaced
            if self._t0 is None:
                self._t0 = self._clock()
            stop = threading.Event()
            self._stop = stop
            self._running = True
            self._attempt = 0
            self._first_open = None
            self._set(STARTING, f"opening {self.name}")
            thread = threading.Thread(
                target=self._run, args=(stop,), name=f"posturecam-capture {self.name}", daemon=True
            )
            self._thread = thread
        thread.start()

    def latest(self, timeout: float) -> Frame | None:
        """A frame grabbed after this call began, or None if none came within ``timeout`` s.

        Never returns the same frame twice. A black or frozen image comes back
        as a skipped frame (``image=None``) so it counts as "cannot measure".
        None means no frame at all: see ``health`` for why.
        """
        deadline = time.monotonic() + max(0.0, float(timeout))
        with self._cond:
            if not self._running:
                return None
            self._next_req += 1
            req = self._next_req
            self._waiting_req = req
            self._handover = None
            self._cond.notify_all()
            try:
                while True:
                    if self._handover is not None and self._handover[0] == req:
                        frame = self._handover[1]
                        self._handover = None
                        return frame
                    remaining = deadline - time.monotonic()
                    if not self._running or remaining <= 0:
                        return None
                    self._cond.wait(remaining)
            finally:
                if self._waiting_req == req:
                    self._waiting_req = None

    def wait_open(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the first attempt to open the device; True if it opened."""
        deadline = time.monotonic() + max(0.0, float(timeout))
        with self._cond:
            while self._first_open is None and self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return bool(self._first_open)

    @property
    def health(self) -> Health:
        with self._cond:
            retry = None
            if self._retry_at is not None:
                retry = max(0.0, self._retry_at - time.monotonic())
            return Health(self._status, self._message, retry)

    def release(self) -> None:
        """Stop the thread and release the device (pause or snooze: the camera light goes off)."""
        with self._cond:
            thread, stop = self._thread, self._stop
            self._thread = None
            self._running = False
            self._waiting_req = None
            self._handover = None
            if stop is not None:
                stop.set()  # before the grabber wakes: it must not wait for a probe again
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(_JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("%s: the driver is stuck; it is released when it returns", self.name)
        with self._cond:
            self._retry_at = None
            if thread is not None and self._status != ENDED:
                self._set(RELEASED, f"{self.name} is released (paused); the camera is off")
        self._checks.reset()

    def close(self) -> None:
        self.release()

    def __enter__(self) -> LiveCapture:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    # ------------------------------------------------------------------ grabber thread

    def _set(self, status: str, message: str) -> None:
        with self._cond:
            self._status = status
            self._message = message

    def _run(self, stop: threading.Event) -> None:
        device: Device | None = None
        try:
            while not stop.is_set():
                if device is None:
                    device = self._open(stop)
                    continue
                verdict = self._step(device, stop)
                if verdict == _KEEP:
                    continue
                _safe_release(device)
                device = None
                if verdict == _END:
                    break
                self._wait_backoff(stop)
        except Exception as exc:  # a bug here must show in health, not kill the monitor silently
            log.exception("%s: capture thread failed", self.name)
            self._set(
                LOST,
                f"{self.name}: capture stopped after an internal error ({exc}); "
                "restart posturecam and please report this",
            )
        finally:
            if device is not None:
                _safe_release(device)
            with self._cond:
                if self._stop is stop:
                    self._running = False
                self._cond.notify_all()

    def _open(self, stop: threading.Event) -> Device | None:
        detail = ""
        device: Device | None = None
        try:
            device = self._open_device()
            opened = bool(device.isOpened())
        except Exception as exc:  # drivers raise anything; all of it means "not now"
            opened, detail = False, f" ({exc})"
        with self._cond:
            if self._first_open is None:
                self._first_open = opened
                self._cond.notify_all()
        if opened and device is not None:
            self._fails, self._fail_since, self._ok_since = 0, None, None
            self._blocks, self._stale = False, 0
            return device
        if device is not None:
            _safe_release(device)
        if self._status != LOST:  # while a lost camera stays away, keep saying it is lost
            self._set(
                BUSY,
                f"cannot open {self.name}{detail}: close the other app using the camera, "
                "plug it in, or allow camera access; retrying automatically",
            )
        self._wait_backoff(stop)
        return None

    def _wait_backoff(self, stop: threading.Event) -> None:
        delay = self._backoff[min(self._attempt, len(self._backoff) - 1)]
        self._attempt += 1
        with self._cond:
            self._retry_at = time.monotonic() + delay
        stop.wait(delay)
        with self._cond:
            self._retry_at = None

    def _step(self, device: Device, stop: threading.Event) -> str:
        """One grab, plus a decode if ``latest()`` is waiting; says whether to keep the device."""
        with self._cond:
            if self._waiting_req is None and self._fails == 0 and self._ok_since is not None:
                self._cond.wait(_IDLE_PROBE_S)  # woken at once by a request
                if stop.is_set():
                    return _KEEP
            want = self._waiting_req  # read before grabbing: the frame is newer than the request
        began = time.monotonic()
        try:
            grabbed = bool(device.grab())
        except Exception:
            grabbed = False
        waited = time.monotonic() - began >= _BLOCKED_S
        self._blocks = self._blocks or waited
        now = self._clock()
        if not grabbed:
            return self._failed(device, now, stop)
        self._fails, self._fail_since = 0, None
        if self._ok_since is None:
            self._ok_since = now
        elif now - self._ok_since >= _BACKOFF_RESET_S and not self._checks.unchanged:
            self._attempt = 0
        if self._status in (STARTING, BUSY, LOST):
            self._set(OK, f"{self.name}: receiving frames")
        t = self._frame_time(device, now)

        if want is None:
            self._stale = 0
            return _KEEP
        if self._blocks and not waited and self._stale < _MAX_STALE:
            self._stale += 1  # queued while nobody asked: grab the next
            return _KEEP
        self._stale = 0
        try:
            ok, raw = device.retrieve()
        except Exception:
            ok, raw = False, None
        if not ok or raw is None:
            return self._failed(device, now, stop)
        image, reason, verdict = self._judge(raw, t)
        with self._cond:
            if self._waiting_req == want and not stop.is_set():
                if self._last_t is not None and t <= self._last_t:
                    t = self._last_t + 1e-6  # the contract is strictly increasing time
                self._handover = (want, Frame(image, t, self._index, self.name, reason))
                self._waiting_req = None  # served: the next grab need not be decoded
                self._index += 1
                self._last_t = t
                self._cond.notify_all()
        return verdict

    def _frame_time(self, device: Device, now: float) -> float:
        stamp = getattr(device, "timestamp_s", None)
        if callable(stamp):
            try:
                t = float(stamp())
            except Exception:
                t = math.nan
            if math.isfinite(t):
                return t
        assert self._t0 is not None
        return now - self._t0

    def _failed(self, device: Device, now: float, stop: threading.Event) -> str:
        if getattr(device, "ended", False) is True:
            self._set(ENDED, f"{self.name} has ended: the video has no more frames")
            return _END
        self._fails += 1
        if self._fail_since is None:
            self._fail_since = now
        if self._fails < _LOST_AFTER_FAILS and now - self._fail_since <= _LOST_AFTER_S:
            stop.wait(_FAIL_PAUSE_S)
            return _KEEP
        if self._ok_since is None:
            self._set(
                BUSY,
                f"{self.name} opens but sends no frames: close the other app using the camera "
                "or allow camera access; retrying automatically",
            )
        else:
            self._set(
                LOST,
                f"{self.name} stopped sending frames: reconnect it or close the app that took "
                "it; retrying automatically",
            )
        return _REOPEN

    def _judge(self, raw: np.ndarray, t: float) -> tuple[np.ndarray | None, str, str]:
        """Colour-normalise and check for black (shutter) or frozen images."""
        image, reason = to_bgr8(raw)
        if image is None:
            return None, reason, _KEEP
        image = fit(image, self.max_side)
        found = self._checks.check(image, t)
        if found.kind == BLACK:
            self._set(
                BLACK, f"{self.name} image is black: open the privacy shutter or uncover the lens"
            )
        elif found.kind == FROZEN:
            self._set(
                FROZEN,
                f"{self.name} image has not changed for {found.still_s:.0f} s (frozen): reopening "
                "it; if this persists, reconnect the camera",
            )
            return None, found.reason, _REOPEN
        elif found.kind == USABLE and self._status != OK:
            self._set(OK, f"{self.name}: receiving frames")
        return (None if found.reason else image), found.reason, _KEEP


def open_live(
    spec: str | int,
    clock: Callable[[], float] = time.monotonic,
    *,
    max_side: int = DEFAULT_MAX_SIDE,
) -> LiveCapture:
    """A LiveCapture (not started) for a camera index or a video file played at real time."""
    opener, name = live_device(spec, clock)
    return LiveCapture(opener, name, clock=clock, max_side=max_side)
