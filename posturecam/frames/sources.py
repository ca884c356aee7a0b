"""Recorded frame sources: an image folder or a video file, each yielding ``Frame``.

Every source stamps frames with its own clock (manifest, container or frame
rate) so later stages never guess time from a frame count, and a frame that
cannot be decoded keeps its slot as a skipped ``Frame`` so outputs still
account for it. Only a source that is unusable as a whole raises.
``open_source`` also opens a camera index, through the one camera stack.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import cv2

from posturecam.core.types import Frame
from posturecam.errors import CameraUnavailable, Given, Remedy, SourceError
from posturecam.frames.capture import Health, open_live
from posturecam.frames.files import file_kind, read_regular, resolve_path, stat_problem
from posturecam.frames.imaging import (
    DEFAULT_MAX_SIDE,
    IMAGE_EXTENSIONS,
    MIN_SIDE,
    decode_image,
    fit,
    quiet_opencv,
    to_bgr8,
)
from posturecam.frames.manifest import MANIFEST, manifest_present, read_manifest
from posturecam.frames.pacing import paced
from posturecam.frames.video_clock import VideoClock

# Frame files are read whole into memory before decoding, so the size is checked (by
# stat, before opening) against a bound: a link to a disk image or a huge file named
# *.jpg must be refused, not read until memory runs out. Any compressed frame up to
# MAX_PIXELS fits, and so does an uncompressed 8-bit RGB one of about 85 MP.
MAX_FRAME_BYTES = 256 * 2**20
_CAMERA_OPEN_TIMEOUT_S = 10.0  # a driver that neither opens nor fails this long counts as busy


def natural_key(name: str) -> tuple[tuple[object, ...], str]:
    """Sort key putting frame2 before frame10; ties fall back to the raw name for stability."""
    parts = re.split(r"(\d+)", name)
    key = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return key, name


class FrameSource:
    """Base of all sources: an iterable of ``Frame`` that is also a context manager."""

    name: str
    kind: str
    ignored: list[str]
    timestamp_source: str
    expected_frames: int | None  # for progress bars; None when unknown (camera)

    def __init__(self, name: str, max_side: int) -> None:
        self.name = name
        self.max_side = max_side
        self.ignored = []
        self.timestamp_source = ""
        self.expected_frames = None
        self.closed = False

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying file or device; safe to call twice."""
        self.closed = True

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.name!r}>"


def _list_images(folder: Path) -> tuple[list[str], list[str]]:
    """The folder's entries named like images, in natural order, and the other entries.

    Entries named like images keep their frame slot whatever they are: one that is
    not a readable regular file (a FIFO, a directory, a symlink loop) is skipped
    with its reason when read, instead of vanishing or stopping the folder. A
    folder without a single regular image is refused, saying what it holds.
    """
    try:
        entries = sorted(os.scandir(folder), key=lambda e: natural_key(e.name))
    except OSError as exc:
        raise SourceError(f"cannot list folder {folder}: {stat_problem(exc)}") from exc
    images: list[str] = []
    ignored: list[str] = []
    regular = subfolders = 0
    for entry in entries:
        ext = os.path.splitext(entry.name)[1].lower()
        # Hidden files include macOS "._x.jpg" resource forks, which are not images.
        if ext in IMAGE_EXTENSIONS and not entry.name.startswith("."):
            images.append(entry.name)
            regular += _entry_is(entry.is_file)
        elif _entry_is(entry.is_dir):
            subfolders += 1
        else:
            ignored.append(entry.name)
    if regular:
        return images, ignored
    hints = []
    if images:
        hints.append(
            f"{len(images)} entr{'y' if len(images) == 1 else 'ies'} named like images "
            f"but not regular files, e.g. {images[0]}"
        )
    if subfolders:
        hints.append(f"{subfolders} subfolder(s); point the source at the one with images")
    hint = f" (it has {'; '.join(hints)})" if hints else ""
    exts = " ".join(sorted(IMAGE_EXTENSIONS))
    raise SourceError(f"no images in folder {folder}{hint}; expected files ending {exts}")


