"""The documented profile format: schema, example profiles, and what the code writes."""

import json
from pathlib import Path

import jsonschema
import pytest
from factories import front_pose

from posturecam import profiles
from posturecam.core.rules import DEFAULT_RULES
from posturecam.core.types import LandmarkBatch
from posturecam.frames.engine import LandmarkLog

FOLDER = Path(__file__).resolve().parents[2] / "calibration"
SCHEMA = json.loads((FOLDER / "profile.schema.json").read_text())
EXAMPLES = sorted(FOLDER.glob("*.json"))
EXAMPLES = [p for p in EXAMPLES if p.name != "profile.schema.json"]


def test_schema_is_valid_and_knows_every_issue():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    names = SCHEMA["properties"]["settings"]["properties"]["sensitivity"]["propertyNames"]["enum"]
    assert set(names) == set(DEFAULT_RULES)
    assert SCHEMA["properties"]["version"]["maximum"] == profiles.VERSION


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_profiles_follow_the_schema_and_load(path):
    jsonschema.validate(json.loads(path.read_text()), SCHEMA)
    profile = profiles.load(path)
    sample = FOLDER.parent / "sample_frames" / path.stem
    assert sample.is_dir(), "each example profile belongs to a sample frame set"
    assert profile.view == "front"


def test_what_calibrate_writes_follows_the_schema(tmp_path):
    import numpy as np

    from posturecam.live.calibration import calibrate

    poses = [front_pose(rng=np.random.default_rng(i), jitter=1.0) for i in range(20)]
    n = len(poses)
    log = LandmarkLog(
        frame=np.arange(n),
        t_s=np.arange(n) / 2,
        name=np.full(n, "x", dtype=object),
        skip_reason=np.full(n, "", dtype=object),
        width=np.full(n, 640),
        height=np.full(n, 480),
        landmarks=LandmarkBatch.stack(poses),
    )
    profile = calibrate(log, "desk", "synthetic", model_variant="full")
    path = profiles.save(profile, tmp_path / "desk.json")
    jsonschema.validate(json.loads(path.read_text()), SCHEMA)
