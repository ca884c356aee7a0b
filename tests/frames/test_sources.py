"""Frame sources: folders, manifests, damaged images, videos and cameras.

All fixtures are generated in tmp_path so the tests need no data files.
"""

from __future__ import annotations

import re
import struct
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from posturecam.cli import advice
from posturecam.core.types import Frame
from posturecam.errors import CameraUnavailable, Remedy, SourceError
from posturecam.frames.imaging import (
    CORRUPT,
    EMPTY_FILE,
    TRUNCATED_JPEG,
    TRUNCATED_PNG,
    decode_image,
)
from posturecam.frames.sources import FolderSource, natural_key, open_source
from posturecam.frames.video_clock import VideoClock


def _encode(img: np.ndarray, ext: str = ".png") -> bytes:
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def _image(h: int = 48, w: int = 64, value: int = 128) -> np.ndarray:
    img = np.full((h, w, 3), value, np.uint8)
    img[: h // 2, : w // 2] = (0, 0, 255)  # a red corner so orientation is visible
    return img


def _write(folder: Path, name: str, data: bytes | None = None) -> Path:
    path = folder / name
    path.write_bytes(_encode(_image(), path.suffix or ".png") if data is None else data)
    return path


def _folder(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    for n in names:
        _write(folder, n)
    return folder


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


# --------------------------------------------------------------------------- folders


def test_natural_sort_orders_numbers_by_value() -> None:
    names = ["frame10.png", "frame2.png", "Frame1.png", "frame002.png", "a.png"]
    assert sorted(names, key=natural_key) == [
        "a.png",
        "Frame1.png",
        "frame002.png",
        "frame2.png",
        "frame10.png",
    ]


def test_folder_natural_order_and_fps_timestamps(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["frame10.jpg", "frame2.jpg", "frame1.png"])
    with open_source(folder, fps=4) as src:
        frames = list(src)
        assert (src.kind, src.name, src.timestamp_source) == ("folder", "frames", "fps")
        assert src.expected_frames == 3
    assert [f.name for f in frames] == ["frame1.png", "frame2.jpg", "frame10.jpg"]
    assert [f.t_s for f in frames] == [0.0, 0.25, 0.5]
    assert [f.index for f in frames] == [0, 1, 2]
    for f in frames:
        assert f.ok and f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8


def test_stills_use_index_as_time(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["b.png", "a.png", "c.png"])
    with open_source(str(folder), stills=True) as src:
        assert [(f.name, f.t_s) for f in src] == [("a.png", 0.0), ("b.png", 1.0), ("c.png", 2.0)]
        assert src.timestamp_source == "stills"


def test_manifest_gives_times_and_ignores_unlisted(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["a.png", "b.png", "c.png", "extra.png"])
    (folder / "manifest.csv").write_text("file,t_s\nc.png,0.5\na.png,1.25\n\nb.png,3\n")
    (folder / "expected.json").write_text("{}")
    (folder / "README").write_text("hi")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "sub").mkdir()
    with open_source(folder, fps=30) as src:  # a manifest wins over --fps
        frames = list(src)
        ignored = src.ignored
        assert src.timestamp_source == "manifest"
    assert [(f.name, f.t_s, f.index) for f in frames] == [
        ("c.png", 0.5, 0),
        ("a.png", 1.25, 1),
        ("b.png", 3.0, 2),
    ]
    assert sorted(ignored) == sorted(
        [".DS_Store", "README", "expected.json", "extra.png", "manifest.csv"]
    )


def test_manifest_tolerates_bom_and_spaces(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["a.png"])
    (folder / "manifest.csv").write_bytes("\ufefffile, t_s\r\n a.png , 0.1 \r\n".encode())
    with open_source(folder) as src:
        assert [(f.name, f.t_s) for f in src] == [("a.png", 0.1)]


@pytest.mark.parametrize(
    ("manifest", "line", "fragment"),
    [
        ("name,time\na.png,0\n", 1, "header"),
        ("", 1, "header"),
        ("file,t_s\na.png,0\nb.png,soon\n", 3, "not a number"),
        ("file,t_s\na.png,nan\n", 2, "finite"),
        ("file,t_s\na.png,1\nb.png,0.5\n", 3, "strictly increase"),
        ("file,t_s\na.png,1\nb.png,1\n", 3, "strictly increase"),
        ("file,t_s\na.png,0\nmissing.png,1\n", 3, "not found"),
        ("file,t_s\na.png,0\na.png,1\n", 3, "listed twice"),
        ("file,t_s\na.png\n", 2, "expected"),
        ("file,t_s\nA.PNG,0\n", 2, "did you mean 'a.png'"),
        ("file,t_s\nnotes.txt,0\n", 2, "not an image"),
    ],
)
def test_malformed_manifest_names_the_line(
    tmp_path: Path, manifest: str, line: int, fragment: str
) -> None:
    folder = _folder(tmp_path, ["a.png", "b.png"])
    (folder / "notes.txt").write_text("x")
    (folder / "manifest.csv").write_text(manifest)
    with pytest.raises(SourceError, match=f"line {line}: .*{fragment}"):
        open_source(folder)


def test_manifest_without_rows_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["a.png"])
    (folder / "manifest.csv").write_text("file,t_s\n")
    with pytest.raises(SourceError, match="lists no files"):
        open_source(folder)


