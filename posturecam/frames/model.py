"""Find, verify, import and download MediaPipe Pose Landmarker ``.task`` bundles.

A pose model is a ~10-30 MB file we must not ship in the repository, so it is
supplied at run time.  Whatever file we get -- from ``--model``, the
``POSTURECAM_MODEL`` environment variable, the user cache, or a download -- is
checked against the SHA-256 of Google's official bundles before MediaPipe ever
sees it, so a truncated download or a wrong file fails here with a clear
message instead of deep inside the native loader.

This module deliberately does not import mediapipe: it must work (and give
good errors) even when mediapipe is broken or not installed yet.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlsplit

import platformdirs
from tqdm import tqdm

from posturecam.errors import ModelError

__all__ = [
    "DEFAULT_VARIANT",
    "ORIGINS",
    "VARIANTS",
    "ModelVariant",
    "ResolvedModel",
    "cache_dir",
    "describe",
    "fetch",
    "import_model",
    "remedy",
    "resolve",
    "verify",
]

_URL = (
    "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
    "pose_landmarker_{name}/float16/1/pose_landmarker_{name}.task"
)
_CHUNK = 1 << 20  # 1 MiB: hashing/downloading never holds a whole model in memory
_TIMEOUT_S = 30
_ZIP_MAGIC = b"PK\x03\x04"  # a .task bundle is a zip archive (local file header)
_ZIP_PROBE = 1024
_BUNDLE_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")

ENV_MODEL = "POSTURECAM_MODEL"
ENV_HOME = "POSTURECAM_HOME"


@dataclass(frozen=True)
class ModelVariant:
    """One official bundle: where it lives and the exact bytes we accept."""

    name: str
    url: str
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        """File name used in the cache (same as the upstream file name)."""
        return f"pose_landmarker_{self.name}.task"


def _variant(name: str, size: int, sha256: str) -> ModelVariant:
    return ModelVariant(name, _URL.format(name=name), size, sha256)


# Sizes and hashes of Google's float16/1 bundles (see shared/models/README.md).
VARIANTS: dict[str, ModelVariant] = {
    v.name: v
    for v in (
        _variant(
            "lite", 5_777_746, "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a"
        ),
        _variant(
            "full", 9_398_198, "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1"
        ),
        _variant(
            "heavy", 30_664_242, "64437af838a65d18e5ba7a0d39b465540069bc8aae8308de3e318aad31fcbc7b"
        ),
    )
}
DEFAULT_VARIANT = "full"

ORIGINS = ("--model", ENV_MODEL, "cache", "download")


@dataclass(frozen=True)
class ResolvedModel:
    """A verified model file plus where it came from (for logs and ``--help`` text)."""

    path: Path
    variant: str
    origin: str  # one of ORIGINS


class _Response(Protocol):
    """The part of an HTTP response ``fetch`` uses, so tests can fake it."""

    def read(self, n: int = -1, /) -> bytes: ...


Opener = Callable[[str], _Response]


# --------------------------------------------------------------------------- paths and messages


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Folder for cached models; ``$POSTURECAM_HOME/models`` lets tests and CI isolate it."""
    env = os.environ if environ is None else environ
    home = env.get(ENV_HOME)
    if home:
        return Path(home).expanduser() / "models"
    return Path(platformdirs.user_cache_dir("posturecam")) / "models"


def remedy(environ: Mapping[str, str] | None = None) -> str:
    """The one "what you can do" text every ModelError ends with."""
    return (
        "To supply a pose model, use any one of:\n"
        "  --model PATH                  use this .task file for this run\n"
        f"  {ENV_MODEL}=PATH         environment variable, same effect as --model\n"
        "  posturecam model import FILE  copy a verified file into the cache at "
        f"{cache_dir(environ)}\n"
        "  posturecam model fetch        download from the official URL over HTTPS "
        "(SHA-256 checked)"
    )


def _error(problem: str, environ: Mapping[str, str] | None = None) -> ModelError:
    """Build a ModelError whose message is the problem followed by the shared remedy."""
    return ModelError(f"{problem.rstrip()}\n{remedy(environ)}")


def _problem(exc: ModelError, environ: Mapping[str, str] | None = None) -> str:
    """The problem part of a ModelError, without the remedy, for combining two errors."""
    return str(exc).removesuffix(remedy(environ)).rstrip()


def _get_variant(name: str, environ: Mapping[str, str] | None = None) -> ModelVariant:
    try:
        return VARIANTS[name]
    except KeyError:
        known = ", ".join(VARIANTS)
        raise _error(f"Unknown pose model variant {name!r} (known: {known}).", environ) from None


