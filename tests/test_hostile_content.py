"""Valid files with hostile content (issue 11, class 5): recordings, profiles, settings.

Each hostile file gets one clear error (a PosturecamError naming the file, never a
traceback, a hang or a memory blow-up); Hypothesis also checks that valid files load as
written and that arbitrary damage to them never escapes as anything else.
"""

from __future__ import annotations

import copy
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_recording import META, make_log

from posturecam import profiles
from posturecam import settings as settings_mod
from posturecam.errors import PosturecamError, ProfileError
from posturecam.research import recording
from posturecam.research.recording import RecordingError
from posturecam.settings import SettingsError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "calibration" / "hopper.json").read_text(encoding="utf-8"))
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEEP = 50_000  # far past any parser's recursion limit


# --------------------------------------------------------------------------- recordings


@pytest.fixture(scope="module")
def good_npz(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("rec") / "landmarks.npz"
    recording.save(path, make_log(n=40), META)
    return path.read_bytes()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


def rebuild(path: Path, parts: dict[str, bytes], deflate: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            how = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            zf.writestr(name, data, compress_type=how)
    return path


def with_header(parts: dict[str, bytes], text: str) -> dict[str, bytes]:
    return {**parts, "header.npy": npy(np.frombuffer(text.encode(), np.uint8))}


def header_of(parts: dict[str, bytes]) -> dict:
    arr = np.lib.format.read_array(io.BytesIO(parts["header.npy"]))
    return json.loads(arr.tobytes().decode())


def hostile_recordings(parts: dict[str, bytes]) -> dict[str, tuple[dict[str, bytes], tuple, str]]:
    """name -> (members, deflated members, expected text of the error)."""
    t_s = np.arange(40, dtype=float)
    back, nan = t_s.copy(), t_s.copy()
    back[20], nan[7] = 3.0, math.nan
    header = header_of(parts)
    buf = io.BytesIO()  # a .npy that claims 8 TB in a 200-byte member
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    fake_shape = buf.getvalue() + bytes(64)
    return {
        # 40 MB of zeros, deflated to about 40 kB: the zip says so before inflating.
        "inflates to 40 MB": (
            {**parts, "landmarks.world.npy": npy(np.zeros(5_000_000))},
            ("landmarks.world.npy",),
            "declares 40000128 bytes",
        ),
        "an empty member": ({**parts, "t_s.npy": b""}, (), "damaged"),
        "an array larger than its member": (
            {**parts, "t_s.npy": fake_shape},
            (),
            "declares more data than it holds",
        ),
        "a deeply nested header": (
            with_header(parts, "[" * DEEP + "]" * DEEP),
            ("header.npy",),
            "nested far too deeply",
        ),
        "a header of 20 MB": (
            with_header(parts, json.dumps({**header, "pad": "x" * (20 << 20)})),
            ("header.npy",),
            "header declares",
        ),
        "timestamps that go backwards": (
            {**parts, "t_s.npy": npy(back)},
            (),
            "timestamps go backwards at frame 20",
        ),
        "a NaN timestamp": ({**parts, "t_s.npy": npy(nan)}, (), "frame 7 has no valid timestamp"),
    }


CASES = [
    "inflates to 40 MB",
    "an empty member",
    "an array larger than its member",
    "a deeply nested header",
    "a header of 20 MB",
    "timestamps that go backwards",
    "a NaN timestamp",
]


@pytest.mark.parametrize("case", CASES)
def test_hostile_recording_is_one_clear_error(case, good_npz, tmp_path):
    parts, deflate, expected = hostile_recordings(members(good_npz))[case]
    path = rebuild(tmp_path / "landmarks.npz", parts, deflate)
    assert path.stat().st_size < 2 << 20  # small on disk: the danger is what it claims
    with pytest.raises(RecordingError, match=expected) as exc:
        recording.load(path)
    assert str(path) in str(exc.value) and "replay the source again" in str(exc.value)


def test_rebuilt_recording_without_damage_still_loads(good_npz, tmp_path):
    """The hostile cases above differ from a good file only in what they break."""
    path = rebuild(tmp_path / "landmarks.npz", members(good_npz))
    log, meta = recording.load(path)
    assert len(log) == 40 and meta == META


@FAST
@given(data=st.data())
def test_any_damage_to_a_recording_is_a_recording_error(good_npz, tmp_path_factory, data):
    """Truncated, overwritten or spliced bytes: loads, or a RecordingError; nothing else."""
    raw = bytearray(good_npz)
    kind = data.draw(st.sampled_from(["truncate", "overwrite", "splice"]))
    at = data.draw(st.integers(0, len(raw) - 1))
    if kind == "truncate":
        raw = raw[:at]
    elif kind == "overwrite":
        chunk = data.draw(st.binary(min_size=1, max_size=64))
        raw[at : at + len(chunk)] = chunk
    else:
        raw = raw[:at] + raw[data.draw(st.integers(at, len(raw))) :]
    path = tmp_path_factory.mktemp("damaged") / "landmarks.npz"
    path.write_bytes(bytes(raw))
    try:
        log, _ = recording.load(path)
    except RecordingError:
        return
    assert np.isfinite(log.t_s).all() and (np.diff(log.t_s) >= 0).all()


@FAST
@given(
    steps=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30),
    start=st.floats(-1e9, 1e10, allow_nan=False),
    meta=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4),
)
def test_valid_recordings_round_trip(steps, start, meta, tmp_path_factory):
    log = make_log(n=len(steps))
    t_s = start + np.cumsum(steps)
    log = type(log)(**{**log.__dict__, "t_s": t_s})
    path = tmp_path_factory.mktemp("valid") / "landmarks.npz"
    recording.save(path, log, meta)
    back, back_meta = recording.load(path)
    assert np.array_equal(back.t_s, t_s) and back_meta == meta


