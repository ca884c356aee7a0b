"""Judgement and the temporal layer together, on synthetic recordings with real timing."""

import numpy as np
import pytest
from factories import front_pose

from posturecam.core.temporal import follow
from posturecam.core.types import LM, LandmarkBatch
from posturecam.frames.engine import LandmarkLog
from posturecam.research.replay import ReplayOptions, score


def synthetic_log(
    t: np.ndarray,
    drop: np.ndarray,
    seed: int = 0,
    jitter: float = 2.0,
    detected: np.ndarray | None = None,
    glance: np.ndarray | None = None,
):
    """A person at a laptop: ``drop`` is the fractional head drop per frame (0 = upright)."""
    rng = np.random.default_rng(seed)
    n = t.size
    base = front_pose()
    xy = np.repeat(base.xy[None], n, axis=0)
    sway = 3.0 * np.sin(2 * np.pi * t / 47.0)[:, None]  # slow, natural sway in px
    xy[:, :, 0] += sway
    head = [LM.NOSE, LM.LEFT_EAR, LM.RIGHT_EAR, LM.LEFT_EYE, LM.RIGHT_EYE]
    shoulder_y = base.xy[LM.LEFT_SHOULDER, 1]
    for i in head:
        rise = shoulder_y - xy[:, i, 1]
        xy[:, i, 1] = shoulder_y - rise * (1 - drop)
    xy += rng.normal(0, jitter, xy.shape)
    vis = np.full((n, 33), 0.99)
    if glance is not None:  # head turned away: one ear hidden, nose off to the side
        xy[glance, LM.NOSE, 0] += 60
        vis[np.ix_(glance, [LM.RIGHT_EAR])] = 0.2
    det = np.ones(n, bool) if detected is None else detected
    xy[~det] = np.nan
    vis[~det] = 0.0
    batch = LandmarkBatch(
        xy=xy,
        z=np.zeros((n, 33)),
        visibility=vis,
        world=np.repeat(base.world[None], n, axis=0),
        detected=det,
    )
    return LandmarkLog(
        frame=np.arange(n),
        t_s=t,
        name=np.full(n, "synthetic", dtype=object),
        skip_reason=np.full(n, "", dtype=object),
        width=np.full(n, 640),
        height=np.full(n, 480),
        landmarks=batch,
    )


def story_of(log, **options):
    scored = score(log, ReplayOptions(**options))
    j = scored.judgement
    present = list(log.landmarks.detected)
    return follow(log.t_s, present, j.worst, j.issues)


def slump_profile(t):
    """Upright 0-20 s, slump over 10 s to a 25% head drop, held until 150 s, then recover."""
    return np.interp(t, [0, 20, 30, 150, 155, 200], [0, 0, 0.25, 0.25, 0, 0])


@pytest.mark.parametrize("fps", [2, 5, 15, 30])
def test_alert_time_independent_of_frame_rate(fps):
    # One underlying recording (smooth in time), sampled at several rates.
    t30 = np.arange(0, 200, 1 / 30)
    ref = story_of(synthetic_log(t30, slump_profile(t30), jitter=0))
    t = np.arange(0, 200, 1 / fps)
    got = story_of(synthetic_log(t, slump_profile(t), jitter=0))
    ref_alerts = [e.t_s for e in ref.events if e.type == "alert"]
    got_alerts = [e.t_s for e in got.events if e.type == "alert"]
    assert len(ref_alerts) == len(got_alerts) == 1
    assert abs(got_alerts[0] - ref_alerts[0]) <= 1 / fps + 1e-6


def test_eight_hours_of_upright_sitting_never_alerts():
    fps = 2.0
    t = np.arange(0, 8 * 3600, 1 / fps)
    rng = np.random.default_rng(42)
    n = t.size
    detected = rng.random(n) > 0.03  # dropouts: the model misses 3% of frames
    glance = np.zeros(n, bool)
    for start in rng.choice(n - 10, 300, replace=False):  # brief glances away
        glance[start : start + rng.integers(2, 8)] = True
    looks_down = np.zeros(n)
    for start in rng.choice(n - 40, 120, replace=False):  # a look at the phone, 5-15 s
        looks_down[start : start + rng.integers(10, 30)] = 0.2
    log = synthetic_log(t, looks_down, seed=1, jitter=2.5, detected=detected, glance=glance)
    story = story_of(log)
    assert [e for e in story.events if e.type == "alert"] == []
    assert story.time_in["alert"] == 0
    # Looks at the phone show as brief drifting or slouching, never as a long slouch. (These
    # looks lower the ears as much as the nose, a slump's geometry, for up to half of some
    # minutes: the sustained drop flags such minutes, never for as long as the persistence.)
    flagged = np.isin(np.array(story.states, dtype=object), ["drifting", "slouching"])
    edges = np.flatnonzero(np.diff(np.r_[0, flagged.astype(int), 0]))
    longest_s = max((b - a for a, b in zip(edges[::2], edges[1::2], strict=True)), default=0) / fps
    assert longest_s < 60.0
    assert story.time_in["slouching"] < 0.08 * 8 * 3600
    assert story.time_in["upright"] > 0.80 * 8 * 3600
    # Breaks are still suggested every 50 minutes of presence.
    assert len([e for e in story.events if e.type == "break"]) == 9


def test_baseline_from_the_start_then_sustained_slump_alerts_once():
    t = np.arange(0, 200, 0.5)
    story = story_of(synthetic_log(t, slump_profile(t)))
    alerts = [e for e in story.events if e.type == "alert"]
    assert len(alerts) == 1
    assert 20 + 60 <= alerts[0].t_s <= 30 + 60 + 2
    assert alerts[0].data["issues"][0] == "head_drop"
