"""Settings files and sensitivity flags: strict, with errors that name the line."""

import json

import pytest
from test_cli import assert_error, fakes, make_folder, replay, summary_of  # noqa: F401

from posturecam import settings
from posturecam.judge import JudgeSettings
from posturecam.temporal import TemporalSettings


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
        settings.parse_sensitivity([item])


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
