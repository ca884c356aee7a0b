"""The public face: ``import posturecam`` is fast, its names resolve, and the README's
"Use from Python" example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import posturecam

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "cv2", "mediapipe")
HEADING = "Use from Python"


def _fresh(code: str, cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_import_posturecam_loads_no_numpy_opencv_or_mediapipe():
    done = _fresh(
        "import sys, posturecam\n"
        "posturecam.PosturecamError, posturecam.Remedy, posturecam.__version__\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_public_name_resolves_to_its_definition():
    from posturecam.core.types import Frame, Landmarks
    from posturecam.errors import PosturecamError
    from posturecam.research.outputs import read_frames
    from posturecam.research.replay import replay
    from posturecam.research.rescore import rescore

    assert posturecam.replay is replay and posturecam.rescore is rescore
    assert posturecam.read_frames is read_frames
    assert posturecam.Frame is Frame and posturecam.Landmarks is Landmarks
    assert posturecam.PosturecamError is PosturecamError
    for name in posturecam.__all__:
        assert getattr(posturecam, name) is not None, name
    assert set(posturecam.__all__) <= set(dir(posturecam))
    errors = [n for n in posturecam.__all__ if n.endswith(("Error", "Unavailable"))]
    assert all(issubclass(getattr(posturecam, n), PosturecamError) for n in errors)


def test_unknown_names_are_attribute_errors_and_submodules_still_import():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = posturecam.nope
    from posturecam import paths, profiles

    assert profiles.__name__ == "posturecam.profiles" and paths.__name__ == "posturecam.paths"


def readme_example(readme: Path) -> str | None:
    """The ```python blocks of the "Use from Python" section, joined; None without one."""
    level, blocks, block, fence = 0, [], None, False
    for line in readme.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("```"):
            fence = not fence
            if level and fence and line.strip() == "```python":
                block = []
            elif block is not None:
                blocks.append("".join(block))
                block = None
            continue
        heading = None if fence else re.match(r"(#+)\s+(.*?)\s*$", line)
        if heading and level and len(heading.group(1)) <= level:
            break  # the next section
        if heading and heading.group(2) == HEADING:
            level = len(heading.group(1))
        elif block is not None:
            block.append(line)
    if not level:
        return None
    assert blocks, f'README section "{HEADING}" has no ```python block'
    return "\n".join(blocks)


def test_the_readme_example_is_found_under_its_heading(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n## Other\n\n```python\nno\n```\n", encoding="utf-8")
    assert readme_example(readme) is None
    readme.write_text(
        f"## {HEADING}\n\ntext\n\n```python\nyes = 1\n```\n\n### More\n\n```python\nand_ = 2\n```\n"
        "\n## Next\n\n```python\nno\n```\n",
        encoding="utf-8",
    )
    assert readme_example(readme) == "yes = 1\n\nand_ = 2\n"
    readme.write_text(
        f"## {HEADING}\n\n```python\n# a comment, not a heading\nx = 1\n```\n", encoding="utf-8"
    )
    assert readme_example(readme) == "# a comment, not a heading\nx = 1\n"


def test_the_readme_example_runs(tmp_path, model_path, monkeypatch):
    code = readme_example(ROOT / "README.md")
    if code is None:
        pytest.skip(f'README.md has no "{HEADING}" section yet (the lead merges it)')
    (tmp_path / "sample_frames").symlink_to(ROOT / "sample_frames")
    monkeypatch.setenv("POSTURECAM_MODEL", str(model_path))
    done = _fresh(code, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "frames," in done.stdout and "frames.csv identical: True" in done.stdout
    assert "posturecam says: no such run folder" in done.stdout
    assert (tmp_path / "runs" / "hopper" / "frames.csv").is_file()
