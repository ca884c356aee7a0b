"""Replay many recordings in one batch: one output folder per source, resumable, in parallel.

A batch is a list of ``replay`` calls. What the batch adds is bookkeeping a
researcher needs when a run takes hours: a stable folder name per source, a
``batch.json`` record that stays true when the run is interrupted, resuming
without re-running the model on finished sources, parallel workers (local
processes or a Dask cluster) that give the same files as a serial run, and one
progress bar for the whole batch.

Dask workers need posturecam installed, the model file at the same path and the
output folder on a file system they share with the machine that starts the
batch; sources and outputs are passed to them as absolute paths.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import dataclasses
import errno
import glob
import hashlib
import json
import math
import multiprocessing
import os
import pickle
import re
import signal
import socket
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.managers import SyncManager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from posturecam import __version__
from posturecam.errors import OutputError, PosturecamError, SourceError
from posturecam.frames.pose import MediaPipePose, PoseEstimator
from posturecam.frames.sources import natural_key, open_source, resolve_path
from posturecam.research.outputs import EVENTS, FRAMES, FRAMES_PARQUET, SUMMARY
from posturecam.research.recording import FILENAME as RECORDING
from posturecam.research.replay import PROFILE, EstimatorFactory, ReplayOptions, replay
from posturecam.storage import remove_stale_temps, write_json

BATCH_FILE = "batch.json"
EXECUTORS = ("process", "dask")
LOCAL = "local"  # --scheduler local: a Dask cluster on this machine, for this batch only
DONE, RESUMED, FAILED, PENDING = "done", "resumed", "failed", "pending"
REPORT_EVERY_FRAMES = 10  # workers send progress in batches, not per frame
REPORT_EVERY_S = 0.2
_POLL_S = 0.1  # how often the parent drains progress while waiting on workers
STOP_GRACE_S = 10.0  # after Ctrl-C, running sources get this long to stop before workers end
_GLOB_MAGIC = re.compile(r"[*?[]")
_UNSAFE = re.compile(r"[^\w.-]+")
_JOIN = "__"  # between a parent folder's name and the source's, e.g. "s1__cam"
_OUTPUTS = (FRAMES, EVENTS, FRAMES_PARQUET, RECORDING, PROFILE)  # what replay writes before
_OWNED = (*_OUTPUTS, SUMMARY)
_WATCH_S = 0.5  # how often a worker checks that the batch that started it still runs
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
DASK_HINT = (
    "Dask workers need posturecam installed, the model at the same path and the output "
    "folder on a shared file system"
)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ModelRef:
    """Picklable estimator factory: worker processes and Dask workers load the model themselves."""

    path: str

    def __call__(self, mode: str) -> PoseEstimator:
        return MediaPipePose(self.path, mode)


@dataclass(frozen=True)
class BatchItem:
    """One source of a batch and the folder its results go to."""

    spec: str  # what the user wrote (a path or a glob)
    source: str  # absolute path of the source
    out_dir: Path
    error: str = ""  # known before running, e.g. "no such file or folder"


@dataclass(frozen=True)
class BatchResult:
    """Per source: source, out_dir, status ("done", "resumed", "failed"), error, frames, wall_s."""

    items: list[dict[str, Any]]
    run_key: str = ""
    notes: tuple[str, ...] = ()  # warnings for the user: an interrupted earlier run, redone folders

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [item for item in self.items if item["status"] == FAILED]


# --------------------------------------------------------------------------- sources and folders


def _has_magic(text: str) -> bool:
    return bool(_GLOB_MAGIC.search(text))


def _identity(path: str) -> str:
    """Two specs naming the same file (relative, absolute, via a symlink) are one source."""
    return os.path.normcase(os.path.realpath(path))


def _expand(specs: Sequence[str]) -> list[tuple[str, str]]:
    """(spec, source) pairs; see ``expand_sources``."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for spec in specs:
        text = os.path.expanduser(str(spec))
        matches = [text]
        if _has_magic(text):
            found = sorted(glob.glob(text, recursive=True), key=natural_key)
            matches = found or [text]  # kept, so it is reported as missing
        for match in matches:
            source = match.rstrip("/" + os.sep) or match  # 'C/*/' gives 'C/a/'
            key = _identity(source)
            if key not in seen:
                seen.add(key)
                pairs.append((str(spec), source))
    return pairs


