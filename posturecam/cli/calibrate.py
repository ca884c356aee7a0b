"""Calibration commands: parsers and commands for calibrate (a profile) and record (a frame set)."""

from __future__ import annotations

import argparse
import sys
import time

from tqdm import tqdm

from posturecam import profiles
from posturecam.cli import args as cli_args
from posturecam.core.baseline import WINDOW_S
from posturecam.core.geometry import VIEWS
from posturecam.errors import PosturecamError
from posturecam.frames import model
from posturecam.frames.capture import Health
from posturecam.frames.engine import LandmarkLog
from posturecam.frames.pose import IMAGE, VIDEO
from posturecam.frames.sources import open_source
from posturecam.live.calibration import (
    add_slouch,
    calibrate,
    calibration_window,
    describe,
    window_for,
)

DEFAULT_PROFILE = "default"
COUNTDOWN_S = 3  # seconds to sit upright after the camera opens, before measuring


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The calibration group's subcommands."""
    _add_calibrate_parser(sub)
    _add_record_parser(sub)


def _add_calibrate_parser(sub: argparse._SubParsersAction) -> None:
    cp = sub.add_parser(
        "calibrate",
        help="record your upright posture as the baseline",
        description="Sit upright and still, facing the camera, while posturecam measures you. "
        "The result is saved as a profile (one per setup, e.g. 'laptop', 'docked').",
    )
    cp.add_argument(
        "--source", default="0", help="camera index, image folder or video (default: camera 0)"
    )
    cp.add_argument(
        "--seconds",
        type=cli_args.positive_float,
        help=f"how long to calibrate (default: {WINDOW_S:g} s)",
    )
    cp.add_argument("--frames", type=cli_args.positive_int, help="use the first N frames instead")
    cp.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        metavar="NAME|PATH",
        help="profile name or file to write (default: %(default)s)",
    )
    cp.add_argument("--view", choices=VIEWS, help="force the camera view (default: detect)")
    cp.add_argument("--stills", action="store_true", help="source is a folder of unrelated photos")
    cp.add_argument("--fps", type=cli_args.rate, help="frame rate of an image folder")
    cp.add_argument(
        "--force", action="store_true", help="replace a profile of another view with this name"
    )
    cp.add_argument("--no-progress", action="store_true", help="no progress bar or countdown")
    slouch = cp.add_mutually_exclusive_group()
    slouch.add_argument(
        "--with-slouch",
        action="store_true",
        help="two-point calibration: after the upright phase, show your usual slouch",
    )
    slouch.add_argument(
        "--slouch-source",
        metavar="PATH",
        help="two-point calibration from recorded frames of your usual slouch "
        "(a folder, read as stills with --stills, or a video)",
    )
    cp.add_argument(
        "--slouch-seconds",
        type=cli_args.positive_float,
        default=5.0,
        help="length of the slouch phase (default: %(default)s s)",
    )
    cli_args.add_sensitivity_arg(cp)
    cli_args.add_model_args(cp)


def _add_record_parser(sub: argparse._SubParsersAction) -> None:
    rc = sub.add_parser(
        "record",
        help="save a frame set (images + manifest.csv) that replay reads",
        description="The one command that writes images, and only into --out. Ctrl-C stops and "
        "keeps every frame recorded so far.",
    )
    rc.add_argument("--source", default="0", help="camera index or video file (default 0)")
    rc.add_argument(
        "--seconds", type=cli_args.positive_float, help="stop after S seconds (default: Ctrl-C)"
    )
    rc.add_argument("--fps", type=cli_args.rate, default=5.0, help="frames per second (5)")
    rc.add_argument("--out", required=True, metavar="DIR", help="folder for the frame set")
    rc.add_argument("--force", action="store_true", help="replace a recording in --out")