def test_folder_without_timing_asks_for_manifest_or_fps(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["a.png"])
    with pytest.raises(SourceError) as exc:
        open_source(folder)
    assert re.search(r"manifest\.csv.*--fps N.*--stills", advice.render(exc.value))
    assert Remedy("give_fps") in exc.value.remedies and "--" not in str(exc.value)


@pytest.mark.parametrize("fps", [0, -1, float("nan"), float("inf")])
def test_bad_fps_is_refused(tmp_path: Path, fps: float) -> None:
    folder = _folder(tmp_path, ["a.png"])
    with pytest.raises(SourceError) as exc:
        open_source(folder, fps=fps)
    assert advice.render(exc.value).startswith("--fps must be a positive number")


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no such file or folder: .*camera index"):
        open_source(tmp_path / "nope")


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SourceError, match="no images"):
        open_source(tmp_path, fps=10)


def test_folder_of_folders_hints_at_subfolder(tmp_path: Path) -> None:
    (tmp_path / "session1").mkdir()
    with pytest.raises(SourceError, match="subfolder"):
        open_source(tmp_path, stills=True)


def test_damaged_files_are_skipped_and_iteration_continues(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["f0.png", "f6.png"])
    jpg = _encode(_image(), ".jpg")
    png = _encode(_image(), ".png")
    _write(folder, "f1.jpg", jpg[: len(jpg) // 2])
    _write(folder, "f2.png", png[: len(png) - 20])
    _write(folder, "f3.jpg", b"this is not a jpeg at all" * 20)
    _write(folder, "f4.jpg", b"")
    _write(folder, "._f5.jpg", b"\0\5\26\7 apple double")  # macOS resource fork, not an image
    with open_source(folder, fps=10) as src:
        frames = list(src)
        assert src.ignored == ["._f5.jpg"]
    got = [(f.index, f.name, f.skip_reason) for f in frames]
    assert got == [
        (0, "f0.png", ""),
        (1, "f1.jpg", TRUNCATED_JPEG),
        (2, "f2.png", TRUNCATED_PNG),
        (3, "f3.jpg", CORRUPT),
        (4, "f4.jpg", EMPTY_FILE),
        (5, "f6.png", ""),
    ]
    assert [f.ok for f in frames] == [True, False, False, False, False, True]
    assert frames[5].t_s == pytest.approx(0.5)


# --------------------------------------------------------------------------- decoding


def test_jpeg_with_trailing_padding_or_trailer_is_complete() -> None:
    jpg = _encode(_image(), ".jpg")
    assert decode_image(jpg + b"\0\0\r\n")[1] == ""
    assert decode_image(jpg + b"ftypmp42" + bytes(range(256)) * 4)[1] == ""  # motion photo


def test_grayscale_rgba_and_16bit_decode_to_bgr8() -> None:
    gray = np.full((40, 50), 200, np.uint8)
    img, reason = decode_image(_encode(gray))
    assert reason == "" and img.shape == (40, 50, 3) and img.dtype == np.uint8
    assert (img == 200).all()

    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[..., 2] = 255  # red
    rgba[:, :25, 3] = 255  # left half opaque, right half transparent
    img, reason = decode_image(_encode(rgba))
    assert reason == "" and img.shape == (40, 50, 3)
    assert tuple(img[0, 0]) == (0, 0, 255)
    assert tuple(img[0, 49]) == (255, 255, 255)  # composited on white

    deep = np.full((40, 50, 3), 0x8040, np.uint16)
    img, reason = decode_image(_encode(deep))
    assert reason == "" and img.dtype == np.uint8 and (img == 0x80).all()

    deep_gray = np.full((40, 50), 0xFFFF, np.uint16)
    img, _ = decode_image(_encode(deep_gray))
    assert img.shape == (40, 50, 3) and (img == 255).all()


def test_other_formats_decode(tmp_path: Path) -> None:
    for ext in (".bmp", ".webp", ".tiff"):
        img, reason = decode_image(_encode(_image(), ext))
        assert reason == "" and img.shape == (48, 64, 3), ext


def test_float_image_is_skipped() -> None:
    data = _encode(np.full((40, 50, 3), 0.5, np.float32), ".tiff")
    img, reason = decode_image(data)
    assert img is None and "floating-point" in reason


def test_large_jpeg_is_downscaled() -> None:
    big = np.full((4000, 6000, 3), (30, 160, 90), np.uint8)
    data = _encode(big, ".jpg")
    started = time.perf_counter()
    img, reason = decode_image(data, max_side=1280)
    assert reason == ""
    assert img.shape == (853, 1280, 3)
    assert np.abs(img.astype(int) - (30, 160, 90)).max() <= 3
    assert time.perf_counter() - started < 2.0


def test_large_png_is_downscaled_to_max_side() -> None:
    img, reason = decode_image(_encode(_image(300, 900)), max_side=200)
    assert reason == "" and img.shape == (67, 200, 3)


def test_huge_header_is_refused_before_decoding() -> None:
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")
    img, reason = decode_image(data)
    assert img is None and "too large" in reason


def test_tiny_image_is_refused() -> None:
    img, reason = decode_image(_encode(_image(20, 64)))
    assert img is None and "too small" in reason


def test_exif_orientation_is_applied_to_jpeg() -> None:
    jpg = _encode(_image(40, 80), ".jpg")
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)  # orientation 6: rotate 90 clockwise
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">H", 1) + entry + b"\0\0\0\0"
    app1 = b"Exif\x00\x00" + tiff
    data = jpg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpg[2:]
    img, reason = decode_image(data)
    assert reason == "" and img.shape == (80, 40, 3)


