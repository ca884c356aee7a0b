"""replay from Python: the seams a researcher calls."""

from __future__ import annotations

from pathlib import Path


def test_replay_without_an_estimator_finds_the_model_itself(tmp_path, monkeypatch):
    """posturecam.replay(source, out) from Python: the model is resolved as the CLI does."""
    import cv2
    import numpy as np
    from factories import FakePose, front_pose

    from posturecam.frames import model
    from posturecam.research import replay as replay_mod

    source = tmp_path / "frames"
    source.mkdir()
    for i in range(3):
        cv2.imwrite(str(source / f"f{i}.png"), np.zeros((48, 64, 3), np.uint8))
    made: list[tuple[Path, str]] = []

    def pose(path: Path, mode: str) -> FakePose:
        made.append((path, mode))
        return FakePose(lambda _frame: front_pose())

    found = model.ResolvedModel(Path("/models/full.task"), "full", "POSTURECAM_MODEL")
    monkeypatch.setattr(replay_mod.model, "resolve", lambda progress: found)
    monkeypatch.setattr(replay_mod, "MediaPipePose", pose)
    options = replay_mod.ReplayOptions(fps=10.0, progress=False)
    result = replay_mod.replay(source, tmp_path / "out", options=options)
    assert made == [(found.path, "video")]
    assert result.summary["model"] == {
        "variant": "full",
        "path": "/models/full.task",
        "origin": "POSTURECAM_MODEL",
    }