def _collect(
    spec: str,
    args: argparse.Namespace,
    resolved: model.ResolvedModel,
    seconds: float | None,
    frames: int | None = None,
    prompt: str = "Sit upright and look at the screen",
) -> tuple[LandmarkLog, str]:
    """Open the source, count down before a camera, and measure its calibration window."""
    source: str | int = int(spec) if spec.isdigit() else spec
    progress = not args.no_progress
    waiting = _Waiting()
    with open_source(source, fps=args.fps, stills=args.stills, on_wait=waiting.tell) as src:
        if src.kind == "camera" and progress:
            for left in range(COUNTDOWN_S, 0, -1):
                print(f"{prompt}... {left}", file=sys.stderr, flush=True)
                time.sleep(1.0)
        estimator = cli_args.estimator(resolved.path)(IMAGE if args.stills else VIDEO)
        try:
            with tqdm(
                desc="calibrating",
                unit="frame",
                total=frames,
                disable=not progress or None,
                leave=False,
            ) as bar:
                log = calibration_window(
                    src, estimator, seconds=seconds, count=frames, on_frame=lambda _f: bar.update()
                )
        finally:
            estimator.close()
        return log, src.name


class _Waiting:
    """Says once per change why a camera sends no frames (busy, unplugged), as monitor does."""

    def __init__(self) -> None:
        self.shown = ""

    def tell(self, health: Health) -> None:
        if health.status != self.shown:
            print(f"calibration waiting: {health.message}", file=sys.stderr, flush=True)
            self.shown = health.status


def cmd_calibrate(args: argparse.Namespace) -> int:
    target = profiles.profile_path(args.profile)
    if args.with_slouch and not args.source.isdigit():
        raise PosturecamError(
            "--with-slouch guides a live camera through a second, slouched phase; for "
            "recorded frames give the slouch as --slouch-source PATH instead"
        )
    resolved = model.resolve(args.model, args.model_variant, progress=not args.no_progress)
    seconds, frames = window_for(args.seconds, args.frames, args.stills)
    log, source_name = _collect(args.source, args, resolved, seconds, frames)
    name = target.stem
    judge_settings = cli_args.judge_settings(None, args.sensitivity)
    profile = calibrate(
        log, name, source_name, args.view, resolved.variant, judge_settings, stills=args.stills
    )
    slouch_source = args.slouch_source or (args.source if args.with_slouch else None)
    if slouch_source is not None:
        if args.with_slouch and not args.no_progress:
            print("Now sit the way you do when you are tired, and stay so.", file=sys.stderr)
        slouch_seconds, _ = window_for(
            None if args.stills else args.slouch_seconds, None, args.stills
        )
        slouch_log, _ = _collect(
            str(slouch_source),
            args,
            resolved,
            slouch_seconds,
            prompt="Slouch the way you usually do",
        )
        profile = add_slouch(profile, slouch_log, stills=args.stills)
    path = profiles.save(profile, target, overwrite_other_view=args.force)
    print(describe(profile))
    print(f"saved {path}")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    import threading

    from posturecam.frames.capture import open_live
    from posturecam.live import launch as live
    from posturecam.live.record_images import record

    stop = threading.Event()
    capture = open_live(args.source)

    def progress(n: int, t: float) -> None:
        if sys.stderr.isatty():
            print(f"\rrecorded {n} frames, {t:.1f} s", end="", file=sys.stderr, flush=True)

    try:
        with live.stop_on_signals(lambda _reason: stop.set()):
            result = record(
                capture,
                args.out,
                seconds=args.seconds,
                fps=args.fps,
                stop=stop,
                force=args.force,
                on_frame=progress,
            )
    finally:
        capture.close()
    if sys.stderr.isatty():
        print(file=sys.stderr)
    note = f", {result.skipped} black/frozen frame(s) left out" if result.skipped else ""
    print(
        f"recorded {result.frames} frames over {result.duration_s:.1f} s into {result.out_dir}/"
        f" ({result.end_reason}{note}); replay it with: posturecam replay {result.out_dir} "
        "--out RESULTS"
    )
    return 0


COMMANDS = {
    "calibrate": cmd_calibrate,
    "record": cmd_record,
}
