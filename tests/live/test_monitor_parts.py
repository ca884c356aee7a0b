"""The parts the live monitor composes, each on its own: cadence, scoring, recorder, presenter."""

from __future__ import annotations

import io
import math

import pytest
from factories import FakePose
from test_monitor import EPOCH, frames, posture

from posturecam.core import temporal
from posturecam.core.baseline import WINDOW_S
from posturecam.core.coach import Coach
from posturecam.core.temporal import Event, Step
from posturecam.frames.capture import BUSY, OK, Health
from posturecam.live.cadence import ALERT_LEAD_S, SLEEP_GAP_S, Cadence, watchful
from posturecam.live.presenter import Presenter, StatusLine, status_text
from posturecam.live.recorder import SessionRecorder
from posturecam.live.scoring import LiveScorer
from posturecam.live.sessionlog import SessionLog
from posturecam.live.states import NO_CAMERA, STATES
from posturecam.live.wiring import MonitorOptions


@pytest.fixture
def profile():
    from posturecam.frames.engine import run_pose
    from posturecam.live.calibration import calibrate

    return calibrate(run_pose(frames(("up", 8), rate=5), FakePose(posture)), "t", "fake")


@pytest.mark.parametrize(
    ("state", "slouch_s", "fast"),
    [
        ("upright", 0.0, False),
        ("drifting", 5.0, True),
        ("slouching", 30.0, False),
        ("slouching", 60.0 - ALERT_LEAD_S, True),
        ("alert", 70.0, False),
        ("away", 0.0, False),
    ],
)
def test_the_rate_follows_the_state(state, slouch_s, fast):
    step = Step(state, 0.0, slouch_s, ())
    assert watchful(step, 60.0) is fast
    cadence = Cadence(FakePose(posture), 1.0, 5.0, 60.0)
    assert cadence.interval(step) == (0.2 if fast else 1.0)


def test_a_gap_is_said_once_and_forgotten_with_the_scene():
    cadence = Cadence(FakePose(posture), 1.0, 5.0, 60.0)
    assert cadence.gap(EPOCH, 0.0) is None  # the first frame has nothing before it
    assert cadence.gap(EPOCH + 1, 1.0) is None
    assert cadence.gap(EPOCH + 1 + SLEEP_GAP_S + 5, 2.0) == pytest.approx(SLEEP_GAP_S + 5)
    assert cadence.gap(EPOCH + 100, 100.0) == pytest.approx(98.0)  # frame times count too
    cadence.forget()
    assert cadence.gap(EPOCH + 1000, 100.0) is None


def test_unusable_frames_never_run_the_model():
    pose = FakePose(posture)
    cadence = Cadence(pose, 1.0, 5.0, 60.0)
    black, up = frames(("black", 1), ("up", 1))[::2]
    landmarks, carried = cadence.landmarks(black)
    assert not landmarks.detected and not carried
    assert not pose.calls
    _, carried = cadence.landmarks(up)
    assert not carried and pose.calls == [up.index]


def test_the_scorer_restarts_its_timeline_and_hands_over_its_time(profile):
    scorer = LiveScorer(MonitorOptions().scoring)
    for frame in frames(("up", 5)):
        verdict, step = scorer.score(frame, posture(frame), False, profile)
        assert step.state == temporal.UPRIGHT and verdict.present
    assert scorer.slouched_s == 0.0
    time_in = scorer.restart()
    assert time_in[temporal.UPRIGHT] == pytest.approx(4.5)
    assert sum(scorer.timeline.time_in.values()) == 0
    assert scorer.settings(profile) == profile.settings  # no override: the profile's own


def recorder(log=None, notifier=None):
    out = io.StringIO()
    heard: list[tuple[str, dict]] = []
    presenter = Presenter(StatusLine(out, tty=False), listener=lambda k, d: heard.append((k, d)))
    clock = [EPOCH]
    return SessionRecorder(presenter, lambda: clock[0], log, notifier), out, heard, clock


class Notes:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def notify(self, title: str, body: str) -> bool:
        self.sent.append((title, body))
        return True


def test_advice_reaches_the_log_as_a_dict_and_the_notifier_as_words(tmp_path):
    notes = Notes()
    alert = Coach().advise(Event(80.0, "alert", {"level": "cue", "issues": ["head_drop"]}))
    with SessionLog.open(tmp_path / "s.db") as log:
        rec, _out, heard, _ = recorder(log, notes)
        rec.start(EPOCH, "p", "cam", {})
        rec.advice(alert)
        rec.advice(Coach().advise(Event(81.0, "state", {"from": "a", "to": "b"})))
        rows = log._conn.execute("SELECT t_s, type, data FROM events").fetchall()
    assert [r[:2] for r in rows] == [(80.0, "alert"), (81.0, "state")]
    assert '"t_s"' not in rows[0][2] and '"message"' in rows[0][2]
    assert notes.sent == [(alert.title, alert.body)]  # a plain state change says nothing
    assert rec.totals.alerts == 1
    assert [k for k, _ in heard] == ["event", "event"] and heard[0][1] == alert.to_dict()


def test_without_a_notifier_advice_is_a_terminal_line_and_samples_keep_a_grid(tmp_path):
    with SessionLog.open(tmp_path / "s.db") as log:
        rec, out, _, clock = recorder(log)
        rec.start(EPOCH, "p", "cam", {})
        rec.advice(Coach().advise(Event(1.0, "setup_changed", {})))
        for _ in range(10):  # 10 calls in 2.5 s of wall time: one row a second
            rec.sample(None, NO_CAMERA)
            clock[0] += 0.25
        count = log._conn.execute("SELECT count(*) FROM samples").fetchone()[0]
        summary = rec.end("stopped", 2.5)
    assert out.getvalue().startswith("posturecam: The camera or your seat seems to have moved")
    assert count == 3 and summary["end_reason"] == "stopped" and summary["duration_s"] == 2.5


def test_status_text_and_what_a_listener_hears():
    assert status_text("upright", 87.4, 754.0, Health(OK, "ok")) == (
        "posturecam: upright   score  87 | slouched today 13m"
    )
    busy = Health(BUSY, "camera is busy")
    assert status_text("away", math.nan, 0.0, busy).endswith("score -- | slouched today 0s | "
                                                             "camera is busy")  # fmt: skip
    heard: list = []
    presenter = Presenter(StatusLine(io.StringIO()), listener=lambda k, d: heard.append((k, d)))
    assert presenter.held("paused") is None and presenter.no_frame(busy) is None
    assert heard == [("held", {"state": "paused"}),
                     ("camera", {"status": BUSY, "message": "camera is busy"})]  # fmt: skip


def test_one_set_of_state_names_and_the_window_default():
    assert STATES[: len(temporal.STATES)] == temporal.STATES
    assert MonitorOptions().calibration_s == WINDOW_S
    assert MonitorOptions().to_dict()["temporal"] == temporal.TemporalSettings().to_dict()
