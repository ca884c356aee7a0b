"""The live loop with a fake camera, a fake model and fake clocks: no camera, no sleeping."""

from __future__ import annotations

import functools
import io
import math

import cv2
import numpy as np
import pytest
from factories import FakePose, front_pose

from posturecam.core.types import Frame, Landmarks
from posturecam.frames.capture import BUSY, ENDED, LOST, OK, Health
from posturecam.frames.engine import run_pose
from posturecam.live import wiring
from posturecam.live.calibration import calibrate
from posturecam.live.control import Control
from posturecam.live.gating import GateSettings
from posturecam.live.monitor import Monitor
from posturecam.live.presenter import StatusLine
from posturecam.live.scoring import judge_frame
from posturecam.live.sessionlog import SessionLog

IMG = np.zeros((480, 640, 3), np.uint8)
EPOCH = 1_700_000_000.0


def posture(frame: Frame) -> Landmarks:
    if frame.name == "nobody":
        return Landmarks.empty()
    rng = np.random.default_rng(frame.index)
    if frame.name == "down":  # head dropped: nose and ears fall towards the shoulders
        return front_pose(neck_height=0.35, nose_height=0.5, jitter=0.5, rng=rng)
    return front_pose(jitter=0.5, rng=rng)


def scene(name: str, index: int) -> np.ndarray:
    """What the camera sees: a head (bright disc) whose height follows the posture, plus
    sensor noise, so the change gate sees a slump as a change and a still person as none."""
    return _scene(name, index % 5)


