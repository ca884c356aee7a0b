"""Read-only and full destinations found before the expensive work (issue 11, class 3).

The batch's --out, a batch source's own folder and the profile folder of calibrate are
made unwritable by injection (EACCES, EROFS, ENOSPC on file creation), so it works as root.
"""

from __future__ import annotations

import errno
import os

import pytest
import test_cli
from batch_fakes import PixelPose, calls_made
from test_batch import MODEL_INFO, OPTIONS, make_folder
from test_cli import run
from test_data_loss import _deny_writes

from posturecam import profiles
from posturecam.cli import advice
from posturecam.errors import OutputError
from posturecam.research.batch import run_batch

ERRORS = [errno.EACCES, errno.EROFS, errno.ENOSPC]
fakes = test_cli.fakes  # the fake model fixture


@pytest.mark.parametrize("err", ERRORS)
def test_unwritable_batch_out_fails_before_any_model_runs(tmp_path, monkeypatch, err):
    src = make_folder(tmp_path / "alpha", 10, 0.5, (99.0, 99.0))
    out = tmp_path / "out"
    out.mkdir()
    _deny_writes(monkeypatch, out, err)
    calls = str(tmp_path / "calls.txt")
    cli_remedy = (
        "free some disk space or choose another --out folder"
        if err == errno.ENOSPC
        else "choose a folder you can write to with --out"
    )
    with pytest.raises(OutputError, match=rf"{out}/batch.json \({os.strerror(err)}\); ") as e:
        run_batch([str(src)], out, PixelPose(calls=calls), OPTIONS, MODEL_INFO, progress=False)
    assert advice.render(e.value).endswith(f"); {cli_remedy}")  # the CLI's words, as before
    assert "--" not in str(e.value)  # Python users get the flag-free words
    assert calls_made(calls) == 0 and list(out.iterdir()) == []


def test_an_unwritable_source_folder_fails_that_source_only(tmp_path, monkeypatch):
    a = make_folder(tmp_path / "alpha", 10, 0.5, (99.0, 99.0))
    b = make_folder(tmp_path / "beta", 10, 0.5, (99.0, 99.0))
    out = tmp_path / "out"
    _deny_writes(monkeypatch, out / "alpha", errno.EROFS)
    calls = str(tmp_path / "calls.txt")
    result = run_batch([str(a), str(b)], out, PixelPose(calls=calls), OPTIONS, MODEL_INFO,
                       progress=False)  # fmt: skip
    assert [i["status"] for i in result.items] == ["failed", "done"]
    assert "Read-only file system" in result.items[0]["error"]
    assert calls_made(calls) == 1  # the model ran for beta only


@pytest.mark.parametrize("err", ERRORS)
def test_calibrate_into_an_unwritable_profile_folder_fails_in_one_line(
    fakes,
    tmp_path,
    monkeypatch,
    capsys,
    err,
):
    src = make_folder(tmp_path / "alpha", 20, 0.5, (99.0, 99.0))
    folder = profiles.profile_path("desk").parent
    folder.mkdir(parents=True, exist_ok=True)
    _deny_writes(monkeypatch, folder, err)
    code, out, msg = run(capsys, "calibrate", "--profile", "desk", "--source", src,
                         "--no-progress")  # fmt: skip
    assert code == 2, (out, msg)
    assert msg.startswith("posturecam: error: ") and msg.count("\n") == 1, msg
    assert str(folder) in msg and "Traceback" not in msg
    assert list(folder.iterdir()) == []
