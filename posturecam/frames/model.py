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
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posturecam.errors import Given, ModelError, Phrase, Remedy
from posturecam.paths import cache_root

_URL = (
    "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
    "pose_landmarker_{name}/float16/1/pose_landmarker_{name}.task"
)
_CHUNK = 1 << 20  # 1 MiB: hashing/downloading never holds a whole model in memory
_ZIP_MAGIC = b"PK\x03\x04"  # a .task bundle is a zip archive (local file header)
_ZIP_PROBE = 1024
_BUNDLE_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")

ENV_MODEL = "POSTURECAM_MODEL"


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


# pooch's downloader protocol: ``downloader(url, output_file, pooch)`` writes the bytes of
# ``url`` to ``output_file`` (here always a file object); tests pass a fake transport.
Downloader = Callable[[str, Any, Any], object]


# --------------------------------------------------------------------------- paths and messages


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Folder for cached models: ``<cache root>/models``; ``$POSTURECAM_HOME`` isolates it."""
    return cache_root(environ) / "models"


Problem = str | tuple[str | Phrase, ...]  # an error's text, with phrases as data


def _remedy(environ: Mapping[str, str] | None = None) -> Remedy:
    """What every ModelError ends with: the ways to supply a model (the CLI words them)."""
    return Remedy("supply_model", env=ENV_MODEL, cache=cache_dir(environ))


def model_error(problem: Problem, environ: Mapping[str, str] | None = None) -> ModelError:
    """Build a ModelError whose message is the problem followed by the shared remedy."""
    parts = [problem] if isinstance(problem, str) else list(problem)
    if parts and isinstance(parts[-1], str):
        parts[-1] = parts[-1].rstrip()
    return ModelError(*parts, "\n", _remedy(environ))


def _problem(exc: ModelError) -> tuple[object, ...]:
    """The problem part of a ModelError, without the remedy, for combining two errors."""
    return exc.parts[:-2]


def _get_variant(name: str, environ: Mapping[str, str] | None = None) -> ModelVariant:
    try:
        return VARIANTS[name]
    except KeyError:
        known = ", ".join(VARIANTS)
        raise model_error(
            f"Unknown pose model variant {name!r} (known: {known}).", environ
        ) from None


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
    path: Path, label: Problem = "Model file", environ: Mapping[str, str] | None = None
) -> ModelVariant:
    """verify() with a caller-chosen label so messages say which source was wrong."""
    where = (*((label,) if isinstance(label, str) else label), f" {path}")
    try:
        if not path.exists():
            raise model_error((*where, " does not exist."), environ)
        if path.is_dir():
            raise model_error((*where, " is a directory, not a .task file."), environ)
        size = path.stat().st_size
        if size == 0:
            raise model_error((*where, " is empty (0 bytes)."), environ)
        with path.open("rb") as f:
            head = f.read(_ZIP_PROBE)
        # Official bundles start with a short prefix before the first zip header, and a
        # truncated one has no central directory, so look for a local header near the start.
        if _ZIP_MAGIC not in head and not zipfile.is_zipfile(path):
            members = " and ".join(_BUNDLE_MEMBERS)
            raise model_error(
                (
                    *where,
                    " is not a MediaPipe pose landmarker bundle: a .task file is a zip "
                    f"archive holding {members}, and this is not a zip.",
                ),
                environ,
            )
        if size not in {v.size for v in VARIANTS.values()}:
            raise model_error(
                (
                    *where,
                    f" is {size:,} bytes, which matches no official pose landmarker bundle "
                    f"({_known_sizes()} bytes): it is truncated, corrupt, or not an official "
                    "bundle.",
                ),
                environ,
            )
        digest = _sha256_file(path)
    except OSError as exc:
        raise model_error((*where, f" cannot be read: {exc}."), environ) from exc
    for v in VARIANTS.values():
        if v.sha256 == digest and v.size == size:
            return v
    raise model_error(
        (
            *where,
            " is not an official pose landmarker bundle, or it is corrupt or truncated: "
            f"its SHA-256 {digest} matches no official variant.",
        ),
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
    transport: Downloader | None = None,
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
        found = _verify(path, ("The model file given with ", Given("model_option"), ","), env)
        return ResolvedModel(path, found.name, "--model")

    env_path = env.get(ENV_MODEL)
    if env_path:
        path = Path(env_path).expanduser()
        found = _verify(path, f"The model file named by ${ENV_MODEL},", env)
        return ResolvedModel(path, found.name, ENV_MODEL)

    cached = cache_dir(env) / wanted.filename
    found_cached, cache_problem = _from_cache(cached, wanted, env)
    if found_cached is not None:
        return found_cached

    if download:
        try:
            path = fetch(wanted.name, progress=progress, transport=transport, environ=env)
        except ModelError as exc:
            if not cache_problem:
                raise
            raise model_error((*cache_problem, "\n", *_problem(exc)), env) from exc
        return ResolvedModel(path, wanted.name, "download")

    problem = cache_problem or (f"No pose model found: no cached model at {cached}.",)
    raise model_error(
        (
            *problem,
            "\n",
            Given("model_option"),
            f" was not given, ${ENV_MODEL} is not set, and downloading is off.",
        ),
        env,
    )


def _from_cache(
    cached: Path, wanted: ModelVariant, env: Mapping[str, str]
) -> tuple[ResolvedModel | None, tuple[object, ...]]:
    """The cached model if it is the wanted one, else what is wrong with it (or nothing)."""
    if not cached.exists():
        return None, ()
    try:
        found = _verify(cached, "The cached model", env)
    except ModelError as exc:
        return None, _problem(exc)
    if found.name == wanted.name:
        return ResolvedModel(cached, found.name, "cache"), ()
    problem = f"The cached model {cached} is the {found.name!r} variant, not {wanted.name!r}."
    return None, (problem,)


# --------------------------------------------------------------------------- writing the cache


def ensure_cache(environ: Mapping[str, str] | None) -> Path:
    """The model cache folder, created if need be."""
    d = cache_dir(environ)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise model_error(f"Cannot create the model cache folder {d}: {exc}.", environ) from exc
    return d


def fetch(
    variant: str = DEFAULT_VARIANT,
    progress: bool = True,
    transport: Downloader | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Make sure the cache holds an official bundle, downloading it if need be; return its path.

    A cached file that already verifies is kept; otherwise pooch downloads to a
    temp file beside it, moved in place only after the size and SHA-256 checks
    pass (see ``frames.download``, loaded only now: pooch and requests cost
    start-up time nobody else should pay). ``transport`` replaces the HTTPS
    download, for tests.
    """
    from posturecam.frames import download

    v = _get_variant(variant, environ)
    return download.fetch(v, progress=progress, transport=transport, environ=environ)


