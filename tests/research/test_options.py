"""Scoring options: one record (summary.json's "options"), one key, and the baseline choice."""

from __future__ import annotations

import hashlib
import json

import pytest

from posturecam import __version__, profiles
from posturecam.core.rules import JudgeSettings, MetricStats
from posturecam.core.temporal import TemporalSettings
from posturecam.research.options import (
    NoBaseline,
    ProfileBaseline,
    ReplayOptions,
    ScoringOptions,
    WindowBaseline,
    baseline_choice,
    canonical,
    scoring_options,
)
from posturecam.research.run_key import run_key

PROFILE = profiles.Profile(
    name="desk",
    view="front",
    metrics={"neck_height": MetricStats(0.5, 0.02, 40)},
    image_size=(640, 480),
    model_variant="full",
    frames=40,
    source="desk.mp4",
    created="2026-01-01T00:00:00+00:00",
)


@pytest.mark.parametrize(
    "options",
    [
        ScoringOptions(),
        ScoringOptions(view="side", stills=True, fps=5.0),
        ScoringOptions(baseline=WindowBaseline(seconds=3.0), temporal=TemporalSettings(away_s=9)),
        ScoringOptions(baseline=WindowBaseline(frames=40), judge=JudgeSettings(noise_k=2.0)),
        ScoringOptions(baseline=NoBaseline()),
        ScoringOptions(baseline=ProfileBaseline(PROFILE, "desk")),
    ],
)
def test_the_record_reads_back_as_the_same_options(options):
    record = json.loads(json.dumps(options.record()))
    assert ScoringOptions.from_record(record, options.profile) == options


def test_the_record_keeps_its_format_on_disk():
    assert ScoringOptions(baseline=WindowBaseline(frames=40)).record() == {
        "view": None,
        "stills": False,
        "fps": None,
        "profile": None,
        "baseline_seconds": None,
        "baseline_frames": 40,
        "no_baseline": False,
        "temporal": TemporalSettings().to_dict(),
        "judge": None,
        "adapt": ScoringOptions().adapt.to_dict(),
    }
    assert ScoringOptions(baseline=ProfileBaseline(PROFILE, "desk")).record()["profile"] == "desk"


def test_the_key_is_the_one_earlier_versions_made():
    """A batch folder made before the options became ScoringOptions still resumes."""
    options = ReplayOptions(baseline_seconds=3.0, parquet=True, force=True, progress=False)
    flat = {
        "view": None, "stills": False, "fps": None, "profile": None, "profile_ref": "",
        "baseline_seconds": 3.0, "baseline_frames": None, "no_baseline": False, "parquet": True,
        "temporal": TemporalSettings(), "judge": None, "adapt": options.scoring.adapt,
    }  # fmt: skip
    material = {
        "posturecam": __version__,
        "options": canonical(flat),
        "model": {"variant": "fake"},
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert run_key(options, {"variant": "fake"}) == hashlib.sha256(text.encode()).hexdigest()


def test_the_flat_spelling_and_its_precedence():
    assert baseline_choice() == WindowBaseline()
    assert baseline_choice(seconds=4.0) == WindowBaseline(seconds=4.0)
    assert baseline_choice(frames=9) == WindowBaseline(frames=9)
    assert baseline_choice(none=True, frames=9) == NoBaseline()
    assert baseline_choice(PROFILE, "p", none=True) == ProfileBaseline(PROFILE, "p")
    assert scoring_options(no_baseline=True).baseline == NoBaseline()
    with pytest.raises(TypeError):
        scoring_options(baseline=NoBaseline(), baseline_seconds=3.0)
    with pytest.raises(ValueError):
        WindowBaseline(seconds=1.0, frames=2)
    assert ReplayOptions(view="front").scoring == ScoringOptions(view="front")