def describe(resolved: ResolvedModel) -> str:
    """One line for logs/status: which model is used and why that one."""
    source = {
        "--model": "given with --model",
        ENV_MODEL: f"from ${ENV_MODEL}",
        "cache": "from the model cache",
        "download": "just downloaded",
    }.get(resolved.origin, resolved.origin)
    return f"pose model {resolved.variant!r} ({source}): {resolved.path}"


# --------------------------------------------------------------------------- verification


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _known_sizes() -> str:
    return ", ".join(f"{v.name} {v.size:,}" for v in VARIANTS.values())


def _verify(
    path: Path, label: str = "Model file", environ: Mapping[str, str] | None = None
) -> ModelVariant:
    """verify() with a caller-chosen label so messages say which source was wrong."""
    where = f"{label} {path}"
    try:
        if not path.exists():
            raise _error(f"{where} does not exist.", environ)
        if path.is_dir():
            raise _error(f"{where} is a directory, not a .task file.", environ)
        size = path.stat().st_size
        if size == 0:
            raise _error(f"{where} is empty (0 bytes).", environ)
        with path.open("rb") as f:
            head = f.read(_ZIP_PROBE)
        # Official bundles start with a short prefix before the first zip header, and a
        # truncated one has no central directory, so look for a local header near the start.
        if _ZIP_MAGIC not in head and not zipfile.is_zipfile(path):
            raise _error(
                f"{where} is not a MediaPipe pose landmarker bundle: a .task file is a zip "
                f"archive holding {' and '.join(_BUNDLE_MEMBERS)}, and this is not a zip.",
                environ,
            )
        if size not in {v.size for v in VARIANTS.values()}:
            raise _error(
                f"{where} is {size:,} bytes, which matches no official pose landmarker bundle "
                f"({_known_sizes()} bytes): it is truncated, corrupt, or not an official bundle.",
                environ,
            )
        digest = _sha256_file(path)
    except OSError as exc:
        raise _error(f"{where} cannot be read: {exc}.", environ) from exc
    for v in VARIANTS.values():
        if v.sha256 == digest and v.size == size:
            return v
    raise _error(
        f"{where} is not an official pose landmarker bundle, or it is corrupt or truncated: "
        f"its SHA-256 {digest} matches no official variant.",
        environ,
    )


def verify(path: str | Path) -> ModelVariant:
    """Check a file is exactly one official bundle (size + SHA-256); return which one.

    Raises ModelError (with the shared remedy text) for anything else, so a bad
    file never reaches MediaPipe's native loader.
    """
    return _verify(Path(path).expanduser())


# --------------------------------------------------------------------------- resolution


def resolve(
    explicit: str | Path | None = None,
    variant: str = DEFAULT_VARIANT,
    download: bool = True,
    environ: Mapping[str, str] | None = None,
    progress: bool = True,
    *,
    opener: Opener | None = None,
) -> ResolvedModel:
    """Pick the model to use: --model, then $POSTURECAM_MODEL, then the cache, then a download.

    A path the user named explicitly (flag or env var) must verify: falling back to
    some other model would hide their mistake.  A bad cached file is left alone
    (a good download replaces it atomically) and is reported if downloading fails.
    """
    env = os.environ if environ is None else environ
    wanted = _get_variant(variant, env)

    if explicit is not None:
        path = Path(explicit).expanduser()
        found = _verify(path, "The model file given with --model,", env)
        return ResolvedModel(path, found.name, "--model")

    env_path = env.get(ENV_MODEL)
    if env_path:
        path = Path(env_path).expanduser()
        found = _verify(path, f"The model file named by ${ENV_MODEL},", env)
        return ResolvedModel(path, found.name, ENV_MODEL)

    cached = cache_dir(env) / wanted.filename
    cache_problem = ""
    if cached.exists():
        try:
            found = _verify(cached, "The cached model", env)
        except ModelError as exc:
            cache_problem = _problem(exc, env)
        else:
            if found.name == wanted.name:
                return ResolvedModel(cached, found.name, "cache")
            cache_problem = (
                f"The cached model {cached} is the {found.name!r} variant, not {wanted.name!r}."
            )

    if download:
        try:
            path = fetch(wanted.name, progress=progress, opener=opener, environ=env)
        except ModelError as exc:
            if not cache_problem:
                raise
            raise _error(f"{cache_problem}\n{_problem(exc, env)}", env) from exc
        return ResolvedModel(path, wanted.name, "download")

    problem = cache_problem or f"No pose model found: no cached model at {cached}."
    raise _error(
        f"{problem}\n--model was not given, ${ENV_MODEL} is not set, and downloading is off.",
        env,
    )


# --------------------------------------------------------------------------- writing the cache


def _ensure_cache(environ: Mapping[str, str] | None) -> Path:
    d = cache_dir(environ)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _error(f"Cannot create the model cache folder {d}: {exc}.", environ) from exc
    return d


