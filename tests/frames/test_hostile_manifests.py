"""Hypothesis-generated manifests (issue 11): valid ones load exactly, hostile ones are refused.

Whatever manifest.csv holds, a folder source either yields the listed images at strictly
increasing, finite times, or raises one SourceError naming the manifest; nothing else.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posturecam.errors import SourceError
from posturecam.frames.sources import FolderSource

NAMES = [f"f{i}.png" for i in range(6)]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("frames")
    for i, name in enumerate(NAMES):
        assert cv2.imwrite(str(path / name), np.full((4, 4, 3), 40 * i, np.uint8))
    return path


def load(folder: Path, text: str | bytes) -> list[tuple[str, float]]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    (folder / "manifest.csv").write_bytes(data)
    with FolderSource(folder) as src:
        return [(f.name, f.t_s) for f in src]


times = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)


@FAST
@given(
    names=st.lists(st.sampled_from(NAMES), min_size=1, unique=True),
    start=times,
    steps=st.lists(st.floats(1e-3, 1e6), min_size=6, max_size=6),
    bom=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    pad=st.sampled_from(["", " ", "\t"]),
)
def test_valid_manifests_load_exactly(folder, names, start, steps, bom, newline, pad):
    t = [start]
    for step in steps[: len(names) - 1]:
        t.append(t[-1] + step)
    if len(set(t)) != len(t):  # a step too small to change a huge start time
        return
    rows = ["file,t_s"] + [f"{pad}{n}{pad},{pad}{v!r}{pad}" for n, v in zip(names, t, strict=False)]
    text = ("\ufeff" if bom else "") + newline.join(rows) + newline
    assert load(folder, text) == list(zip(names, t, strict=False))  # t_s bit for bit


cell = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "", " ", '"', "0x10", "1_0", "nope.png"]),
    st.text(max_size=6),
    times.map(repr),
)
line = st.lists(cell, min_size=0, max_size=4).map(",".join)


@FAST
@given(
    header=st.sampled_from(["file,t_s", "File, T_S ", "t_s,file", "", "file"]),
    lines=st.lists(line, max_size=8),
    junk=st.binary(max_size=8),
)
def test_hostile_manifests_load_checked_or_are_one_source_error(folder, header, lines, junk):
    data = ("\n".join([header, *lines]) + "\n").encode("utf-8", "surrogatepass") + junk
    try:
        rows = load(folder, data)
    except SourceError as exc:
        assert "manifest.csv" in str(exc)
        return
    assert rows and all(name in NAMES for name, _ in rows)
    stamps = [t for _, t in rows]
    assert all(math.isfinite(t) for t in stamps)
    assert all(a < b for a, b in itertools.pairwise(stamps))
    assert len({name for name, _ in rows}) == len(rows)
