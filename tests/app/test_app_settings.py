"""The settings dialog round-trips config.toml (comments kept) with the CLI's validation."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("tomlkit")

from appfakes import qapp_fixture, type_into  # noqa: F401 (a fixture)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

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


LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path / "config.toml"


@pytest.fixture
def dialog_for(qtbot, cfg):
    """A settings dialog on ``cfg``, shown, and closed after the test."""

    def make(platform: str = "offscreen", **kw) -> SettingsDialog:
        dialog = SettingsDialog(cfg, platform=platform, **kw)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return make


def click_save(qtbot, dialog) -> bool:
    """Press Save; True when the dialog accepted (wrote and closed)."""
    qtbot.mouseClick(dialog.save_button, LEFT)
    return dialog.result() == QDialog.DialogCode.Accepted


def test_round_trip_keeps_comments_and_changes_only_what_changed(qtbot, cfg, dialog_for):
    cfg.write_text(COMMENTED)
    saved = []
    dialog = dialog_for(on_saved=saved.append)
    type_into(qtbot, dialog.editors[("monitor", "rate_hz")], "3")
    type_into(qtbot, dialog.editors[("temporal", "break_after_s")], "0")
    qtbot.mouseClick(dialog.editors[("app", "glow")], LEFT)
    assert click_save(qtbot, dialog)
    text = cfg.read_text()
    assert "# my posturecam settings" in text and "# slow and cheap" in text
    assert "# a bit more patient than the default" in text
    assert "rate_hz = 3  # slow and cheap" in text and "persistence_s = 90" in text
    assert "max_rate_hz" not in text  # untouched defaults are not written out
    loaded = settings.load(cfg)  # the CLI reads what the dialog wrote
    assert loaded.monitor.rate_hz == 3 and loaded.temporal.break_after_s is None
    assert saved and saved[0].monitor.rate_hz == 3
    assert configfile.read(cfg).values()[("app", "glow")] is True
    again = dialog_for()  # reads its own output back
    assert again.editors[("monitor", "rate_hz")].value() == 3.0
    assert again.editors[("temporal", "persistence_s")].value() == 90.0
    assert again.editors[("app", "glow")].isChecked()


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        (("monitor", "max_rate_hz"), "1", "must not be below"),
        (("monitor", "source"), "  ", "source must be a non-empty string"),
        (("monitor", "profile"), "", "profile must be a non-empty string"),
    ],
)
def test_bad_values_get_the_clis_message_and_nothing_is_written(qtbot, cfg, dialog_for, key,
                                                                text, message):  # fmt: skip
    cfg.write_text(COMMENTED)
    dialog = dialog_for()
    type_into(qtbot, dialog.editors[key], text)
    assert not click_save(qtbot, dialog) and dialog.isVisible()
    assert message in dialog.message.text() and dialog.message.isVisibleTo(dialog)
    assert str(cfg) in dialog.message.text()
    assert cfg.read_text() == COMMENTED


@pytest.mark.parametrize(
    ("text", "line"),
    [("[monitor]\nrate_hz = = 2\n", "line 2"), ("[monitor]\n\nrate_hz = -1\n", "line 3")],
)
def test_a_broken_file_is_shown_with_its_line_and_never_overwritten(cfg, dialog_for, text, line):
    cfg.write_text(text)
    dialog = dialog_for()
    assert line in dialog.message.text() and not dialog.save_button.isEnabled()
    assert not dialog.save()  # even if asked directly
    assert cfg.read_text() == text


def test_a_missing_file_is_created_with_only_the_changes(qtbot, cfg, dialog_for):
    dialog = dialog_for()
    type_into(qtbot, dialog.editors[("monitor", "snooze_minutes")], "45")
    assert click_save(qtbot, dialog)
    assert cfg.read_text().strip() == "[monitor]\nsnooze_minutes = 45"


def test_start_at_login_makes_and_removes_the_autostart_file(qtbot, cfg, dialog_for):
    dialog = dialog_for()
    assert not dialog.login.isChecked()
    qtbot.mouseClick(dialog.login, LEFT)
    assert click_save(qtbot, dialog) and autostart.installed()
    dialog = dialog_for()
    assert dialog.login.isChecked()
    qtbot.mouseClick(dialog.login, LEFT)
    assert click_save(qtbot, dialog) and not autostart.installed()


def test_where_no_overlay_is_allowed_the_dialog_says_so(qtbot, cfg, dialog_for):
    dialog = dialog_for(platform="wayland")
    glow = dialog.editors[("app", "glow")]
    assert not glow.isEnabled() and "click-through" in dialog.glow_note.text()
    assert click_save(qtbot, dialog)
    assert not cfg.exists()  # nothing changed: nothing written


def test_the_cli_accepts_the_app_table_and_rejects_unknown_app_keys(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[app]\nglow = true\n")
    settings.load(good)
    bad = tmp_path / "bad.toml"
    bad.write_text("[app]\nglow = true\nblink = 1\n")
    with pytest.raises(settings.SettingsError, match=r"line 3.*unknown app setting"):
        settings.load(bad)
