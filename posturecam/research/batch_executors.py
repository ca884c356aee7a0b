"""Run a batch's tasks: serially, in a pool of spawned processes, or on a Dask cluster.

Every executor gives the same files; progress is one bar over all frames of
the batch, and ``finish`` records each source as it ends. After Ctrl-C, running
sources get a grace time to stop before their workers are ended.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from multiprocessing.managers import SyncManager
from typing import Any

from tqdm import tqdm

from posturecam.errors import PosturecamError, Remedy
from posturecam.research.batch_processes import child_init, held
from posturecam.research.batch_record import DONE, FAILED, RESUMED, Record
from posturecam.research.batch_task import SourceTask, replay_one

EXECUTORS = ("process", "dask")
LOCAL = "local"  # --scheduler local: a Dask cluster on this machine, for this batch only
_POLL_S = 0.1  # how often the parent drains progress while waiting on workers
DASK_HINT = (
    "Dask workers need posturecam installed, the model at the same path and the output "
    "folder on a shared file system"
)


class Progress:
    """One bar over all frames of the batch; each source's count is corrected when it ends."""

    def __init__(self, total: int | None, enabled: bool, record: Record) -> None:
        self.bar = tqdm(
            total=total,
            desc="batch",
            unit="frame",
            disable=not enabled or None,
            dynamic_ncols=True,
        )
        self.record = record
        self.seen: dict[int, int] = {}
        self.ended: set[int] = set()
        self._postfix()

    def frames(self, index: int, n: int) -> None:
        if index in self.ended or n <= 0:
            return
        self.seen[index] = self.seen.get(index, 0) + n
        self.bar.update(n)

    def end(self, index: int, status: str, frames: int) -> None:
        if index not in self.ended and status == DONE:
            missing = frames - self.seen.get(index, 0)
            if missing > 0:
                self.bar.update(missing)
        self.ended.add(index)
        self._postfix()

    def _postfix(self) -> None:
        r = self.record
        self.bar.set_postfix(done=r.count(DONE), resumed=r.count(RESUMED), failed=r.count(FAILED))

    def close(self) -> None:
        self.bar.close()


class BarSink:
    """Lets serial runs use the same reporter as workers, straight into the bar."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def put(self, item: tuple[int, int]) -> None:
        self.progress.frames(*item)


# --------------------------------------------------------------------------- executors

Finish = Callable[[dict[str, Any]], None]


def _failure(index: int, exc: BaseException, hint: str = "") -> dict[str, Any]:
    text = f"{type(exc).__name__}: {exc}" + (f" ({hint})" if hint else "")
    return {"index": index, "status": FAILED, "frames": 0, "error": text, "wall_s": 0.0}


def run_serial(tasks: list[SourceTask], progress: Progress, finish: Finish) -> None:
    sink = BarSink(progress)
    for task in tasks:
        finish(replay_one(task, sink))


def _drain(q: Any, progress: Progress) -> None:
    while True:
        try:
            index, n = q.get_nowait()
        except Exception:  # queue.Empty, or the manager is gone during shutdown
            return
        progress.frames(index, n)


def run_pool(
    tasks: list[SourceTask], workers: int, progress: Progress, finish: Finish, grace_s: float
) -> None:
    """Each source in a fresh spawned process (MediaPipe's threads and fork do not mix).

    After Ctrl-C, running sources get ``grace_s`` to stop before their workers are ended.
    """
    ctx = multiprocessing.get_context("spawn")
    manager = SyncManager(ctx=ctx)
    caught: list[int] = []
    with held(caught):
        manager.start(child_init, (os.getpid(),))
    try:
        if caught:
            raise KeyboardInterrupt
        with held(caught):
            q = manager.Queue()
            stop = manager.Event()
            pool = cf.ProcessPoolExecutor(
                max_workers=min(workers, len(tasks)),
                mp_context=ctx,
                initializer=child_init,
                initargs=(os.getpid(),),
            )
            futures = {pool.submit(replay_one, task, q, stop): task.index for task in tasks}
        open_ = set(futures)  # not recorded yet
        try:
            if caught:
                raise KeyboardInterrupt
            while open_:
                cf.wait(open_, timeout=_POLL_S, return_when=cf.FIRST_COMPLETED)
                _drain(q, progress)
                for future in sorted(open_, key=futures.__getitem__):
                    if future.done():
                        open_.discard(future)
                        finish(_outcome(future, futures[future]))
        except BaseException:
            # Ctrl-C (here, or raised in a worker): stop running sources at their next
            # progress report, drop queued ones, and keep what finished meanwhile.
            stop.set()
            for future in open_:
                future.cancel()
            with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop waiting
                cf.wait(open_, timeout=grace_s)
            for future in sorted(open_, key=futures.__getitem__):
                if future.done() and not future.cancelled() and future.exception() is None:
                    finish(future.result())
            if not all(f.done() for f in open_):
                _terminate_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    finally:
        manager.shutdown()


def _terminate_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Stop workers that did not finish within the grace time after Ctrl-C."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.terminate()


def _outcome(future: Any, index: int, hint: str = "") -> dict[str, Any]:
    """The task's own result, or a failure naming what went wrong in the worker."""
    try:
        return future.result()
    except Exception as exc:  # a worker died, could not unpickle the task, ...
        return _failure(index, exc, hint)


def dask_client_class() -> Any:
    try:
        from distributed import Client
    except ImportError as exc:
        raise PosturecamError("the Dask executor needs: pip install 'posturecam[dask]'") from exc
    return Client


@contextlib.contextmanager
def _dask_client(scheduler: str, workers: int) -> Iterator[Any]:
    """A client of ``scheduler``; for LOCAL, of a cluster on this machine that ends with it.

    The local cluster's worker processes also end if this process is killed (Dask's
    nanny closes a worker whose parent is gone).
    """
    client_class = dask_client_class()
    cluster = None
    try:
        if scheduler == LOCAL:
            from distributed import LocalCluster

            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        client = client_class(cluster if cluster is not None else scheduler)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise PosturecamError(
            f"cannot connect to the Dask scheduler at {scheduler} ({exc}); ",
            Remedy("check_scheduler"),
            ", or start one with `dask scheduler` and workers with `dask worker ADDRESS`",
        ) from exc
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_dask(
    tasks: list[SourceTask], scheduler: str, workers: int, progress: Progress, finish: Finish
) -> None:
    """One Dask task per source; progress moves when a source finishes."""
    from distributed import as_completed

    with _dask_client(scheduler, workers) as client:
        futures = [client.submit(replay_one, task, pure=False) for task in tasks]
        index = {future.key: task.index for future, task in zip(futures, tasks, strict=True)}
        try:
            for future in as_completed(futures):
                result = _outcome(future, index[future.key], DASK_HINT)
                finish(result)
        except BaseException:
            client.cancel([f for f in futures if not f.done()])
            raise
