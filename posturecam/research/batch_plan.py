"""Plan a batch: the sources its paths and globs name, and a stable folder for each one.

A glob's matches come in natural order, the same file named twice runs once,
a spec matching nothing is kept (so it is reported, not silently dropped), and
every source gets a readable folder name that works on every file system.
"""

from __future__ import annotations

import errno
import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from posturecam.frames.sources import natural_key
from posturecam.research.run_folder import BATCH_FILE

_GLOB_MAGIC = re.compile(r"[*?[]")
_UNSAFE = re.compile(r"[^\w.-]+")
_JOIN = "__"  # between a parent folder's name and the source's, e.g. "s1__cam"


@dataclass(frozen=True)
class BatchItem:
    """One source of a batch and the folder its results go to."""

    spec: str  # what the user wrote (a path or a glob)
    source: str  # absolute path of the source
    out_dir: Path
    error: str = ""  # known before running, e.g. "no such file or folder"


def has_magic(text: str) -> bool:
    return bool(_GLOB_MAGIC.search(text))


def identity(path: str) -> str:
    """Two specs naming the same file (relative, absolute, via a symlink) are one source."""
    return os.path.normcase(os.path.realpath(path))


def expand(specs: Sequence[str]) -> list[tuple[str, str]]:
    """(spec, source) pairs; see ``expand_sources``."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for spec in specs:
        text = os.path.expanduser(str(spec))
        matches = [text]
        if has_magic(text):
            found = sorted(glob.glob(text, recursive=True), key=natural_key)
            matches = found or [text]  # kept, so it is reported as missing
        for match in matches:
            source = match.rstrip("/" + os.sep) or match  # 'C/*/' gives 'C/a/'
            key = identity(source)
            if key not in seen:
                seen.add(key)
                pairs.append((str(spec), source))
    return pairs


def expand_sources(specs: Sequence[str]) -> list[str]:
    """Sources named by paths and globs ('C/*/', '*.mp4', 'data/**/*.avi'), in a stable order.

    Specs keep the order given; a glob's matches are in natural order (s2 before
    s10). A spec matching nothing is kept, so the batch reports it instead of
    silently running fewer sources. The same file named twice runs once.
    """
    return [source for _, source in expand(specs)]


def _safe(name: str) -> str:
    """A folder name that works on every file system and in a shell."""
    name = _UNSAFE.sub("_", name).lstrip(".")
    return name or "source"


def _leaf(path: str) -> tuple[str, str]:
    """(short name, name with its extension) of a source: a folder's name or a video's stem."""
    p = Path(path)
    if os.path.isdir(path) or not p.suffix:
        return _safe(p.name), _safe(p.name)
    return _safe(p.stem), _safe(f"{p.stem}_{p.suffix.lstrip('.')}")


def _folder_names(paths: Sequence[str]) -> list[str]:
    """Unique, readable folder names: the source's name, plus what tells colliding ones apart.

    Colliding names get the nearest parent folder whose name differs between
    them ('s1__cam', 's2__cam'); a video and a folder of one name in one folder
    get the extension ('x_mp4'); anything still equal gets a numeric suffix.
    """
    leaves = [_leaf(p) for p in paths]
    names = [short for short, _ in leaves]
    parents = [[_safe(c) for c in reversed(Path(p).parent.parts[1:])] for p in paths]

    def split(group: list[int], start: int) -> None:
        depth = max(len(parents[i]) for i in group)
        for level in range(start, depth):
            parts = [parents[i][level] if level < len(parents[i]) else "" for i in group]
            if len({c.casefold() for c in parts}) > 1:
                for i, part in zip(group, parts, strict=True):
                    if part:
                        names[i] = f"{part}{_JOIN}{names[i]}"
                for sub in _collisions(names, group):
                    split(sub, level + 1)
                return
        if len({leaves[i][1].casefold() for i in group}) > 1:
            for i in group:
                names[i] = names[i][: -len(leaves[i][0])] + leaves[i][1]

    for group in _collisions(names, range(len(paths))):
        split(group, 0)

    taken: set[str] = {BATCH_FILE}
    unique = []
    for name in names:
        candidate, k = name, 2
        while candidate.casefold() in taken:
            candidate, k = f"{name}-{k}", k + 1
        taken.add(candidate.casefold())
        unique.append(candidate)
    return unique


def _collisions(names: list[str], indices: Sequence[int]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i in indices:
        groups.setdefault(names[i].casefold(), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def _missing(spec: str, source: str) -> str:
    if os.path.exists(source):
        return ""
    if os.path.lexists(source):  # a link that leads nowhere: say which way
        try:
            os.stat(source)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"{spec} is a symlink loop; point it at the real folder or video"
        return f"{spec} is a link to a missing file or folder"
    if has_magic(spec):
        return f"'{spec}' matches no file or folder"
    if spec.strip().isdigit():
        return f"no file or folder named {spec}; a batch replays recordings, not cameras"
    return f"no such file or folder: {spec}"


def plan(
    sources: Sequence[str], out_root: str | Path, *, specs: Sequence[str] | None = None
) -> list[BatchItem]:
    """One output folder per source under ``out_root``, named after the source.

    ``specs`` (what the user typed, one per source) is only recorded; it
    defaults to the sources themselves.
    """
    specs = list(sources) if specs is None else list(specs)
    if len(specs) != len(sources):
        raise ValueError("specs must name one spec per source")
    root = Path(os.path.abspath(os.path.expanduser(out_root)))
    paths = [os.path.abspath(os.path.expanduser(s)) for s in sources]
    names = _folder_names(paths)
    return [
        BatchItem(str(spec), path, root / name, _missing(str(spec), path))
        for spec, path, name in zip(specs, paths, names, strict=True)
    ]
