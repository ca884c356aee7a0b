"""Model provisioning: resolution order, verification errors, safe downloads and imports.

No test touches the network: downloads go through a fake transport (pooch's
downloader protocol, the seam ``fetch`` offers), or through pooch's own HTTP
downloader over a fake ``requests.get``; every other request fails the test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import platformdirs
import pytest
import requests

from posturecam.cli import advice
from posturecam.errors import ModelError
from posturecam.frames import model

# Read before any fixture clears the variable: it may point at the real model.
_DEFAULT_REAL = Path(__file__).resolve().parents[3] / "shared/models/pose_landmarker_full.task"
REAL_MODEL = Path(os.environ.get("POSTURECAM_MODEL") or _DEFAULT_REAL)
NEEDS_REAL = pytest.mark.skipif(
    not REAL_MODEL.is_file(),
    reason=f"real pose model not found at {REAL_MODEL} (set POSTURECAM_MODEL to a .task file)",
)


CHUNK = 1 << 20


def serving(data: bytes, *, fail_after: int | None = None, on_write=None):
    """A transport that records the URLs asked for and writes ``data`` in 1 MiB chunks."""
    calls: list[str] = []

    def transport(url: str, output_file, _pooch) -> None:
        calls.append(url)
        for start in range(0, len(data), CHUNK):
            if fail_after is not None and start >= fail_after:
                raise requests.ConnectionError("connection reset by peer")
            if on_write is not None:
                on_write()
            output_file.write(data[start : start + CHUNK])

    transport.calls = calls  # type: ignore[attr-defined]
    return transport


def failing(exc: BaseException):
    def transport(url: str, output_file, _pooch) -> None:
        raise exc

    return transport


def no_network(url: str, *_args, **_kwargs):
    raise AssertionError(f"test tried to download {url}")


class FakeHTTPResponse:
    """Just enough of a ``requests`` response for pooch's HTTPDownloader."""

    def __init__(self, data: bytes, url: str, headers: dict[str, str] | None = None) -> None:
        self.data, self.url = data, url
        self.headers = headers if headers is not None else {"Content-Length": str(len(data))}
        self.is_redirect = False

    def raise_for_status(self) -> None:
        return None

    def iter_content(self, chunk_size: int):
        for start in range(0, len(self.data), chunk_size):
            yield self.data[start : start + chunk_size]


def http_serving(monkeypatch, data: bytes, *, final_url: str | None = None, headers=None):
    """Replace ``requests.get`` (what pooch calls) by one that runs the hooks like requests."""
    seen: list[tuple[str, object]] = []

    def fake_get(url, timeout=None, stream=None, hooks=None, **_kwargs):
        seen.append((url, timeout))
        response = FakeHTTPResponse(data, final_url or url, headers)
        for hook in (hooks or {}).values():
            hook(response)
        return response

    monkeypatch.setattr(requests, "get", fake_get)
    return seen


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own cache per test, no POSTURECAM_MODEL, and a hard stop on real network use."""
    home = tmp_path / "home"
    monkeypatch.setenv("POSTURECAM_HOME", str(home))
    monkeypatch.delenv("POSTURECAM_MODEL", raising=False)
    monkeypatch.setattr(requests.sessions.Session, "request", no_network)
    monkeypatch.setattr(requests, "get", no_network)
    return home / "models"


@pytest.fixture(scope="session")
def real_bytes() -> bytes:
    if not REAL_MODEL.is_file():
        pytest.skip(f"real pose model not found at {REAL_MODEL}")
    return REAL_MODEL.read_bytes()


@pytest.fixture(scope="session")
def real_variant(real_bytes: bytes) -> model.ModelVariant:
    return model.verify(REAL_MODEL)


def cli_remedy() -> str:
    """The remedy every ModelError ends with, as the command line words it."""
    return advice.render(ModelError(model._remedy()))


def assert_helpful(exc: pytest.ExceptionInfo[ModelError]) -> str:
    """The message as the CLI prints it; the library's own words name no flag."""
    msg = advice.render(exc.value)
    assert msg.endswith(cli_remedy())
    for needle in ("--model", "POSTURECAM_MODEL", "posturecam model import", "model fetch"):
        assert needle in msg
    assert str(model.cache_dir()) in msg
    assert "--" not in str(exc.value)
    assert exc.value.remedies == (model._remedy(),)
    return msg


