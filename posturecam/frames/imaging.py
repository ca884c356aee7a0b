"""Image bytes and arrays to the one layout the pose model takes: HxWx3 uint8 BGR.

Decoding checks what a file claims before OpenCV sees it (magic bytes, a
truncated JPEG or PNG, a header size too large or too small), so one broken
file becomes a skip reason instead of a crash or gigabytes of pixels.
Conversion normalises grey, alpha and 16-bit layouts and fits the long side.
This module also keeps OpenCV's and FFmpeg's own logging quiet, since our
messages name the file and the fix.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Iterator

import cv2
import numpy as np

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
MAX_PIXELS = 100_000_000  # beyond this a frame is almost surely a mistake, and costs GBs
MIN_SIDE = 32  # pose models cannot find a person in fewer pixels than this
DEFAULT_MAX_SIDE = 1280

# Reasons shown to the user (and written to outputs) for frames that cannot be decoded.
EMPTY_FILE = "empty file (0 bytes)"
CORRUPT = "corrupt or unsupported image"
TRUNCATED_JPEG = "truncated JPEG"
TRUNCATED_PNG = "truncated PNG"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"IEND\xaeB`\x82"  # IEND chunk type plus its constant CRC
_TRAILING_PAD = b"\x00 \t\r\n"
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # frame headers carry the size

# FFmpeg prints its own errors ("moov atom not found") on stderr, while ours name the
# file and the fix. OpenCV reads this once, when its FFmpeg backend first starts (any
# VideoCapture or VideoWriter), so it is set at import; a user's own value wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
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


def fit(img: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale so the long side is at most ``max_side``; pose models gain nothing from more."""
    h, w = img.shape[:2]
    long_side = max(h, w)
    if long_side <= max_side:
        return img
    scale = max_side / long_side
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def to_bgr8(img: np.ndarray) -> tuple[np.ndarray | None, str]:
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


def _jpeg_flags(size: tuple[int, int] | None, max_side: int) -> int:
    """IMREAD_COLOR, reduced by DCT scaling (cheap in libjpeg) while still >= max_side."""
    if size is not None:
        for factor, reduced in (
            (8, cv2.IMREAD_REDUCED_COLOR_8),
            (4, cv2.IMREAD_REDUCED_COLOR_4),
            (2, cv2.IMREAD_REDUCED_COLOR_2),
        ):
            if max(size) // factor >= max_side:
                return reduced
    return cv2.IMREAD_COLOR


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

    flags = _jpeg_flags(size, max_side) if fmt == "jpeg" else cv2.IMREAD_UNCHANGED
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
    out, reason = to_bgr8(img)
    if out is None:
        return None, reason
    out = fit(out, max_side)
    if min(out.shape[:2]) < MIN_SIDE:
        h, w = out.shape[:2]
        return None, f"image too narrow ({w}x{h} after fitting into {max_side} px)"
    return np.ascontiguousarray(out), ""
