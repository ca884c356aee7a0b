"""posturecam.paths: the one place that reads $POSTURECAM_HOME and resolves user folders."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from posturecam import paths

ROOT = Path(__file__).resolve().parents[1]


def test_home_isolates_every_folder(tmp_path):
    env = {"POSTURECAM_HOME": str(tmp_path)}
    assert paths.data_dir(env) == tmp_path
    assert paths.config_dir(env) == tmp_path
    assert paths.cache_root(env) == tmp_path
    assert paths.model_cache_dir(env) == tmp_path / "models"
    assert paths.crash_dir(env) == tmp_path / "crash"


@pytest.mark.parametrize(
    ("resolve", "platform"),
    [
        (paths.data_dir, "user_data_dir"),
        (paths.config_dir, "user_config_dir"),
        (paths.cache_root, "user_cache_dir"),
    ],
)
def test_without_home_each_kind_goes_to_its_platform_folder(
    resolve, platform, monkeypatch, tmp_path
):
    monkeypatch.setattr(f"platformdirs.{platform}", lambda app: str(tmp_path / platform / app))
    for env in ({}, {"POSTURECAM_HOME": ""}):
        assert resolve(env) == tmp_path / platform / "posturecam"


def test_tilde_is_expanded_for_cache_and_config_but_not_for_data(monkeypatch, tmp_path):
    """As before the move: existing profiles and logs keep their folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    env = {"POSTURECAM_HOME": "~/pc"}
    assert paths.cache_root(env) == paths.config_dir(env) == tmp_path / "pc"
    assert paths.data_dir(env) == Path("~/pc")


def test_the_process_environment_is_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("POSTURECAM_HOME", str(tmp_path / "h"))
    assert paths.data_dir() == paths.cache_root() == tmp_path / "h"


def _is_home(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == paths.ENV_HOME


def _reads_home(path: Path) -> bool:
    """Names the variable as a constant, or looks it up (``environ.get``, ``getenv``, ``[...]``)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and _is_home(node.value):
            return True
        called = getattr(node, "func", None)
        if getattr(called, "attr", "") in ("get", "getenv") and any(map(_is_home, node.args)):
            return True
        if isinstance(node, ast.Subscript) and _is_home(node.slice):
            return True
    return False


def test_only_paths_reads_posturecam_home():
    readers = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "posturecam").rglob("*.py")
        if p.name != "paths.py" and _reads_home(p)
    )
    assert not readers, f"ask posturecam.paths for user folders instead: {readers}"


def test_the_scan_sees_each_way_of_reading_it(tmp_path):
    for text in (
        'ENV_HOME = "POSTURECAM_HOME"\n',
        'import os\nh = os.environ.get("POSTURECAM_HOME")\n',
        'import os\nh = os.getenv("POSTURECAM_HOME")\n',
        'import os\nh = os.environ["POSTURECAM_HOME"]\n',
    ):
        (tmp_path / "m.py").write_text(text, encoding="utf-8")
        assert _reads_home(tmp_path / "m.py"), text
    (tmp_path / "m.py").write_text('raise OSError("or set POSTURECAM_HOME")\n', encoding="utf-8")
    assert not _reads_home(tmp_path / "m.py")
