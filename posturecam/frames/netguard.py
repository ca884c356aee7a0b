"""Deny this process internet sockets on Linux, unprivileged, so nothing can phone home.

MediaPipe's native library (0.10.35 and later) starts a logging client that posts usage
records to ``play.googleapis.com`` from its own thread (mediapipe issue 6291), with no
switch to turn it off. A seccomp filter is the one tool that reaches native threads, needs
no privileges and cannot be undone by the library: after ``deny_internet()``,
``socket(AF_INET | AF_INET6, ...)`` fails with EACCES in every thread of the process and in
every child it starts (and io_uring, which could open sockets around it, is refused with
ENOSYS). Unix sockets (D-Bus notifications, multiprocessing), pipes and
files keep working, as do internet sockets opened before the call.

It is a one-way door: call it only after everything that needs the network (a model
download) is done. This guards against a library's telemetry, not against hostile code.
"""

from __future__ import annotations

import errno
import os
import sys
from dataclasses import dataclass

__all__ = ["GuardResult", "deny_internet", "is_denied", "last_result"]

# <linux/filter.h>, <linux/seccomp.h>, <linux/prctl.h>
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
# struct seccomp_data: int nr; u32 arch; u64 ip; u64 args[6] (low word first: little endian)
_OFF_NR, _OFF_ARCH, _OFF_ARG0 = 0, 4, 16
_AF_INET, _AF_INET6 = 2, 10  # Linux values; the socket module is not needed for two numbers


@dataclass(frozen=True)
class _Abi:
    """Syscall numbers the filter needs for one CPU architecture."""

    audit_arch: int
    seccomp: int
    socket: tuple[int, ...]  # socket(2); x32 shares x86_64's arch tag with a marked number
    io_uring_setup: tuple[int, ...]  # its IORING_OP_SOCKET would bypass the filter
    compat_arch: int  # the 32-bit ABI the same process could still enter
    compat_socket: int
    compat_socketcall: int | None  # denied whole: the family it gets is in unreadable memory
    compat_io_uring_setup: int


_X32 = 0x40000000
_ABIS = {
    "x86_64": _Abi(0xC000003E, 317, (41, 41 | _X32), (425, 425 | _X32), 0x40000003, 359, 102, 425),
    "aarch64": _Abi(0xC00000B7, 277, (198,), (425,), 0x40000028, 281, None, 425),
}


@dataclass(frozen=True)
class GuardResult:
    """Whether internet sockets are now denied, and if not, why not."""

    denied: bool
    reason: str = ""


_state: GuardResult | None = None


def is_denied() -> bool:
    """True once ``deny_internet`` has installed the filter in this process."""
    return _state is not None and _state.denied


def last_result() -> GuardResult | None:
    """What the first ``deny_internet`` call found, or None before it (it is not retried)."""
    return _state


def _program(abi: _Abi) -> list[tuple[int, int, int, int]]:
    """The BPF program as (code, jt, jf, k) rows; jumps are resolved from labels."""
    eacces = _RET_ERRNO | errno.EACCES
    enosys = _RET_ERRNO | errno.ENOSYS
    rows: list[tuple[int, str | int, str | int, int] | str] = [
        (_LD_W_ABS, 0, 0, _OFF_ARCH),
        (_JEQ_K, 0, "compat", abi.audit_arch),
        (_LD_W_ABS, 0, 0, _OFF_NR),
        *[(_JEQ_K, "family", 0, nr) for nr in abi.socket],
        *[(_JEQ_K, "enosys", 0, nr) for nr in abi.io_uring_setup],
        (_RET_K, 0, 0, _RET_ALLOW),
        "compat",
        (_JEQ_K, 0, "allow", abi.compat_arch),
        (_LD_W_ABS, 0, 0, _OFF_NR),
        (_JEQ_K, "family", 0, abi.compat_socket),
        *([] if abi.compat_socketcall is None else [(_JEQ_K, "eacces", 0, abi.compat_socketcall)]),
        (_JEQ_K, "enosys", 0, abi.compat_io_uring_setup),
        "allow",
        (_RET_K, 0, 0, _RET_ALLOW),
        "family",
        (_LD_W_ABS, 0, 0, _OFF_ARG0),
        (_JEQ_K, "eacces", 0, _AF_INET),
        (_JEQ_K, "eacces", 0, _AF_INET6),
        (_RET_K, 0, 0, _RET_ALLOW),
        "eacces",
        (_RET_K, 0, 0, eacces),
        "enosys",
        (_RET_K, 0, 0, enosys),
    ]
    labels: dict[str, int] = {}
    for row in rows:
        if isinstance(row, str):
            labels[row] = sum(not isinstance(r, str) for r in rows[: rows.index(row)])
    code_rows = [row for row in rows if not isinstance(row, str)]

    def offset(target: str | int, index: int) -> int:
        # BPF jumps count from the instruction after this one.
        return target if isinstance(target, int) else labels[target] - index - 1

    return [
        (code, offset(jt, i), offset(jf, i), k) for i, (code, jt, jf, k) in enumerate(code_rows)
    ]


def _install(abi: _Abi) -> GuardResult:
    import ctypes  # here, not at import: most runs of posturecam.frames.pose never get this far

    class SockFilter(ctypes.Structure):
        _fields_ = [
            ("code", ctypes.c_ushort),
            ("jt", ctypes.c_ubyte),
            ("jf", ctypes.c_ubyte),
            ("k", ctypes.c_uint32),
        ]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    libc = ctypes.CDLL(None, use_errno=True)
    # Without privileges the kernel accepts a filter only from a process that promises not
    # to gain any through exec (setuid programs then run without their extra rights).
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return GuardResult(False, f"prctl(NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
    rows = _program(abi)
    filters = (SockFilter * len(rows))(*(SockFilter(*row) for row in rows))
    prog = SockFprog(len(rows), filters)
    libc.syscall.restype = ctypes.c_long
    # TSYNC puts the filter on every thread already running (MediaPipe's, OpenCV's), not
    # only on this one; threads started later inherit it.
    rc = libc.syscall(
        ctypes.c_long(abi.seccomp),
        ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
        ctypes.c_long(_SECCOMP_FILTER_FLAG_TSYNC),
        ctypes.byref(prog),
    )
    if rc == 0:
        return GuardResult(True)
    if rc > 0:
        return GuardResult(False, f"seccomp could not synchronise thread {rc}")
    return GuardResult(False, f"seccomp failed: {os.strerror(ctypes.get_errno())}")


def deny_internet() -> GuardResult:
    """Make every later ``socket(AF_INET|AF_INET6)`` of this process fail with EACCES.

    Idempotent; returns why not where it cannot (not Linux, an unknown CPU, an old kernel,
    a container that forbids seccomp), and then changes nothing.
    """
    global _state
    if _state is None:
        _state = _deny()
    return _state


def _deny() -> GuardResult:
    if not sys.platform.startswith("linux"):
        return GuardResult(False, f"not available on {sys.platform}")
    machine = os.uname().machine
    abi = _ABIS.get(machine)
    if abi is None or sys.maxsize < 2**32:
        bits = 64 if sys.maxsize > 2**32 else 32
        return GuardResult(False, f"not available on {machine} ({bits}-bit Python)")
    try:
        return _install(abi)
    except (OSError, AttributeError) as exc:  # no libc, or no prctl/syscall in it
        return GuardResult(False, f"cannot call the kernel: {exc}")
