"""Landmark recordings: lossless round trip, compact strings, clear errors, atomic saves."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from factories import FakePose, front_pose

from posturecam.core.temporal import TemporalSettings, follow
from posturecam.core.types import Frame, Landmarks
from posturecam.errors import PosturecamError
from posturecam.frames.engine import LandmarkLog, run_pose
from posturecam.research import recording
from posturecam.research.recording import FILENAME, FORMAT, VERSION, RecordingError, load, save
from posturecam.research.replay import ReplayOptions, score

META = {
    "source": "desk.mp4",
    "source_path": "/data/desk.mp4",
    "source_kind": "video",
    "mode": "video",
    "model": {"variant": "full", "sha256": "ab" * 32},
    "posturecam": "0.1.0",
}


def frames(n: int = 300, fps: float = 15.0, name: str | None = "desk.mp4") -> list[Frame]:
    """A video-like source: every 37th frame unreadable, the rest 640x480 images."""
    img = np.zeros((480, 640, 3), np.uint8)
    out = []
    for i in range(n):
        label = name if name is not None else f"frame_{i:05d}.jpg"
        if i % 37 == 5:
            out.append(Frame(None, i / fps, i, label, skip_reason="cannot decode frame"))
        else:
            out.append(Frame(img, i / fps, i, label))
    return out


def person(seed: int = 0):
    """Upright for 10 s, then the head drops by a quarter; nobody in every 11th frame."""
    rng = np.random.default_rng(seed)

    def fn(frame: Frame) -> Landmarks:
        if frame.index % 11 == 3:
            return Landmarks.empty((640, 480))
        nose = 0.75 if frame.t_s < 10 else 0.75 * 0.75
        lean = 0.0 if frame.t_s < 14 else 0.25
        return front_pose(nose_height=nose, lateral=lean, jitter=2.0, rng=rng)

    return fn


def make_log(n: int = 300, seed: int = 0, name: str | None = "desk.mp4") -> LandmarkLog:
    return run_pose(frames(n, name=name), FakePose(person(seed)))


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def assert_same_log(got: LandmarkLog, want: LandmarkLog) -> None:
    for field in ("frame", "t_s", "width", "height"):
        a, b = getattr(got, field), getattr(want, field)
        assert a.dtype == b.dtype and a.shape == b.shape, field
        assert a.tobytes() == np.ascontiguousarray(b).tobytes(), field
    for field in ("name", "skip_reason"):
        a, b = getattr(got, field), getattr(want, field)
        assert a.dtype == object and a.shape == b.shape, field
        assert all(type(v) is str for v in a), field
        assert a.tolist() == b.tolist(), field
    for field in ("xy", "z", "visibility", "world", "detected"):
        a, b = getattr(got.landmarks, field), getattr(want.landmarks, field)
        assert a.dtype == b.dtype and a.shape == b.shape, field
        assert a.tobytes() == b.tobytes(), field  # bit for bit, NaN included
    assert type(got.model_seconds) is float and got.model_seconds == want.model_seconds


def presence(log: LandmarkLog) -> list[bool | None]:
    pairs = zip(log.landmarks.detected, log.analysed, strict=True)
    return [bool(d) if a else None for d, a in pairs]


def bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes() if a.dtype != object else repr(a.tolist()).encode()


# --------------------------------------------------------------------------- round trip


def test_round_trip_keeps_every_field_and_dtype(tmp_path):
    log = make_log()
    assert (~log.analysed).any() and (~log.landmarks.detected & log.analysed).any()
    save(tmp_path / FILENAME, log, META)
    got, meta = load(tmp_path / FILENAME)
    assert meta == META
    assert_same_log(got, log)
    assert got.landmarks.xy.dtype == np.float64 and got.frame.dtype == np.int64


def test_score_and_follow_of_a_loaded_recording_equal_the_original_bit_for_bit(tmp_path):
    log = make_log(400)
    save(tmp_path / FILENAME, log, META)
    got, _ = load(tmp_path / FILENAME)
    options = ReplayOptions(baseline_seconds=8.0, progress=False)
    want, have = score(log, options), score(got, options)
    assert want.judgement is not None and have.judgement is not None
    assert np.any(want.judgement.slouched == 1.0)  # the recording is not trivially upright
    for name, values in want.metrics.values.items():
        assert bits(have.metrics[name]) == bits(values), name
    assert bits(have.metrics.view) == bits(want.metrics.view)
    assert bits(have.metrics.reason) == bits(want.metrics.reason)
    for field in ("score", "slouched", "issues", "head_scale", "worst"):
        assert bits(getattr(have.judgement, field)) == bits(getattr(want.judgement, field))
    assert have.baseline == want.baseline
    quick = TemporalSettings(drifting_s=2.0, persistence_s=5.0)
    a = follow(log.t_s, presence(log), want.judgement.worst, want.judgement.issues, quick)
    b = follow(got.t_s, presence(got), have.judgement.worst, have.judgement.issues, quick)
    assert any(e.type == "alert" for e in a.events)
    assert (a.states, a.events, a.time_in) == (b.states, b.events, b.time_in)


def test_empty_log_round_trips(tmp_path):
    log = run_pose([], FakePose(person()))
    save(tmp_path / FILENAME, log, {})
    got, meta = load(tmp_path / FILENAME)
    assert len(got) == 0 and meta == {}
    assert_same_log(got, log)
    assert got.landmarks.xy.shape == (0, 33, 2)


def test_a_results_folder_stands_for_the_recording_inside_it(tmp_path):
    log = make_log(30)
    save(tmp_path, log, META)
    assert files_in(tmp_path) == [FILENAME]
    got, meta = load(tmp_path)
    assert_same_log(got, log)
    assert meta == META


def test_values_float32_cannot_hold_are_kept_exactly(tmp_path):
    log = make_log(20)
    b = log.landmarks
    finer = type(b)(
        xy=b.xy + 1e-9, z=b.z, visibility=b.visibility / 3, world=b.world, detected=b.detected
    )
    fine = LandmarkLog(
        log.frame, log.t_s, log.name, log.skip_reason, log.width, log.height, finer, 1.25
    )
    assert not np.array_equal(finer.xy.astype(np.float32), finer.xy, equal_nan=True)
    save(tmp_path / FILENAME, fine, {})
    got, _ = load(tmp_path / FILENAME)
    assert_same_log(got, fine)


def test_repeated_names_are_stored_once(tmp_path):
    short = make_log(500, name="a")
    long = make_log(500, name="a-rather-long-video-name-" * 8 + ".mp4")
    save(tmp_path / "short.npz", short, {})
    save(tmp_path / "long.npz", long, {})
    grown = (tmp_path / "long.npz").stat().st_size - (tmp_path / "short.npz").stat().st_size
    assert 0 < grown < 1000  # once, not 500 times 200 characters


def test_unique_names_and_unicode_round_trip(tmp_path):
    log = make_log(60, name=None)
    named = LandmarkLog(
        log.frame,
        log.t_s,
        np.array([f" bild_{i}_ä€😀.jpg\t" for i in range(len(log) - 1)] + [""], dtype=object),
        log.skip_reason,
        log.width,
        log.height,
        log.landmarks,
    )
    save(tmp_path / FILENAME, named, {"note": "größe ✓"})
    got, meta = load(tmp_path / FILENAME)
    assert got.name.tolist() == named.name.tolist()
    assert meta == {"note": "größe ✓"}


def test_the_file_is_a_plain_npz_with_a_json_header(tmp_path):
    log = make_log(25)
    save(tmp_path / FILENAME, log, META)
    with np.load(tmp_path / FILENAME, allow_pickle=False) as npz:
        header = json.loads(npz["header"].tobytes())
        assert header == {"format": FORMAT, "version": VERSION, "frames": 25, "meta": META}
        assert npz["landmarks.xy"].dtype == np.float32
        assert all(npz[k].dtype != object for k in npz.files)


# --------------------------------------------------------------------------- errors


def rewrite(path: Path, **changes) -> None:
    """Rewrite a saved recording with some arrays replaced (None removes one)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    np.savez(path, **arrays)