def expand_sources(specs: Sequence[str]) -> list[str]:
    """Sources named by paths and globs ('C/*/', '*.mp4', 'data/**/*.avi'), in a stable order.

    Specs keep the order given; a glob's matches are in natural order (s2 before
    s10). A spec matching nothing is kept, so the batch reports it instead of
    silently running fewer sources. The same file named twice runs once.
    """
    return [source for _, source in _expand(specs)]


def _safe(name: str) -> str:
    """A folder name that works on every file system and in a shell."""
    name = _UNSAFE.sub("_", name).lstrip(".")
    return name or "source"


def _leaf(path: str) -> tuple[str, str]:
    """(short name, name with its extension) of a source: a folder's name or a video's stem."""
    p = Path(path)
    if os.path.isdir(path) or not p.suffix:
        return _safe(p.name), _safe(p.name)
    return _safe(p.stem), _safe(f"{p.stem}_{p.suffix.lstrip('.')}")


def _folder_names(paths: Sequence[str]) -> list[str]:
    """Unique, readable folder names: the source's name, plus what tells colliding ones apart.

    Colliding names get the nearest parent folder whose name differs between
    them ('s1__cam', 's2__cam'); a video and a folder of one name in one folder
    get the extension ('x_mp4'); anything still equal gets a numeric suffix.
    """
    leaves = [_leaf(p) for p in paths]
    names = [short for short, _ in leaves]
    parents = [[_safe(c) for c in reversed(Path(p).parent.parts[1:])] for p in paths]

    def split(group: list[int], start: int) -> None:
        depth = max(len(parents[i]) for i in group)
        for level in range(start, depth):
            parts = [parents[i][level] if level < len(parents[i]) else "" for i in group]
            if len({c.casefold() for c in parts}) > 1:
                for i, part in zip(group, parts, strict=True):
                    if part:
                        names[i] = f"{part}{_JOIN}{names[i]}"
                for sub in _collisions(names, group):
                    split(sub, level + 1)
                return
        if len({leaves[i][1].casefold() for i in group}) > 1:
            for i in group:
                names[i] = names[i][: -len(leaves[i][0])] + leaves[i][1]

    for group in _collisions(names, range(len(paths))):
        split(group, 0)

    taken: set[str] = {BATCH_FILE}
    unique = []
    for name in names:
        candidate, k = name, 2
        while candidate.casefold() in taken:
            candidate, k = f"{name}-{k}", k + 1
        taken.add(candidate.casefold())
        unique.append(candidate)
    return unique