class FolderSource(FrameSource):
    """Images in one folder, timed by manifest.csv, a frame rate, or stills order.

    ``timestamp_source`` is "manifest", "fps" or "stills".
    """

    kind = "folder"

    def __init__(
        self,
        folder: str | Path,
        *,
        fps: float | None = None,
        stills: bool = False,
        max_side: int = DEFAULT_MAX_SIDE,
    ) -> None:
        folder = Path(folder)
        super().__init__(resolve_path(folder).name or str(folder), max_side)
        self.folder = folder
        images, self.ignored = _list_images(folder)
        self._items = self._timed(images, fps, stills)
        self.expected_frames = len(self._items)

    def _timed(self, images: list[str], fps: float | None, stills: bool) -> list[tuple[str, float]]:
        """(file, t_s) of every frame: from manifest.csv, a frame rate, or stills order."""
        manifest = self.folder / MANIFEST
        if manifest_present(manifest):
            listed = read_manifest(manifest, images)
            listed_names = {n for n, _ in listed}
            self.ignored.extend(n for n in images if n not in listed_names)
            self.ignored.sort(key=natural_key)
            self.timestamp_source = "manifest"
            return listed
        if fps is not None:
            rate = _check_fps(fps)
            self.timestamp_source = "fps"
            return [(n, k / rate) for k, n in enumerate(images)]
        if stills:
            self.timestamp_source = "stills"
            return [(n, float(k)) for k, n in enumerate(images)]
        raise SourceError(
            f"folder {self.folder} has no {MANIFEST}, so frame times are unknown: add "
            f"{MANIFEST} (header 'file,t_s', one row per image) or ",
            Remedy("give_fps"),
            " for frames taken at a steady rate (or ",
            Given("stills_option"),
            " for unrelated photos)",
        )

    def __iter__(self) -> Iterator[Frame]:
        for index, (name, t_s) in enumerate(self._items):
            if self.closed:
                return
            data, reason = read_regular(self.folder / name, MAX_FRAME_BYTES)
            if data is None:
                yield Frame(None, t_s, index, name, reason)
                continue
            image, reason = decode_image(data, self.max_side)
            yield Frame(image, t_s, index, name, reason)


def _entry_is(test: Callable[[], bool]) -> bool:
    """``DirEntry.is_file``/``is_dir``, with a looping or vanished link counting as neither."""
    try:
        return test()
    except OSError:
        return False


def _check_fps(fps: float) -> float:
    """A frame rate must be a positive finite number; say so in CLI terms."""
    try:
        rate = float(fps)
    except (TypeError, ValueError):
        rate = math.nan
    if not (math.isfinite(rate) and rate > 0):
        raise SourceError(
            Given("fps_option"), f" must be a positive number of frames per second, got {fps!r}"
        )
    return rate


class VideoSource(FrameSource):
    """Frames of a video file, timed by the container (``timestamp_source``)."""

    kind = "video"

    def __init__(
        self, path: str | Path, *, fps: float | None = None, max_side: int = DEFAULT_MAX_SIDE
    ) -> None:
        path = Path(path)
        super().__init__(path.name, max_side)
        self.path = path
        self._fps_arg = _check_fps(fps) if fps is not None else None
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            raise SourceError(
                f"{path} is a single image; put it in a folder and pass the folder (with ",
                Given("stills_option"),
                " for unrelated photos)",
            )
        try:
            st = path.stat()
        except OSError as exc:
            raise SourceError(f"cannot read video {path}: {stat_problem(exc)}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise SourceError(
                f"{path} is a {file_kind(st.st_mode)}, not a video file; "
                "give an image folder or a video file"
            )
        size = st.st_size
        if size == 0:
            raise SourceError(f"video {path} is empty (0 bytes)")
        self._cap: cv2.VideoCapture | None = None
        self._pending: list[Frame] = []
        self._start()

    def _start(self) -> None:
        """Open the file and read two frames, so every whole-file problem shows up here."""
        with quiet_opencv():
            cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"cannot open video {self.path}: not a video file, or its codec is unsupported"
            )
        self._cap = cap
        container_fps = cap.get(cv2.CAP_PROP_FPS)
        rate = container_fps if math.isfinite(container_fps) and 0 < container_fps <= 1000 else None
        self._clock = VideoClock(rate or self._fps_arg, self.name)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.expected_frames = count if count > 0 else None
        self._next_index = 0
        self._pending = []
        try:
            for _ in range(2):
                frame = self._read()
                if frame is None:
                    break
                self._pending.append(frame)
        except SourceError:
            self.close()
            raise
        if not self._pending:
            self.close()
            raise SourceError(f"video {self.path} contains no readable frames")
        self.timestamp_source = self._clock.source
        self.closed = False

    def _read(self) -> Frame | None:
        assert self._cap is not None
        ok, img = self._cap.read()
        if not ok or img is None:
            return None
        index = self._next_index
        self._next_index += 1
        t_s = self._clock.stamp(index, self._cap.get(cv2.CAP_PROP_POS_MSEC))
        self.timestamp_source = self._clock.source
        image, reason = to_bgr8(img)
        if image is not None:
            image = fit(image, self.max_side)
        return Frame(image, t_s, index, self.name, reason)

    def __iter__(self) -> Iterator[Frame]:
        if self.closed:
            return
        if self._cap is None:
            self._start()  # iterating again: rewind by reopening
        while self._cap is not None:
            if self._pending:
                yield self._pending.pop(0)
                continue
            frame = self._read()
            if frame is None:
                break
            yield frame
        self._release()

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        self._release()
        self._pending = []
        super().close()


