"""Shared fixtures: where the real model and the real photos live."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Tests mirror the package (tests/core, tests/frames, ...) and share helpers by plain name:
# the ones beside this file (factories, simperson, batch_fakes, ...) and a few fixtures and
# fakes of one test module used by another (test_cli's fake model, test_batch's options).
# Test file names are unique across the folders, so one flat import path is unambiguous.
_TESTS = Path(__file__).resolve().parent
PACKAGE_LAYERS = ("app", "core", "frames", "live", "research")
_FOLDERS = [d for d in sorted(_TESTS.iterdir()) if d.is_dir() and d.name in PACKAGE_LAYERS]
sys.path[:0] = [str(_TESTS), *map(str, _FOLDERS)]
SHARED = ROOT.parent / "shared"
DATASETS = SHARED / "datasets"
SAMPLE_FRAMES = ROOT / "sample_frames"


def _model_path() -> Path | None:
    env = os.environ.get("POSTURECAM_MODEL")
    candidates = [Path(env)] if env else []
    candidates.append(SHARED / "models" / "pose_landmarker_full.task")
    return next((p for p in candidates if p.is_file()), None)


def _require(path: Path | None, what: str) -> Path:
    """Skip locally when real data is absent, but never let CI pass by skipping."""
    if path is not None and path.exists():
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI; .ci/run must provide it")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def model_path() -> Path:
    return _require(_model_path(), "the pose model (set POSTURECAM_MODEL)")


@pytest.fixture(scope="session")
def datasets() -> Path:
    return _require(DATASETS, "../shared/datasets")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real profiles, cache and settings."""
    home = tmp_path_factory.mktemp("posturecam_home")
    monkeypatch.setenv("POSTURECAM_HOME", str(home))
    yield home
