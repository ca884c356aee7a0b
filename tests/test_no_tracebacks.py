"""No command ends in a traceback: specific one-line errors, and a last-resort safety net.

The bad-input tables must each get their own message: a row that reaches the safety net
("unexpected ...") fails, because the net is for bugs, not for inputs we know about.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from factories import FakePose, front_pose

from posturecam import cli, profiles
from posturecam.cli import args as cli_args
from posturecam.frames import model
from posturecam.live import control
from posturecam.live.sessionlog import MAX_HISTORY_DAYS, SessionLog, SessionLogError
from posturecam.research import batch, recording

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_model(monkeypatch):
    """No MediaPipe: a resolved model that is never loaded, and a fake estimator."""
    monkeypatch.setattr(
        model, "resolve", lambda *a, **k: model.ResolvedModel(Path("fake.task"), "full", "--model")
    )
    monkeypatch.setattr(
        cli_args, "MediaPipePose", lambda path, mode: FakePose(lambda f: front_pose())
    )


def make_video(path: Path, seconds: float = 1.0, fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for i in range(round(seconds * fps)):
        writer.write(np.full((48, 64, 3), 40 + 5 * i, np.uint8))
    writer.release()
    return path


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "error:" in line]


def assert_one_error(err: str, expected: str) -> None:
    assert "Traceback" not in err, err
    assert "unexpected" not in err, f"reached the safety net: {err}"
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert re.search(expected, lines[0]), (expected, lines[0])


# ---------------------------------------------------------------------- runtime errors

RUNTIME = [
    # (argv, expected text of the one error line)
    (["calibrate", "--profile", "my profile", "--source", "{video}"], "neither a profile name"),
    (["calibrate", "--profile", "", "--source", "{video}"], "neither a profile name"),
    (["calibrate", "--profile=-x", "--source", "{video}"], "neither a profile name"),
    (["replay", "{video}", "--out", "{tmp}/out", "--profile", "my profile"], "a name is 1 to 64"),
    (
        ["monitor", "--profile", "my profile", "--source", "{video}", "--no-notify"],
        "profile file",
    ),
    (["snooze", "1e308"], "30m, 1h or 90s"),
    (["snooze", "99999999999999999999999999999h"], "at most 24h"),
    (
        ["monitor", "--source", "{video}", "--no-notify", "--no-preview"],
        "calibration did not finish",
    ),
]


@pytest.mark.parametrize("argv,expected", RUNTIME, ids=[" ".join(r[0][:3]) for r in RUNTIME])
def test_runtime_bad_inputs_get_one_specific_line(
    argv, expected, fake_model, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    video = make_video(tmp_path / "short.avi")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = cli.main([a.format(video=video, tmp=tmp_path) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert_one_error(err, expected)
    assert err.startswith("posturecam: error: "), err
    assert "usage:" not in err and "usage:" not in out  # no argparse dump for a runtime error
    # Nothing written in the current folder (a mistyped profile name used to land there).
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_monitor_video_ending_in_first_calibration_saves_no_profile(fake_model, tmp_path, capsys):
    video = make_video(tmp_path / "short.avi", seconds=0.5)
    code = cli.main(["monitor", "--source", str(video), "--no-notify", "--no-preview"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "video" in error_lines(err)[0] and "ended" in error_lines(err)[0]
    assert not profiles.profile_path("default").exists()


# ---------------------------------------------------------------------- every command, bad input


def _hostile_files(tmp: Path) -> None:
    """Valid files with hostile content, and a finished run whose recording goes backwards."""
    good = json.loads((ROOT / "calibration" / "hopper.json").read_text(encoding="utf-8"))
    zero = copy.deepcopy(good)
    zero["metrics"]["head_height"]["centre"] = 0
    (tmp / "zero.json").write_text(json.dumps(zero), encoding="utf-8")
    (tmp / "deep.json").write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    (tmp / "bool.toml").write_text("[temporal]\npersistence_s = true\n", encoding="utf-8")
    (tmp / "snooze.toml").write_text("[monitor]\nsnooze_minutes = 2000\n", encoding="utf-8")
    (tmp / "bad.task").write_bytes(b"not a model")
    (tmp / "empty").mkdir()
    assert (
        cli.main(["replay", str(tmp / "short.avi"), "--out", str(tmp / "run"), "--no-progress"])
        == 0
    )
    log, meta = recording.load(tmp / "run")
    recording.save(tmp / "run", dataclasses.replace(log, t_s=log.t_s[::-1].copy()), meta)


def _upright(_frame):
    return front_pose()


def _junk_session_log(home: Path) -> None:
    (home / "sessions.sqlite3").write_bytes(b"this is not SQLite")


def _home_is_a_file(home: Path) -> None:
    (home / "file").write_text("x", encoding="utf-8")
    os.environ["POSTURECAM_HOME"] = str(home / "file")  # monkeypatched: restored after


# (argv, expected first error line, exit code, setup of the home) for every command.
TABLE = [
    (["replay", "{tmp}/nope", "--out", "{tmp}/out"], "no such file or folder", 2, None),
    (
        ["replay", "{video}", "--out", "{tmp}/out", "--profile", "{tmp}/zero.json"],
        "head_height has centre 0",
        2,
        None,
    ),
    (
        ["replay", "{video}", "--out", "{tmp}/out", "--settings", "{tmp}/bool.toml"],
        r"persistence_s must be a finite number >= 0, not true",
        2,
        None,
    ),
    (
        ["replay", "{video}", "{tmp}/nope", "--out", "{tmp}/out", "--no-progress"],
        "nope: no such file or folder",
        1,
        None,
    ),
    (["rescore", "{tmp}/run", "--out", "{tmp}/out"], "timestamps go backwards", 2, None),
    (["rescore", "{tmp}/empty", "--out", "{tmp}/out"], "no summary.json", 2, None),
    (["report", "{tmp}/empty", "--html", "{tmp}/out/r.html"], "has no frames.csv", 2, None),
    (
        ["monitor", "--profile", "{tmp}/zero.json", "--source", "{video}", "--no-notify"],
        "centre 0",
        2,
        None,
    ),
    (
        ["monitor", "--config", "{tmp}/snooze.toml", "--source", "{video}", "--no-notify"],
        r"snooze_minutes .* at most 1440",
        2,
        None,
    ),
    (
        ["calibrate", "--profile", "x", "--source", "{tmp}/nope.mp4"],
        "no such file or folder",
        2,
        None,
    ),
    (
        ["calibrate", "--profile", "{tmp}/deep.json", "--source", "{video}"],
        "not a valid profile",
        2,
        None,
    ),
    (["snooze", "25h"], "at most 24h", 2, None),
    (["pause"], r"cannot write .*control\.json", 2, _home_is_a_file),
    (["resume"], r"cannot write .*control\.json", 2, _home_is_a_file),
    (["history"], "not a posturecam session log", 2, _junk_session_log),
    (
        ["record", "--source", "{tmp}/nope.mp4", "--out", "{tmp}/out", "--seconds", "1"],
        "no such video file",
        2,
        None,
    ),
    (
        ["config", "show", "--config", "{tmp}/bool.toml"],
        r"line 2: \[temporal\] persistence_s",
        2,
        None,
    ),
    (["stretches", "--for", "nonsense"], "unknown issue 'nonsense'", 2, None),
    (["feedback", "undo", "--wait", "0.1"], "no monitor is running", 2, None),
    (["model", "import", "{tmp}/bad.task"], "not a MediaPipe pose landmarker bundle", 2, None),
    (["app"], "desktop app|display|PySide6", 2, None),
]


def _files(folder: Path, skip: tuple[Path, ...]) -> dict[str, bytes]:
    return {
        str(p): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(p == s or s in p.parents for s in skip)
    }


@pytest.mark.parametrize(
    "argv,expected,code,setup", TABLE, ids=[f"{i}-{r[0][0]}" for i, r in enumerate(TABLE)]
)
def test_every_command_on_bad_input_gives_one_line_and_changes_nothing(
    argv, expected, code, setup, fake_model, tmp_path, capsys, monkeypatch, _isolated_home
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POSTURECAM_HOME", str(_isolated_home))
    monkeypatch.setattr(batch, "ModelRef", lambda _path: lambda _mode: FakePose(_upright))  # serial
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):  # the app: no display
        monkeypatch.delenv(name, raising=False)
    video = make_video(tmp_path / "short.avi")
    _hostile_files(tmp_path)
    if setup is not None:
        setup(_isolated_home)
    capsys.readouterr()
    skip = (tmp_path / "out", _isolated_home / "crash")
    before = _files(tmp_path, skip), _files(_isolated_home, skip)
    result = cli.main([a.format(video=video, tmp=tmp_path) for a in argv])
    out, err = capsys.readouterr()
    assert result == code, (out, err)
    assert_first_error(err, expected)
    assert "usage:" not in err and "usage:" not in out  # no argparse dump for a runtime error
    assert (_files(tmp_path, skip), _files(_isolated_home, skip)) == before


def assert_first_error(err: str, expected: str) -> None:
    """No traceback, no safety net; the first error line says what happened (remedy lines,
    as the model error has them, may follow; a batch gives one line per failed source)."""
    assert "Traceback" not in err, err
    assert "unexpected" not in err, f"reached the safety net: {err}"
    lines = error_lines(err)
    assert lines and err.splitlines()[0] == lines[0], err
    assert re.search(expected, lines[0]), (expected, lines[0])


# ---------------------------------------------------------------------- argument parsers

PARSER = [
    (["record", "--out", "o", "--seconds", "inf"], "--seconds: must be a finite number"),
    (["record", "--out", "o", "--seconds", "nan"], "--seconds: must be a finite number"),
    (["record", "--out", "o", "--seconds", "1e308"], "--seconds: must be at most"),
    (["record", "--out", "o", "--fps", "1e-308"], "--fps: must be between"),
    (["record", "--out", "o", "--fps", "1e308"], "--fps: must be between"),
    (["calibrate", "--seconds", "1e308"], "--seconds: must be at most"),
    (["calibrate", "--slouch-seconds", "1e308"], "--slouch-seconds: must be at most"),
    (["calibrate", "--fps=-inf"], "--fps: must be a finite number"),
    (["replay", "x", "--out", "o", "--baseline-seconds", "1e308"], "--baseline-seconds: must be"),
    (["replay", "x", "--out", "o", "--fps", "1e308"], "--fps: must be between"),
    (["monitor", "--rate", "1e-308"], "--rate: must be between"),
    (["monitor", "--rate", "inf"], "--rate: must be a finite number"),
    (["history", "--days", str(10**9)], "--days: must be at most 3660"),
    (["history", "--days", str(MAX_HISTORY_DAYS + 1)], "--days: must be at most"),
]


@pytest.mark.parametrize("argv,expected", PARSER, ids=[" ".join(r[0]) for r in PARSER])
def test_parsers_refuse_extreme_values_in_one_line(argv, expected, fake_model, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    _, err = capsys.readouterr()
    assert_one_error(err, expected)


def test_history_at_the_limit_works_and_beyond_it_is_a_clear_error(capsys):
    code = cli.main(["history", "--days", str(MAX_HISTORY_DAYS), "--json"])
    assert code == 0
    with SessionLog.open() as log, pytest.raises(SessionLogError, match="at most 3660"):
        log.history(days=10**9)


# ---------------------------------------------------------------------- snooze across midnight


def test_snooze_ending_on_another_day_shows_the_date():
    now = datetime(2024, 3, 14, 22, 0).timestamp()
    text = control.describe(control.Control(snooze_until=now + 24 * 3600), now=now)
    assert "tomorrow" in text and "2024-03-15" in text and "22:00" in text
    text = control.describe(control.Control(snooze_until=now + 3 * 3600), now=now)
    assert "2024-03-15" in text and "01:00" in text  # past midnight: the date, too
    text = control.describe(control.Control(snooze_until=now + 1800), now=now)
    assert "22:30" in text and "2024" not in text  # same day: the time is enough


def test_snooze_24h_from_the_command_line_names_the_day(capsys):
    assert cli.main(["snooze", "24h"]) == 0
    out = capsys.readouterr().out
    tomorrow = datetime.fromtimestamp(time.time() + 24 * 3600)
    assert f"{tomorrow:%Y-%m-%d}" in out


# ---------------------------------------------------------------------- the safety net


def _boom(_args):
    raise ValueError("something\nbroke")


def test_unexpected_exception_writes_a_crash_log_in_the_cache(
    monkeypatch, capsys, tmp_path, _isolated_home
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(cli.COMMANDS, "stretches", _boom)
    code = cli.main(["stretches", "--json"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err and "usage:" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    match = re.fullmatch(
        r"posturecam: error: unexpected ValueError: something broke; details in (.+\.log)",
        lines[0],
    )
    assert match, lines[0]
    log = Path(match.group(1))
    assert log.parent == _isolated_home / "crash"  # $POSTURECAM_HOME isolates it
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "ValueError: something" in text and "_boom" in text
    for name in ("posturecam:", "python:", "platform:", "mediapipe:", "numpy:"):
        assert name in text
    assert '"stretches", "--json"' in text
    assert list(tmp_path.iterdir()) == []  # never beside the outputs or in the current folder


def test_crash_log_defaults_to_the_user_cache_folder(monkeypatch, tmp_path):
    from posturecam import paths

    monkeypatch.delenv("POSTURECAM_HOME")
    monkeypatch.setattr("platformdirs.user_cache_dir", lambda app: str(tmp_path / app))
    assert paths.crash_dir() == tmp_path / "posturecam" / "crash"


def test_unwritable_crash_folder_still_gives_one_line(monkeypatch, capsys, _isolated_home):
    (_isolated_home / "crash").write_text("not a folder", encoding="utf-8")
    monkeypatch.setitem(cli.COMMANDS, "stretches", _boom)
    assert cli.main(["stretches"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "no crash log could be written" in err


@pytest.mark.parametrize("where", ["command", "start-up", "model loading"])
def test_ctrl_c_anywhere_exits_130_without_a_traceback(where, monkeypatch, capsys, tmp_path):
    def interrupt(*_a, **_k):
        raise KeyboardInterrupt

    if where == "command":
        monkeypatch.setitem(cli.COMMANDS, "stretches", interrupt)
        argv = ["stretches"]
    elif where == "start-up":
        monkeypatch.setattr(cli, "build_parser", interrupt)
        argv = ["stretches"]
    else:
        monkeypatch.setattr(model, "resolve", interrupt)
        argv = ["calibrate", "--source", str(tmp_path), "--no-progress"]
    try:
        code = cli.main(argv)
    except KeyboardInterrupt:  # would also stop pytest itself
        pytest.fail("KeyboardInterrupt escaped cli.main (a traceback for the user)")
    assert code == 130
    out, err = capsys.readouterr()
    assert err == "posturecam: interrupted\n" and "Traceback" not in out


def test_ctrl_c_while_the_libraries_import_exits_130():
    """A Ctrl-C during ``import posturecam.cli`` (MediaPipe, OpenCV load) is no traceback."""
    code = (
        "import builtins\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == 'posturecam.frames.pose':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "import posturecam.cli\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr == "posturecam: interrupted\n"


def test_broken_pipe_exits_quietly(monkeypatch, capsys):
    def closed_pipe(_args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setitem(cli.COMMANDS, "stretches", closed_pipe)
    assert cli.main(["stretches"]) == 141
    assert capsys.readouterr().err == ""


def test_stretches_into_head_is_quiet(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "0"}
    done = subprocess.run(
        f"{sys.executable} -m posturecam stretches | head -c 1",
        shell=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.stderr == ""
