"""Command line: the top-level parser, the command table, and the last-resort error handling.

Each command group (``cli.research``, ``cli.live``, ``cli.calibrate``) defines its own parsers
and commands; `main` parses and validates, then calls plain functions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

INTERRUPTED = "posturecam: interrupted"

try:  # Ctrl-C while numpy, OpenCV and MediaPipe load is an interruption, not a traceback.
    from posturecam import __version__
    from posturecam.cli import advice, calibrate, live, research
    from posturecam.errors import PosturecamError
except KeyboardInterrupt:  # pragma: no cover - needs a Ctrl-C at import time
    print(INTERRUPTED, file=sys.stderr)
    raise SystemExit(130) from None

COMMANDS = {**research.COMMANDS, **live.COMMANDS, **calibrate.COMMANDS}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posturecam",
        description="Posture monitoring with MediaPipe pose landmarks, judged against your own "
        "calibrated baseline.",
    )
    parser.add_argument("--version", action="version", version=f"posturecam {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    research.add_parsers(sub)
    live.add_parsers(sub)
    calibrate.add_parsers(sub)
    return parser


def _version_of(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"
    except Exception as exc:  # a broken installation must not break the crash report
        return f"unknown ({type(exc).__name__})"


def write_crash_log(exc: BaseException, argv: Sequence[str]) -> Path:
    """Write the traceback, versions and command line to the user's cache folder.

    Never images, landmarks or other data: only what the traceback and ``argv`` hold. Raises
    ``OSError`` when the folder cannot be written.
    """
    import platform
    import traceback
    from datetime import datetime

    from posturecam.paths import crash_dir

    folder = crash_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"{stamp}-{os.getpid()}.log"
    versions = {
        "posturecam": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "mediapipe": _version_of("mediapipe"),
        "numpy": _version_of("numpy"),
        "opencv": _version_of("opencv-python-headless"),
    }
    text = (
        "posturecam crash report: please attach this file to a bug report.\n"
        f"time: {datetime.now().astimezone().isoformat(timespec='seconds')}\n"
        + "".join(f"{name}: {value}\n" for name, value in versions.items())
        + f"argv: {json.dumps(['posturecam', *argv])}\n\n"
        + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    )
    # 0o600: the command line names the user's files; the umask can only narrow it further.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def _unexpected(exc: BaseException, argv: Sequence[str]) -> int:
    """The last-resort line for a bug: what happened, and where the details are."""
    message = " ".join(str(exc).split()) or "(no message)"
    try:
        where = f"details in {write_crash_log(exc, argv)}"
    except Exception as log_exc:
        where = f"no crash log could be written ({type(log_exc).__name__}: {log_exc})"
    print(
        f"posturecam: error: unexpected {type(exc).__name__}: {message}; {where}",
        file=sys.stderr,
    )
    return 2


def _quiet_broken_pipe() -> int:
    """The reader of stdout went away (``posturecam stretches | head -1``): stop quietly."""
    try:  # Point stdout at /dev/null so the flush at exit cannot complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (tests); nothing will flush it at exit
    return 141  # 128 + SIGPIPE, what a shell reports for a command killed by a broken pipe


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a broken pipe shows here, inside the handlers, not at exit
        return code
    except PosturecamError as exc:
        print(f"posturecam: error: {advice.render(exc)}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:
        return _unexpected(exc, argv)
