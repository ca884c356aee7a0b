"""The settings dialog: the fields of config.toml plus start-at-login, validated as the CLI does.

It edits the file through configfile (comments kept); a broken file is shown with
its message and line, and the Save button stays off so it is never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from posturecam.app import autostart, configfile
from posturecam.errors import PosturecamError
from posturecam.settings import Settings

NO_GLOW = (
    "this desktop ({platform}) does not allow a click-through overlay: the glow is off, "
    "notifications still nudge you"
)


def glow_supported(platform: str | None = None) -> bool:
    """Wayland compositors may refuse click-through always-on-top windows; X11, macOS and
    Windows allow them."""
    platform = platform if platform is not None else QGuiApplication.platformName()
    return not platform.startswith("wayland")


class SettingsDialog(QDialog):
    def __init__(
        self,
        path: Path,
        on_saved: Callable[[Settings], Any] | None = None,
        parent: QWidget | None = None,
        platform: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("posturecam: settings")
        self.path = path
        self.on_saved = on_saved
        self.saved: Settings | None = None
        self.file = configfile.read(path)
        self.editors: dict[configfile.Key, QWidget] = {}
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b71c1c")
        form = QFormLayout()
        values = self.file.values()
        for f in configfile.FIELDS:
            editor = self._editor(f, values[(f.table, f.key)])
            self.editors[(f.table, f.key)] = editor
            form.addRow(f.label if f.kind != "bool" else "", editor)
        self.glow_note = QLabel()
        self.glow_note.setWordWrap(True)
        self.glow_note.setStyleSheet("color: gray")
        platform = platform if platform is not None else QGuiApplication.platformName()
        if not glow_supported(platform):
            glow = self.editors[("app", "glow")]
            assert isinstance(glow, QCheckBox)
            glow.setChecked(False)
            glow.setEnabled(False)
            self.glow_note.setText(NO_GLOW.format(platform=platform))
        form.addRow("", self.glow_note)
        self.login = QCheckBox("Start posturecam at login")
        self.login.setChecked(autostart.installed())
        form.addRow("", self.login)
        where = QLabel(f"Settings file: {path}")
        where.setStyleSheet("color: gray")
        where.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addWidget(where)
        layout.addWidget(self.buttons)
        if self.file.error:
            self.message.setText(
                f"{self.file.error}\nFix the file in an editor; this dialog will not overwrite it."
            )
            self.save_button.setEnabled(False)
        else:
            self.message.hide()

    @property
    def save_button(self) -> Any:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def _editor(self, f: configfile.Field, value: Any) -> QWidget:
        if f.kind == "bool":
            box = QCheckBox(f.label)
            box.setChecked(bool(value))
            return box
        if f.kind == "float":
            spin = QDoubleSpinBox()
            spin.setRange(f.low, f.high)
            spin.setDecimals(1)
            spin.setValue(float(value))
            return spin
        line = QLineEdit(str(value))
        line.setToolTip(f.help)
        return line

    def changes(self) -> dict[configfile.Key, Any]:
        out: dict[configfile.Key, Any] = {}
        for key, editor in self.editors.items():
            if isinstance(editor, QCheckBox):
                if editor.isEnabled():
                    out[key] = editor.isChecked()
            elif isinstance(editor, QDoubleSpinBox):
                out[key] = editor.value()
            elif isinstance(editor, QLineEdit):
                out[key] = editor.text()
        return out

    def save(self) -> bool:
        """Validate and write; on a bad value show the CLI's message and keep the dialog."""
        try:
            settings = configfile.save(self.file, self.changes())
            if self.login.isChecked() != autostart.installed():
                autostart.install() if self.login.isChecked() else autostart.remove()
        except PosturecamError as exc:
            self.message.setText(str(exc))
            self.message.show()
            return False
        self.saved = settings
        if self.on_saved is not None:
            self.on_saved(settings)
        self.accept()
        return True