def _temp_in(d: Path, v: ModelVariant) -> tuple[IO[bytes], Path]:
    """A temp file beside the destination, so os.replace is an atomic same-filesystem rename."""
    fd, name = tempfile.mkstemp(prefix=f".{v.filename}.", suffix=".part", dir=d)
    return os.fdopen(fd, "wb"), Path(name)


def _default_opener(url: str) -> _Response:
    return urllib.request.urlopen(url, timeout=_TIMEOUT_S)


def _require_https(url: str, what: str, environ: Mapping[str, str] | None) -> None:
    if urlsplit(url).scheme.lower() != "https":
        raise _error(
            f"Refusing to download the pose model over a non-HTTPS URL ({what}: {url}).", environ
        )


def _content_length(resp: object) -> int | None:
    headers = getattr(resp, "headers", None)
    if headers is None:
        return None
    value = headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def fetch(
    variant: str = DEFAULT_VARIANT,
    progress: bool = True,
    opener: Opener | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Download an official bundle into the cache; return its path.

    Always downloads (this is what ``posturecam model fetch`` asked for).  Bytes go
    to a temp file in the cache folder and are size- and SHA-256-checked before an
    atomic ``os.replace``; on any failure the temp file is removed and an existing
    cached file is never touched.
    """
    v = _get_variant(variant, environ)
    _require_https(v.url, "configured URL", environ)
    d = _ensure_cache(environ)
    dest = d / v.filename
    open_url = opener if opener is not None else _default_opener

    f, tmp = _temp_in(d, v)
    try:
        with f:
            resp = open_url(v.url)
            try:
                final_url = getattr(resp, "geturl", lambda: None)() or v.url
                _require_https(final_url, "redirected to", environ)
                announced = _content_length(resp)
                if announced is not None and announced != v.size:
                    raise _error(
                        f"Download of the {v.name!r} pose model from {v.url} failed: the server "
                        f"announced {announced:,} bytes, expected {v.size:,}.",
                        environ,
                    )
                h = hashlib.sha256()
                got = 0
                with tqdm(
                    total=v.size,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=v.filename,
                    file=sys.stderr,
                    disable=not progress or not sys.stderr.isatty(),
                    leave=False,
                ) as bar:
                    while chunk := resp.read(_CHUNK):
                        got += len(chunk)
                        if got > v.size:
                            break  # never fill the disk with an unexpected response
                        h.update(chunk)
                        f.write(chunk)
                        bar.update(len(chunk))
            finally:
                close = getattr(resp, "close", None)
                if callable(close):
                    close()
            if got != v.size:
                raise _error(
                    f"Download of the {v.name!r} pose model from {v.url} failed: got "
                    f"{'more than ' if got > v.size else ''}{min(got, v.size):,} bytes, "
                    f"expected {v.size:,} (truncated or wrong file).",
                    environ,
                )
            digest = h.hexdigest()
            if digest != v.sha256:
                raise _error(
                    f"Download of the {v.name!r} pose model from {v.url} failed: SHA-256 "
                    f"{digest} is not the official {v.sha256} (corrupt or tampered).",
                    environ,
                )
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except ModelError:
        _discard(tmp)
        raise
    except (OSError, http.client.HTTPException) as exc:  # URLError and timeouts are OSError
        _discard(tmp)
        raise _error(
            f"Download of the {v.name!r} pose model from {v.url} failed: {exc}.", environ
        ) from exc
    except BaseException:  # e.g. Ctrl-C: still never leave a half-written temp file
        _discard(tmp)
        raise
    return dest


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()


def import_model(file: str | Path, *, environ: Mapping[str, str] | None = None) -> Path:
    """Verify a user-supplied bundle and copy it atomically into the cache; return the copy.

    This is the offline path: a model fetched on another machine becomes the
    cached model without any network access.
    """
    src = Path(file).expanduser()
    v = _verify(src, "The model file to import,", environ)
    d = _ensure_cache(environ)
    dest = d / v.filename
    with contextlib.suppress(OSError):
        if dest.exists() and os.path.samefile(src, dest):
            return dest
    f, tmp = _temp_in(d, v)
    try:
        with f, src.open("rb") as s:
            shutil.copyfileobj(s, f, _CHUNK)
            f.flush()
            os.fsync(f.fileno())
        # Re-check the copy: the source could change or the disk could fill mid-copy.
        if _sha256_file(tmp) != v.sha256:
            raise _error(f"Copying {src} into the cache produced a corrupt file.", environ)
        os.replace(tmp, dest)
    except ModelError:
        _discard(tmp)
        raise
    except OSError as exc:
        _discard(tmp)
        raise _error(f"Cannot copy {src} into the model cache {d}: {exc}.", environ) from exc
    except BaseException:
        _discard(tmp)
        raise
    return dest
