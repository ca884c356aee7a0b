"""The code base stays ruff-clean (config in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    if (
        shutil.which("ruff") is None
        and subprocess.run(
            [sys.executable, "-m", "ruff", "--version"], capture_output=True
        ).returncode
    ):
        pytest.skip("ruff is not installed (pip install '.[test]')")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


QT_MODULES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "qtpy")


def _imported_modules(path: Path) -> set[str]:
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_only_the_app_subpackage_imports_qt():
    """The GUI lives in posturecam/app; nothing below it may pull Qt in."""
    package = ROOT / "posturecam"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] == "app":
            continue
        qt = {m for m in _imported_modules(path) if m.split(".")[0] in QT_MODULES}
        if qt:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(qt)}")
    assert not offenders, "Qt imported outside posturecam/app:\n" + "\n".join(offenders)


def test_the_app_never_judges_posture():
    """Widgets present what the monitor reports: no judgement or geometry imports in the app."""
    forbidden = {
        "posturecam.core.judge",
        "posturecam.core.geometry",
        "posturecam.core.temporal",
        "posturecam.core.adapt",
    }
    offenders = []
    for path in sorted((ROOT / "posturecam" / "app").rglob("*.py")):
        used = _imported_modules(path) & forbidden
        if used:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(used)}")
    assert not offenders, "\n".join(offenders)