def _collisions(names: list[str], indices: Sequence[int]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i in indices:
        groups.setdefault(names[i].casefold(), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def _missing(spec: str, source: str) -> str:
    if os.path.exists(source):
        return ""
    if os.path.lexists(source):  # a link that leads nowhere: say which way
        try:
            os.stat(source)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"{spec} is a symlink loop; point it at the real folder or video"
        return f"{spec} is a link to a missing file or folder"
    if _has_magic(spec):
        return f"'{spec}' matches no file or folder"
    if spec.strip().isdigit():
        return f"no file or folder named {spec}; a batch replays recordings, not cameras"
    return f"no such file or folder: {spec}"


def plan(
    sources: Sequence[str], out_root: str | Path, *, specs: Sequence[str] | None = None
) -> list[BatchItem]:
    """One output folder per source under ``out_root``, named after the source.

    ``specs`` (what the user typed, one per source) is only recorded; it
    defaults to the sources themselves.
    """
    specs = list(sources) if specs is None else list(specs)
    if len(specs) != len(sources):
        raise ValueError("specs must name one spec per source")
    root = Path(os.path.abspath(os.path.expanduser(out_root)))
    paths = [os.path.abspath(os.path.expanduser(s)) for s in sources]
    names = _folder_names(paths)
    return [
        BatchItem(str(spec), path, root / name, _missing(str(spec), path))
        for spec, path, name in zip(specs, paths, names, strict=True)
    ]


# --------------------------------------------------------------------------- run key


def _plain(value: Any) -> Any:
    """JSON-ready, canonical form of options, profiles and settings (for hashing)."""
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _file_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


def _model_identity(model_info: dict[str, Any]) -> dict[str, Any]:
    """The model by content: the same file at another path gives the same results."""
    info = {"variant": model_info.get("variant")}
    path = model_info.get("path")
    if path and Path(path).is_file():
        info["sha256"] = _file_sha256(Path(path))
    elif path:
        info["path"] = str(path)
    return info


def run_key(options: ReplayOptions, model_info: dict[str, Any]) -> str:
    """SHA-256 of everything that changes a source's results.

    That is every replay option except force and progress (the profile and
    settings by content), the model variant and file hash, and the posturecam
    version. Equal keys mean a finished folder can be reused as it is.
    """
    opts = {
        f.name: _plain(getattr(options, f.name))
        for f in dataclasses.fields(options)
        if f.name not in ("force", "progress")
    }
    material = {
        "posturecam": __version__,
        "options": opts,
        "model": _plain(_model_identity(model_info or {})),
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- one source


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


class _Reporter:
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
    reporter = _Reporter(task.index, sink, stop)
    status, frames, error = FAILED, 0, ""
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
        frames, error = reporter.count, str(exc)
    except Exception as exc:
        frames, error = reporter.count, f"unexpected error: {type(exc).__name__}: {exc}"
    else:
        status, frames = DONE, int(result.summary["frames"])
    finally:
        reporter.flush()
    wall = round(time.perf_counter() - started, 3)
    files = file_record(Path(task.out_dir)) if status == DONE else {}
    return {
        "index": task.index,
        "status": status,
        "frames": frames,
        "error": error,
        "wall_s": wall,
        "files": files,
    }


# --------------------------------------------------------------------------- integrity


def _digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and BLAKE2b of every file replay wrote: what a resume checks before keeping it."""
    out: dict[str, dict[str, Any]] = {}
    for name in _OWNED:
        path = folder / name
        try:
            out[name] = {"size": path.stat().st_size, "blake2b": _digest(path)}
        except FileNotFoundError:
            continue
        except OSError:
            return {}  # no record: a resume checks the folder's structure instead
    return out


def _changed(folder: Path, files: dict[str, Any]) -> str:
    """The first recorded file that is missing or differs, or ""."""
    for name, want in files.items():
        path = folder / str(name)
        try:
            size = path.stat().st_size
        except OSError:
            return f"{name} is missing"
        if not isinstance(want, dict) or size != want.get("size"):
            return f"{name} changed size"
        if _digest(path) != want.get("blake2b"):
            return f"{name} changed"
    return ""


def _damaged(folder: Path, summary: dict[str, Any]) -> str:
    """Without a record of its files (batch.json lost): a structural check, or ""."""
    try:
        with zipfile.ZipFile(folder / RECORDING) as npz:
            if npz.testzip() is not None:
                return f"{RECORDING} is damaged"
        with open(folder / FRAMES, encoding="utf-8", newline="") as fh:
            rows = sum(1 for _ in csv.reader(fh)) - 1
    except (OSError, zipfile.BadZipFile, EOFError, UnicodeDecodeError, csv.Error) as exc:
        return f"cannot verify it ({exc})"
    if rows != summary.get("frames"):
        return f"{FRAMES} has {rows} rows, not {summary.get('frames')}"
    if not (folder / EVENTS).is_file():
        return f"{EVENTS} is missing"
    return ""


# --------------------------------------------------------------------------- before running


@dataclass(frozen=True)
class _Verdict:
    status: str  # PENDING (run it), RESUMED or FAILED
    error: str = ""
    frames: int = 0
    replace: bool = False  # run with force: the folder holds our own half-written run
    note: str = ""  # why a finished folder is run again
    files: dict[str, Any] = dataclasses.field(default_factory=dict)  # a kept folder's record


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _claimed(out_root: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(folder name, source) -> row, for the sources an earlier batch in this folder started."""
    data = _read_json(out_root / BATCH_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        return {}
    return {
        (Path(str(s.get("out_dir", ""))).name, _identity(str(s.get("source", "")))): s
        for s in data["sources"]
        if isinstance(s, dict)
    }


def _judge_folder(
    item: BatchItem, key: str, force: bool, claimed: dict[str, Any] | None
) -> _Verdict:
    """Resume, redo or refuse: an output folder of another run is never silently replaced.

    ``claimed``: this folder's row in the earlier batch.json, if that batch started it. A
    finished folder is kept only while its files are as that row recorded them (or, with
    no record, while they pass a structural check); otherwise it is run again.
    """
    out = item.out_dir
    fix = "choose another --out folder or pass --force to replace it"
    if out.exists() and not out.is_dir():
        return _Verdict(FAILED, f"{out} is a file, not a folder; move it away or {fix}")
    summary = out / SUMMARY
    try:
        source_id = str(resolve_path(item.source))
    except SourceError as exc:
        return _Verdict(FAILED, str(exc))
    if summary.exists():
        data = _read_json(summary)
        if not isinstance(data, dict):
            what = "an unreadable summary.json"
        elif data.get("source_path") != source_id:
            what = f"the results of another source ({data.get('source_path')})"
        elif data.get("run_key") == key:
            return _resume(out, data, (claimed or {}).get("files"))
        else:
            what = "results of this source made with other options, model or posturecam version"
        if force:
            return _Verdict(PENDING, replace=True)
        return _Verdict(FAILED, f"{out} already holds {what}; {fix}")
    if any((out / name).exists() for name in _OUTPUTS):
        # replay writes summary.json last: outputs without one are an interrupted replay.
        if force or claimed is not None:
            return _Verdict(PENDING, replace=True)
        return _Verdict(FAILED, f"{out} holds a frames.csv from an unknown run; {fix}")
    return _Verdict(PENDING)


def _resume(out: Path, summary: dict[str, Any], files: Any) -> _Verdict:
    """Keep a finished folder whose files are intact; run a damaged one again."""
    recorded = isinstance(files, dict) and bool(files)
    why = _changed(out, files) if recorded else _damaged(out, summary)
    if why:
        return _Verdict(PENDING, replace=True, note=f"{out}: {why}; running it again")
    frames = summary.get("frames")
    return _Verdict(
        RESUMED,
        frames=frames if isinstance(frames, int) else 0,
        files=files if recorded else file_record(out),
    )


# --------------------------------------------------------------------------- bookkeeping


class _Record:
    """The batch's state, written to batch.json (atomically) whenever a source finishes."""

    def __init__(self, out_root: Path, key: str, items: list[BatchItem], model: Any) -> None:
        self.path = out_root / BATCH_FILE
        self.key = key
        self.model = json.loads(json.dumps(model or {}, default=str))
        self.rows = [
            {
                "spec": item.spec,
                "source": item.source,
                "out_dir": str(item.out_dir),
                "status": PENDING,
                "error": "",
                "frames": 0,
                "wall_s": 0.0,
                "files": {},
            }
            for item in items
        ]

    def set(
        self,
        index: int,
        status: str,
        error: str = "",
        frames: int = 0,
        wall: float = 0.0,
        files: dict[str, Any] | None = None,
    ) -> None:
        row = self.rows[index]
        row.update(status=status, error=error, frames=frames, wall_s=wall, files=files or {})

    def count(self, status: str) -> int:
        return sum(row["status"] == status for row in self.rows)

    def write(self, state: str) -> None:
        data = {
            "posturecam": __version__,
            "run_key": self.key,
            "state": state,  # running | finished | interrupted
            "pid": os.getpid(),  # a "running" batch whose process is gone was interrupted
            "host": socket.gethostname(),
            "model": self.model,
            "counts": {s: self.count(s) for s in (DONE, RESUMED, FAILED, PENDING)},
            "sources": self.rows,
        }
        try:
            write_json(self.path, data)
        except OSError as exc:
            remedy = {
                errno.ENOSPC: "free some disk space or choose another --out folder",
                errno.EDQUOT: "free some space in your quota or choose another --out folder",
            }.get(exc.errno or 0, "choose a folder you can write to with --out")
            raise OutputError(
                f"cannot write {self.path} ({exc.strerror or exc}); {remedy}"
            ) from exc


class _Progress:
    """One bar over all frames of the batch; each source's count is corrected when it ends."""

    def __init__(self, total: int | None, enabled: bool, record: _Record) -> None:
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


class _BarSink:
    """Lets serial runs use the same reporter as workers, straight into the bar."""

    def __init__(self, progress: _Progress) -> None:
        self.progress = progress

    def put(self, item: tuple[int, int]) -> None:
        self.progress.frames(*item)


# --------------------------------------------------------------------------- executors

Finish = Callable[[dict[str, Any]], None]


def _failure(index: int, exc: BaseException, hint: str = "") -> dict[str, Any]:
    text = f"{type(exc).__name__}: {exc}" + (f" ({hint})" if hint else "")
    return {"index": index, "status": FAILED, "frames": 0, "error": text, "wall_s": 0.0}


def _run_serial(tasks: list[SourceTask], progress: _Progress, finish: Finish) -> None:
    sink = _BarSink(progress)
    for task in tasks:
        finish(replay_one(task, sink))


def _child_init(parent: int) -> None:
    """Workers and the progress queue leave Ctrl-C to the parent, which stops them in order,
    and end when the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)


def _drain(q: Any, progress: _Progress) -> None:
    while True:
        try:
            index, n = q.get_nowait()
        except Exception:  # queue.Empty, or the manager is gone during shutdown
            return
        progress.frames(index, n)


def _run_pool(tasks: list[SourceTask], workers: int, progress: _Progress, finish: Finish) -> None:
    """Each source in a fresh spawned process (MediaPipe's threads and fork do not mix)."""
    ctx = multiprocessing.get_context("spawn")
    manager = SyncManager(ctx=ctx)
    caught: list[int] = []
    with _held(caught):
        manager.start(_child_init, (os.getpid(),))
    try:
        if caught:
            raise KeyboardInterrupt
        with _held(caught):
            q = manager.Queue()
            stop = manager.Event()
            pool = cf.ProcessPoolExecutor(
                max_workers=min(workers, len(tasks)),
                mp_context=ctx,
                initializer=_child_init,
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
                cf.wait(open_, timeout=STOP_GRACE_S)
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


def _dask_client_class() -> Any:
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
    client_class = _dask_client_class()
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
            f"cannot connect to the Dask scheduler at {scheduler} ({exc}); check --scheduler, "
            "or start one with `dask scheduler` and workers with `dask worker ADDRESS`"
        ) from exc
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_dask(
    tasks: list[SourceTask], scheduler: str, workers: int, progress: _Progress, finish: Finish
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


# --------------------------------------------------------------------------- process faults


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # another user's process exists; a silly pid does not
    return True


def _previous_run(out_root: Path) -> str:
    """A note when batch.json says ``running`` for a process that is gone (killed batch).

    Marks that record interrupted. Refuses (OutputError) while that process still runs on
    this machine: two batches writing one folder would overwrite each other's record.
    """
    path = out_root / BATCH_FILE
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("state") != "running":
        return ""
    pid = data.get("pid")
    here = data.get("host") in (None, socket.gethostname())  # None: an older record
    if here and isinstance(pid, int) and pid != os.getpid() and _alive(pid):
        raise OutputError(
            f"another batch (process {pid}) is writing into {out_root}; wait for it to "
            f"finish or stop it, or choose another --out folder (if none runs, delete {path})"
        )
    with contextlib.suppress(OSError, TypeError, ValueError):
        write_json(path, {**data, "state": "interrupted"})
    if not here:  # cannot be checked from here: say whose it was
        who = f"it ran on {data.get('host') or 'another machine'}; if it still runs, stop this one"
    else:
        who = f"process {pid} ended without finishing" if isinstance(pid, int) else "it ended"
    return (
        f"the previous batch in {out_root} was interrupted ({who}); "
        "finished sources are checked and kept, the rest run again"
    )


@contextlib.contextmanager
def _held(caught: list[int]) -> Iterator[None]:
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
def _sigterm_as_ctrl_c() -> Iterator[None]:
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


# --------------------------------------------------------------------------- the batch


def _expected_frames(item: BatchItem, options: ReplayOptions) -> tuple[int | None, str]:
    """Frame count for the progress bar, or the reason the source cannot be opened at all."""
    try:
        with open_source(item.source, fps=options.fps, stills=options.stills) as src:
            return src.expected_frames, ""
    except PosturecamError as exc:
        return None, str(exc)
    except OSError as exc:  # this source's failure, not the batch's
        return None, f"cannot open {item.source}: {exc.strerror or exc}"
    except RuntimeError as exc:  # Path.resolve() on a symlink loop, before Python 3.13
        return None, f"cannot open {item.source}: {exc}"


def run_batch(
    specs: Sequence[str] | str,
    out_root: str | Path,
    make_estimator: EstimatorFactory,
    options: ReplayOptions,
    model_info: dict[str, Any] | None,
    *,
    workers: int = 1,
    executor: str = "process",
    scheduler: str | None = None,
    progress: bool = True,
) -> BatchResult:
    """Replay every source into ``out_root/NAME/``; resumable, and the same with any executor.

    ``make_estimator`` must be picklable for workers > 1 or Dask (``ModelRef``).
    A source that is missing, unreadable or fails is recorded and the others
    run; KeyboardInterrupt (and SIGTERM) stops the batch after recording what finished.
    """
    with _sigterm_as_ctrl_c():
        return _run_batch(
            specs, out_root, make_estimator, options, model_info, workers, executor, scheduler,
            progress,
        )  # fmt: skip


def _run_batch(
    specs: Sequence[str] | str,
    out_root: str | Path,
    make_estimator: EstimatorFactory,
    options: ReplayOptions,
    model_info: dict[str, Any] | None,
    workers: int,
    executor: str,
    scheduler: str | None,
    progress: bool,
) -> BatchResult:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise PosturecamError(f"--workers must be a whole number of at least 1, got {workers!r}")
    if executor not in EXECUTORS:
        raise PosturecamError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    if executor == "dask":
        if not scheduler:
            raise PosturecamError(
                "the Dask executor needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786), or "
                f"--scheduler {LOCAL} to start a cluster of --workers processes here"
            )
        _dask_client_class()  # fail now, not after planning, if Dask is missing
    if executor == "process" and workers > 1:
        try:
            pickle.dumps(make_estimator)
        except Exception as exc:
            raise TypeError(
                "with workers > 1, make_estimator must be picklable (a top-level class or "
                f"function, e.g. ModelRef(path)), not {make_estimator!r}: {exc}"
            ) from exc
    if isinstance(specs, (str, Path)):
        specs = [str(specs)]
    root = Path(os.path.abspath(os.path.expanduser(out_root)))
    # A glob like 'data/*/' with --out data/results must not pick up the results.
    inside = _identity(str(root)) + os.sep
    pairs = [
        (spec, source)
        for spec, source in _expand([str(s) for s in specs])
        if not (_has_magic(spec) and (_identity(source) + os.sep).startswith(inside))
    ]
    if not pairs:
        raise PosturecamError("no sources given; name image folders, videos or globs")
    if root.exists() and not root.is_dir():
        raise OutputError(f"--out {root} is a file, not a folder; choose a folder name.")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create --out folder {root}: {exc.strerror or exc}") from exc

    items = plan([s for _, s in pairs], root, specs=[spec for spec, _ in pairs])
    key = run_key(options, model_info or {})
    previous = _previous_run(root)
    notes = [previous] if previous else []
    claimed = _claimed(root)
    record = _Record(root, key, items, model_info)
    quiet = dataclasses.replace(options, progress=False)
    tasks: list[SourceTask] = []
    totals: list[int | None] = []
    for i, item in enumerate(items):
        if item.error:
            record.set(i, FAILED, item.error)
            continue
        row = claimed.get((item.out_dir.name, _identity(item.source)))
        verdict = _judge_folder(item, key, options.force, row)
        if verdict.note:
            notes.append(verdict.note)
        if verdict.status == RESUMED:
            remove_stale_temps(item.out_dir, _OWNED)  # a killed --force run's staging files
        if verdict.status != PENDING:
            record.set(i, verdict.status, verdict.error, verdict.frames, files=verdict.files)
            continue
        expected, error = _expected_frames(item, options)
        if error:
            record.set(i, FAILED, error)
            continue
        totals.append(expected)
        task_options = dataclasses.replace(quiet, force=verdict.replace or options.force)
        out_dir = str(item.out_dir)
        info = model_info or {}
        tasks.append(SourceTask(i, item.source, out_dir, make_estimator, task_options, info, key))

    total = None if any(t is None for t in totals) else sum(t or 0 for t in totals)
    bar = _Progress(total, progress, record)

    def finish(result: dict[str, Any]) -> None:
        i = result["index"]
        status, files = result["status"], result.get("files") or {}
        record.set(i, status, result["error"], result["frames"], result["wall_s"], files)
        bar.end(i, status, result["frames"])
        record.write("running")

    try:
        record.write("running")
        if not tasks:
            pass
        elif executor == "dask":
            assert scheduler is not None
            _run_dask(tasks, scheduler, workers, bar, finish)
        elif workers > 1 and len(tasks) > 1:
            _run_pool(tasks, workers, bar, finish)
        else:
            _run_serial(tasks, bar, finish)
    except BaseException:
        with contextlib.suppress(OutputError):  # the error that stopped us says more
            record.write("interrupted")
        raise
    finally:
        bar.close()
    record.write("finished")
    rows = [dict(row) for row in record.rows]
    return BatchResult(items=rows, run_key=key, notes=tuple(notes))
