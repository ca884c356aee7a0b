"""Frame sources: an image folder, a video file or a camera, all yielding ``Frame``.

Every source stamps frames with its own clock (manifest, container or
monotonic time) so later stages never guess time from a frame count, and a
frame that cannot be decoded keeps its slot as a skipped ``Frame`` so outputs
still account for it. Only a source that is unusable as a whole raises.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import math
import os
import re
import stat
import struct
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from posturecam.core.types import Frame
from posturecam.errors import CameraUnavailable, SourceError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
MANIFEST = "manifest.csv"
MAX_PIXELS = 100_000_000  # beyond this a frame is almost surely a mistake, and costs GBs
MIN_SIDE = 32  # pose models cannot find a person in fewer pixels than this
DEFAULT_MAX_SIDE = 1280
# Frame files are read whole into memory before decoding, so the size is checked (by
# stat, before opening) against a bound: a link to a disk image or a huge file named
# *.jpg must be refused, not read until memory runs out. Any compressed frame up to
# MAX_PIXELS fits, and so does an uncompressed 8-bit RGB one of about 85 MP.
MAX_FRAME_BYTES = 256 * 2**20
# manifest.csv is parsed whole, too; 64 MiB is over a million rows.
MAX_MANIFEST_BYTES = 64 * 2**20

# Reasons shown to the user (and written to outputs) for skipped frames.
EMPTY_FILE = "empty file (0 bytes)"
CORRUPT = "corrupt or unsupported image"
TRUNCATED_JPEG = "truncated JPEG"
TRUNCATED_PNG = "truncated PNG"
NOT_REGULAR = "not a regular file"
SYMLINK_LOOP = "symlink loop (too many levels of symbolic links)"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"IEND\xaeB`\x82"  # IEND chunk type plus its constant CRC
_TRAILING_PAD = b"\x00 \t\r\n"
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # frame headers carry the size
_CAMERA_READ_FAILURES = 20  # consecutive failed reads before a camera counts as gone

# FFmpeg prints its own errors ("moov atom not found") on stderr, while ours name the
# file and the fix. OpenCV reads this once, when its FFmpeg backend first starts (any
# VideoCapture or VideoWriter), so it is set at import; a user's own value wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


# --------------------------------------------------------------------------- helpers


def natural_key(name: str) -> tuple[tuple[object, ...], str]:
    """Sort key putting frame2 before frame10; ties fall back to the raw name for stability."""
    parts = re.split(r"(\d+)", name)
    key = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return key, name


def _nfc(name: str) -> str:
    """macOS may hand back decomposed names; compare manifest and disk names in one form."""
    return unicodedata.normalize("NFC", name)


def _file_kind(mode: int) -> str:
    """What a non-regular file is, in words a user knows."""
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


def _stat_problem(exc: OSError) -> str:
    """Why a path cannot be looked at: a symlink loop or the system's own words."""
    if exc.errno == errno.ELOOP:
        return SYMLINK_LOOP
    return exc.strerror or str(exc)


def _size_text(n: int) -> str:
    """A byte count for a message: whole MiB where exact, else bytes."""
    return f"{n >> 20} MiB" if n and n % 2**20 == 0 else f"{n:,} bytes"


