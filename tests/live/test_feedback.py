"""`posturecam feedback`: the request/answer files, the pure labelling, the monitor applying it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from factories import front_pose
from test_cli import assert_error, run
from test_monitor import EPOCH, FakeCapture, FakePose, frames, posture

from posturecam import profiles
from posturecam.core.judge import limits
from posturecam.core.rules import MAX_EXAMPLES
from posturecam.core.types import Frame
from posturecam.frames.engine import run_pose
from posturecam.live import feedback as fb
from posturecam.live import wiring
from posturecam.live.calibration import calibrate
from posturecam.live.monitor import Monitor
from posturecam.live.presenter import StatusLine
from posturecam.live.scoring import LiveScorer


@pytest.fixture
def profile():
    log = run_pose(frames(("up", 8), rate=5), FakePose(posture))
    return calibrate(log, "test", "fake", None, "full")


def threshold(p) -> float:
    return limits(p.baseline(), p.settings, sequence=True).slouch  # the monitor's


# ---------------------------------------------------------------------- the files


def test_request_and_answer_round_trip(tmp_path):
    req_path, ack_path = tmp_path / "feedback.json", tmp_path / "feedback-ack.json"
    request = fb.send("not-slouching", 5.0, req_path, now=100.0)
    data = json.loads(req_path.read_text())
    assert set(data) >= {"id", "action", "requested"} and data["action"] == "not-slouching"
    assert fb.read_request(req_path) == request and request.expires == 105.0
    ack = fb.answer(request, True, "slouch threshold 0.1 -> 0.2", ack_path, now=101.0)
    assert fb.read_ack(ack_path) == ack
    assert fb.wait_for_ack(request.id, 0.0, ack_path) == ack
    assert fb.wait_for_ack("0" * 16, 0.0, ack_path) is None  # someone else's answer
    with pytest.raises(fb.FeedbackError):
        fb.send("maybe", path=req_path)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{not json",
        "[]",
        '"text"',
        '{"id": "abc", "action": "undo", "requested": 1}',  # id too short
        '{"id": "0123456789abcdef", "action": "dance", "requested": 1}',
        '{"id": "0123456789abcdef", "action": "undo", "requested": "soon"}',
        '{"id": "0123456789abcdef", "action": "undo", "requested": true}',
        '{"id": 12345678, "action": "undo", "requested": 1}',
    ],
)
def test_damaged_or_foreign_files_are_ignored(tmp_path, content):
    path = tmp_path / "f.json"
    path.write_text(content, encoding="utf-8")
    assert fb.read_request(path) is None
    assert fb.read_ack(path) is None
    path.write_bytes(b"\xff\xfe\x00")
    assert fb.read_request(path) is None and fb.read_ack(path) is None
    assert fb.read_request(tmp_path / "missing.json") is None


def test_watcher_yields_each_new_request_once_and_skips_expired(tmp_path):
    req_path = tmp_path / "feedback.json"
    watcher = fb.FeedbackWatcher(req_path, tmp_path / "ack.json")
    assert watcher.poll(0.0) is None  # no file
    first = fb.send("slouching", 5.0, req_path, now=10.0)
    assert watcher.poll(11.0) == first
    assert watcher.poll(11.5) is None  # the same request is applied once
    fb.send("undo", 5.0, req_path, now=20.0)
    assert watcher.poll(30.0) is None  # its sender stopped waiting at 25
    req_path.write_text("garbage", encoding="utf-8")
    assert watcher.poll(31.0) is None


# ---------------------------------------------------------------------- the pure part


def judged(profile, spans, start=0.0, pose=posture):
    """Judged frames with real metrics: ("up", 20), ("down", 60) at 2 frames/s."""
    from posturecam.live.scoring import judge_frame

    out = []
    for frame in frames(*spans, start=start):
        v = judge_frame(frame, pose(frame), profile, profile.settings)
        out.append(fb.Judged(frame.t_s, v.metrics))
    return out


def test_selection_windows_and_carried_over_frames(profile):
    recent = judged(profile, [("up", 20), ("down", 60)])
    episode = fb.Episode(20.0, 80.0)
    chosen = fb.select("not-slouching", recent, episode)
    assert chosen[0].t_s == 20.0 and chosen[-1].t_s <= 80.0 and len(chosen) == 120
    no_alert = fb.select("not-slouching", recent, None)
    assert no_alert[-1].t_s - no_alert[0].t_s <= 30.0 and len(no_alert) == 61
    slouch = fb.select("slouching", recent, episode)
    assert slouch[-1].t_s == recent[-1].t_s and slouch[0].t_s >= recent[-1].t_s - 5.0
    carried = [fb.Judged(f.t_s, f.metrics, carried_over=True) for f in recent]
    assert fb.select("slouching", carried, episode) == []
    assert fb.select("slouching", [fb.Judged(1.0, {})], None) == []  # nobody measured


def test_labels_land_in_the_right_kind_and_move_the_threshold(profile):
    recent = judged(profile, [("up", 20), ("down", 60)])
    before = threshold(profile)
    out = fb.apply(profile, "not-slouching", recent, fb.Episode(20.0, 80.0))
    assert out.profile is not None and "not_slouch" in out.profile.examples
    assert "slouch" not in out.profile.examples
    assert threshold(out.profile) > before
    assert f"{before:.3f} -> {threshold(out.profile):.3f}" in out.message
    assert "moved by your feedback" in out.message

    sl = fb.apply(profile, "slouching", judged(profile, [("mild", 10)], pose=mild), None)
    assert sl.profile is not None and set(sl.profile.examples) >= {"slouch"}
    assert "not_slouch" not in sl.profile.examples
    assert len(next(iter(sl.profile.examples["slouch"].values()))) == 11  # the last 5 s
    # The monitor catches a mild slouch when it holds (the sustained drop): frame by
    # frame its threshold stays, and the message says why. Stills replays use the examples.
    assert threshold(sl.profile) == before
    assert "a slouch this small counts once it holds" in sl.message
    stills = limits(sl.profile.baseline(), sl.profile.settings)
    assert stills.placed_by == "two-point"
    assert stills.slouch < limits(profile.baseline(), profile.settings).slouch

    # A slouch already judged one would raise a two-point threshold: left alone.
    deep = fb.apply(profile, "slouching", judged(profile, [("down", 10)]), None)
    assert deep.profile is None and "already judged a slouch" in deep.message


def test_nothing_to_learn_from_says_so(profile):
    out = fb.apply(profile, "slouching", [], None)
    assert out.profile is None and "nothing changed" in out.message


def test_a_hundred_repeats_leave_a_bounded_profile(profile, tmp_path):
    recent = judged(profile, [("up", 20), ("down", 60)])
    p = profile
    for _ in range(100):
        p = fb.apply(p, "not-slouching", recent, fb.Episode(20.0, 80.0)).profile
        p = fb.apply(p, "slouching", recent, None).profile
    for kind in ("not_slouch", "slouch"):
        assert all(len(v) <= MAX_EXAMPLES for v in p.examples[kind].values())
    path = profiles.save(p, tmp_path / "p.json")
    assert path.stat().st_size < 200_000
    assert profiles.load(path).examples.keys() == p.examples.keys()


# ---------------------------------------------------------------------- the monitor


class FakeFeedback:
    """Hands the monitor requests at given loop calls; records its answers."""

    def __init__(self, at: dict[int, str]) -> None:
        self.at = at
        self.calls = 0
        self.answers: list[tuple[str, bool, str]] = []

    def poll(self, now: float) -> fb.Request | None:
        self.calls += 1
        action = self.at.get(self.calls)
        if action is None:
            return None
        return fb.Request(f"{self.calls:016x}", action, now, now + 5)

    def answer(self, request: fb.Request, ok: bool, message: str, now: float) -> None:
        self.answers.append((request.action, ok, message))


def make_monitor(script, profile, feedback, save, profile_path=None, pose=posture):
    clock = [EPOCH]
    out = __import__("io").StringIO()

    def wait(seconds: float) -> None:
        clock[0] += seconds

    monitor = Monitor(
        wiring.Devices(FakeCapture(script, clock), FakePose(pose)),
        wiring.ProfileSlot(profile, save, profile_path),
        wiring.MonitorOptions(),
        wiring.Sinks(status=StatusLine(out, tty=False)),
        wiring.Requests(feedback=feedback),
        wiring.SessionInfo(wall=lambda: clock[0], wait=wait),
    )
    return monitor, out


def test_monitor_applies_not_slouching_saves_acks_and_undoes(profile, tmp_path):
    path = profiles.save(profile, tmp_path / "test.json")
    saved = []

    def save(p):
        saved.append(p)
        profiles.save(p, path, overwrite_other_view=True)

    # 20 s upright, 70 s head down: the alert comes at about 80 s (call ~161).
    feedback = FakeFeedback({170: "not-slouching", 175: "undo", 178: "undo"})
    monitor, out = make_monitor(frames(("up", 20), ("down", 70)), profile, feedback, save, path)
    monitor.run()
    assert monitor.recent.episode is not None and 19.0 <= monitor.recent.episode.start_s <= 21.0
    (a1, ok1, m1), (a2, ok2, m2), (a3, ok3, m3) = feedback.answers
    assert a1 == "not-slouching" and ok1 and "moved by your feedback" in m1
    assert saved[0].examples["not_slouch"] and threshold(saved[0]) > threshold(profile)
    assert a2 == "undo" and ok2 and "undid" in m2
    assert threshold(saved[1]) == pytest.approx(threshold(profile))
    assert a3 == "undo" and ok3 and "nothing to undo" in m3
    assert "not_slouch" not in profiles.load(path).examples
    assert f"feedback: {m1}" in out.getvalue()
    assert all(f.t_s >= 90 - fb.HISTORY_S for f in monitor.recent.frames)


def test_undo_after_a_restart_uses_the_backup_file(profile, tmp_path):
    path = profiles.save(profile, tmp_path / "test.json")

    def save(p):
        profiles.save(p, path, overwrite_other_view=True)

    feedback = FakeFeedback({30: "not-slouching"})
    monitor, _ = make_monitor(frames(("up", 20)), profile, feedback, save, path)
    monitor.run()
    assert "not_slouch" in profiles.load(path).examples
    # A new monitor (empty undo stack) still undoes the last feedback.
    feedback = FakeFeedback({2: "undo"})
    monitor, _ = make_monitor(frames(("up", 5)), profiles.load(path), feedback, save, path)
    monitor.run()
    assert feedback.answers[0][1] and "undid" in feedback.answers[0][2]
    assert "not_slouch" not in profiles.load(path).examples


def mild(frame):
    """Up, or a slight slouch the monitor misses ("mild")."""
    rng = np.random.default_rng(frame.index)
    if frame.name == "mild":
        return front_pose(neck_height=0.54, nose_height=0.735, jitter=0.5, rng=rng)
    return front_pose(jitter=0.5, rng=rng)


def test_slouching_lowers_or_keeps_the_threshold(profile):
    saved = []
    feedback = FakeFeedback({30: "slouching"})
    monitor, _ = make_monitor(
        frames(("up", 10), ("mild", 10)), profile, feedback, saved.append, pose=mild
    )
    monitor.run()
    assert feedback.answers[0][1] and len(saved) == 1
    assert threshold(saved[0]) <= threshold(profile)
    assert "slouch" in saved[0].examples and monitor.profile is saved[0]


def test_a_failed_save_keeps_the_old_profile(profile):
    def save(_p):
        raise OSError(28, "No space left on device")

    feedback = FakeFeedback({10: "not-slouching"})
    monitor, _ = make_monitor(frames(("up", 10)), profile, feedback, save)
    monitor.run()
    ((_, ok, message),) = feedback.answers
    assert not ok and "No space left on device" in message and "unchanged" in message
    assert monitor.profile is profile


def test_nothing_judged_yet_is_acked_as_no_change(profile):
    feedback = FakeFeedback({1: "not-slouching"})
    monitor, _ = make_monitor(frames(("nobody", 5)), profile, feedback, lambda p: None)
    monitor.run()
    assert feedback.answers[0][1] and "nothing changed" in feedback.answers[0][2]
    assert monitor.profile is profile


def test_carried_over_frames_are_not_remembered(profile):
    from posturecam.core.temporal import Step
    from posturecam.live.keeper import RecentFrames
    from posturecam.live.scoring import FrameVerdict

    recent = RecentFrames()
    step = Step("upright", 0.0, 0.0, ())
    metrics = {"head_height": 1.0}
    recent.remember(1.0, FrameVerdict(True, 0.1, 90, (), "front", metrics, True), step)
    recent.remember(2.0, FrameVerdict(True, 0.1, 90, (), "front", metrics), step)
    assert [f.t_s for f in recent.frames] == [2.0]
    assert not math.isnan(recent.frames[0].metrics["head_height"])


# ---------------------------------------------------------------------- the command line


def test_cli_without_a_monitor_is_one_error_line_and_writes_nothing(capsys, _isolated_home):
    code, out, err = run(capsys, "feedback", "not-slouching", "--wait", "0.1")
    assert_error(code, err, "no monitor is running")
    assert len(err.strip().splitlines()) == 1 and out == ""
    assert not (_isolated_home / "feedback.json").exists()


def test_cli_times_out_when_no_monitor_answers(capsys, _isolated_home, monkeypatch):
    from posturecam.live import control

    monkeypatch.setattr(control, "running_monitor", lambda path=None: 4242)
    code, _, err = run(capsys, "feedback", "slouching", "--wait", "0.1")
    assert_error(code, err, "no monitor answered within 0.1 s")
    assert fb.read_request(_isolated_home / "feedback.json").action == "slouching"


def test_cli_prints_the_monitors_answer(capsys, _isolated_home, monkeypatch):
    from posturecam.live import control

    monkeypatch.setattr(control, "running_monitor", lambda path=None: 4242)
    real_wait = fb.wait_for_ack

    def answered(request_id, wait_s, *a, **k):  # the monitor answers at once
        request = fb.read_request()
        fb.answer(request, True, "slouch threshold 0.120 -> 0.185 (moved by your feedback)")
        return real_wait(request_id, wait_s, *a, **k)

    monkeypatch.setattr(fb, "wait_for_ack", answered)
    code, out, _ = run(capsys, "feedback", "not-slouching")
    assert code == 0 and out.strip() == "slouch threshold 0.120 -> 0.185 (moved by your feedback)"


def test_not_slouching_re_anchors_the_sustained_drop():
    """A small held drop (3% of head height, under the per-frame threshold in this jitter)
    alerts; "not slouching" makes the scorer judge small slouches from the person's level
    now, so the drop ends at once instead of alerting again every 10 minutes."""

    def pose(i: int, sink: float):
        rng = np.random.default_rng(i)
        return front_pose(nose_height=0.75 * (1 - sink), jitter=2.0, rng=rng)

    calib = run_pose(frames(("up", 8), rate=5), FakePose(lambda f: pose(f.index, 0.0)))
    prof = calibrate(calib, "test", "fake", None, "full")
    scorer = LiveScorer()
    assert not scorer.accept_upright()  # nothing judged yet: nothing to take
    image = np.zeros((480, 640, 3), np.uint8)
    states = {}
    for i in range(800):
        t = i / 2
        if t == 330.0:
            assert scorer.accept_upright()
        sink = 0.03 if t >= 150.0 else 0.0
        verdict, step = scorer.score(Frame(image, t, i, "x"), pose(i + 1000, sink), False, prof)
        states[t] = (step.state, verdict.worst)
    assert all(s == "upright" for t, (s, _) in states.items() if t < 150.0)
    assert any(s == "alert" for t, (s, _) in states.items() if 150.0 < t < 330.0)
    assert all(w < 1.0 for t, (_, w) in states.items() if t >= 330.0)
    assert all(s == "upright" for t, (s, _) in states.items() if t >= 340.0)  # after recovery
