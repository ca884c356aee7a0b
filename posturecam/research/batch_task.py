"""One source of a batch: its task, and the replay that runs it anywhere.

``replay_one`` is the same function in this process, in a worker process or on
a Dask worker; it sends its frame counts in batches to a sink (a queue, or the
progress bar itself) and stops at the next report when asked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from posturecam.errors import PosturecamError
from posturecam.research.batch_record import DONE, FAILED
from posturecam.research.options import ReplayOptions
from posturecam.research.replay import EstimatorFactory, replay
from posturecam.research.run_folder import RunFolder

REPORT_EVERY_FRAMES = 10  # workers send progress in batches, not per frame
REPORT_EVERY_S = 0.2


@dataclass(frozen=True)
class SourceTask:
    """Everything a worker needs to replay one source; small and picklable."""

    index: int
    source: str
    out_dir: str
    make_estimator: EstimatorFactory
    options: ReplayOptions
    model_info: dict[str, Any]
    run_key: str


class Reporter:
    """``on_frame`` for replay: sends frame counts in batches and honours a stop request."""

    def __init__(self, index: int, sink: Any, stop: Any = None) -> None:
        self.index = index
        self.sink = sink
        self.stop = stop
        self.count = 0
        self._unsent = 0
        self._last = time.monotonic()

    def __call__(self) -> None:
        self.count += 1
        self._unsent += 1
        now = time.monotonic()
        if self._unsent >= REPORT_EVERY_FRAMES or now - self._last >= REPORT_EVERY_S:
            self.flush()
            self._last = now
            if self.stop is not None and self.stop.is_set():
                raise KeyboardInterrupt

    def flush(self) -> None:
        if self._unsent and self.sink is not None:
            try:
                self.sink.put((self.index, self._unsent))
            except (OSError, EOFError):  # progress is best effort; the results are not
                self.sink = None
        self._unsent = 0


def replay_one(task: SourceTask, sink: Any = None, stop: Any = None) -> dict[str, Any]:
    """Replay one source; the same function runs in this process, a worker or on Dask.

    Returns a small dict (status, frames, error, wall_s), never the arrays.
    User errors and unexpected exceptions are recorded for this source so the
    others still run; only KeyboardInterrupt escapes.
    """
    started = time.perf_counter()
    reporter = Reporter(task.index, sink, stop)
    status, frames = FAILED, 0
    error: PosturecamError | str = ""
    try:
        result = replay(
            task.source,
            task.out_dir,
            task.make_estimator,
            task.options,
            task.model_info,
            on_frame=reporter,
            extra_summary={"run_key": task.run_key},
        )
    except PosturecamError as exc:
        frames, error = reporter.count, exc  # its advice is worded where it is shown
    except Exception as exc:
        frames, error = reporter.count, f"unexpected error: {type(exc).__name__}: {exc}"
    else:
        status, frames = DONE, int(result.summary["frames"])
    finally:
        reporter.flush()
    wall = round(time.perf_counter() - started, 3)
    files = RunFolder(task.out_dir).file_record() if status == DONE else {}
    return {
        "index": task.index,
        "status": status,
        "frames": frames,
        "error": error,
        "wall_s": wall,
        "files": files,
    }
