"""Picklable stand-ins for the model, for batch tests that run in other processes.

Worker processes (spawn) and Dask workers re-import this module by name, so
everything here is top-level and deterministic: landmarks depend only on the
frame's pixels and index, never on which process computes them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
from factories import front_pose

from posturecam import storage
from posturecam.core.types import Frame, Landmarks

UPRIGHT_LEVEL = 200  # grey level of frames where the person sits upright
SLUMPED_LEVEL = 60  # ...and where the head has dropped


def nose_height_for(level: float) -> float:
    """Bright frames are upright (0.75), dark ones slumped (0.45), linear between."""
    share = np.clip((level - SLUMPED_LEVEL) / (UPRIGHT_LEVEL - SLUMPED_LEVEL), 0.0, 1.0)
    return float(0.45 + 0.30 * share)


@dataclass(frozen=True)
class PixelPose:
    """Estimator factory: ``factory(mode)`` gives a fake whose pose follows frame brightness.

    ``calls``: a file that gets one line per estimator made (one per source run);
    ``interrupt_on`` / ``fail_on`` / ``hang_on``: raise KeyboardInterrupt / raise
    RuntimeError / sleep a minute on the first frame whose name contains this text.
    """

    calls: str = ""
    interrupt_on: str = ""
    fail_on: str = ""
    hang_on: str = ""
    hold_commit: str = ""  # a file: "commit PID" is appended, then the swap-in waits a minute

    def __call__(self, mode: str) -> PixelEstimator:
        if self.calls:
            with open(self.calls, "a", encoding="utf-8") as fh:
                fh.write(f"{mode} {os.getpid()}\n")
        if self.hold_commit:
            _hold_commits(self.hold_commit)  # runs in the worker: patches that process
        return PixelEstimator(self)


def _hold_commits(marker: str) -> None:
    """Stop every run folder's swap-in with its new files staged: the 'writing' kill point."""
    real = storage.StagedFiles.commit
    if getattr(real, "held", False):
        return

    def commit(self, *args, **kwargs):
        with open(marker, "a", encoding="utf-8") as fh:
            fh.write(f"commit {os.getpid()}\n")
        time.sleep(60)
        return real(self, *args, **kwargs)

    commit.held = True
    storage.StagedFiles.commit = commit


class PixelEstimator:
    def __init__(self, factory: PixelPose) -> None:
        self.factory = factory
        self.closed = False

    def detect(self, frame: Frame) -> Landmarks:
        assert frame.image is not None
        if self.factory.interrupt_on and self.factory.interrupt_on in frame.name:
            raise KeyboardInterrupt
        if self.factory.fail_on and self.factory.fail_on in frame.name:
            raise RuntimeError(f"fake model broke on {frame.name}")
        if self.factory.hang_on and self.factory.hang_on in frame.name:
            time.sleep(60)
        h, w = frame.image.shape[:2]
        rng = np.random.default_rng(frame.index)
        nose = nose_height_for(float(frame.image.mean()))
        return front_pose(nose_height=nose, jitter=1.0, rng=rng, image_size=(w, h))

    def close(self) -> None:
        self.closed = True


def calls_made(path: str) -> int:
    """How many estimators a ``PixelPose(calls=path)`` made (0 if none)."""
    if not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def main(argv: list[str]) -> int:
    """A batch (or, with --single, one replay) in a child process, for kill tests.

    ``python tests/batch_fakes.py OUT WORKERS HANG_ON HOLD_COMMIT CALLS SOURCE...``
    (WORKERS ``local``: two on a local Dask cluster);
    prints ``interrupted`` and exits 130 on Ctrl-C or SIGTERM.
    """
    from posturecam.core.temporal import TemporalSettings
    from posturecam.research import batch
    from posturecam.research.batch import run_batch
    from posturecam.research.replay import ReplayOptions, replay

    batch.STOP_GRACE_S = 1.0  # hung fakes: end them soon after SIGTERM
    single = argv[:1] == ["--single"]
    out, workers, hang_on, hold, calls, *sources = argv[1:] if single else argv
    fake = PixelPose(calls=calls, hang_on=hang_on, hold_commit=hold)
    fast = TemporalSettings(smoothing_s=0.5, drifting_s=1.0, persistence_s=3.0, recovery_s=1.0,
                            cooldown_s=30.0, away_s=2.0, break_after_s=None)  # fmt: skip
    options = ReplayOptions(baseline_seconds=3.0, temporal=fast, force=single)
    info = {"variant": "fake", "path": "", "origin": "test"}
    try:
        if single:
            replay(sources[0], out, fake, options, info, extra_summary={"run_key": "k"})
        else:
            dask = {"executor": "dask", "scheduler": "local"} if workers == "local" else {}
            n = 2 if dask else int(workers)
            run_batch(sources, out, fake, options, info, workers=n, progress=False, **dask)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        return 130
    print("finished", flush=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
