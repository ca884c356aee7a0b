"""One hierarchy, one file: every posturecam error class lives in posturecam/errors.py."""

from __future__ import annotations

import ast
from pathlib import Path

from posturecam import errors

ROOT = Path(__file__).resolve().parents[1]
# Modules that still define an error class of their own; their owners replace it with an
# import from posturecam.errors (the classes are there already) and take the module off.
STILL_DEFINING_ERRORS = {
    "posturecam/research/run_folder.py",  # SummaryError (path, problem, why)
}


def _error_classes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = [getattr(b, "id", getattr(b, "attr", "")) for b in node.bases]
            if any(b.endswith(("Error", "Unavailable")) for b in bases):
                names.append(node.name)
    return names


def test_error_classes_are_defined_only_in_errors_py():
    found = {
        p.relative_to(ROOT).as_posix(): _error_classes(p)
        for p in (ROOT / "posturecam").rglob("*.py")
        if p.name != "errors.py"
    }
    found = {m: names for m, names in found.items() if names}
    new = {m: n for m, n in found.items() if m not in STILL_DEFINING_ERRORS}
    assert not new, f"define error classes in posturecam/errors.py: {new}"
    stale = sorted(m for m in STILL_DEFINING_ERRORS if (ROOT / m).exists() and m not in found)
    assert not stale, f"these modules define no error class now: take them off: {stale}"


def test_every_error_is_a_posturecam_error():
    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert classes and all(issubclass(c, errors.PosturecamError) for c in classes)


def test_the_modules_raise_the_classes_errors_py_defines():
    """Where a module imports its error class, it is the one posturecam.errors defines."""
    from posturecam.live import control, feedback, sessionlog

    assert control.ControlError is errors.ControlError
    assert feedback.FeedbackError is errors.FeedbackError
    assert sessionlog.SessionLogError is errors.SessionLogError
    from posturecam import settings
    from posturecam.research import recording

    assert settings.SettingsError is errors.SettingsError
    assert recording.RecordingError is errors.RecordingError