def import_model(file: str | Path, *, environ: Mapping[str, str] | None = None) -> Path:
    """Verify a user-supplied bundle and copy it atomically into the cache; return the copy.

    This is the offline path: a model fetched on another machine becomes the
    cached model without any network access.
    """
    src = Path(file).expanduser()
    v = _verify(src, "The model file to import,", environ)
    d = ensure_cache(environ)
    dest = d / v.filename
    with contextlib.suppress(OSError):
        if dest.exists() and os.path.samefile(src, dest):
            return dest
    # A temp file beside the destination, so os.replace is an atomic same-filesystem rename.
    fd, name = tempfile.mkstemp(prefix=f".{v.filename}.", suffix=".part", dir=d)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f, src.open("rb") as s:
            shutil.copyfileobj(s, f, _CHUNK)
            f.flush()
            os.fsync(f.fileno())
        # Re-check the copy: the source could change or the disk could fill mid-copy.
        if _sha256_file(tmp) != v.sha256:
            raise model_error(f"Copying {src} into the cache produced a corrupt file.", environ)
        os.replace(tmp, dest)
    except OSError as exc:
        raise model_error(f"Cannot copy {src} into the model cache {d}: {exc}.", environ) from exc
    finally:
        with contextlib.suppress(OSError):  # gone already once it replaced the old file
            tmp.unlink()
    return dest
