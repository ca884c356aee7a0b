"""Command line: `main` parses and validates, then calls plain functions."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from posturecam import __version__, model, profiles, settings, stretches
from posturecam.calibration import calibrate, collect, describe
from posturecam.errors import PosturecamError
from posturecam.geometry import VIEWS
from posturecam.judge import JudgeSettings
from posturecam.pose import MediaPipePose
from posturecam.replay import ReplayOptions, replay

DEFAULT_PROFILE = "default"


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _add_sensitivity_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sensitivity",
        action="append",
        default=[],
        metavar="ISSUE=X",
        help="make one issue more (X > 1) or less (X < 1) sensitive; repeatable",
    )


def _judge_settings(base: JudgeSettings | None, sensitivity: list[str]) -> JudgeSettings | None:
    if not sensitivity:
        return base
    try:
        return (base or JudgeSettings()).with_sensitivity(**settings.parse_sensitivity(sensitivity))
    except ValueError as exc:
        raise settings.SettingsError(str(exc)) from exc


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="PATH", help="pose model .task file (default: resolved)")
    p.add_argument(
        "--model-variant",
        choices=sorted(model.VARIANTS),
        default=model.DEFAULT_VARIANT,
        help="official model to use from the cache or download (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posturecam",
        description="Posture monitoring with MediaPipe pose landmarks, judged against your own "
        "calibrated baseline.",
    )
    parser.add_argument("--version", action="version", version=f"posturecam {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    rp = sub.add_parser(
        "replay",
        help="replay an image folder or video and write per-frame metrics",
        description="Replay a recorded frame set (image folder with manifest.csv, or a video) "
        "through the same engine as live use. Writes DIR/frames.csv, DIR/events.jsonl and "
        "DIR/summary.json.",
    )
    rp.add_argument("source", help="image folder or video file")
    rp.add_argument("--out", required=True, metavar="DIR", help="output folder")
    rp.add_argument("--json", action="store_true", help="also print the summary on stdout")
    rp.add_argument(
        "--fps", type=_positive_float, help="frame rate of an image folder without manifest.csv"
    )
    rp.add_argument(
        "--stills",
        action="store_true",
        help="images are unrelated photos (IMAGE mode, no tracking)",
    )
    rp.add_argument("--view", choices=VIEWS, help="force the camera view (default: detect)")
    rp.add_argument("--force", action="store_true", help="replace an output folder of another run")
    rp.add_argument("--no-progress", action="store_true", help="no progress bar")
    base = rp.add_mutually_exclusive_group()
    base.add_argument("--profile", metavar="NAME|PATH", help="judge against a saved calibration")
    base.add_argument(
        "--baseline-seconds",
        type=_positive_float,
        metavar="S",
        help="calibrate on the first S seconds of the recording (default for sequences: 8)",
    )
    base.add_argument(
        "--baseline-frames",
        type=_positive_int,
        metavar="N",
        help="calibrate on the first N frames of the recording",
    )
    base.add_argument("--no-baseline", action="store_true", help="metrics only, no judgement")
    rp.add_argument(
        "--settings", metavar="FILE", help="TOML file with [judge] and [temporal] settings"
    )
    _add_sensitivity_arg(rp)
    _add_model_args(rp)

    cp = sub.add_parser(
        "calibrate",
        help="record your upright posture as the baseline",
        description="Sit upright and still, facing the camera, while posturecam measures you. "
        "The result is saved as a profile (one per setup, e.g. 'laptop', 'docked').",
    )
    cp.add_argument(
        "--source", default="0", help="camera index, image folder or video (default: camera 0)"
    )
    cp.add_argument("--seconds", type=_positive_float, help="how long to calibrate (default: 8 s)")
    cp.add_argument("--frames", type=_positive_int, help="use the first N frames instead")
    cp.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        metavar="NAME|PATH",
        help="profile name or file to write (default: %(default)s)",
    )
    cp.add_argument("--view", choices=VIEWS, help="force the camera view (default: detect)")
    cp.add_argument("--stills", action="store_true", help="source is a folder of unrelated photos")
    cp.add_argument("--fps", type=_positive_float, help="frame rate of an image folder")
    cp.add_argument(
        "--force", action="store_true", help="replace a profile of another view with this name"
    )
    cp.add_argument("--no-progress", action="store_true", help="no progress bar or countdown")
    _add_sensitivity_arg(cp)
    _add_model_args(cp)

    sp = sub.add_parser(
        "stretches",
        help="list the stretch and exercise catalog",
        description="Gentle, evidence-based stretches and exercises posturecam suggests. "
        "Stop if anything hurts.",
    )
    sp.add_argument("--for", dest="issue", metavar="ISSUE", help="only entries for this issue")
    sp.add_argument("--json", action="store_true", help="print the entries as JSON")

    mp = sub.add_parser(
        "model",
        help="show, fetch, import or verify the pose model",
        description="Models resolve in this order: --model PATH, $POSTURECAM_MODEL, the user "
        "cache, a verified download from the official URL.",
    )
    mp.add_argument("action", choices=("path", "fetch", "import", "verify"))
    mp.add_argument("file", nargs="?", help="with import: the .task file to copy into the cache")
    _add_model_args(mp)
    return parser


def _model_info(resolved: model.ResolvedModel) -> dict[str, str]:
    return {"variant": resolved.variant, "path": str(resolved.path), "origin": resolved.origin}


def cmd_replay(args: argparse.Namespace) -> int:
    profile = profiles.load(args.profile) if args.profile else None
    chosen = settings.load(args.settings) if args.settings else settings.Settings()
    judge_base = chosen.judge or (profile.settings if profile else None)
    resolved = model.resolve(args.model, args.model_variant, progress=not args.no_progress)
    options = ReplayOptions(
        view=args.view,
        stills=args.stills,
        fps=args.fps,
        force=args.force,
        progress=not args.no_progress,
        profile=profile,
        profile_ref=args.profile or "",
        baseline_seconds=args.baseline_seconds,
        baseline_frames=args.baseline_frames,
        no_baseline=args.no_baseline,
        temporal=chosen.temporal,
        judge=_judge_settings(judge_base, args.sensitivity),
    )
    result = replay(
        args.source,
        args.out,
        lambda mode: MediaPipePose(resolved.path, mode),
        options,
        model_info=_model_info(resolved),
    )
    s = result.summary
    out = Path(args.out)
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        print(
            f"{s['source']}: {s['frames']} frames, person found in {s['frames_detected']}, "
            f"{s['frames_skipped']} skipped, view {s['view'] or 'unknown'}, "
            f"{len(s['alerts'])} alert(s); "
            f"wrote {out / 'frames.csv'}, {out / 'events.jsonl'}, {out / 'summary.json'}"
        )
    for item in s["skipped"]:
        print(f"skipped frame {item['frame']} ({item['name']}): {item['reason']}", file=sys.stderr)
    for warning in s["warnings"]:
        print(f"posturecam: warning: {warning}", file=sys.stderr)
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    target = profiles.profile_path(args.profile)
    resolved = model.resolve(args.model, args.model_variant, progress=not args.no_progress)
    source: str | int = int(args.source) if args.source.isdigit() else args.source
    log, source_name = collect(
        source,
        lambda mode: MediaPipePose(resolved.path, mode),
        seconds=args.seconds,
        frames=args.frames,
        stills=args.stills,
        fps=args.fps,
        progress=not args.no_progress,
        countdown=0 if args.no_progress else 3,
    )
    name = target.stem
    judge_settings = _judge_settings(None, args.sensitivity)
    profile = calibrate(
        log, name, source_name, args.view, resolved.variant, judge_settings, stills=args.stills
    )
    path = profiles.save(profile, target, overwrite_other_view=args.force)
    print(describe(profile))
    print(f"saved {path}")
    return 0


def cmd_stretches(args: argparse.Namespace) -> int:
    catalog = stretches.load_catalog()
    if args.json:
        print(json.dumps(stretches.catalog_as_json(catalog, args.issue), indent=2))
    else:
        print(stretches.list_text(catalog, args.issue))
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    if args.action == "import":
        if not args.file:
            raise PosturecamError("usage: posturecam model import FILE")
        print(model.import_model(args.file))
    elif args.action == "fetch":
        print(model.fetch(args.model_variant))
    elif args.action == "path":
        resolved = model.resolve(args.model, args.model_variant, download=False)
        print(f"{resolved.path}  ({resolved.variant}, from {resolved.origin})")
    else:
        resolved = model.resolve(args.model, args.model_variant, download=False)
        variant = model.verify(resolved.path)
        print(f"ok: {resolved.path} is the official '{variant.name}' model")
        print(f"sha256 {variant.sha256}")
    return 0


COMMANDS = {
    "replay": cmd_replay,
    "calibrate": cmd_calibrate,
    "stretches": cmd_stretches,
    "model": cmd_model,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except PosturecamError as exc:
        print(f"posturecam: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("posturecam: interrupted", file=sys.stderr)
        return 130
