"""Command lines of the live side: config, history, pause/snooze/resume, record, monitor errors."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest
from test_cli import assert_error, run

from posturecam.live import control
from posturecam.live.sessionlog import SessionLog


def test_config_path_and_show_defaults(capsys, _isolated_home):
    code, out, _ = run(capsys, "config", "path")
    assert code == 0 and out.strip() == str(_isolated_home / "config.toml")
    code, out, _ = run(capsys, "config", "show")
    assert code == 0
    assert "does not exist" in out and "[monitor]" in out and "rate_hz = 1.0" in out


def test_config_show_reads_the_file_and_a_broken_file_names_the_line(capsys, _isolated_home):
    path = _isolated_home / "config.toml"
    path.write_text("[monitor]\nrate_hz = 1.0\n", encoding="utf-8")
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and "rate_hz = 1.0" in out and "effective settings" in out
    path.write_text("[monitor]\nrate_hz = 1.0\nnotify = maybe\n", encoding="utf-8")
    code, _, err = run(capsys, "config", "show")
    assert_error(code, err, str(path), "line 3")
    code, _, err = run(capsys, "monitor")
    assert_error(code, err, str(path), "line 3")  # never silently back to the defaults
    assert path.read_text(encoding="utf-8").endswith("notify = maybe\n")


def test_pause_snooze_resume_without_a_monitor(capsys):
    code, out, _ = run(capsys, "pause")
    assert code == 0 and "paused" in out and "no monitor is running" in out
    assert control.read().paused
    code, out, _ = run(capsys, "snooze", "45m")
    assert code == 0 and "snoozed until" in out
    state = control.read()
    assert not state.paused and state.snooze_until == pytest.approx(time.time() + 2700, abs=5)
    code, out, _ = run(capsys, "resume")
    assert code == 0 and control.read().mode(time.time()) is None


@pytest.mark.parametrize("bad", ["soon", "0m", "1x", "25h"])
def test_snooze_with_a_bad_duration_is_a_clear_error(capsys, bad):
    code, _, err = run(capsys, "snooze", bad)
    assert_error(code, err, "30m")
    assert control.read().mode(time.time()) is None


def test_history_of_nothing_and_of_a_day(capsys):
    code, out, _ = run(capsys, "history")
    assert code == 0 and "today" in out.lower()
    now = time.time()
    with SessionLog.open() as log:
        sid = log.start_session(now - 100, "default", "0", {})
        for k in range(60):
            state = "upright" if k < 45 else "slouching"
            log.add_sample(sid, now - 100 + k, float(k), 1.0, state, 80.0, True)
        log.add_event(sid, now - 41, 59.0, "alert", {"level": "cue"})
        log.end_session(sid, now - 40, "stopped", {})
    code, out, _ = run(capsys, "history", "--json")
    days = json.loads(out)
    assert code == 0 and len(days) == 7
    today = days[0]
    assert today["alerts"] == 1 and today["monitored_s"] == pytest.approx(60)
    assert today["share_upright"] == pytest.approx(0.75)


def make_video(path, seconds: float = 2.0, fps: float = 10.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for i in range(round(seconds * fps)):
        writer.write(np.full((48, 64, 3), 40 + 5 * i, np.uint8))
    writer.release()
    return path


def test_record_writes_a_frame_set_replay_reads(capsys, tmp_path):
    from posturecam.frames.sources import open_source

    video = make_video(tmp_path / "cam.avi")
    out = tmp_path / "rec"
    code, stdout, err = run(capsys, "record", "--source", video, "--seconds", "1", "--fps", "4",
                            "--out", out)  # fmt: skip
    assert code == 0, err
    assert "recorded" in stdout
    lines = (out / "manifest.csv").read_text().splitlines()
    assert lines[0] == "file,t_s" and 3 <= len(lines) - 1 <= 6
    times = [float(line.split(",")[1]) for line in lines[1:]]
    assert times == sorted(times) and times[-1] < 1.0
    with open_source(out) as src:
        frames = list(src)
    assert len(frames) == len(lines) - 1 and all(f.ok for f in frames)
    # Never over another recording without --force.
    code, _, err = run(capsys, "record", "--source", video, "--seconds", "0.5", "--out", out)
    assert_error(code, err, "already holds a recording", "--force")
    assert (out / "manifest.csv").read_text().splitlines() == lines


def test_record_from_a_folder_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "record", "--source", tmp_path, "--out", tmp_path / "o")
    assert_error(code, err, "posturecam replay")
    assert not (tmp_path / "o").exists()


def test_monitor_preview_without_a_display_fails_before_starting(capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    code, _, err = run(capsys, "monitor", "--preview")
    assert_error(code, err, "run without --preview")