def only_file(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


# --------------------------------------------------------------------------- constants and paths


def test_variants_match_official_urls() -> None:
    assert set(model.VARIANTS) == {"lite", "full", "heavy"}
    assert model.DEFAULT_VARIANT == "full"
    full = model.VARIANTS["full"]
    assert full.size == 9_398_198
    assert full.sha256 == "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1"
    for name, v in model.VARIANTS.items():
        assert v.name == name
        assert v.url == (
            "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
            f"pose_landmarker_{name}/float16/1/pose_landmarker_{name}.task"
        )
        assert len(v.sha256) == 64
    with pytest.raises(AttributeError):
        full.size = 1  # type: ignore[misc]


def test_cache_dir_honours_posturecam_home(tmp_path: Path, monkeypatch) -> None:
    assert model.cache_dir() == tmp_path / "home" / "models"
    assert model.cache_dir({"POSTURECAM_HOME": "/x"}) == Path("/x/models")
    monkeypatch.delenv("POSTURECAM_HOME")
    assert model.cache_dir() == Path(platformdirs.user_cache_dir("posturecam")) / "models"


def test_remedy_is_shared_and_names_every_way(isolated: Path) -> None:
    plain = str(ModelError(model._remedy()))
    assert "--" not in plain and "POSTURECAM_MODEL" in plain and str(isolated) in plain
    text = cli_remedy()
    for needle in (
        "--model PATH",
        "POSTURECAM_MODEL",
        "posturecam model import FILE",
        "posturecam model fetch",
        "HTTPS",
        "SHA-256",
        str(isolated),
    ):
        assert needle in text


# --------------------------------------------------------------------------- verify


@NEEDS_REAL
def test_verify_accepts_real_model(real_variant: model.ModelVariant) -> None:
    assert real_variant.name in model.VARIANTS
    assert model.verify(str(REAL_MODEL)) == real_variant


def _junk_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("pose_detector.tflite", b"not a model" * 100)
        z.writestr("pose_landmarks_detector.tflite", b"junk")
    return path


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda p: p, "does not exist"),
        (lambda p: (p.mkdir(), p)[1], "is a directory"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty"),
        (lambda p: (p.write_text("hello, I am a model\n"), p)[1], "not a zip"),
        (_junk_zip, "matches no official"),
    ],
    ids=["missing", "directory", "empty", "text-file", "junk-zip"],
)
def test_verify_rejects_bad_files(tmp_path: Path, make, expect: str) -> None:
    path = make(tmp_path / "model.task")
    with pytest.raises(ModelError) as exc:
        model.verify(path)
    msg = assert_helpful(exc)
    assert expect in msg
    assert str(path) in msg


def test_verify_wrong_hash_with_right_size(tmp_path: Path) -> None:
    """Right size and zip magic, wrong bytes: only the hash can tell."""
    path = tmp_path / "fake.task"
    path.write_bytes(b"PK\x03\x04" + b"\0" * (model.VARIANTS["lite"].size - 4))
    with pytest.raises(ModelError) as exc:
        model.verify(path)
    msg = assert_helpful(exc)
    assert "not an official pose landmarker bundle" in msg
    assert "corrupt or truncated" in msg
    assert hashlib.sha256(path.read_bytes()).hexdigest() in msg