def _read_regular(path: Path, limit: int) -> tuple[bytes | None, str]:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Returns ``(data, "")`` or ``(None, reason)``. The file is stat'ed (following
    links) before it is opened, so a FIFO, socket, device or directory is never
    opened, and a file over the bound is never read. The open is non-blocking and
    re-checked with fstat, so a file swapped for a FIFO in between cannot hang us,
    and at most ``limit`` bytes are read even if the file grows meanwhile.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, f"cannot read file: {_stat_problem(exc)}"
    if not stat.S_ISREG(st.st_mode):
        return None, f"{NOT_REGULAR} ({_file_kind(st.st_mode)})"
    if st.st_size > limit:
        return None, f"file too large ({_size_text(st.st_size)}; limit {_size_text(limit)})"
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return None, f"cannot read file: {_stat_problem(exc)}"
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None, f"{NOT_REGULAR} (changed while being opened)"
            data = fh.read(limit + 1)
    except OSError as exc:
        return None, f"cannot read file: {_stat_problem(exc)}"
    if len(data) > limit:
        return None, f"file too large (grew past the limit of {_size_text(limit)})"
    return data, ""


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings (e.g. probing a missing camera) while we report errors."""
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    if log is None:
        yield
        return
    old = log.getLogLevel()
    log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        log.setLogLevel(old)


def _fit(img: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale so the long side is at most ``max_side``; pose models gain nothing from more."""
    h, w = img.shape[:2]
    long_side = max(h, w)
    if long_side <= max_side:
        return img
    scale = max_side / long_side
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def _to_bgr8(img: np.ndarray) -> tuple[np.ndarray | None, str]:
    """Normalise any decoded layout to HxWx3 uint8 BGR, or say why it cannot be.

    Transparent pixels are composited on white rather than having alpha dropped,
    because the colour under alpha=0 is arbitrary (often black) and would show
    up as a dark blob the pose model might read as a person.
    """
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype.kind == "f":
        return None, "floating-point (HDR) image not supported; save it as 8-bit PNG or JPEG"
    elif img.dtype != np.uint8:
        return None, f"unsupported pixel type {img.dtype}; save it as 8-bit PNG or JPEG"

    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), ""
    if img.ndim != 3:
        return None, CORRUPT
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR), ""
    if channels == 3:
        return img, ""
    if channels in (2, 4):
        colour = img[:, :, :1] if channels == 2 else img[:, :, :3]
        alpha = img[:, :, -1:].astype(np.float32) / 255.0
        out = colour.astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        if channels == 2:
            out = cv2.cvtColor(out[:, :, 0], cv2.COLOR_GRAY2BGR)
        return out, ""
    return None, f"unsupported image with {channels} channels"


# --------------------------------------------------------------------------- image decoding


