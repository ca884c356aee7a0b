"""A batch's worker processes: signals while they start, Ctrl-C and SIGTERM, dying with the batch.

Ctrl-C and SIGTERM are the parent's to act on (it stops its workers in order);
a worker ends when the batch that started it ends, even by kill -9.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

_WATCH_S = 0.5  # how often a worker checks that the batch that started it still runs
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@contextlib.contextmanager
def held(caught: list[int]) -> Iterator[None]:
    """Note Ctrl-C and SIGTERM in ``caught`` while a child process starts, for the caller
    to act on after: interrupted halfway, multiprocessing's handshake prints a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {
        sig: signal.signal(sig, lambda signum, _f: caught.append(signum)) for sig in signals
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (a shell's kill, a scheduler's stop) stops the batch as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _die_with(parent: int) -> None:
    """In a worker: end when the batch process that started it ends, even by kill -9.

    Linux delivers SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG); everywhere a
    thread also polls the parent pid, which changes when the parent is gone.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCH_S)
        os._exit(1)

    threading.Thread(target=watch, name="posturecam-parent-watch", daemon=True).start()


def child_init(parent: int) -> None:
    """Workers and the progress queue leave Ctrl-C to the parent, which stops them in order,
    and end when the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
