"""Landmark recordings: what the model saw, kept so a replay never needs the model twice.

A recording is one uncompressed ``.npz`` (a zip of ``.npy`` arrays, readable
without posturecam and without pickle) holding every LandmarkLog field plus a
JSON header with the format name, its version, the frame count and the
caller's metadata. Landmarks are stored as float32 when that is exact (always
so for what ``run_pose`` makes) and as float64 otherwise, so a round trip is
lossless. Per-frame strings are stored once each, with a per-frame index.

Uncompressed (about 950 bytes a frame), because compression does not pay:
measured on 100,000 synthetic frames, ``np.savez_compressed`` was 27% smaller
but loaded 7x slower (0.32 s against 0.044 s) and saved 70x slower, and on
real MediaPipe landmarks (sample_frames/hopper) it saved only 13%. Loading
must stay well ahead of re-scoring at 200,000 frames/s.
"""

from __future__ import annotations

import itertools
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from posturecam.core.types import NUM_LANDMARKS, LandmarkBatch
from posturecam.errors import RecordingError
from posturecam.frames.engine import LandmarkLog
from posturecam.research.run_folder import RECORDING
from posturecam.storage import atomic_open

FORMAT = "posturecam-landmarks"
# 2: the same arrays as 1; frames.csv made from it writes t_s exactly (repr round trip).
# A version 1 recording still rescores with t_s to 6 significant digits, as its replay
# wrote it, so its frames.csv is reproduced byte for byte (see EXACT_TIME_SINCE).
VERSION = 2
EXACT_TIME_SINCE = 2
FILENAME = RECORDING  # its name in a run folder

_LANDMARK_SHAPES = {
    "xy": (NUM_LANDMARKS, 2),
    "z": (NUM_LANDMARKS,),
    "visibility": (NUM_LANDMARKS,),
    "world": (NUM_LANDMARKS, 3),
}
_STRINGS = ("name", "skip_reason")
_AGAIN = "replay the source again to create it"
# Bounds checked against the zip's declared sizes before anything is inflated: a member
# may hold at most _PER_FRAME values of 8 bytes a frame (world landmarks, 33 x 3) or, for
# the string blobs, _TEXT_PER_FRAME bytes, plus _SLACK for the .npy header.
MAX_HEADER_BYTES = 16 << 20
_PER_FRAME = NUM_LANDMARKS * 3
_TEXT_PER_FRAME = 4096
_SLACK = 1 << 16


def resolve(path: str | Path) -> Path:
    """A results folder means the recording inside it; anything else is the file itself."""
    path = Path(path)
    return path / FILENAME if path.is_dir() else path


# --------------------------------------------------------------------------- encoding


def _exact_float(values: np.ndarray) -> np.ndarray:
    """float32 when that keeps every value (run_pose's landmarks), else float64."""
    values = np.asarray(values, dtype=float)
    with np.errstate(over="ignore"):  # too big for float32: inf, so not exact, so float64
        small = values.astype(np.float32)
    return small if np.array_equal(small, values, equal_nan=True) else values


def _exact_int(values: np.ndarray) -> np.ndarray:
    """int32 when every value fits, else int64."""
    values = np.asarray(values, dtype=np.int64)
    info = np.iinfo(np.int32)
    fits = values.size == 0 or (values.min() >= info.min and values.max() <= info.max)
    return values.astype(np.int32) if fits else values


def _encode_strings(values: np.ndarray) -> dict[str, np.ndarray]:
    """Unique strings as one UTF-8 blob with offsets, plus the per-frame index into them.

    A video's name is the same in every frame: this stores it once, not N times.
    """
    index: dict[str, int] = {}
    codes = [index.setdefault(str(v), len(index)) for v in values]
    encoded = [s.encode("utf-8") for s in index]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    offsets[1:] = np.cumsum([len(b) for b in encoded])
    return {
        "index": np.asarray(codes, dtype=np.min_scalar_type(max(len(index) - 1, 0))),
        "blob": np.frombuffer(b"".join(encoded), np.uint8),
        "offsets": offsets,
    }


