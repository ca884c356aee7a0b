"""Downloading an official pose bundle into the model cache, with pooch.

pooch writes to a temp file beside the destination and moves it in place
only when its SHA-256 matches our pin; around its HTTP downloader we add a
timeout, HTTPS at every redirect, the announced size, a cap on the bytes
written and our own words for each failure. Imported only when a download is
needed (``model.fetch``): pooch and requests are not loaded otherwise.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import pooch
import requests
from tqdm import tqdm

from posturecam.errors import ModelError
from posturecam.frames.model import Downloader, ModelVariant, ensure_cache, model_error

_CHUNK = 1 << 20  # 1 MiB: downloading never holds a whole model in memory
_TIMEOUT_S = 30


def _require_https(url: str, what: str, environ: Mapping[str, str] | None) -> None:
    if urlsplit(url).scheme.lower() != "https":
        raise model_error(
            f"Refusing to download the pose model over a non-HTTPS URL ({what}: {url}).", environ
        )


def _failed(v: ModelVariant, why: str, environ: Mapping[str, str] | None) -> ModelError:
    return model_error(
        f"Download of the {v.name!r} pose model from {v.url} failed: {why}.", environ
    )


class _Capped:
    """The download's file, refusing more bytes than the bundle has and hashing what it keeps."""

    def __init__(self, fh: IO[bytes], v: ModelVariant, environ: Mapping[str, str] | None) -> None:
        self.fh, self.v, self.environ = fh, v, environ
        self.got = 0
        self.sha = hashlib.sha256()

    def write(self, chunk: bytes) -> int:
        self.got += len(chunk)
        if self.got > self.v.size:  # never fill the disk with an unexpected response
            raise self.wrong_size()
        self.sha.update(chunk)
        return self.fh.write(chunk)

    def flush(self) -> None:
        self.fh.flush()

    def wrong_size(self) -> ModelError:
        more = "more than " if self.got > self.v.size else ""
        return _failed(
            self.v,
            f"got {more}{min(self.got, self.v.size):,} bytes, expected {self.v.size:,} "
            "(truncated or wrong file)",
            self.environ,
        )


def _checked(
    transport: Downloader, v: ModelVariant, environ: Mapping[str, str] | None
) -> Downloader:
    """pooch's downloader, with our size and SHA-256 checks (and words) around ``transport``."""

    def download(url: str, output_file: str, pooch: object) -> None:
        with open(output_file, "wb") as fh:
            capped = _Capped(fh, v, environ)
            transport(url, capped, pooch)
            fh.flush()
            os.fsync(fh.fileno())
        if capped.got != v.size:
            raise capped.wrong_size()
        digest = capped.sha.hexdigest()
        if digest != v.sha256:
            why = f"SHA-256 {digest} is not the official {v.sha256} (corrupt or tampered)"
            raise _failed(v, why, environ)

    return download


def _https_transport(
    v: ModelVariant, bar: tqdm | None, environ: Mapping[str, str] | None
) -> Downloader:
    """pooch's HTTP downloader: a timeout, HTTPS at every redirect, the announced size checked."""

    def check(response: object, *_args: object, **_kwargs: object) -> None:
        _check_response(response, v, environ)

    return pooch.HTTPDownloader(
        progressbar=bar if bar is not None else False,
        chunk_size=_CHUNK,
        timeout=_TIMEOUT_S,
        hooks={"response": check},
    )


def _check_response(response: object, v: ModelVariant, environ: Mapping[str, str] | None) -> None:
    """Refuse a response reached over plain HTTP, or one announcing another size than ours."""
    url = str(getattr(response, "url", "") or v.url)
    _require_https(url, "redirected to", environ)
    if getattr(response, "is_redirect", False):
        return
    announced = (getattr(response, "headers", None) or {}).get("Content-Length")
    if announced is not None and str(announced).isdigit() and int(announced) != v.size:
        raise _failed(
            v, f"the server announced {int(announced):,} bytes, expected {v.size:,}", environ
        )


def fetch(
    v: ModelVariant,
    *,
    progress: bool = True,
    transport: Downloader | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Make sure the cache holds an official bundle, downloading it if need be; return its path.

    pooch downloads to a temp file in the cache folder, and moves it in place
    only after our size and SHA-256 checks pass; on any failure the temp file
    is removed and a file already cached is never touched. A cached file that
    already verifies is kept. ``transport`` (pooch's downloader protocol)
    replaces the HTTPS download, for tests.
    """
    _require_https(v.url, "configured URL", environ)
    d = ensure_cache(environ)

    bar = tqdm(
        total=v.size,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=v.filename,
        file=sys.stderr,
        disable=not progress or not sys.stderr.isatty(),
        leave=False,
    )
    try:
        with bar:
            shown = None if bar.disable else bar
            down = _checked(transport or _https_transport(v, shown, environ), v, environ)
            got = pooch.retrieve(
                v.url, f"sha256:{v.sha256}", fname=v.filename, path=d, downloader=down
            )
    except (OSError, ValueError, requests.RequestException) as exc:
        raise _failed(v, str(exc), environ) from exc
    return Path(got)
