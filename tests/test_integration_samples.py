"""The real model on the generated sample frame sets, through the CLI."""

import csv
import json

import numpy as np
import pytest
from conftest import SAMPLE_FRAMES

from posturecam.cli import main

pytestmark = pytest.mark.integration

SETS = sorted(p.name for p in SAMPLE_FRAMES.iterdir() if (p / "expected.json").exists())


def test_there_are_sample_sets():
    assert len(SETS) >= 2


@pytest.fixture(scope="module")
def replays(tmp_path_factory, model_path):
    out = {}
    for name in SETS:
        dest = tmp_path_factory.mktemp(name)
        assert (
            main(
                [
                    "replay",
                    str(SAMPLE_FRAMES / name),
                    "--out",
                    str(dest),
                    "--no-progress",
                    "--model",
                    str(model_path),
                ]
            )
            == 0
        )
        with open(dest / "frames.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        summary = json.loads((dest / "summary.json").read_text())
        out[name] = (rows, summary)
    return out


def _window(rows, windows, column):
    values = []
    for r in rows:
        t = float(r["t_s"])
        if any(a <= t <= b for a, b in windows) and r[column]:
            values.append(float(r[column]))
    return np.array(values)


@pytest.mark.parametrize("name", SETS)
def test_person_found_in_every_frame(replays, name):
    rows, summary = replays[name]
    assert summary["frames"] == len(rows) > 0
    assert summary["frames_detected"] == summary["frames"]
    assert summary["view"] == "front"


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("metric", ["neck_height", "head_height"])
def test_metric_trend_over_expected_windows(replays, name, metric):
    rows, _ = replays[name]
    expected = json.loads((SAMPLE_FRAMES / name / "expected.json").read_text())
    upright = _window(rows, expected["upright"], metric)
    slouched = _window(rows, expected["slouched"], metric)
    assert upright.size and slouched.size
    # Every slumped frame sits below every upright one, by a clear margin.
    assert slouched.max() < upright.min()
    assert np.median(slouched) < 0.9 * np.median(upright)


@pytest.mark.parametrize("name", SETS)
def test_judgement_follows_expected_windows(replays, name):
    rows, summary = replays[name]
    assert summary["baseline"]["kind"] == "recording"
    expected = json.loads((SAMPLE_FRAMES / name / "expected.json").read_text())
    for kind, want in (("upright", "0"), ("slouched", "1")):
        verdicts = {
            r["slouched"] for r in rows if any(a <= float(r["t_s"]) <= b for a, b in expected[kind])
        }
        assert verdicts == {want}, (kind, verdicts)