def _decode_strings(index: np.ndarray, blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    bounds = offsets.tolist() if offsets.ndim == 1 and offsets.dtype.kind in "iu" else []
    if blob.dtype != np.uint8 or not bounds or bounds[0] != 0 or bounds[-1] != blob.size:
        raise ValueError("string table is malformed")
    if any(a > b for a, b in itertools.pairwise(bounds)):
        raise ValueError("string offsets go backwards")
    data = blob.tobytes()
    unique = np.empty(len(bounds) - 1, dtype=object)
    unique[:] = [data[a:b].decode("utf-8") for a, b in itertools.pairwise(bounds)]
    if index.size and (index.min() < 0 or index.max() >= unique.size):
        raise ValueError("string index out of range")
    return unique[index.astype(np.intp)]


def _arrays(log: LandmarkLog, meta: dict[str, Any]) -> dict[str, np.ndarray]:
    n = len(log)
    header = {"format": FORMAT, "version": VERSION, "frames": n, "meta": meta}
    try:
        text = json.dumps(header, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise RecordingError(
            f"recording metadata must be plain JSON (text, numbers, lists, dicts): {exc}"
        ) from exc
    batch = log.landmarks
    out: dict[str, np.ndarray] = {
        "header": np.frombuffer(text.encode("utf-8"), np.uint8),
        "frame": _exact_int(log.frame),
        "t_s": np.asarray(log.t_s, dtype=float),
        "width": _exact_int(log.width),
        "height": _exact_int(log.height),
        "model_seconds": np.asarray(float(log.model_seconds)),
        "detected": np.asarray(batch.detected, dtype=bool),
    }
    for field in _LANDMARK_SHAPES:
        out[f"landmarks.{field}"] = _exact_float(getattr(batch, field))
    for field in _STRINGS:
        for part, arr in _encode_strings(getattr(log, field)).items():
            out[f"{field}.{part}"] = arr
    return out


# --------------------------------------------------------------------------- save / load


def save(path: str | Path, log: LandmarkLog, meta: dict[str, Any]) -> None:
    """Write ``log`` and ``meta`` atomically: a failure leaves any earlier recording intact.

    ``path`` is the file, or a results folder (the file is then FILENAME inside it).
    """
    path = resolve(path)
    arrays = _arrays(log, meta)
    try:
        with atomic_open(path, "wb") as fh:
            np.savez(fh, **arrays)
    except OSError as exc:
        raise RecordingError(
            f"cannot write landmark recording {path}: {exc.strerror or exc}; "
            "check that the folder is writable and the disk has space."
        ) from exc


def dump(fh: Any, log: LandmarkLog, meta: dict[str, Any]) -> None:
    """Write the recording to an open binary file (the caller makes that atomic)."""
    np.savez(fh, **_arrays(log, meta))


def _damaged(path: Path, why: object) -> RecordingError:
    return RecordingError(
        f"landmark recording {path} is damaged ({why}); it may be truncated or corrupt: {_AGAIN}."
    )


def _member_bound(name: str, frames: int) -> int:
    """The most bytes a member of a recording of ``frames`` frames can hold, uncompressed."""
    if name == "header":
        return MAX_HEADER_BYTES
    per_frame = _TEXT_PER_FRAME if name.endswith(".blob") else 8 * _PER_FRAME
    return _SLACK + (frames + 1) * per_frame


def _check_member(path: Path, npz: Any, name: str, frames: int) -> None:
    """Refuse a member whose declared size, or whose array, is larger than the frames allow.

    Checked on the zip's directory and the .npy header, before a byte is inflated, so a
    small file cannot claim gigabytes of memory.
    """
    info = npz.zip.getinfo(f"{name}.npy")
    bound = _member_bound(name, frames)
    if info.file_size > bound:
        raise _damaged(
            path, f"{name} declares {info.file_size} bytes, more than {frames} frames hold"
        )
    with npz.zip.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _order, dtype = read(fh)
    size = math.prod(shape) * dtype.itemsize
    if dtype.hasobject or size > info.file_size:
        raise _damaged(path, f"{name} declares more data than it holds")


def _read_header(path: Path, npz: Any) -> dict[str, Any]:
    if "header" not in npz.files:
        raise RecordingError(
            f"{path} is not a posturecam landmark recording (no header); "
            f"pass a {FILENAME} written by posturecam replay, or {_AGAIN}."
        )
    _check_member(path, npz, "header", 0)
    try:
        header = json.loads(npz["header"].tobytes().decode("utf-8"))
    except RecursionError:
        raise _damaged(path, "its header is nested far too deeply") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else None
        raise RecordingError(
            f"{path} is not a posturecam landmark recording (format {found!r}, "
            f"expected {FORMAT!r}); pass a {FILENAME} written by posturecam replay."
        )
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _damaged(path, f"invalid version {version!r}")
    if version > VERSION:
        raise RecordingError(
            f"{path}: recording version {version} is newer than this posturecam "
            f"(reads {VERSION}); upgrade posturecam."
        )
    frames = header.get("frames")
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 0:
        raise _damaged(path, f"invalid frame count {frames!r}")
    if not isinstance(header.get("meta"), dict):
        raise _damaged(path, "metadata is not an object")
    for name in npz.files:
        _check_member(path, npz, name, frames)
    return header


def _check(path: Path, name: str, arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if arr.shape != shape:
        raise RecordingError(
            f"landmark recording {path} is inconsistent: {name} has shape {arr.shape} but "
            f"{shape} was expected for its frame count; {_AGAIN}."
        )
    return arr


def _read_log(path: Path, npz: Any, n: int) -> LandmarkLog:
    def get(name: str, shape: tuple[int, ...], kind: str) -> np.ndarray:
        arr = _check(path, name, npz[name], shape)
        if arr.dtype.kind not in kind:
            raise _damaged(path, f"{name} has dtype {arr.dtype}")
        return arr

    strings = {}
    for field in _STRINGS:
        index = get(f"{field}.index", (n,), "iu")
        blob = npz[f"{field}.blob"]
        offsets = npz[f"{field}.offsets"]
        strings[field] = _decode_strings(index, blob, offsets)
    batch = LandmarkBatch(
        **{
            field: get(f"landmarks.{field}", (n, *shape), "f").astype(float)
            for field, shape in _LANDMARK_SHAPES.items()
        },
        detected=get("detected", (n,), "b"),
    )
    t_s = get("t_s", (n,), "f").astype(float)
    if not np.isfinite(t_s).all():
        raise _damaged(path, f"frame {int(np.argmin(np.isfinite(t_s)))} has no valid timestamp")
    if (np.diff(t_s) < 0).any():
        raise _damaged(
            path, f"timestamps go backwards at frame {int(np.argmax(np.diff(t_s) < 0)) + 1}"
        )
    return LandmarkLog(
        frame=get("frame", (n,), "iu").astype(int),
        t_s=t_s,
        name=strings["name"],
        skip_reason=strings["skip_reason"],
        width=get("width", (n,), "iu").astype(int),
        height=get("height", (n,), "iu").astype(int),
        landmarks=batch,
        model_seconds=float(get("model_seconds", (), "f")),
    )


def _open(path: Path) -> Any:
    """The recording as an open NpzFile, or a RecordingError saying what is wrong with it."""
    remedy = f"pass a {FILENAME} written by posturecam replay, or {_AGAIN}"
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise RecordingError(f"no landmark recording at {path}; {_AGAIN}.") from None
    except OSError as exc:
        raise RecordingError(
            f"cannot read landmark recording {path}: {exc.strerror or exc}; "
            "check that it exists and you may read it."
        ) from None
    if not magic:
        raise _damaged(path, "the file is empty")
    if magic == b"\x93NUMPY":
        raise RecordingError(
            f"{path} is a single numpy array, not a posturecam landmark recording; {remedy}."
        )
    if not magic.startswith(b"PK"):  # every zip, so every .npz, starts so
        raise RecordingError(f"{path} is not a posturecam landmark recording; {remedy}.")
    try:
        return np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise _damaged(path, exc) from None
    except OSError as exc:
        raise _damaged(path, exc.strerror or exc) from None


def load(path: str | Path) -> tuple[LandmarkLog, dict[str, Any]]:
    """Read a recording: the log (float64 arrays, str object arrays, as run_pose makes) and meta.

    ``path`` is the file, or a results folder holding FILENAME. Never unpickles.
    """
    log, meta, _version = load_versioned(path)
    return log, meta


def load_versioned(path: str | Path) -> tuple[LandmarkLog, dict[str, Any], int]:
    """``load``, plus the recording's format version."""
    path = resolve(path)
    with _open(path) as npz:
        try:
            header = _read_header(path, npz)
            log = _read_log(path, npz, header["frames"])
        except RecordingError:
            raise
        except (KeyError, ValueError, UnicodeDecodeError, zipfile.BadZipFile, EOFError) as exc:
            raise _damaged(path, exc) from None
        except OSError as exc:
            raise _damaged(path, exc.strerror or exc) from None
    return log, header["meta"], header["version"]
