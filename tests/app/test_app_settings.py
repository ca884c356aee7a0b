"""The settings dialog round-trips config.toml (comments kept) with the CLI's validation."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("tomlkit")

from qtfake import qapp

from posturecam import settings
from posturecam.app import autostart, configfile
from posturecam.app.settings_dialog import SettingsDialog

COMMENTED = """\
# my posturecam settings
[monitor]
rate_hz = 2  # slow and cheap
source = "0"

[temporal]
# a bit more patient than the default
persistence_s = 90
"""


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path))
    qapp()
    return tmp_path / "config.toml"


def test_round_trip_keeps_comments_and_changes_only_what_changed(cfg):
    cfg.write_text(COMMENTED)
    saved = []
    dialog = SettingsDialog(cfg, on_saved=saved.append, platform="offscreen")
    dialog.editors[("monitor", "rate_hz")].setValue(3.0)
    dialog.editors[("temporal", "break_after_s")].setValue(0)
    dialog.editors[("app", "glow")].setChecked(True)
    assert dialog.save()
    text = cfg.read_text()
    assert "# my posturecam settings" in text and "# slow and cheap" in text
    assert "# a bit more patient than the default" in text
    assert "rate_hz = 3  # slow and cheap" in text and "persistence_s = 90" in text
    assert "max_rate_hz" not in text  # untouched defaults are not written out
    loaded = settings.load(cfg)  # the CLI reads what the dialog wrote
    assert loaded.monitor.rate_hz == 3 and loaded.temporal.break_after_s is None
    assert saved and saved[0].monitor.rate_hz == 3
    assert configfile.read(cfg).values()[("app", "glow")] is True
    again = SettingsDialog(cfg, platform="offscreen")  # reads its own output back
    assert again.editors[("monitor", "rate_hz")].value() == 3.0
    assert again.editors[("temporal", "persistence_s")].value() == 90.0
    assert again.editors[("app", "glow")].isChecked()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (("monitor", "max_rate_hz"), 1.0, "must not be below"),
        (("monitor", "source"), "  ", "source must be a non-empty string"),
        (("monitor", "profile"), "", "profile must be a non-empty string"),
    ],
)
def test_bad_values_get_the_clis_message_and_nothing_is_written(cfg, key, value, message):
    cfg.write_text(COMMENTED)
    dialog = SettingsDialog(cfg, platform="offscreen")
    editor = dialog.editors[key]
    editor.setValue(value) if hasattr(editor, "setValue") else editor.setText(value)
    assert not dialog.save()
    assert message in dialog.message.text() and dialog.message.isVisibleTo(dialog)
    assert str(cfg) in dialog.message.text()
    assert cfg.read_text() == COMMENTED


@pytest.mark.parametrize(
    ("text", "line"),
    [("[monitor]\nrate_hz = = 2\n", "line 2"), ("[monitor]\n\nrate_hz = -1\n", "line 3")],
)
def test_a_broken_file_is_shown_with_its_line_and_never_overwritten(cfg, text, line):
    cfg.write_text(text)
    dialog = SettingsDialog(cfg, platform="offscreen")
    assert line in dialog.message.text() and not dialog.save_button.isEnabled()
    assert not dialog.save()  # even if asked directly
    assert cfg.read_text() == text


def test_a_missing_file_is_created_with_only_the_changes(cfg):
    dialog = SettingsDialog(cfg, platform="offscreen")
    dialog.editors[("monitor", "snooze_minutes")].setValue(45)
    assert dialog.save()
    assert cfg.read_text().strip() == "[monitor]\nsnooze_minutes = 45"


def test_start_at_login_makes_and_removes_the_autostart_file(cfg):
    dialog = SettingsDialog(cfg, platform="offscreen")
    assert not dialog.login.isChecked()
    dialog.login.setChecked(True)
    assert dialog.save() and autostart.installed()
    dialog = SettingsDialog(cfg, platform="offscreen")
    assert dialog.login.isChecked()
    dialog.login.setChecked(False)
    assert dialog.save() and not autostart.installed()


def test_where_no_overlay_is_allowed_the_dialog_says_so(cfg):
    dialog = SettingsDialog(cfg, platform="wayland")
    glow = dialog.editors[("app", "glow")]
    assert not glow.isEnabled() and "click-through" in dialog.glow_note.text()
    assert dialog.save()
    assert not cfg.exists()  # nothing changed: nothing written


def test_the_cli_accepts_the_app_table_and_rejects_unknown_app_keys(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[app]\nglow = true\n")
    settings.load(good)
    bad = tmp_path / "bad.toml"
    bad.write_text("[app]\nglow = true\nblink = 1\n")
    with pytest.raises(settings.SettingsError, match=r"line 3.*unknown app setting"):
        settings.load(bad)
