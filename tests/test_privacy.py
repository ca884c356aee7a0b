"""What README's Privacy section promises, checked: no internet from MediaPipe's logging client
on Linux, files that follow the umask, and no PortAudio search (ldconfig, gcc, ld) at start-up.

Everything that could cut a process off the internet runs in a child process: a seccomp
filter cannot be removed, and the test process must keep its network and stay unfiltered.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_FRAMES

from posturecam.frames import netguard, pose
from posturecam.storage import atomic_open, write_json

LINUX_GUARD = sys.platform.startswith("linux") and os.uname().machine in netguard._ABIS
needs_guard = pytest.mark.skipif(not LINUX_GUARD, reason="the network guard is Linux-only")

_SOCKET = re.compile(r"\bsocket\((AF_INET6?)\b.*\)\s*=\s*(-?\d+)")
_ADDRESSED = re.compile(r"\b(connect|bind|sendto|sendmsg|sendmmsg)\(.*?sa_family=(\w+)")


def internet_use(trace: str) -> list[str]:
    """strace lines where the process got an internet socket or addressed a non-Unix peer."""
    bad = []
    for line in trace.splitlines():
        opened = _SOCKET.search(line)
        if opened and int(opened.group(2)) >= 0:
            bad.append(line)
        addressed = _ADDRESSED.search(line)
        if addressed:
            call, family = addressed.groups()
            # Any connect but to a Unix socket; bind/send only with an internet address.
            if family != "AF_UNIX" if call == "connect" else family in ("AF_INET", "AF_INET6"):
                bad.append(line)
    return bad


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != pose.ENV_ALLOW_NETWORK}
    env.update(extra)
    return env


def strace_replay(tmp_path: Path, model_path: Path, **env: str) -> tuple[str, Path]:
    """Run ``python -m posturecam replay`` on hopper under strace; return the trace and --out."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (.ci/run installs it with apt-get)")
    out = tmp_path / "out"
    trace = tmp_path / "trace"
    cmd = ["strace", "-f", "-ff", "-e", "trace=network", "-e", "signal=none", "-o", str(trace)]
    cmd += [sys.executable, "-m", "posturecam", "replay", str(SAMPLE_FRAMES / "hopper")]
    cmd += ["--out", str(out), "--no-progress"]
    done = subprocess.run(
        cmd,
        cwd=ROOT,
        env=child_env(POSTURECAM_MODEL=str(model_path), **env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr
    assert (out / "frames.csv").stat().st_size > 1000
    # -ff: one file per thread, so no syscall is split over "unfinished"/"resumed" lines.
    text = "\n".join(p.read_text() for p in sorted(tmp_path.glob("trace.*")))
    return text, out


# --------------------------------------------------------------------------- network


@pytest.mark.integration
@needs_guard
def test_replay_opens_no_internet_socket(model_path, tmp_path):
    trace, _ = strace_replay(tmp_path, model_path)
    assert internet_use(trace) == []


@pytest.mark.integration
@needs_guard
def test_the_strace_check_sees_mediapipe_reach_out_without_the_guard(model_path, tmp_path):
    """The control for the test above: unguarded, the same check finds MediaPipe's sockets."""
    trace, _ = strace_replay(tmp_path, model_path, **{pose.ENV_ALLOW_NETWORK: "1"})
    if not internet_use(trace):
        pytest.skip("this MediaPipe opens no internet socket even without the guard")
    assert any("AF_INET" in line for line in internet_use(trace))


_GUARD_CHILD = textwrap.dedent(
    """
    import ctypes, errno, json, socket, subprocess, sys, threading
    from posturecam.frames import netguard

    go, seen = threading.Event(), {}

    def early_thread():  # started before the filter, like MediaPipe's own threads
        go.wait()
        try:
            socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close()
            seen["thread"] = "opened"
        except OSError as exc:
            seen["thread"] = exc.errno

    thread = threading.Thread(target=early_thread)
    thread.start()
    status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
    result = netguard.deny_internet()
    go.set()
    thread.join()
    report = {"denied": result.denied, "reason": result.reason, "thread": seen["thread"]}
    report["cap_sys_admin"] = bool(int(status["CapEff"], 16) >> 21 & 1)
    for name, family, kind in [("tcp4", socket.AF_INET, socket.SOCK_STREAM),
                               ("udp4", socket.AF_INET, socket.SOCK_DGRAM),
                               ("tcp6", socket.AF_INET6, socket.SOCK_STREAM)]:
        try:
            socket.socket(family, kind).close()
            report[name] = "opened"
        except OSError as exc:
            report[name] = exc.errno
    a, b = socket.socketpair()  # Unix sockets: D-Bus notifications, multiprocessing
    a.send(b"x")
    report["unix"] = b.recv(1).decode()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    params = ctypes.create_string_buffer(120)
    report["io_uring"] = ctypes.get_errno() if libc.syscall(425, 1, params) < 0 else "created"
    child = subprocess.run([sys.executable, "-c", "import socket; socket.socket()"])
    report["child_blocked"] = child.returncode != 0
    print(json.dumps(report))
    """
)


@needs_guard
def test_deny_internet_works_unprivileged_in_every_thread_and_child():
    prefix: list[str] = []
    if os.geteuid() == 0:  # drop CAP_SYS_ADMIN: seccomp must then work as for any user
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv to drop CAP_SYS_ADMIN")
        prefix = ["setpriv", "--bounding-set=-sys_admin"]
    done = subprocess.run(
        [*prefix, sys.executable, "-c", _GUARD_CHILD],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["cap_sys_admin"] is False
    assert report["denied"] is True, report["reason"]
    eacces = 13
    assert [report[k] for k in ("thread", "tcp4", "udp4", "tcp6")] == [eacces] * 4
    assert report["unix"] == "x"
    assert report["io_uring"] == 38  # ENOSYS: its socket operation would bypass the filter
    assert report["child_blocked"] is True


def test_deny_internet_elsewhere_says_why_and_changes_nothing(monkeypatch):
    monkeypatch.setattr(netguard, "_state", None)
    monkeypatch.setattr(netguard.sys, "platform", "darwin")
    result = netguard.deny_internet()
    assert (result.denied, result.reason) == (False, "not available on darwin")
    assert not netguard.is_denied()


@pytest.fixture
def guard_calls(monkeypatch):
    """Record deny_internet calls instead of cutting the test process off the network."""
    calls: list[int] = []

    def fake() -> netguard.GuardResult:
        calls.append(1)
        return netguard.GuardResult(True)

    monkeypatch.setattr(netguard, "deny_internet", fake)
    monkeypatch.delenv(pose.ENV_ALLOW_NETWORK, raising=False)
    monkeypatch.setitem(sys.modules, "distributed", None)
    return calls


@pytest.mark.parametrize(
    "argv0", ["/venv/bin/posturecam", str(ROOT / "posturecam" / "__main__.py")]
)
def test_the_posturecam_command_is_guarded(guard_calls, monkeypatch, argv0):
    monkeypatch.setattr(sys, "argv", [argv0, "replay"])
    assert pose.deny_network().denied
    assert guard_calls == [1]


def test_a_program_that_imports_posturecam_decides_itself(guard_calls, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/jupyter-notebook"])
    result = pose.deny_network()
    assert not result.denied and "offline=True" in result.reason
    assert pose.deny_network(offline=True).denied
    assert guard_calls == [1]


def test_allow_network_and_offline_false_leave_the_network(guard_calls, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/posturecam"])
    assert not pose.deny_network(offline=False).denied
    monkeypatch.setenv(pose.ENV_ALLOW_NETWORK, "1")
    assert not pose.deny_network().denied
    assert guard_calls == []


def test_a_guard_that_cannot_be_installed_is_reported_once(monkeypatch, caplog):
    monkeypatch.setattr(netguard, "_state", None)
    monkeypatch.setattr(netguard, "_deny", lambda: netguard.GuardResult(False, "seccomp failed"))
    monkeypatch.setattr(pose.sys, "platform", "linux")
    monkeypatch.delenv(pose.ENV_ALLOW_NETWORK, raising=False)
    for _ in range(2):
        assert not pose.deny_network(offline=True).denied
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["posturecam could not block MediaPipe's network access: seccomp failed"]


def test_dask_workers_and_clients_keep_the_network(guard_calls, monkeypatch):
    class FakeDistributed:
        @staticmethod
        def get_worker() -> object:
            return object()

        @staticmethod
        def default_client() -> object:
            raise ValueError("No clients found")

    monkeypatch.setattr(sys, "argv", ["/venv/bin/posturecam"])  # spawned from the command
    monkeypatch.setitem(sys.modules, "distributed", FakeDistributed)
    assert pose.deny_network().reason == "Dask needs the network"
    assert guard_calls == []


def test_a_real_dask_worker_is_recognised():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert client.submit(pose._dask_in_use, pure=False).result(timeout=60) is True


# --------------------------------------------------------------------------- start-up


_IMPORT_CHILD = textwrap.dedent(
    """
    import json, subprocess, sys
    import numpy as np

    ran = []
    real_init = subprocess.Popen.__init__

    def spy(self, args, *a, **k):
        ran.append(args if isinstance(args, str) else " ".join(map(str, args)))
        real_init(self, args, *a, **k)

    subprocess.Popen.__init__ = spy
    from posturecam.frames.pose import MediaPipePose
    from posturecam.core.types import Frame

    model = sys.argv[1]
    with MediaPipePose(model, offline=False) as estimator:
        estimator.detect(Frame(np.zeros((64, 64, 3), np.uint8), 0.0, 0, "black"))
    report = {"ran": list(ran)}
    report["loaded"] = sorted(
        m for m in ("sounddevice", "matplotlib", "mediapipe.tasks.python.audio") if m in sys.modules
    )
    # Code that does use the full package still gets it, on first use.
    import mediapipe as mp
    from mediapipe.tasks.python import vision

    report["full"] = [mp.Image.__name__, vision.FaceDetector.__name__]
    report["full"].append(mp.tasks.BaseOptions.__name__)
    print(json.dumps(report))
    """
)


@pytest.mark.integration
def test_a_pose_estimator_loads_no_audio_or_plotting_and_runs_no_compiler(model_path):
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_CHILD, str(model_path)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ran"] == []  # ctypes.util.find_library("portaudio") runs ldconfig, gcc, ld
    assert report["loaded"] == []
    assert report["full"] == ["Image", "FaceDetector", "BaseOptions"]


@pytest.mark.parametrize(
    "first", ["import mediapipe", "from mediapipe.tasks.python import vision", "pass"]
)
def test_the_pose_api_imports_whatever_was_imported_before(first):
    code = (
        f"{first}\nimport posturecam.frames.pose as p\nprint(p._pose_api().PoseLandmarker.__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["PoseLandmarker"]


# --------------------------------------------------------------------------- file modes


@pytest.fixture
def umask():
    """Set the process umask for one test, then restore it."""
    saved = os.umask(0o022)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(saved)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no Unix permission bits")
@pytest.mark.parametrize(("mask", "expected"), [(0o077, 0o600), (0o022, 0o644), (0o002, 0o664)])
def test_atomic_writes_follow_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    write_json(tmp_path / "summary.json", {"ok": True})
    with atomic_open(tmp_path / "frames.bin", "wb") as fh:
        fh.write(b"\0")
    (tmp_path / "old.json").write_text("{}")
    os.chmod(tmp_path / "old.json", 0o644)
    write_json(tmp_path / "old.json", {})  # replacing a file gives it the new mode too
    for name in ("summary.json", "frames.bin", "old.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == expected, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames.bin", "old.json", "summary.json"]
