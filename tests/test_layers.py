"""The package's layers, enforced: who may import whom (docs: README, "Layout").

core is pure judgement (numpy and the standard library, plus the error types);
frames owns decoding, sources, the camera and the model; research and live
build on both and never on each other; only frames/pose.py imports mediapipe;
only the app imports Qt (tests/test_style.py). Every import counts, lazy ones
inside functions too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "posturecam"
TOP = {"paths", "profiles", "settings", "storage", "text"}

# Which posturecam layers each layer may import. "top" is the package's top-level modules.
# The error types are plain classes everybody raises; the entry points (``__main__`` and
# the app's GUI command) hand over to the CLI. Importing the package root itself (for
# ``__version__``) counts as top level: its public names load lazily, on first use.
ALLOWED = {
    "errors": set(),
    "core": {"errors", "core"},
    "top": {"errors", "core", "top"},
    "frames": {"errors", "core", "top", "frames"},
    "research": {"errors", "core", "top", "frames", "research"},
    "live": {"errors", "core", "top", "frames", "live"},
    "cli": {"errors", "core", "top", "frames", "research", "live", "cli", "app"},
    "app": {"errors", "core", "top", "frames", "live", "app", "cli"},
    # The package root is the public face for Python users: it offers research's replay.
    "api": {"errors", "core", "top", "frames", "research"},
}
SPECIAL = {"errors": "errors", "__main__": "cli", "__init__": "api"}
# Third-party packages core may use (everything else it needs is the standard library).
CORE_THIRD_PARTY = {"numpy"}


def layer_of_path(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return SPECIAL.get(path.stem, "top") if len(parts) == 1 else parts[0]


def layer_of_module(name: str) -> str | None:
    """The layer of an imported posturecam module, or None for a third-party one."""
    parts = name.split(".")
    if parts[0] != "posturecam":
        return None
    if len(parts) > 1 and parts[1] in SPECIAL:
        return SPECIAL[parts[1]]
    if len(parts) == 1 or parts[1] in TOP:
        return "top"
    return parts[1] if parts[1] in ALLOWED else "top"


def imports_of(tree: ast.AST, path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = ("posturecam", *path.relative_to(PACKAGE).parts[:-1])
                base = ".".join(package[: len(package) - node.level + 1])
                names.add(base if not node.module else f"{base}.{node.module}")
            elif node.module == "posturecam":
                names.update(f"posturecam.{alias.name}" for alias in node.names)
            elif node.module:
                names.add(node.module)
    return names


def violations(path: Path, source: str) -> list[str]:
    """Every import in ``source`` (the text of ``path``) that breaks a layer rule."""
    tree = ast.parse(source)
    layer = layer_of_path(path)
    rel = path.relative_to(ROOT)
    found = []
    for name in sorted(imports_of(tree, path)):
        root = name.split(".")[0]
        target = layer_of_module(name)
        if root == "mediapipe" and rel.as_posix() != "posturecam/frames/pose.py":
            found.append(f"{rel}: imports {name} (only posturecam/frames/pose.py may)")
        if target is not None and target not in ALLOWED[layer]:
            found.append(f"{rel}: {layer} imports {name} ({target})")
        if (
            layer == "core"
            and target is None
            and root not in sys.stdlib_module_names
            and root not in CORE_THIRD_PARTY
        ):
            found.append(f"{rel}: core imports {name} (numpy and the standard library only)")
    return found


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_keeps_to_its_layer():
    offenders = [v for p in package_files() for v in violations(p, p.read_text("utf-8"))]
    assert not offenders, "layer rule broken:\n" + "\n".join(offenders)


def test_every_module_is_in_a_known_layer():
    assert {layer_of_path(p) for p in package_files()} <= set(ALLOWED)
    top = {p.stem for p in PACKAGE.glob("*.py")}
    extra = sorted(top - TOP - set(SPECIAL))
    assert not extra, f"new top-level modules belong in a layer: {extra}"


def test_mediapipe_is_imported_by_pose_alone():
    users = [
        p
        for p in package_files()
        if "mediapipe" in {n.split(".")[0] for n in imports_of(ast.parse(p.read_text("utf-8")), p)}
    ]
    assert [p.relative_to(ROOT).as_posix() for p in users] == ["posturecam/frames/pose.py"]


@pytest.mark.parametrize(
    ("where", "bad_import", "expected"),
    [
        ("core/judge.py", "import cv2", "core imports cv2"),
        ("core/judge.py", "from posturecam.frames import engine", "core imports"),
        ("core/geometry.py", "from posturecam.live.sessionlog import SessionLog", "(live)"),
        ("frames/engine.py", "from posturecam.research import replay", "(research)"),
        ("live/monitor.py", "from posturecam.research.batch import run_batch", "(research)"),
        ("research/replay.py", "from posturecam.live import control", "(live)"),
        ("profiles.py", "from posturecam.frames.pose import IMAGE", "(frames)"),
        ("research/report.py", "import mediapipe as mp", "only posturecam/frames/pose.py"),
        ("core/coach.py", "from tqdm import tqdm", "core imports tqdm"),
        ("core/temporal.py", "from . import judge\nfrom ..frames import sources", "(frames)"),
        ("__init__.py", "from posturecam.live import monitor", "api imports"),
    ],
)
def test_a_deliberate_bad_import_is_caught(where, bad_import, expected):
    """The rule would fail: the real module with one bad import added is reported."""
    path = PACKAGE / where
    source = (
        path.read_text("utf-8")
        + "\n\ndef _bad():\n"
        + "".join(f"    {line}\n" for line in bad_import.splitlines())
    )
    found = violations(path, source)
    assert any(expected in v for v in found), found
    assert not violations(path, path.read_text("utf-8"))