def header(**fields) -> np.ndarray:
    data = {"format": FORMAT, "version": VERSION, "frames": 10, "meta": {}, **fields}
    return np.frombuffer(json.dumps(data).encode(), np.uint8)


def load_fails(path: Path, *needles: str) -> str:
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(RecordingError) as err:
        load(path)
    message = str(err.value)
    for needle in needles:
        assert needle in message, message
    assert isinstance(err.value, PosturecamError)
    if before is not None:
        assert path.read_bytes() == before  # the bad file is left as it was
    return message


@pytest.fixture
def saved(tmp_path) -> Path:
    path = tmp_path / FILENAME
    save(path, make_log(10), META)
    return path


def test_missing_recording_says_to_replay_again(tmp_path):
    message = load_fails(tmp_path / "results" / FILENAME, "replay the source again")
    assert str(tmp_path / "results" / FILENAME) in message
    load_fails(tmp_path, str(tmp_path / FILENAME), "replay the source again")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / FILENAME
    path.write_text("frame,t_s\n0,0.0\n")
    message = load_fails(path, str(path), "not a posturecam landmark recording")
    assert "damaged" not in message and "pickle" not in message


def test_a_plain_npy_array_is_refused(tmp_path):
    path = tmp_path / FILENAME
    with open(path, "wb") as fh:
        np.save(fh, np.arange(5))
    load_fails(path, str(path), "not a posturecam landmark recording")


def test_a_zip_of_something_else_is_refused(tmp_path):
    path = tmp_path / FILENAME
    np.savez(path, weights=np.ones(3))
    load_fails(path, str(path), "not a posturecam landmark recording")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    load_fails(path, "not a posturecam landmark recording")


