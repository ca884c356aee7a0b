"""Settings files and sensitivity flags: strict, with errors that name the line."""

import json

import pytest
from test_cli import assert_error, fakes, make_folder, replay, summary_of  # noqa: F401

from posturecam import settings
from posturecam.cli import args as cli_args
from posturecam.core.rules import JudgeSettings
from posturecam.core.temporal import TemporalSettings


def write(tmp_path, text):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file(tmp_path):
    s = settings.load(
        write(
            tmp_path,
            """
[judge]
noise_k = 2.5
sensitivity = { head_drop = 1.5 }

[temporal]
persistence_s = 90
break_after_s = 0
""",
        )
    )
    assert s.judge == JudgeSettings(noise_k=2.5, sensitivity={"head_drop": 1.5})
    assert s.temporal == TemporalSettings(persistence_s=90, break_after_s=None)


def test_absent_tables_keep_defaults(tmp_path):
    s = settings.load(write(tmp_path, "[temporal]\nrecovery_s = 3\n"))
    assert s.judge is None
    assert s.temporal.recovery_s == 3 and s.temporal.persistence_s == 60


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[temporal]\npersistence_s = \n", "line 2"),
        ("[temporal\n", "line 1"),
        ("[timing]\nx = 1\n", "unknown table"),
        ("[temporal]\npersistance_s = 3\n", "persistance_s"),
        ("[temporal]\npersistence_s = -3\n", "persistence_s"),
        ("[judge]\nsensitivity = { slouchiness = 2 }\n", "slouchiness"),
        ("[judge]\nsensitivity = { head_drop = 0 }\n", "greater than 0"),
        ("[judge]\nsustained = -0.1\n", "sustained"),
        ("[judge]\nrecline = true\n", "recline"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path, text, needle):
    with pytest.raises(settings.SettingsError, match=needle):
        settings.load(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(settings.SettingsError, match="cannot read"):
        settings.load(tmp_path / "nope.toml")


@pytest.mark.parametrize("item", ["head_drop", "head_drop=x", "head_drop=1.5=2"])
def test_bad_sensitivity_flags(item):
    with pytest.raises(settings.SettingsError, match="ISSUE=NUMBER"):
        cli_args.parse_sensitivity([item])


def test_replay_uses_the_settings_file(fakes, tmp_path, capsys):  # noqa: F811
    src = make_folder(tmp_path / "rec", n=200, fps=2.0)  # slumps at 10 s, held to 100 s
    code, _, err = replay(capsys, src, tmp_path / "a")
    assert code == 0, err
    default_alert = summary_of(tmp_path / "a")["alerts"][0]["t_s"]
    conf = write(tmp_path, "[temporal]\npersistence_s = 30\n")
    code, _, err = replay(capsys, src, tmp_path / "b", "--settings", str(conf))
    assert code == 0, err
    quick_alert = summary_of(tmp_path / "b")["alerts"][0]["t_s"]
    assert quick_alert == pytest.approx(default_alert - 30, abs=0.6)


def test_replay_sensitivity_flag_is_recorded(fakes, tmp_path, capsys):  # noqa: F811
    src = make_folder(tmp_path / "rec", n=40, fps=2.0)
    code, _, err = replay(capsys, src, tmp_path / "o", "--sensitivity", "head_drop=2")
    assert code == 0, err
    recorded = summary_of(tmp_path / "o")["baseline"]["settings"]
    assert recorded["sensitivity"] == {"head_drop": 2.0}


@pytest.mark.parametrize("flag", ["head_drop=abc", "nonsense=2", "head_drop=-1"])
def test_bad_sensitivity_flag_is_a_clear_error(fakes, tmp_path, capsys, flag):  # noqa: F811
    src = make_folder(tmp_path / "rec", n=10, fps=2.0)
    code, _, err = replay(capsys, src, tmp_path / "o", "--sensitivity", flag)
    assert_error(code, err)
    assert not (tmp_path / "o").exists()


def test_malformed_settings_file_is_a_clear_error_naming_the_line(fakes, tmp_path, capsys):  # noqa: F811
    src = make_folder(tmp_path / "rec", n=10, fps=2.0)
    conf = write(tmp_path, "[temporal]\n\npersistence_s = = 3\n")
    code, _, err = replay(capsys, src, tmp_path / "o", "--settings", str(conf))
    assert_error(code, err, "line 3")
    assert not (tmp_path / "o").exists()


def test_calibrate_stores_sensitivity_in_the_profile(fakes, tmp_path, capsys):  # noqa: F811
    from test_cli import run

    src = make_folder(tmp_path / "rec", n=16, fps=2.0)
    code, _, err = run(
        capsys,
        "calibrate",
        "--source",
        src,
        "--profile",
        tmp_path / "p.json",
        "--no-progress",
        "--sensitivity",
        "head_drop=1.25",
    )
    assert code == 0, err
    saved = json.loads((tmp_path / "p.json").read_text())
    assert saved["settings"]["sensitivity"] == {"head_drop": 1.25}


# --- the user's config file and [monitor] -----------------------------------------------


def test_config_path_prefers_posturecam_config(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTURECAM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POSTURECAM_CONFIG", str(tmp_path / "elsewhere" / "my.toml"))
    assert settings.config_path() == tmp_path / "elsewhere" / "my.toml"


def test_config_path_falls_back_to_posturecam_home(tmp_path, monkeypatch):
    monkeypatch.delenv("POSTURECAM_CONFIG", raising=False)
    monkeypatch.setenv("POSTURECAM_HOME", str(tmp_path / "home"))
    assert settings.config_path() == tmp_path / "home" / "config.toml"


def test_config_path_uses_the_platform_config_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("POSTURECAM_CONFIG", raising=False)
    monkeypatch.delenv("POSTURECAM_HOME", raising=False)
    seen = []

    def fake_config_dir(app):
        seen.append(app)
        return str(tmp_path / "platform")

    monkeypatch.setattr("platformdirs.user_config_dir", fake_config_dir)
    assert settings.config_path() == tmp_path / "platform" / "config.toml"
    assert seen == ["posturecam"]


def test_absent_user_file_gives_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("POSTURECAM_CONFIG", str(tmp_path / "none.toml"))
    s, path, existed = settings.load_user()
    assert (s, path, existed) == (settings.Settings(), tmp_path / "none.toml", False)


def test_user_file_is_read_from_the_config_path(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTURECAM_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text(
        '[monitor]\nsource = "clip.mp4"\nrate_hz = 1.5\nnotify = false\n', encoding="utf-8"
    )
    s, path, existed = settings.load_user()
    assert existed and path == tmp_path / "config.toml"
    assert s.monitor == settings.MonitorSettings(source="clip.mp4", rate_hz=1.5, notify=False)
    assert s.judge is None and s.temporal == TemporalSettings()


def test_camera_index_may_be_written_as_a_number(tmp_path):
    s, _, _ = settings.load_user(write(tmp_path, "[monitor]\nsource = 1\n"))
    assert s.monitor.source == "1"


@pytest.mark.parametrize(
    "text, line",
    [
        ("[monitor]\nrate_hz = \n", 2),
        ("[monitor]\nsource = '0'\n\n[temporal\n", 4),
        ("[monitor]\nnotify = yes\n", 2),
    ],
)
def test_malformed_user_file_names_file_and_line(tmp_path, text, line):
    path = write(tmp_path, text)
    with pytest.raises(settings.SettingsError) as info:
        settings.load_user(path)
    assert str(path) in str(info.value)
    assert f"line {line}" in str(info.value)


@pytest.mark.parametrize(
    "text, needles",
    [
        ("[monitor]\nsource = '0'\nrate = 3\n", ["line 3", "'rate'", "rate_hz", "snooze_minutes"]),
        ("[monitor]\n\nrate_hz = 'fast'\n", ["line 3", "rate_hz", "greater than 0"]),
        ("[monitor]\nnotify = 'yes'\n", ["line 2", "notify", "true or false"]),
        ("[monitor]\npreview = 1\n", ["line 2", "preview", "true or false"]),
        ("[monitor]\nprofile = ''\n", ["line 2", "profile", "non-empty"]),
        ("[monitor]\nsource = [0]\n", ["line 2", "source"]),
        ("[monitor]\nrate_hz = 0\n", ["line 2", "rate_hz", "greater than 0"]),
        ("[monitor]\nrate_hz = inf\n", ["rate_hz", "greater than 0"]),
        ("[monitor]\nrate_hz = 8\n", ["line 2", "max_rate_hz", "rate_hz"]),
        ("[monitor]\nmax_rate_hz = 0.5\n", ["line 2", "max_rate_hz"]),
        ("[monitor]\ngate = 1\n", ["line 2", "gate", "true or false"]),
        ("[monitor]\nrecheck_s = 0\n", ["line 2", "recheck_s", "greater than 0"]),
        ("[monitor]\nsnooze_minutes = -5\n", ["line 2", "snooze_minutes"]),
        ("monitor = 3\n", ["line 1", "table"]),
        ("[temporal]\n\npersistence_s = -3\n", ["line 3", "persistence_s"]),
        ("[judge]\nnoise_k = 2\nsensitivity = { slouchiness = 2 }\n", ["line 3", "slouchiness"]),
        ("[monitors]\nrate_hz = 1\n", ["line 1", "[judge]", "[temporal]", "[monitor]"]),
    ],
)
def test_invalid_user_file_says_what_and_where(tmp_path, text, needles):
    path = write(tmp_path, text)
    with pytest.raises(settings.SettingsError) as info:
        settings.load_user(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message


def test_unreadable_user_file_is_an_error_not_defaults(tmp_path):
    folder = tmp_path / "config.toml"
    folder.mkdir()  # exists, but cannot be read as a file
    with pytest.raises(settings.SettingsError, match="cannot read settings file"):
        settings.load_user(folder)


def test_non_utf8_user_file_is_an_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"[monitor]\nsource = '\xff'\n")
    with pytest.raises(settings.SettingsError, match="UTF-8"):
        settings.load_user(path)


def test_parse_still_accepts_files_without_monitor():
    s = settings.parse({"temporal": {"persistence_s": 5}})
    assert s.monitor == settings.MonitorSettings()
    assert s.temporal.persistence_s == 5


def test_flags_override_file_values():
    base = settings.MonitorSettings(source="clip.mp4", rate_hz=1.0, notify=False)
    out = base.updated(source=None, rate_hz=3.0, notify=None, preview=True)
    assert out == settings.MonitorSettings(
        source="clip.mp4", rate_hz=3.0, notify=False, preview=True
    )
    with pytest.raises(settings.SettingsError, match="max_rate_hz"):
        base.updated(rate_hz=9.0)


CUSTOM = settings.Settings(
    judge=JudgeSettings(noise_k=2.5, sensitivity={"head_drop": 1.5, "side_lean": 0.75}),
    temporal=TemporalSettings(persistence_s=90, cooldown_s=120.5, break_after_s=None),
    monitor=settings.MonitorSettings(
        source='C:\\videos\\my "desk".mp4',
        profile="docked",
        rate_hz=1.0,
        max_rate_hz=4.5,
        notify=False,
        preview=True,
        snooze_minutes=12.5,
    ),
)


@pytest.mark.parametrize("chosen", [settings.Settings(), CUSTOM], ids=["defaults", "custom"])
def test_show_round_trips(chosen, tmp_path):
    import tomllib

    text = settings.show(chosen)
    assert settings.parse(tomllib.loads(text)) == chosen
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    assert settings.load_user(path)[0] == chosen


def test_show_writes_every_key_of_every_table():
    import tomllib

    data = tomllib.loads(settings.show(CUSTOM))
    assert set(data) == {"judge", "temporal", "baseline", "monitor"}
    assert set(data["monitor"]) == set(settings.MonitorSettings().to_dict())
    assert set(data["temporal"]) == set(TemporalSettings().to_dict())
    assert data["temporal"]["break_after_s"] == 0
    assert data["judge"] == {
        **JudgeSettings().to_dict(),
        "noise_k": 2.5,
        "sensitivity": {"head_drop": 1.5, "side_lean": 0.75},
    }


def test_show_explains_tables_and_unset_judge():
    text = settings.show(settings.Settings())
    for table in ("monitor", "judge", "temporal"):
        assert any(line.startswith(f"# [{table}]:") for line in text.splitlines())
    # With no [judge] of its own the profile's settings apply: shown, but commented out.
    assert "# [judge]\n" in text and "\n[judge]\n" not in text
    assert "# noise_k = 3.0" in text
    assert "break_after_s = 3000.0" in text
    no_breaks = settings.show(settings.Settings(temporal=TemporalSettings(break_after_s=None)))
    assert "break_after_s = 0 " in no_breaks and "reminders off" in no_breaks


def test_baseline_table_reaches_replay_options_and_rejects_bad_values(tmp_path):
    import tomllib

    from posturecam.core.adapt import AdaptSettings

    good = tmp_path / "good.toml"
    good.write_text("[baseline]\ndrift_tau_s = 0\nsetup_hold_s = 20\n", encoding="utf-8")
    s = settings.load(good)
    assert s.adapt == AdaptSettings(drift_tau_s=0.0, setup_hold_s=20.0)
    assert settings.parse(tomllib.loads(settings.show(s))) == s  # show round-trips
    for text, what in (
        ("[baseline]\ndrift_tau_s = -1\n", "drift_tau_s"),
        ("[baseline]\nsettle_s = true\n", "settle_s"),
        ("[baseline]\nnope = 1\n", "unknown baseline setting"),
    ):
        bad = tmp_path / "bad.toml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(settings.SettingsError, match=what):
            settings.load(bad)