def _sniff(data: bytes) -> str:
    """Format from magic bytes; the extension may lie."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data.startswith(b"BM"):
        return "bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return "other"


def _jpeg_complete(data: bytes) -> bool:
    """True unless the JPEG stops before its EOI marker.

    The fast path is an EOI at the very end; otherwise walk the segments, so
    trailers appended after EOI (e.g. motion photos) do not count as truncation.
    If the structure is too odd to follow, leave the verdict to the decoder.
    """
    if data.rstrip(_TRAILING_PAD).endswith(b"\xff\xd9"):
        return True
    n = len(data)
    i = 2
    while True:
        if i >= n:
            return False
        if data[i] != 0xFF:
            return True  # not a marker where one belongs: not ours to judge
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return False
        marker = data[i]
        i += 1
        if marker == 0xD9:
            return True
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue
        if i + 2 > n:
            return False
        i += struct.unpack_from(">H", data, i)[0]
        if i > n:
            return False
        if marker == 0xDA:  # entropy-coded data follows; find the next real marker
            while True:
                i = data.find(b"\xff", i)
                if i < 0 or i + 1 >= n:
                    return False
                nxt = data[i + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7:
                    i += 2
                    continue
                break


def _png_complete(data: bytes) -> bool:
    """True if the chunk chain reaches IEND before the data runs out."""
    if _PNG_IEND in data[-64:]:
        return True
    n = len(data)
    i = len(_PNG_SIGNATURE)
    while i + 8 <= n:
        length = struct.unpack_from(">I", data, i)[0]
        if data[i + 4 : i + 8] == b"IEND":
            return True
        i += 12 + length
    return False


def _header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) read from the header without decoding pixels, if the format allows."""
    try:
        if fmt == "png" and data[12:16] == b"IHDR":
            return struct.unpack_from(">II", data, 16)
        if fmt == "jpeg":
            return _jpeg_size(data)
        if fmt == "bmp":
            if struct.unpack_from("<I", data, 14)[0] == 12:
                return struct.unpack_from("<HH", data, 18)
            w, h = struct.unpack_from("<ii", data, 18)
            return abs(w), abs(h)
        if fmt == "webp":
            chunk = data[12:16]
            if chunk == b"VP8X":
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
                return w, h
            if chunk == b"VP8L" and data[20] == 0x2F:
                bits = struct.unpack_from("<I", data, 21)[0]
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
                w, h = struct.unpack_from("<HH", data, 26)
                return w & 0x3FFF, h & 0x3FFF
    except (struct.error, IndexError):
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk JPEG segments up to the first SOF marker, which holds the frame size."""
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker in (0xD9, 0xDA):
            return None
        if marker in _JPEG_SOF:
            h, w = struct.unpack_from(">HH", data, i + 5)
            return w, h
        i += 2 + struct.unpack_from(">H", data, i + 2)[0]
    return None


def _size_problem(w: int, h: int) -> str:
    """Reason to refuse an image of this size, or '' if it is usable."""
    if w * h > MAX_PIXELS:
        return f"image too large ({w}x{h}, {w * h / 1e6:.0f} MP; limit {MAX_PIXELS // 10**6} MP)"
    if min(w, h) < MIN_SIDE:
        return f"image too small ({w}x{h}; need at least {MIN_SIDE} px on each side)"
    return ""


def decode_image(data: bytes, max_side: int = DEFAULT_MAX_SIDE) -> tuple[np.ndarray | None, str]:
    """Decode image bytes to HxWx3 uint8 BGR with long side <= ``max_side``.

    Returns ``(image, "")`` or ``(None, reason)``; never raises for bad data,
    because one broken file must not stop a whole folder.

    JPEGs are decoded with ``IMREAD_COLOR`` (or a reduced-size variant for big
    ones, which libjpeg does cheaply via DCT scaling) so EXIF orientation is
    applied and CMYK is converted; JPEG has no alpha or 16-bit to preserve.
    Other formats use ``IMREAD_UNCHANGED`` and are normalised explicitly:
    grey to BGR, alpha composited on white, 16-bit scaled by ``>> 8``.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side}")
    if not data:
        return None, EMPTY_FILE
    fmt = _sniff(data)
    if fmt == "jpeg" and not _jpeg_complete(data):
        return None, TRUNCATED_JPEG
    if fmt == "png" and not _png_complete(data):
        return None, TRUNCATED_PNG

    size = _header_size(data, fmt)
    if size is not None:
        problem = _size_problem(*size)
        if problem:
            return None, problem

    flags = cv2.IMREAD_UNCHANGED
    if fmt == "jpeg":
        flags = cv2.IMREAD_COLOR
        if size is not None:
            for factor, reduced in (
                (8, cv2.IMREAD_REDUCED_COLOR_8),
                (4, cv2.IMREAD_REDUCED_COLOR_4),
                (2, cv2.IMREAD_REDUCED_COLOR_2),
            ):
                if max(size) // factor >= max_side:
                    flags = reduced
                    break
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:
        img = None
    if img is None or img.size == 0:
        return None, CORRUPT

    if size is None:  # format without a cheap header parse: check what we got
        problem = _size_problem(img.shape[1], img.shape[0])
        if problem:
            return None, problem
    out, reason = _to_bgr8(img)
    if out is None:
        return None, reason
    out = _fit(out, max_side)
    if min(out.shape[:2]) < MIN_SIDE:
        h, w = out.shape[:2]
        return None, f"image too narrow ({w}x{h} after fitting into {max_side} px)"
    return np.ascontiguousarray(out), ""