def test_unicode_folder_and_file_names(tmp_path: Path) -> None:
    folder = tmp_path / "séance 姿勢"
    folder.mkdir()
    _write(folder, "café.png")
    with open_source(folder, stills=True) as src:
        assert src.name == "séance 姿勢"
        (frame,) = list(src)
    assert frame.ok and frame.name == "café.png"


# --------------------------------------------------------------------------- video


def _write_video(path: Path, n: int = 10, fps: float = 5.0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((48, 64, 3), i * 20, np.uint8))
    writer.release()


def test_video_frames_and_container_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    _write_video(path)
    with open_source(path) as src:
        frames = list(src)
        assert (src.kind, src.name) == ("video", "clip.avi")
        assert src.timestamp_source in ("container", "fps")
    assert len(frames) == 10
    assert [f.index for f in frames] == list(range(10))
    assert all(f.ok and f.image.shape == (48, 64, 3) for f in frames)
    assert all(f.name == "clip.avi" for f in frames)
    t = np.array([f.t_s for f in frames])
    assert t[0] == 0.0
    assert np.allclose(np.diff(t), 0.2, atol=0.01)


def test_video_can_be_iterated_again_and_downscaled(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    _write_video(path, n=3)
    with open_source(path, max_side=32) as src:
        first = [f.t_s for f in src]
        second = list(src)
    assert [f.t_s for f in second] == first
    assert second[0].image.shape == (24, 32, 3)


def test_closed_video_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    _write_video(path, n=3)
    src = open_source(path)
    src.close()
    src.close()
    assert list(src) == []


def test_zero_byte_video(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(SourceError, match=r"empty\.mp4.*empty"):
        open_source(path)


def test_text_file_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    with pytest.raises(SourceError, match=r"notes\.mp4"):
        open_source(path)


def test_single_image_file_suggests_a_folder(tmp_path: Path) -> None:
    path = _write(tmp_path, "photo.jpg")
    with pytest.raises(SourceError, match="single image"):
        open_source(path)


def test_video_clock_falls_back_to_fps_when_container_repeats_zero() -> None:
    clock = VideoClock(10.0, "v.mp4")
    assert [clock.stamp(i, 0.0) for i in range(4)] == [0.0, 0.1, 0.2, pytest.approx(0.3)]
    assert clock.source == "fps"


def test_video_clock_midstream_glitch_estimates_rate_and_stays_monotonic() -> None:
    clock = VideoClock(None, "v.mp4")
    msecs = [1000.0, 1040.0, 1080.0, 1120.0, 0.0, 0.0]
    t = [clock.stamp(i, m) for i, m in enumerate(msecs)]
    assert t[:4] == pytest.approx([0.0, 0.04, 0.08, 0.12])
    assert t[4:] == pytest.approx([0.16, 0.20])
    assert clock.source == "fps"


def test_video_clock_without_any_rate_asks_for_fps() -> None:
    clock = VideoClock(None, "v.mp4")
    clock.stamp(0, 0.0)
    with pytest.raises(SourceError) as exc:
        clock.stamp(1, 0.0)
    assert "pass --fps N to time its frames" in advice.render(exc.value)
    assert exc.value.remedies == (Remedy("give_fps"),)


# --------------------------------------------------------------------------- camera


def test_missing_camera_raises_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(CameraUnavailable) as exc:
        open_source(99)
    assert advice.render(exc.value).endswith("or try another --source index")
    assert exc.value.remedies == (Remedy("other_camera_index"),)
    with pytest.raises(CameraUnavailable):
        open_source("99")
    assert time.perf_counter() - started < 10


def test_folder_source_can_be_built_directly(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["a.png"])
    src = FolderSource(folder, stills=True)
    assert all(isinstance(f, Frame) for f in src)