def test_a_truncated_recording_is_reported_as_damaged(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    load_fails(saved, str(saved), "damaged", "truncated", "replay the source again")
    saved.write_bytes(b"")
    load_fails(saved, "damaged", "empty")


def test_a_corrupted_byte_is_caught_by_the_checksum(saved):
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("landmarks.xy.npy")
    # Past the member's local header (30 bytes + name + extra) and its .npy header.
    where = info.header_offset + 30 + len(info.filename) + 200
    data[where] ^= 0xFF
    saved.write_bytes(bytes(data))
    load_fails(saved, "damaged")


def test_an_unknown_format_is_refused(saved):
    rewrite(saved, header=header(format="someone-elses-landmarks"))
    load_fails(saved, "not a posturecam landmark recording", "someone-elses-landmarks")


def test_a_newer_version_asks_for_an_upgrade(saved):
    rewrite(saved, header=header(version=VERSION + 1))
    message = load_fails(saved)
    assert (
        f"recording version {VERSION + 1} is newer than this posturecam (reads {VERSION}); "
        "upgrade posturecam" in message
    )


@pytest.mark.parametrize("bad", [0, "1", None, 1.0])
def test_an_invalid_version_is_damage(saved, bad):
    rewrite(saved, header=header(version=bad))
    load_fails(saved, "damaged", "version")


def test_a_header_that_is_not_json_is_damage(saved):
    rewrite(saved, header=np.frombuffer(b"{not json", np.uint8))
    load_fails(saved, "damaged")


@pytest.mark.parametrize(
    "changes",
    [
        {"t_s": np.zeros(9)},
        {"landmarks__xy": np.zeros((10, 33, 3), np.float32)},
        {"detected": np.ones(11, bool)},
        {"name__index": np.zeros(12, np.uint8)},
        {"header": header(frames=11)},
    ],
    ids=["t_s", "xy", "detected", "name", "frames"],
)
def test_arrays_of_inconsistent_length_are_refused(saved, changes):
    rewrite(saved, **changes)
    load_fails(saved, "inconsistent", "replay the source again")


def test_a_missing_array_is_damage(saved):
    rewrite(saved, landmarks__world=None)
    load_fails(saved, "damaged", "landmarks.world")


def test_a_string_index_out_of_range_is_damage(saved):
    rewrite(saved, skip_reason__index=np.full(10, 7, np.uint8))
    load_fails(saved, "damaged")


@pytest.mark.parametrize(
    "changes",
    [
        {"name__offsets": np.array([0, 3], np.int64)},
        {"name__offsets": np.array([1, 8], np.int64)},
        {"name__blob": np.frombuffer(b"desk.mp4", np.int8)},
        {"name__offsets": np.array([], np.int64)},
        {"name__blob": np.frombuffer(b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", np.uint8)},
    ],
    ids=["short", "start", "dtype", "empty", "utf8"],
)
def test_a_damaged_string_table_is_damage(saved, changes):
    rewrite(saved, **changes)
    load_fails(saved, "damaged")


def test_pickled_arrays_are_never_unpickled(saved):
    with np.load(saved, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["frame"] = np.array([object()] * 10, dtype=object)  # needs pickle to read
    np.savez(saved, **arrays)
    load_fails(saved, "damaged")


# --------------------------------------------------------------------------- atomic save


def test_metadata_that_is_not_json_fails_before_touching_anything(saved):
    before = saved.read_bytes()
    for meta in ({"when": object()}, {"x": float("nan")}):
        with pytest.raises(RecordingError, match="plain JSON"):
            save(saved, make_log(5), meta)
    assert saved.read_bytes() == before
    assert files_in(saved.parent) == [FILENAME]


def test_a_failing_write_leaves_the_previous_recording_intact(saved, monkeypatch):
    before = saved.read_bytes()

    def half_written(fh, **arrays):
        fh.write(b"PK\x03\x04 partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recording.np, "savez", half_written)
    with pytest.raises(RecordingError, match="No space left on device") as err:
        save(saved, make_log(20), META)
    assert str(saved) in str(err.value)
    assert saved.read_bytes() == before
    assert files_in(saved.parent) == [FILENAME]  # no temp file left behind
    monkeypatch.undo()
    got, _ = load(saved)
    assert len(got) == 10


def test_an_interrupted_save_leaves_no_file_at_all(tmp_path, monkeypatch):
    def interrupted(fh, **arrays):
        fh.write(b"PK")
        raise KeyboardInterrupt

    monkeypatch.setattr(recording.np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(tmp_path / FILENAME, make_log(5), META)
    assert files_in(tmp_path) == []


def test_saving_over_a_recording_replaces_it(saved):
    save(saved, make_log(40, seed=3), {"run": 2})
    got, meta = load(saved)
    assert len(got) == 40 and meta == {"run": 2}
    assert not [p for p in os.listdir(saved.parent) if p.endswith(".tmp")]