# --------------------------------------------------------------------------- sources


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
        try:
            entries = sorted(os.scandir(folder), key=lambda e: natural_key(e.name))
        except OSError as exc:
            raise SourceError(f"cannot list folder {folder}: {_stat_problem(exc)}") from exc

        # Entries named like images keep their frame slot whatever they are: one that is
        # not a readable regular file (a FIFO, a directory, a symlink loop) is skipped
        # with its reason when read, instead of vanishing or stopping the folder.
        images: list[str] = []
        regular = 0
        subfolders = 0
        for entry in entries:
            ext = os.path.splitext(entry.name)[1].lower()
            # Hidden files include macOS "._x.jpg" resource forks, which are not images.
            if ext in IMAGE_EXTENSIONS and not entry.name.startswith("."):
                images.append(entry.name)
                regular += _entry_is(entry.is_file)
            elif _entry_is(entry.is_dir):
                subfolders += 1
            else:
                self.ignored.append(entry.name)

        if not regular:
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

        manifest = folder / MANIFEST
        if _manifest_present(manifest):
            listed = _read_manifest(manifest, images)
            listed_names = {n for n, _ in listed}
            self.ignored.extend(n for n in images if n not in listed_names)
            self.ignored.sort(key=natural_key)
            self._items = listed
            self.timestamp_source = "manifest"
        elif fps is not None:
            rate = _check_fps(fps)
            self._items = [(n, k / rate) for k, n in enumerate(images)]
            self.timestamp_source = "fps"
        elif stills:
            self._items = [(n, float(k)) for k, n in enumerate(images)]
            self.timestamp_source = "stills"
        else:
            raise SourceError(
                f"folder {folder} has no {MANIFEST}, so frame times are unknown: add "
                f"{MANIFEST} (header 'file,t_s', one row per image) or pass --fps N for "
                "frames taken at a steady rate (or --stills for unrelated photos)"
            )
        self.expected_frames = len(self._items)

    def __iter__(self) -> Iterator[Frame]:
        for index, (name, t_s) in enumerate(self._items):
            if self.closed:
                return
            data, reason = _read_regular(self.folder / name, MAX_FRAME_BYTES)
            if data is None:
                yield Frame(None, t_s, index, name, reason)
                continue
            image, reason = decode_image(data, self.max_side)
            yield Frame(image, t_s, index, name, reason)


def resolve_path(path: str | Path) -> Path:
    """``Path.resolve()``, with a symlink loop as a ``SourceError`` naming the path.

    Python before 3.13 raises RuntimeError for a loop, later ones OSError (ELOOP).
    """
    try:
        return Path(path).resolve()
    except RuntimeError as exc:
        raise SourceError(f"cannot open {path}: {SYMLINK_LOOP}") from exc
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {_stat_problem(exc)}") from exc


def _entry_is(test: Callable[[], bool]) -> bool:
    """``DirEntry.is_file``/``is_dir``, with a looping or vanished link counting as neither."""
    try:
        return test()
    except OSError:
        return False