# --------------------------------------------------------------------------- profiles


def profile_file(tmp_path: Path, data) -> Path:
    path = tmp_path / "p.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def changed(edit) -> dict:
    data = copy.deepcopy(EXAMPLE)
    edit(data)
    return data


def _drop_weighted(d: dict) -> None:
    for metric in d["settings"]["weights"]:
        d["metrics"].pop(metric, None)


HOSTILE_PROFILES = {
    "deeply nested": ("[" * DEEP + "]" * DEEP, "nested far too deeply"),
    "no usable metric": (changed(_drop_weighted), "no metric its judgement uses"),
    "centre 0": (
        changed(lambda d: d["metrics"]["head_height"].update(centre=0)),
        "head_height has centre 0",
    ),
    "centre 1e308": (
        changed(lambda d: d["metrics"]["head_height"].update(centre=1e308)),
        "far outside any posture",
    ),
    "centre NaN": (
        changed(lambda d: d["metrics"]["head_height"].update(centre=math.nan)),
        "not a finite number",
    ),
    "negative spread": (
        changed(lambda d: d["metrics"]["head_height"].update(spread=-1)),
        "far outside any posture",
    ),
    "n is true": (changed(lambda d: d["metrics"]["head_height"].update(n=True)), "centre, spread"),
    "example 1e308": (
        changed(lambda d: d.update(examples={"upright": {"head_height": [1e308]}})),
        "at most 1000",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_PROFILES))
def test_hostile_profile_is_refused_saying_recalibrate(case, tmp_path):
    data, expected = HOSTILE_PROFILES[case]
    path = profile_file(tmp_path, data)
    with pytest.raises(ProfileError, match=expected) as exc:
        profiles.load(path)
    assert str(path) in str(exc.value) and "recalibrate" in str(exc.value).lower()


def test_a_huge_profile_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "p.json"
    with open(path, "wb") as fh:
        fh.truncate(profiles.MAX_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ProfileError, match="larger than 16 MiB"):
        profiles.load(path)


metric_value = st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.booleans()


@FAST
@given(
    metric=st.sampled_from(sorted(EXAMPLE["metrics"])),
    field=st.sampled_from(["centre", "spread", "n"]),
    value=metric_value | st.none() | st.text(max_size=4),
)
def test_any_metric_value_loads_or_is_a_profile_error(metric, field, value, tmp_path_factory):
    data = changed(lambda d: d["metrics"][metric].update({field: value}))
    path = profile_file(tmp_path_factory.mktemp("p"), data)
    try:
        profile = profiles.load(path)
    except ProfileError:
        return
    stats = profile.metrics[metric]
    assert math.isfinite(stats.centre) and abs(stats.centre) <= profiles.MAX_METRIC
    assert 0 <= stats.spread <= profiles.MAX_METRIC and stats.n >= 1


