"""Typed Parquet export of the frames table, and reading frames back as typed numpy arrays."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posturecam.cli import advice
from posturecam.core.geometry import METRICS
from posturecam.errors import OutputError
from posturecam.research.outputs import (
    COLUMN_TYPES,
    COLUMNS,
    read_frames,
    write_frames_csv,
    write_frames_parquet,
)
from posturecam.research.run_folder import FRAMES, FRAMES_PARQUET

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

MISSING = "head_forward_z"  # left out of the columns: written as all null / unknown


def sample_columns(rows: int = 12, seed: int = 3) -> dict[str, Any]:
    """Engine-like columns: Python lists with None, numpy floats with NaN, awkward strings."""
    rng = np.random.default_rng(seed)
    n = 12
    # 6 significant digits at most, so CSV (which rounds to 6) and Parquet agree exactly.
    metrics = {m: np.round(rng.uniform(0.1, 0.9, n), 4) for m in METRICS if m != MISSING}
    for values in metrics.values():
        values[[2, 7]] = np.nan
    score = np.round(rng.uniform(0, 100, n), 2)
    score[[2, 5, 7]] = np.nan
    slouched = np.where(np.isnan(score), np.nan, (score < 50).astype(float))
    detected: list[bool | None] = [True] * n
    detected[5] = False
    detected[7] = None  # unusable frame
    columns = {
        "frame": np.arange(n),
        "t_s": np.arange(n) * 0.25,
        "source": [f'frame "{i}", été.jpg' for i in range(n)],
        "detected": detected,
        "view": np.array(["front"] * (n - 1) + [""], dtype=object),
        **metrics,
        "head_scale": np.round(rng.uniform(0.9, 1.1, n), 4),
        "score": score,
        "slouched": slouched,
        "state": ["upright"] * (n // 2) + ["slouching"] * (n - n // 2),
        "issues": ["" if i % 3 else "head_drop;leaning_in" for i in range(n)],
        "reason": ["" if i != 2 else "ears not visible" for i in range(n)],
    }
    return {name: values[:rows] for name, values in columns.items()}


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype.kind == b[name].dtype.kind, name
        if a[name].dtype.kind == "f":
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        else:
            assert a[name].tolist() == b[name].tolist(), name


def test_column_table_matches_the_csv_contract() -> None:
    assert tuple(COLUMN_TYPES) == COLUMNS


def test_round_trip_is_typed(tmp_path: Path) -> None:
    cols = sample_columns()
    path = tmp_path / FRAMES_PARQUET
    write_frames_parquet(path, cols)
    schema = pq.read_schema(path)
    assert schema.names == list(COLUMNS)
    expected = {
        "frame": pa.int64(),
        "t_s": pa.float64(),
        "source": pa.string(),
        "detected": pa.bool_(),
        "score": pa.float64(),
        "slouched": pa.bool_(),
        "state": pa.string(),
        MISSING: pa.float64(),
    }
    for name, dtype in expected.items():
        assert schema.field(name).type == dtype, name

    table = pq.read_table(path)
    # unknowns are real nulls, not NaN or ""
    assert table.column("detected").to_pylist() == cols["detected"]
    slouched = table.column("slouched").to_pylist()
    assert slouched[2] is None and slouched[5] is None and slouched[7] is None
    assert slouched[0] is bool(cols["score"][0] < 50)
    assert table.column("score").null_count == 3
    assert table.column("head_height").null_count == 2
    assert table.column(MISSING).null_count == len(cols["frame"])
    # "" is a value (no issues), only None is null
    assert table.column("issues").null_count == 0
    assert table.column("issues").to_pylist()[:2] == ["head_drop;leaning_in", ""]
    assert table.column("source").to_pylist()[1] == 'frame "1", été.jpg'


def test_parquet_reads_back_like_the_csv(tmp_path: Path) -> None:
    cols = sample_columns()
    write_frames_csv(tmp_path / FRAMES, cols)
    write_frames_parquet(tmp_path / FRAMES_PARQUET, cols)
    from_csv = read_frames(tmp_path)  # a folder means its frames.csv
    from_parquet = read_frames(tmp_path / FRAMES_PARQUET)
    assert_same(from_csv, from_parquet)
    assert from_csv["frame"].dtype == np.int64
    np.testing.assert_array_equal(from_csv["detected"][[0, 5, 7]], [1.0, 0.0, np.nan])
    assert np.isnan(from_csv[MISSING]).all()
    np.testing.assert_array_equal(from_csv["score"], cols["score"])
    assert from_csv["view"][-1] == "" and from_csv["source"][1] == 'frame "1", été.jpg'


def test_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / FRAMES_PARQUET
    write_frames_parquet(path, sample_columns(rows=4))
    write_frames_parquet(path, sample_columns(rows=9))
    assert pq.read_table(path).num_rows == 9
    assert [p.name for p in tmp_path.iterdir()] == [FRAMES_PARQUET]  # no temp files left


def test_empty_and_ragged_columns(tmp_path: Path) -> None:
    write_frames_parquet(tmp_path / "empty.parquet", {})
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0
    cols = sample_columns(rows=5)
    cols["score"] = cols["score"][:3]
    with pytest.raises(ValueError, match="score"):
        write_frames_parquet(tmp_path / "bad.parquet", cols)
    assert not (tmp_path / "bad.parquet").exists()


def test_older_csv_without_some_columns(tmp_path: Path) -> None:
    path = tmp_path / FRAMES
    path.write_text("frame,t_s,score,extra\n0,0,50,x\n1,0.5,,y\n", encoding="utf-8")
    frames = read_frames(path)
    assert list(frames)[: len(COLUMNS)] == list(COLUMNS) and frames["extra"].tolist() == ["x", "y"]
    np.testing.assert_array_equal(frames["score"], [50.0, np.nan])
    assert frames["state"].tolist() == ["", ""] and np.isnan(frames["slouched"]).all()


def test_bad_csv_value_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / FRAMES).write_text("frame,t_s\n0,soon\n", encoding="utf-8")
    with pytest.raises(OutputError, match="t_s"):
        read_frames(tmp_path)
    with pytest.raises(OutputError, match="replay a source") as missing:
        read_frames(tmp_path / "nowhere")
    assert "run `posturecam replay SOURCE --out DIR` first" in advice.render(missing.value)


def test_pyarrow_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_frames_csv(tmp_path / "ok.parquet", {"frame": [0]})  # any file; it is never opened
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    message = r"^Parquet export needs pyarrow: pip install 'posturecam\[parquet\]'$"
    with pytest.raises(OutputError, match=message):
        write_frames_parquet(tmp_path / FRAMES_PARQUET, sample_columns(rows=3))
    assert not (tmp_path / FRAMES_PARQUET).exists()
    with pytest.raises(OutputError, match=message):
        read_frames(tmp_path / "ok.parquet")