@functools.lru_cache(maxsize=32)
def _scene(name: str, index: int) -> np.ndarray:
    image = np.full((480, 640, 3), 60, np.uint8)
    if name != "nobody":
        cy = 210 if name == "down" else 150
        cv2.circle(image, (320, cy), 60, (200, 190, 180), -1)
        cv2.rectangle(image, (200, 300), (440, 480), (120, 110, 100), -1)
    noise = np.random.default_rng(index).normal(0, 2.0, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def frames(*spans: tuple[str, float], rate: float = 2.0, start: float = 0.0) -> list[Frame]:
    """Frames at ``rate`` per second: ("up", 20) then ("down", 70) ..."""
    out: list[Frame] = []
    t = start
    for name, seconds in spans:
        for _ in range(round(seconds * rate)):
            image = None if name == "black" else scene(name, len(out))
            reason = "camera image is black" if name == "black" else ""
            out.append(Frame(image, t, len(out), name, reason))
            t += 1.0 / rate
    return out


class FakeCapture:
    """Plays a script of frames and health problems; counts start/release like a camera."""

    def __init__(self, script: list[Frame | Health], clock: list[float] | None = None) -> None:
        self.script = list(script)
        self.starts = 0
        self.releases = 0
        self.running = False
        self._health = Health(OK, "ok")
        self.clock = clock  # shared with the fake wall clock

    def start(self) -> None:
        self.starts += 1
        self.running = True

    def release(self) -> None:
        if self.running:
            self.releases += 1
        self.running = False

    close = release

    @property
    def health(self) -> Health:
        return self._health

    def latest(self, timeout: float) -> Frame | None:
        assert self.running, "frames asked of a released camera"
        if not self.script:
            self._health = Health(ENDED, "video finished")
            return None
        item = self.script.pop(0)
        if isinstance(item, Health):
            self._health = item
            if self.clock is not None:
                self.clock[0] += 1.0
            return None
        self._health = Health(OK, "ok")
        if self.clock is not None:
            self.clock[0] = max(self.clock[0], EPOCH + item.t_s)
        return item


class FakeWatcher:
    def __init__(self, fn) -> None:
        self.fn = fn
        self.calls = 0

    def current(self) -> Control:
        self.calls += 1
        return self.fn(self.calls)


@pytest.fixture
def profile():
    log = run_pose(frames(("up", 8), rate=5), FakePose(posture))
    return calibrate(log, "test", "fake", None, "full")


def make_monitor(script, profile, *, log=None, watcher=None, preview=None, commands=None,
                 options=None, saved=None):  # fmt: skip
    clock = [EPOCH]
    capture = FakeCapture(script, clock)
    out = io.StringIO()
    waits: list[float] = []

    def wait(seconds: float) -> None:  # no sleeping: the fake wall clock moves on instead
        waits.append(seconds)
        clock[0] += seconds

    monitor = Monitor(
        wiring.Devices(capture, FakePose(posture)),
        wiring.ProfileSlot(profile, saved.append if saved is not None else lambda p: None),
        options or wiring.MonitorOptions(),
        wiring.Sinks(log=log, status=StatusLine(out, tty=False), preview=preview),
        wiring.Requests(control=watcher, commands=commands),
        wiring.SessionInfo(wall=lambda: clock[0], wait=wait),
    )
    return monitor, capture, out, waits


def test_judge_frame_cannot_measure_is_neither_good_nor_bad(profile):
    black = Frame(None, 0.0, 0, "black", "camera image is black")
    v = judge_frame(black, Landmarks.empty(), profile, profile.settings)
    assert v.present is None and math.isnan(v.worst) and math.isnan(v.score)
    nobody = judge_frame(Frame(IMG, 0.0, 0, "x"), Landmarks.empty(), profile, profile.settings)
    assert nobody.present is False and math.isnan(nobody.score)
    up = judge_frame(Frame(IMG, 0.0, 0, "up"), posture(Frame(IMG, 0, 0, "up")), profile,
                     profile.settings)  # fmt: skip
    down = judge_frame(Frame(IMG, 0.0, 1, "down"), posture(Frame(IMG, 0, 1, "down")), profile,
                       profile.settings)  # fmt: skip
    assert up.worst < 1 < down.worst
    assert "head_drop" in down.issues and up.view == "front"


def test_alert_after_persistence_and_faster_sampling_while_drifting(profile, tmp_path):
    script = frames(("up", 20), ("down", 70))
    with SessionLog.open(tmp_path / "s.db") as log:
        monitor, capture, out, waits = make_monitor(script, profile, log=log)
        summary = monitor.run()
        alerts = log._conn.execute("SELECT t_s FROM events WHERE type='alert'").fetchall()
        samples = log._conn.execute("SELECT count(*), min(state) FROM samples").fetchone()
    assert summary["end_reason"] == "source ended"
    assert summary["alerts"] == 1 and len(alerts) == 1
    # The slouch starts at 20 s; persistence is 60 s; the smoothing adds under a second.
    assert 80.0 <= alerts[0][0] <= 81.0
    assert "time to sit tall" in out.getvalue()
    # 1 frame/s while settled, 5/s while drifting and just before the alert falls due.
    assert max(waits) == pytest.approx(1.0, abs=0.05)
    assert min(waits) == pytest.approx(0.2, abs=0.05)
    # The fake camera delivers 2 frames/s whatever the rate: count frames per policy.
    fast = sum(w < 0.3 for w in waits)
    assert (10 + 3) * 2 <= fast <= (10 + 3 + 2) * 2  # drifting_s, then the 3 s lead
    assert len(waits) - fast >= (20 + 45) * 2
    # One session-log row per second of (fake) wall time, not one per frame.
    assert abs(samples[0] - sum(waits)) <= 2
    assert capture.releases == 1  # the camera is released at the end


def test_camera_trouble_is_reported_not_judged_and_never_crashes(profile, tmp_path):
    script = [
        Health(BUSY, "camera is busy in another app; retrying in 1 s"),
        Health(BUSY, "camera is busy in another app; retrying in 2 s"),
        *frames(("up", 5)),
        Health(LOST, "camera disappeared; retrying in 1 s"),
        *frames(("black", 10), start=10.0),
        *frames(("up", 5), start=20.0),
    ]
    with SessionLog.open(tmp_path / "s.db") as log:
        monitor, _capture, out, _ = make_monitor(script, profile, log=log)
        summary = monitor.run()
        states = {r[0] for r in log._conn.execute("SELECT state FROM samples")}
    text = out.getvalue()
    assert "camera is busy" in text and "camera disappeared" in text and "camera: back" in text
    assert "no_camera" in states
    assert summary["alerts"] == 0
    assert summary["time_in_state_s"].get("slouching", 0) == 0
    assert summary["time_in_state_s"]["undecided"] > 0  # the black frames


def test_black_frames_never_count_as_posture(profile):
    monitor, _c, _o, _w = make_monitor(frames(("black", 120)), profile)
    summary = monitor.run()
    assert summary["alerts"] == 0 and summary["share_upright"] is None


def test_pause_releases_the_camera_and_resume_takes_it_back(profile, tmp_path):
    def mode(call: int) -> Control:
        return Control(paused=True) if 10 <= call < 20 else Control()

    watcher = FakeWatcher(mode)
    with SessionLog.open(tmp_path / "s.db") as log:
        monitor, capture, out, _ = make_monitor(frames(("up", 15)), profile, log=log,
                                                watcher=watcher)  # fmt: skip
        monitor.run()
        states = [r[0] for r in log._conn.execute("SELECT state FROM samples ORDER BY at")]
    assert capture.starts == 2 and capture.releases == 2
    assert "paused: camera released" in out.getvalue()
    assert "paused" in states and states[-1] == "upright"


def test_snooze_from_the_preview_key_and_quit(profile):
    calls: list = []
    commands = wiring.ControlCommands(
        pause=lambda: calls.append("pause"),
        resume=lambda: calls.append("resume"),
        snooze=lambda s: calls.append(("snooze", s)),
    )

    class KeyPreview:
        def __init__(self) -> None:
            self.keys = [None, "snooze", None, "pause", "quit"]
            self.shown: list[np.ndarray] = []
            self.closed = False

        def show(self, image):
            self.shown.append(image)
            return self.keys.pop(0) if self.keys else None

        def poll(self):
            return None

        def close(self):
            self.closed = True

    preview = KeyPreview()
    watcher = FakeWatcher(lambda c: Control())
    monitor, _c, _o, _w = make_monitor(
        frames(("up", 30)), profile, preview=preview, commands=commands, watcher=watcher
    )
    summary = monitor.run()
    assert summary["end_reason"] == "quit"
    assert calls == [("snooze", 1800.0), "pause"]
    assert len(preview.shown) == 5 and preview.closed
    assert preview.shown[0].shape == IMG.shape and preview.shown[0].any()  # overlay drawn


def test_first_run_calibrates_then_monitors(profile):
    saved: list = []
    script = frames(("up", 10), rate=5) + frames(("up", 5), ("down", 70), start=10.0)
    monitor, _c, out, _ = make_monitor(script, None, saved=saved)
    summary = monitor.run()
    assert len(saved) == 1 and saved[0].view == "front"
    assert "Calibrated" in out.getvalue()
    assert summary["alerts"] == 1


def test_failed_calibration_ends_the_session_with_a_reason(profile):
    monitor, _c, out, _ = make_monitor(frames(("nobody", 10), rate=5), None)
    summary = monitor.run()
    assert summary["end_reason"] == "calibration failed"
    assert "Calibration failed" in out.getvalue()


def test_stop_from_another_thread_ends_cleanly(profile, tmp_path):
    import threading

    script = frames(("up", 600))
    with SessionLog.open(tmp_path / "s.db") as log:
        monitor, capture, out, _ = make_monitor(script, profile, log=log)
        monitor._wait = lambda s: monitor._stop.wait(0.001)
        threading.Timer(0.3, monitor.stop, args=("terminated",)).start()
        summary = monitor.run()
        row = log._conn.execute("SELECT ended_at, end_reason FROM sessions").fetchone()
    assert summary["end_reason"] == "terminated"
    assert row[0] is not None and row[1] == "terminated"
    assert not capture.running and "session" in out.getvalue()


def test_status_line_on_a_pipe_prints_changes_only():
    out = io.StringIO()
    line = StatusLine(out, tty=False)
    for text in ("a", "a", "b"):
        line.show(text)
    line.message("alert!")
    assert out.getvalue() == "a\nb\nalert!\n"


def test_status_line_on_a_tty_rewrites_in_place():
    out = io.StringIO()
    line = StatusLine(out, tty=True)
    line.show("long status")
    line.show("short")
    assert out.getvalue() == "\rlong status\rshort      "


# --------------------------------------------------------------------------- change gating


def test_a_still_person_runs_the_model_only_every_few_seconds(profile):
    script = frames(("up", 60))
    monitor, _, _, _ = make_monitor(script, profile)
    summary = monitor.run()
    gate = monitor.options.gate
    # Learning frames, then one model run per recheck interval; the rest carried over.
    most = gate.learn_frames + 1 + 60 / gate.recheck_s + 2
    assert summary["frames"] == 120
    assert summary["model_frames"] <= most
    assert monitor.estimator.calls == sorted(set(monitor.estimator.calls))  # each frame once
    # Carried-over frames still count as judged time, once, from their timestamps.
    assert summary["time_in_state_s"]["upright"] == pytest.approx(60.0, abs=1.0)
    # Start-up is measured from the process start, as the monitor logs it.
    assert 0.0 < summary["first_judgement_s"] < 600.0


def test_a_slump_is_seen_at_once_and_posture_on_the_move_runs_every_frame(profile):
    script = frames(("up", 20), ("down", 70))
    monitor, _, _, _ = make_monitor(script, profile)
    monitor.run()
    calls = set(monitor.estimator.calls)
    first_down = next(f.index for f in script if f.name == "down")
    assert first_down in calls  # the changed picture runs the model on the first frame
    # From drifting to the alert the model runs on (nearly) every frame.
    down = [f.index for f in script if f.name == "down"][:20]
    assert sum(i in calls for i in down) >= 18


def test_gating_off_runs_the_model_on_every_frame(profile):
    script = frames(("up", 30))
    options = wiring.MonitorOptions(gate=GateSettings(enabled=False))
    monitor, _, _, _ = make_monitor(script, profile, options=options)
    summary = monitor.run()
    assert summary["model_frames"] == summary["frames"] == 60


def test_unusable_frames_are_never_carried_over(profile):
    """A black or frozen image (image=None from the capture) is 'cannot measure', not reused."""
    script = frames(("up", 10), ("black", 10), ("up", 10))
    monitor, _, _, _ = make_monitor(script, profile)
    summary = monitor.run()
    black = {f.index for f in script if f.name == "black"}
    assert not black & set(monitor.estimator.calls)
    assert summary["time_in_state_s"]["upright"] <= 21.0  # the black 10 s is not judged
    # After the black stretch the model runs again on the first usable frame.
    first_after = next(f.index for f in script[40:] if f.name == "up")
    assert first_after in monitor.estimator.calls


def test_a_computer_that_slept_is_a_gap_not_slouching(profile):
    """Slouched 40 s, the laptop sleeps an hour (frame times do not move, the wall clock
    does), then slouched again: the count starts afresh, so no alert 20 s after waking."""
    script = frames(("up", 10), ("down", 40), ("down", 30))
    monitor, _, out, _ = make_monitor(script, profile)
    clock_jumped = []
    real_wait = monitor._wait

    def wait(seconds: float) -> None:
        real_wait(seconds)
        # The first frame of the second "down" stretch (frame time 50 s) follows the sleep.
        if not clock_jumped and monitor.totals.frames == 100:
            monitor.capture.clock[0] += 3600.0
            clock_jumped.append(True)

    monitor._wait = wait
    summary = monitor.run()
    assert clock_jumped
    assert "timers start afresh" in out.getvalue()
    assert summary["alerts"] == 0  # 40 s + 30 s of slouching, but never 60 s in one stretch


def test_carried_over_frames_are_marked_in_the_session_log(profile, tmp_path):
    script = frames(("up", 40))
    with SessionLog.open(tmp_path / "s.db") as log:
        monitor, _, _, _ = make_monitor(script, profile, log=log)
        monitor.run()
        rows = log._conn.execute("SELECT carried, dt_s FROM samples").fetchall()
    marks = [c for c, _ in rows]
    assert 1 in marks and 0 in marks  # both kinds, each row saying which it was
    assert set(marks) <= {0, 1}
    # Each row stands for its own second of time, whichever kind: nothing counted twice.
    assert sum(dt for _, dt in rows) == pytest.approx(len(rows) - 1, abs=1.0)