def _manifest_present(path: Path) -> bool:
    """True if the folder has a manifest; one that cannot be used as a file is an error.

    A manifest.csv that is a symlink loop, a FIFO or a directory is refused here,
    rather than silently timing the folder some other way.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise SourceError(
                f"{path} is a link to a missing file; fix or remove the link"
            ) from None
        return False
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {_stat_problem(exc)}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(
            f"{path} is a {_file_kind(st.st_mode)}, not a regular file; "
            f"replace it with a CSV file (header 'file,t_s')"
        )
    return True


def _check_fps(fps: float) -> float:
    """A frame rate must be a positive finite number; say so in CLI terms."""
    try:
        rate = float(fps)
    except (TypeError, ValueError):
        rate = math.nan
    if not (math.isfinite(rate) and rate > 0):
        raise SourceError(f"--fps must be a positive number of frames per second, got {fps!r}")
    return rate


def _read_manifest(path: Path, images: list[str]) -> list[tuple[str, float]]:
    """Parse manifest.csv into (file, t_s) rows, refusing anything ambiguous.

    Rows must be in strictly increasing time so frame order and time order
    agree; every listed file must be an image in the folder.
    """
    on_disk = {_nfc(n): n for n in images}
    folded: dict[str, list[str]] = {}
    for n in images:
        folded.setdefault(_nfc(n).casefold(), []).append(n)

    def fail(line: int, what: str) -> SourceError:
        return SourceError(f"{path} line {line}: {what}")

    data, problem = _read_regular(path, MAX_MANIFEST_BYTES)
    if data is None:
        raise SourceError(f"cannot read {path}: {problem.removeprefix('cannot read file: ')}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path} is not UTF-8 text; save it as UTF-8 CSV") from exc

    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [c.strip().lower() for c in header[:2]] != ["file", "t_s"]:
        got = ",".join(header) if header else "nothing"
        raise fail(1, f"header must be 'file,t_s', got '{got}'")

    rows: list[tuple[str, float]] = []
    seen: dict[str, int] = {}
    prev: tuple[float, int] | None = None
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) < 2:
                raise fail(line, f"expected 'file,t_s', got '{','.join(cells)}'")
            file_cell, t_cell = cells[0].strip(), cells[1].strip()
            if not file_cell:
                raise fail(line, "file name is empty")
            try:
                t_s = float(t_cell)
            except ValueError:
                raise fail(line, f"t_s '{t_cell}' is not a number of seconds") from None
            if not math.isfinite(t_s):
                raise fail(line, f"t_s '{t_cell}' must be a finite number of seconds")
            key = _nfc(file_cell)
            if key in seen:
                raise fail(line, f"'{file_cell}' is listed twice (first on line {seen[key]})")
            if key not in on_disk:
                raise fail(line, _missing_file_message(path.parent, file_cell, folded))
            if prev is not None and t_s <= prev[0]:
                raise fail(
                    line,
                    f"t_s {t_cell} is not after {prev[0]:g} on line {prev[1]}; "
                    "times must strictly increase, so sort rows by time and drop duplicates",
                )
            seen[key] = line
            prev = (t_s, line)
            rows.append((on_disk[key], t_s))
    except csv.Error as exc:
        raise fail(reader.line_num, f"not valid CSV ({exc})") from None
    if not rows:
        raise SourceError(f"{path} lists no files; add one 'file,t_s' row per image")
    return rows


def _missing_file_message(folder: Path, name: str, folded: dict[str, list[str]]) -> str:
    """Explain why a manifest row names no usable image, with a guess if case differs."""
    if (folder / name).is_file():
        exts = " ".join(sorted(IMAGE_EXTENSIONS))
        return f"'{name}' is not an image this source reads (extensions {exts})"
    guess = folded.get(_nfc(name).casefold())
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    return f"file '{name}' not found in {folder}{hint}"


class _VideoClock:
    """Turns container timestamps into t_s, falling back to a frame rate when they fail.

    Some containers report 0 or repeated POS_MSEC values; then frames are
    timed as index / fps. If that happens mid-stream the rate is estimated
    from the good timestamps so far, keeping t_s continuous and non-decreasing.
    """

    def __init__(self, rate: float | None, name: str) -> None:
        self.rate = rate
        self.name = name
        self.source = "container"
        self._first_ms = 0.0
        self._last_ms = -math.inf
        self._last_t = 0.0
        self._base = (0.0, 0)  # (t_s, index) the fps fallback counts from

    def stamp(self, index: int, msec: float) -> float:
        if self.source == "container":
            good = math.isfinite(msec) and (index == 0 or msec > self._last_ms)
            if good:
                if index == 0:
                    self._first_ms = msec
                self._last_ms = msec
                t = (msec - self._first_ms) / 1000.0
                self._base = (t, index)
            else:
                self._fall_back(index)
        if self.source == "fps":
            assert self.rate is not None
            t = self._base[0] + (index - self._base[1]) / self.rate
        t = max(t, self._last_t)
        self._last_t = t
        return t

    def _fall_back(self, index: int) -> None:
        self.source = "fps"
        if self.rate is None:
            t, i = self._base
            if i > 0 and t > 0:
                self.rate = i / t
            else:
                raise SourceError(
                    f"video {self.name} has no usable timestamps or frame rate; "
                    "pass --fps N to time its frames"
                )


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
                f"{path} is a single image; put it in a folder and pass the folder "
                "(with --stills for unrelated photos)"
            )
        try:
            st = path.stat()
        except OSError as exc:
            raise SourceError(f"cannot read video {path}: {_stat_problem(exc)}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise SourceError(
                f"{path} is a {_file_kind(st.st_mode)}, not a video file; "
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
        with _quiet_opencv():
            cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"cannot open video {self.path}: not a video file, or its codec is unsupported"
            )
        self._cap = cap
        container_fps = cap.get(cv2.CAP_PROP_FPS)
        rate = container_fps if math.isfinite(container_fps) and 0 < container_fps <= 1000 else None
        self._clock = _VideoClock(rate or self._fps_arg, self.name)
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
        image, reason = _to_bgr8(img)
        if image is not None:
            image = _fit(image, self.max_side)
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
    """Live frames from a camera, timed by ``time.monotonic()`` from the first frame."""

    kind = "camera"

    def __init__(
        self, index: int, fps: float | None = None, *, max_side: int = DEFAULT_MAX_SIDE
    ) -> None:
        super().__init__(f"camera {index}", max_side)
        self.index = index
        self.timestamp_source = "monotonic"
        rate = _check_fps(fps) if fps is not None else None
        with _quiet_opencv():
            cap = cv2.VideoCapture(index)
            opened = cap.isOpened()
        if not opened:
            cap.release()
            raise CameraUnavailable(
                f"cannot open camera {index}: it may be busy in another app, unplugged, or "
                "blocked by camera permissions; close other camera apps, check permissions, "
                "or try another --source index"
            )
        if rate is not None:
            cap.set(cv2.CAP_PROP_FPS, rate)  # a request; drivers may ignore it
        self._cap: cv2.VideoCapture | None = cap

    def __iter__(self) -> Iterator[Frame]:
        t0: float | None = None
        index = 0
        failures = 0
        while self._cap is not None:
            ok, img = self._cap.read()
            if not ok or img is None:
                failures += 1
                if failures >= _CAMERA_READ_FAILURES:
                    raise CameraUnavailable(
                        f"{self.name} stopped delivering frames (unplugged, taken by another "
                        "app, or permission withdrawn); reconnect it or try another --source"
                    )
                time.sleep(0.05)
                continue
            failures = 0
            now = time.monotonic()
            if t0 is None:
                t0 = now
            image, reason = _to_bgr8(img)
            if image is not None:
                image = _fit(image, self.max_side)
            yield Frame(image, now - t0, index, self.name, reason)
            index += 1

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        super().close()


def open_source(
    spec: str | Path | int,
    *,
    fps: float | None = None,
    stills: bool = False,
    max_side: int = DEFAULT_MAX_SIDE,
) -> FrameSource:
    """Open a camera index, image folder or video file, chosen from what ``spec`` is.

    A string of digits means a camera; write ``./2024`` for a folder named 2024.
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
            return CameraSource(index, fps, max_side=max_side)
        except CameraUnavailable as exc:
            if isinstance(spec, str) and Path(spec.strip()).exists():
                raise CameraUnavailable(
                    f"{exc} (to use the folder or file '{spec}', write ./{spec.strip()})"
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
        raise SourceError(f"cannot open source {spec}: {_stat_problem(exc)}") from exc
    if stat.S_ISDIR(mode):
        return FolderSource(path, fps=fps, stills=stills, max_side=max_side)
    if stat.S_ISREG(mode):
        return VideoSource(path, fps=fps, max_side=max_side)
    raise SourceError(
        f"source {spec} is a {_file_kind(mode)}, not a regular file or folder; "
        "give an image folder, a video file or a camera index"
    )