class CameraSource(FrameSource):
    """A camera through the one camera stack, timed by ``time.monotonic()`` from the first frame.

    Trouble behaves as during ``monitor``: a black or frozen image is a skipped
    frame, a busy or unplugged camera is retried (``on_wait`` hears why). Only a
    camera that cannot be opened at all fails here, at once.
    """

    kind = "camera"

    def __init__(
        self,
        index: int,
        fps: float | None = None,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        on_wait: Callable[[Health], None] | None = None,
    ) -> None:
        super().__init__(f"camera {index}", max_side)
        self.index = index
        self.timestamp_source = "monotonic"
        self.rate = _check_fps(fps) if fps is not None else None
        self.on_wait = on_wait
        self._stop = threading.Event()
        self._capture = open_live(index, max_side=max_side)
        self._capture.start()
        if not self._capture.wait_open(_CAMERA_OPEN_TIMEOUT_S):
            self._capture.release()
            raise CameraUnavailable(
                f"cannot open camera {index}: it may be busy in another app, unplugged, or "
                "blocked by camera permissions; close other camera apps, check permissions, or ",
                Remedy("other_camera_index"),
            )

    def __iter__(self) -> Iterator[Frame]:
        t0: float | None = None
        for frame in paced(self._capture, self.rate, stop=self._stop, on_wait=self.on_wait):
            t0 = frame.t_s if t0 is None else t0
            yield dataclasses.replace(frame, t_s=frame.t_s - t0)

    def close(self) -> None:
        self._stop.set()
        self._capture.release()
        super().close()


def open_source(
    spec: str | Path | int,
    *,
    fps: float | None = None,
    stills: bool = False,
    max_side: int = DEFAULT_MAX_SIDE,
    on_wait: Callable[[Health], None] | None = None,
) -> FrameSource:
    """Open a camera index, image folder or video file, chosen from what ``spec`` is.

    A string of digits means a camera; write ``./2024`` for a folder named 2024.
    ``on_wait`` hears why a camera sends no frame for now (busy, unplugged).
    """
    if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < MIN_SIDE:
        raise SourceError(f"max_side must be an integer of at least {MIN_SIDE}, got {max_side!r}")
    if isinstance(spec, bool):
        raise SourceError(f"invalid source {spec!r}; give an image folder, a video or a camera")
    if isinstance(spec, int) or (isinstance(spec, str) and re.fullmatch(r"[0-9]+", spec.strip())):
        index = int(spec)
        if index < 0:
            raise SourceError(f"camera index must be 0 or more, got {index}")
        try:
            return CameraSource(index, fps, max_side=max_side, on_wait=on_wait)
        except CameraUnavailable as exc:
            if isinstance(spec, str) and Path(spec.strip()).exists():
                raise CameraUnavailable(
                    exc, f" (to use the folder or file '{spec}', write ./{spec.strip()})"
                ) from None
            raise
    path = Path(spec).expanduser()
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        link = " (a link to a missing target)" if os.path.islink(path) else ""
        raise SourceError(
            f"no such file or folder: {spec}{link}; "
            "give an image folder, a video file or a camera index"
        ) from None
    except OSError as exc:
        raise SourceError(f"cannot open source {spec}: {stat_problem(exc)}") from exc
    if stat.S_ISDIR(mode):
        return FolderSource(path, fps=fps, stills=stills, max_side=max_side)
    if stat.S_ISREG(mode):
        return VideoSource(path, fps=fps, max_side=max_side)
    raise SourceError(
        f"source {spec} is a {file_kind(mode)}, not a regular file or folder; "
        "give an image folder, a video file or a camera index"
    )
