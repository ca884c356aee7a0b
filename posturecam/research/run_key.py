"""The run key: one hash of everything that changes a source's results.

Equal keys mean a finished run folder can be reused as it is (a batch's resume).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from posturecam import __version__
from posturecam.research.options import ReplayOptions, canonical

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
    """SHA-256 of the scoring options (the profile and settings by content), whether
    frames.parquet is written, the model variant and file hash, and posturecam's version.

    How a run is shown (progress) or whether it may replace another (force) is left out.
    """
    material = {
        "posturecam": __version__,
        "options": {**options.scoring.key_material(), "parquet": options.parquet},
        "model": canonical(_model_identity(model_info or {})),
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
