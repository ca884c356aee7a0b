"""Calibration profiles: round trip, atomic writes, refusing bad or mismatched files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from posturecam import profiles
from posturecam.cli import advice
from posturecam.core.rules import JudgeSettings, MetricStats
from posturecam.errors import ProfileError, Remedy
from posturecam.profiles import Profile, check_fits


def make_profile(view: str = "front", name: str = "laptop", **kw) -> Profile:
    metrics = (
        {
            "head_height": MetricStats(0.896421, 0.012345, 240),
            "neck_height": MetricStats(0.55, 0.01, 240),
            "ear_span": MetricStats(0.21875, 0.004, 238),
        }
        if view == "front"
        else {
            "neck_inclination": MetricStats(11.5, 1.25, 120),
            "torso_inclination": MetricStats(4.75, 0.8, 118),
        }
    )
    fields = {
        "name": name,
        "view": view,
        "metrics": metrics,
        "image_size": (640, 480),
        "model_variant": "full",
        "frames": 240,
        "source": "camera 0",
        "settings": JudgeSettings(noise_k=2.5).with_sensitivity(head_drop=1.25),
        "created": "2024-05-01T09:30:00+00:00",
    }
    fields.update(kw)
    return Profile(**fields)


def home() -> Path:
    return Path(os.environ["POSTURECAM_HOME"])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------- paths


def test_data_dir_follows_posturecam_home(tmp_path, monkeypatch):
    assert profiles.data_dir() == home()
    monkeypatch.setenv("POSTURECAM_HOME", str(tmp_path / "elsewhere"))
    assert profiles.data_dir() == tmp_path / "elsewhere"


@pytest.mark.parametrize("name", ["laptop", "docked-2", "desk_left", "v1.2"])
def test_bare_name_resolves_to_calibration_folder(name):
    assert profiles.profile_path(name) == home() / "calibration" / f"{name}.json"


def test_anything_with_a_path_is_a_path(tmp_path):
    assert profiles.profile_path("laptop.json") == Path("laptop.json")
    assert profiles.profile_path(tmp_path / "p.json") == tmp_path / "p.json"
    assert profiles.profile_path("sub/laptop") == Path("sub/laptop")
    assert profiles.profile_path("~/x.json") == Path("~/x.json").expanduser()


# --------------------------------------------------------------------------- round trip


def test_round_trip_by_name():
    p = make_profile()
    path = profiles.save(p, "laptop")
    assert path == home() / "calibration" / "laptop.json"
    assert path.is_file()
    assert profiles.load("laptop") == p
    assert profiles.load(path) == p
    assert leftovers(path.parent) == []


def test_round_trip_by_explicit_path(tmp_path):
    p = make_profile("side", name="side-desk")
    target = tmp_path / "deep" / "folder" / "mine.json"
    assert profiles.save(p, target) == target
    loaded = profiles.load(str(target))
    assert loaded == p
    assert loaded.view == "side"
    assert loaded.settings.sensitivity == {"head_drop": 1.25}
    assert not (home() / "calibration").exists()


def test_file_is_versioned_json():
    path = profiles.save(make_profile(), "laptop")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == "posturecam.profile"
    assert data["version"] == profiles.VERSION
    assert data["image_size"] == [640, 480]
    assert data["metrics"]["head_height"] == {"centre": 0.896421, "spread": 0.012345, "n": 240}
    assert data["settings"] == {
        **JudgeSettings().to_dict(),
        "noise_k": 2.5,
        "sensitivity": {"head_drop": 1.25},
    }


def test_saving_same_view_again_replaces():
    profiles.save(make_profile(frames=100), "laptop")
    profiles.save(make_profile(frames=300), "laptop")
    assert profiles.load("laptop").frames == 300


def test_load_missing_profile_says_how_to_create_it():
    with pytest.raises(ProfileError, match=r"no profile at .*named nothere first") as err:
        profiles.load("nothere")
    assert err.value.remedies == (Remedy("create_profile", name="nothere"),)
    assert "calibrate --profile nothere` or pass" in advice.render(err.value)


# --------------------------------------------------------------------------- atomic write


def test_failed_save_leaves_previous_file_intact(monkeypatch):
    path = profiles.save(make_profile(frames=100), "laptop")
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    with monkeypatch.context() as m, pytest.raises(OSError, match="disk full"):
        m.setattr(os, "replace", boom)
        profiles.save(make_profile(frames=999), "laptop")
    assert path.read_bytes() == before
    assert leftovers(path.parent) == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["laptop.json"]
    assert profiles.load("laptop").frames == 100


def test_interrupted_first_save_leaves_nothing(monkeypatch):
    def interrupt(src, dst):
        raise KeyboardInterrupt

    with monkeypatch.context() as m, pytest.raises(KeyboardInterrupt):
        m.setattr(os, "replace", interrupt)
        profiles.save(make_profile(), "laptop")
    folder = home() / "calibration"
    assert list(folder.iterdir()) == []


# --------------------------------------------------------------------------- bad files


def good_dict() -> dict:
    return make_profile().to_dict()


def _without(key: str) -> dict:
    d = good_dict()
    del d[key]
    return d


def _metric(key: str, value) -> dict:
    d = good_dict()
    d["metrics"]["head_height"][key] = value
    return d


def _set(key: str, value) -> dict:
    d = good_dict()
    d[key] = value
    return d


def _text(d: dict) -> str:
    return json.dumps(d, indent=2)


GOOD_TEXT = _text(good_dict())

BAD_FILES = {
    "corrupt json": ("{this is not json", "cannot be read"),
    "truncated json": (GOOD_TEXT[: len(GOOD_TEXT) // 2], "cannot be read"),
    "empty file": ("", "cannot be read"),
    "not utf-8": ("", "cannot be read"),  # written as raw bytes in write_bad
    "json list": ("[1, 2, 3]", "not a posturecam profile"),
    "wrong schema": (_text(_set("schema", "someapp.settings")), "not a posturecam profile"),
    "no schema": (_text(_without("schema")), "not a posturecam profile"),
    "future version": (_text(_set("version", 99)), "version 99, newer than"),
    "version as text": (_text(_set("version", "1")), "version '1'"),
    "missing view": (_text(_without("view")), "incomplete or damaged"),
    "missing metrics": (_text(_without("metrics")), "incomplete or damaged"),
    "missing frames": (_text(_without("frames")), "incomplete or damaged"),
    "missing created": (_text(_without("created")), "incomplete or damaged"),
    "missing image size": (_text(_without("image_size")), "incomplete or damaged"),
    "unknown view": (_text(_set("view", "top")), "unknown view 'top'"),
    "no metrics": (_text(_set("metrics", {})), "no metrics"),
    "metric missing spread": (
        _text({**good_dict(), "metrics": {"head_height": {"centre": 0.9, "n": 3}}}),
        "incomplete or damaged",
    ),
    "metric as text": (_text(_metric("centre", "high")), "incomplete or damaged"),
    "image size of one number": (_text(_set("image_size", [640])), "incomplete or damaged"),
    "nan centre": (_text(_metric("centre", float("nan"))), "not a finite number"),
    "infinite spread": (_text(_metric("spread", float("inf"))), "not a finite number"),
    "negative infinite centre": (_text(_metric("centre", float("-inf"))), "not a finite number"),
    "nan frames": (_text(_set("frames", float("nan"))), "incomplete or damaged"),
    "bad sensitivity": (
        _text(_set("settings", {"sensitivity": {"head_drop": 0}})),
        "incomplete or damaged",
    ),
    "unknown sensitivity": (
        _text(_set("settings", {"sensitivity": {"wobble": 1}})),
        "incomplete or damaged",
    ),
}


def write_bad(path: Path, case: str) -> bytes:
    text = BAD_FILES[case][0]
    data = b"\xff\xfe{\x00" if case == "not utf-8" else text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_profile_gives_clear_error_and_is_left_alone(case):
    path = home() / "calibration" / "laptop.json"
    data = write_bad(path, case)
    with pytest.raises(ProfileError, match=BAD_FILES[case][1]) as err:
        profiles.load("laptop")
    msg = str(err.value)
    assert str(path) in msg
    assert "recalibrate" in msg.lower()
    assert path.read_bytes() == data


@pytest.mark.parametrize("case", ["corrupt json", "truncated json", "future version", "no metrics"])
def test_saving_over_a_bad_profile_refuses_and_keeps_it(case):
    path = home() / "calibration" / "laptop.json"
    data = write_bad(path, case)
    with pytest.raises(ProfileError, match="not a valid profile, so it was not overwritten") as e:
        profiles.save(make_profile(), "laptop")
    assert "choose another profile name" in str(e.value)
    assert "choose another --profile name" in advice.render(e.value)
    assert Remedy("other_profile_name") in e.value.remedies
    assert path.read_bytes() == data
    assert leftovers(path.parent) == []


# Bugs: Profile.from_dict only turns KeyError/TypeError/ValueError into ProfileError,
# but a damaged file can also make it raise AttributeError (a JSON list or null where
# an object belongs: `data["metrics"].items()`, `JudgeSettings.from_dict(None)`) or
# OverflowError (`int(inf)` for "n" or "frames"). Those escape as tracebacks, and the
# CLI (which catches only PosturecamError) crashes on `replay --profile NAME`.
UNCAUGHT = {
    "metrics as list": _set("metrics", []),
    "metrics null": _set("metrics", None),
    "settings null": _set("settings", None),
    "settings as list": _set("settings", []),
    "sensitivity as list": _set("settings", {"sensitivity": []}),
    "infinite metric count": _metric("n", float("inf")),
    "infinite frames": _set("frames", float("inf")),
}


@pytest.mark.parametrize("case", sorted(UNCAUGHT))
def test_damaged_profile_of_wrong_types_gives_profile_error(case):
    path = home() / "calibration" / "laptop.json"
    data = _text(UNCAUGHT[case]).encode()
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    with pytest.raises(ProfileError, match="incomplete or damaged"):
        profiles.load("laptop")
    assert path.read_bytes() == data


# --------------------------------------------------------------------------- views


def test_saving_other_view_over_same_name_refuses():
    path = profiles.save(make_profile("front"), "laptop")
    before = path.read_bytes()
    with pytest.raises(ProfileError, match=r"holds a front-view profile.*side-view") as err:
        profiles.save(make_profile("side"), "laptop")
    assert "Choose another profile name (one per setup" in str(err.value)
    assert "Choose another --profile name (one per setup" in advice.render(err.value)
    assert path.read_bytes() == before


def test_saving_other_view_allowed_when_asked():
    profiles.save(make_profile("front"), "laptop")
    path = profiles.save(make_profile("side"), "laptop", overwrite_other_view=True)
    assert profiles.load(path).view == "side"


def test_check_fits_raises_for_another_view():
    with pytest.raises(ProfileError, match="calibrated in front view but this run is side view"):
        check_fits(make_profile("front"), "side", (640, 480))


def test_check_fits_warns_for_another_image_size():
    warnings = check_fits(make_profile("front"), "front", (1280, 720))
    assert len(warnings) == 1
    assert "640x480" in warnings[0] and "1280x720" in warnings[0]
    assert "recalibrate" in warnings[0]


@pytest.mark.parametrize("view,size", [("front", (640, 480)), (None, None), ("front", None)])
def test_check_fits_is_quiet_when_it_fits(view, size):
    assert check_fits(make_profile("front"), view, size) == []