@NEEDS_REAL
def test_verify_rejects_truncated_and_flipped_real_model(tmp_path: Path, real_bytes) -> None:
    truncated = tmp_path / "truncated.task"
    truncated.write_bytes(real_bytes[: len(real_bytes) // 2])
    with pytest.raises(ModelError) as exc:
        model.verify(truncated)
    assert "truncated" in assert_helpful(exc)

    flipped = tmp_path / "flipped.task"
    data = bytearray(real_bytes)
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    with pytest.raises(ModelError) as exc:
        model.verify(flipped)
    assert "SHA-256" in assert_helpful(exc)


# --------------------------------------------------------------------------- resolve


@pytest.fixture
def good_links(tmp_path: Path, real_bytes) -> tuple[Path, Path]:
    """Two distinct valid paths (symlinks to the real model, no 9 MB copies)."""
    a, b = tmp_path / "explicit.task", tmp_path / "env.task"
    a.symlink_to(REAL_MODEL.resolve())
    b.symlink_to(REAL_MODEL.resolve())
    return a, b


@pytest.fixture
def cached_good(isolated: Path, real_variant) -> Path:
    isolated.mkdir(parents=True)
    dest = isolated / real_variant.filename
    shutil.copyfile(REAL_MODEL, dest)
    return dest


def test_resolve_explicit_beats_env_and_cache(good_links, cached_good, real_variant) -> None:
    explicit, env_path = good_links
    got = model.resolve(
        explicit,
        variant=real_variant.name,
        environ={"POSTURECAM_MODEL": str(env_path), "POSTURECAM_HOME": str(cached_good.parents[1])},
        transport=no_network,
    )
    assert got == model.ResolvedModel(explicit, real_variant.name, "--model")
    assert "--model" in model.describe(got)


def test_resolve_env_beats_cache(good_links, cached_good, real_variant, monkeypatch) -> None:
    _, env_path = good_links
    monkeypatch.setenv("POSTURECAM_MODEL", str(env_path))
    got = model.resolve(variant=real_variant.name, transport=no_network)
    assert got == model.ResolvedModel(env_path, real_variant.name, "POSTURECAM_MODEL")


def test_resolve_cache_beats_download(cached_good, real_variant) -> None:
    got = model.resolve(variant=real_variant.name, transport=no_network)
    assert got == model.ResolvedModel(cached_good, real_variant.name, "cache")


def test_resolve_downloads_when_nothing_else(isolated: Path, real_bytes, real_variant) -> None:
    transport = serving(real_bytes)
    got = model.resolve(variant=real_variant.name, progress=False, transport=transport)
    assert got == model.ResolvedModel(
        isolated / real_variant.filename, real_variant.name, "download"
    )
    assert transport.calls == [real_variant.url]
    assert model.verify(got.path) == real_variant
    assert only_file(isolated) == [real_variant.filename]


def test_resolve_bad_explicit_does_not_fall_through(tmp_path, cached_good, real_variant) -> None:
    with pytest.raises(ModelError) as exc:
        model.resolve(tmp_path / "nope.task", variant=real_variant.name, transport=no_network)
    assert "--model" in assert_helpful(exc).split("\n")[0]


def test_resolve_bad_env_does_not_fall_through(
    tmp_path, cached_good, real_variant, monkeypatch
) -> None:
    bad = tmp_path / "bad.task"
    bad.write_text("nope")
    monkeypatch.setenv("POSTURECAM_MODEL", str(bad))
    with pytest.raises(ModelError) as exc:
        model.resolve(variant=real_variant.name, transport=no_network)
    assert "$POSTURECAM_MODEL" in assert_helpful(exc).split("\n")[0]


def test_resolve_nothing_and_download_off(isolated: Path) -> None:
    with pytest.raises(ModelError) as exc:
        model.resolve(download=False)
    msg = assert_helpful(exc)
    assert "No pose model found" in msg
    assert not isolated.exists() or only_file(isolated) == []


def test_resolve_no_network(isolated: Path) -> None:
    transport = failing(requests.ConnectionError("Temporary failure in name resolution"))
    with pytest.raises(ModelError) as exc:
        model.resolve(progress=False, transport=transport)
    msg = assert_helpful(exc)
    assert "failed" in msg
    assert "name resolution" in msg
    assert only_file(isolated) == []


def test_resolve_reports_but_keeps_bad_cache_when_download_fails(isolated: Path) -> None:
    isolated.mkdir(parents=True)
    bad = isolated / "pose_landmarker_full.task"
    bad.write_bytes(b"PK\x03\x04 half a model")
    with pytest.raises(ModelError) as exc:
        model.resolve(progress=False, transport=failing(TimeoutError("timed out")))
    msg = assert_helpful(exc)
    assert f"cached model {bad}" in msg
    assert "timed out" in msg
    assert bad.read_bytes() == b"PK\x03\x04 half a model"
    assert only_file(isolated) == [bad.name]


def test_resolve_replaces_bad_cache_with_good_download(
    isolated: Path, real_bytes, real_variant
) -> None:
    isolated.mkdir(parents=True)
    bad = isolated / real_variant.filename
    bad.write_bytes(b"PK\x03\x04 half a model")
    got = model.resolve(variant=real_variant.name, progress=False, transport=serving(real_bytes))
    assert got.origin == "download"
    assert bad.read_bytes() == real_bytes


def test_resolve_unknown_variant() -> None:
    with pytest.raises(ModelError) as exc:
        model.resolve(variant="medium", transport=no_network)
    assert "medium" in assert_helpful(exc)


# --------------------------------------------------------------------------- fetch


def test_fetch_writes_atomically_and_verifies(isolated: Path, real_bytes, real_variant) -> None:
    dest = isolated / real_variant.filename
    during: list[list[str]] = []

    def dest_absent_while_downloading() -> None:
        assert not dest.exists(), "destination appeared before the download finished"
        during.append(only_file(isolated))

    got = model.fetch(
        real_variant.name,
        progress=False,
        transport=serving(real_bytes, on_write=dest_absent_while_downloading),
    )
    assert got == dest
    assert dest.read_bytes() == real_bytes
    # The bytes went to one temp file beside the destination, which was moved in place.
    assert during and all(len(names) == 1 and names[0] != dest.name for names in during)
    assert only_file(isolated) == [real_variant.filename]


@NEEDS_REAL
def test_fetch_keeps_a_cached_file_that_verifies(cached_good, real_variant) -> None:
    before = cached_good.stat()
    assert model.fetch(real_variant.name, progress=False, transport=no_network) == cached_good
    assert cached_good.stat().st_mtime_ns == before.st_mtime_ns


def test_fetch_uses_pooch_over_https_with_a_timeout_by_default(isolated: Path, monkeypatch):
    seen: list[tuple[str, object]] = []

    def offline(url, timeout=None, **_kwargs):
        seen.append((url, timeout))
        raise requests.ConnectionError("offline")

    monkeypatch.setattr(requests, "get", offline)
    with pytest.raises(ModelError) as exc:
        model.fetch("lite", progress=False)
    assert "offline" in assert_helpful(exc)
    assert seen == [(model.VARIANTS["lite"].url, 30)]
    assert only_file(isolated) == []


@NEEDS_REAL
def test_the_default_download_writes_the_verified_bundle(
    isolated: Path, real_bytes, real_variant, monkeypatch
) -> None:
    seen = http_serving(monkeypatch, real_bytes)
    got = model.fetch(real_variant.name, progress=False)
    assert seen == [(real_variant.url, 30)]
    assert got.read_bytes() == real_bytes
    assert only_file(isolated) == [real_variant.filename]


@NEEDS_REAL
@pytest.mark.parametrize(
    ("final_url", "headers", "expect"),
    [
        ("http://evil.example/pose.task", None, "Refusing"),
        (None, {"Content-Length": "12"}, "announced 12 bytes"),
    ],
    ids=["http-redirect", "bad-content-length"],
)
def test_the_default_download_refuses_plain_http_and_a_wrong_announced_size(
    isolated: Path, real_bytes, real_variant, monkeypatch, final_url, headers, expect
) -> None:
    http_serving(monkeypatch, real_bytes, final_url=final_url, headers=headers)
    with pytest.raises(ModelError) as exc:
        model.fetch(real_variant.name, progress=False)
    assert expect in assert_helpful(exc)
    assert only_file(isolated) == []


def _bad_downloads(real: bytes) -> dict[str, object]:
    wrong = bytearray(real)
    wrong[1000] ^= 0xFF
    return {
        "wrong-bytes": serving(bytes(wrong)),
        "truncated": serving(real[: len(real) // 3]),
        "too-long": serving(real + b"extra"),
        "reset-mid-stream": serving(real, fail_after=len(real) // 2),
        "timeout": failing(requests.Timeout("The read operation timed out")),
        "no-network": failing(requests.ConnectionError("[Errno -3] name resolution")),
        "disk-error": failing(OSError(28, "No space left on device")),
    }


@NEEDS_REAL
@pytest.mark.parametrize("case", list(_bad_downloads(b"x" * 2000)))
def test_bad_download_never_touches_the_cached_file(
    case: str, isolated: Path, real_bytes, real_variant
) -> None:
    # fetch downloads only over a cached file that does not verify (a good one is kept).
    isolated.mkdir(parents=True)
    stale = isolated / real_variant.filename
    stale.write_bytes(b"PK\x03\x04 an older, damaged copy")
    before = stale.stat()
    with pytest.raises(ModelError) as exc:
        model.fetch(real_variant.name, progress=False, transport=_bad_downloads(real_bytes)[case])
    msg = assert_helpful(exc)
    assert "failed" in msg
    after = stale.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_size,
    )
    assert only_file(isolated) == [stale.name]


def test_a_download_message_says_what_went_wrong(isolated: Path, real_bytes) -> None:
    full = model.VARIANTS["full"]
    cases = {
        "truncated": (serving(b"PK\x03\x04" + b"\0" * 100), "got 104 bytes"),
        "too-long": (serving(b"\0" * (full.size + 1)), "got more than"),
        "wrong-bytes": (serving(b"\0" * full.size), "is not the official"),
    }
    for transport, expect in cases.values():
        with pytest.raises(ModelError) as exc:
            model.fetch("full", progress=False, transport=transport)
        assert expect in assert_helpful(exc)
    assert only_file(isolated) == []


def test_interrupted_download_removes_temp_file(isolated: Path) -> None:
    def transport(url: str, output_file, _pooch) -> None:
        output_file.write(b"PK\x03\x04" + b"\0" * 3_000)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fetch("full", progress=False, transport=transport)
    assert only_file(isolated) == []


def test_fetch_refuses_non_https_url(isolated: Path, monkeypatch) -> None:
    plain = replace(model.VARIANTS["full"], url="http://storage.googleapis.com/x.task")
    monkeypatch.setitem(model.VARIANTS, "full", plain)
    with pytest.raises(ModelError) as exc:
        model.fetch("full", progress=False, transport=no_network)
    assert "non-HTTPS" in assert_helpful(exc)
    assert only_file(isolated) == []


def test_pooch_is_imported_only_for_a_download() -> None:
    code = (
        "import sys; import posturecam.frames.model as m; import posturecam.cli; "
        "print('pooch' in sys.modules, 'requests' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- import


@NEEDS_REAL
def test_import_copies_and_verifies(isolated: Path, real_bytes, real_variant) -> None:
    dest = model.import_model(REAL_MODEL)
    assert dest == isolated / real_variant.filename
    assert dest.read_bytes() == real_bytes
    assert only_file(isolated) == [real_variant.filename]
    assert model.resolve(variant=real_variant.name, transport=no_network).origin == "cache"
    assert model.import_model(dest) == dest  # importing the cached file itself is a no-op


def test_import_rejects_bad_file_and_keeps_cache_clean(tmp_path: Path, isolated: Path) -> None:
    bad = _junk_zip(tmp_path / "junk.task")
    with pytest.raises(ModelError) as exc:
        model.import_model(bad)
    assert "import" in assert_helpful(exc).split("\n")[0]
    assert only_file(isolated) == []