@FAST
@given(
    centres=st.dictionaries(
        st.sampled_from(sorted(EXAMPLE["metrics"])), st.floats(0.01, 100.0), min_size=1
    )
)
def test_valid_profiles_load_as_written(centres, tmp_path_factory):
    data = changed(lambda d: [d["metrics"][k].update(centre=v) for k, v in centres.items()])
    profile = profiles.load(profile_file(tmp_path_factory.mktemp("p"), data))
    assert {k: profile.metrics[k].centre for k in centres} == centres


# --------------------------------------------------------------------------- settings

HOSTILE_SETTINGS = [
    (
        "[temporal]\npersistence_s = true\n",
        r"line 2: \[temporal\] persistence_s must be a finite number >= 0, not true",
    ),
    ("[temporal]\ncooldown_s = inf\n", r"line 2: \[temporal\] cooldown_s .* >= 0, not inf"),
    ("[temporal]\npersistence_s = -5\n", r"line 2: persistence_s must be a number >= 0"),
    ("[judge]\nnoise_k = true\n", r"line 2: \[judge\] noise_k must be a finite number >= 0"),
    ("[judge]\nnoise_k = -1\n", r"line 2: noise_k and slouch_k must be numbers >= 0"),
    ("[judge]\nsensitivity = { head_drop = nan }\n", r"sensitivity.head_drop .* > 0, not nan"),
    ("[judge]\nweights = { head_height = false }\n", r"weights.head_height .* >= 0, not false"),
    ("[baseline]\ndrift_tau_s = nan\n", r"line 2: \[baseline\] drift_tau_s .* >= 0, not nan"),
    ("[monitor]\nsnooze_minutes = 1441\n", r"snooze_minutes .* at most 1440 \(24 h\)"),
    ("[monitor]\nrate_hz = true\n", r"rate_hz must be a number greater than 0"),
    ("a = " + "[" * DEEP + "]" * DEEP + "\n", "nests arrays or tables too deeply"),
]


@pytest.mark.parametrize("text,expected", HOSTILE_SETTINGS, ids=range(len(HOSTILE_SETTINGS)))
def test_hostile_settings_are_one_line_naming_file_key_and_range(text, expected, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=expected) as exc:
        settings_mod.load(path)
    message = str(exc.value)
    assert message.startswith(f"settings file {path}") and "\n" not in message


scalar = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(-(10**6), 10**6)
    | st.booleans()
    | st.text(max_size=5)
)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


TABLE_DEFAULTS = {
    "temporal": settings_mod.TemporalSettings().to_dict(),
    "baseline": settings_mod.AdaptSettings().to_dict(),
    "judge": settings_mod.JudgeSettings().to_dict(),
    "monitor": settings_mod.MonitorSettings().to_dict(),
}
TABLE_KEYS = {
    "temporal": sorted(settings_mod.TemporalSettings().to_dict()),
    "baseline": sorted(settings_mod.AdaptSettings().to_dict()),
    "judge": ["noise_k", "slouch_k", "floor", "combine"],
    "monitor": sorted(settings_mod.MonitorSettings().to_dict()),
}


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return repr(value) if isinstance(value, (int, float)) else json.dumps(value)


@FAST
@given(
    table=st.sampled_from(sorted(TABLE_KEYS)),
    data=st.data(),
)
def test_any_settings_value_loads_checked_or_is_a_settings_error(table, data, tmp_path_factory):
    key = data.draw(st.sampled_from(TABLE_KEYS[table]))
    value = data.draw(scalar)
    path = tmp_path_factory.mktemp("s") / "config.toml"
    path.write_text(f"[{table}]\n{key} = {toml_value(value)}\n", encoding="utf-8")
    try:
        chosen = settings_mod.load(path)
    except PosturecamError as exc:
        assert isinstance(exc, SettingsError) and str(path) in str(exc)
        return
    got = getattr({"baseline": chosen.adapt}.get(table) or getattr(chosen, table), key)
    numeric = _is_number(TABLE_DEFAULTS[table].get(key))
    if numeric and got is not None:  # break_after_s = 0 means off (None)
        assert _is_number(got) and math.isfinite(got)
    assert not (numeric and isinstance(value, bool))
    if table == "monitor" and key == "snooze_minutes":
        assert 0 < got <= settings_mod.MAX_SNOOZE_MINUTES
