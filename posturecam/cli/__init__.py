"""Command line: `main` parses and validates, then calls plain functions."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

INTERRUPTED = "posturecam: interrupted"

try:  # Ctrl-C while numpy, OpenCV and MediaPipe load is an interruption, not a traceback.
    from posturecam import __version__, profiles, settings
    from posturecam.core import stretches
    from posturecam.core.geometry import VIEWS
    from posturecam.core.judge import JudgeSettings
    from posturecam.errors import PosturecamError
    from posturecam.frames import model
    from posturecam.frames.pose import MediaPipePose
    from posturecam.live.calibration import add_slouch, calibrate, collect, describe
    from posturecam.live.sessionlog import MAX_HISTORY_DAYS
    from posturecam.research import batch
    from posturecam.research.replay import ReplayOptions, replay
except KeyboardInterrupt:  # pragma: no cover - needs a Ctrl-C at import time
    print(INTERRUPTED, file=sys.stderr)
    raise SystemExit(130) from None

DEFAULT_PROFILE = "default"
# Bounds of the command line's times and rates: beyond them a value is a typo, and values like
# 1e308 s or 1e-308 Hz overflow the clocks and timers they reach.
MAX_SECONDS = 7 * 24 * 3600.0  # a week
MIN_RATE_HZ, MAX_RATE_HZ = 0.001, 1000.0


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def _positive_float(text: str) -> float:
    """A duration in seconds: more than 0 and at most a week."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_SECONDS:.0f} seconds (7 days), got {text}"
        )
    return value


def _rate(text: str) -> float:
    """A frame or sampling rate in Hz, from one frame in about 17 minutes to 1000 a second."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
    if not MIN_RATE_HZ <= value <= MAX_RATE_HZ:
        raise argparse.ArgumentTypeError(
            f"must be between {MIN_RATE_HZ:g} and {MAX_RATE_HZ:g} per second, got {text}"
        )
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _history_days(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_HISTORY_DAYS:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_HISTORY_DAYS} (about 10 years), got {text}"
        )
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


def _add_baseline_args(p: argparse.ArgumentParser, default_help: str) -> None:
    base = p.add_mutually_exclusive_group()
    base.add_argument("--profile", metavar="NAME|PATH", help="judge against a saved calibration")
    base.add_argument(
        "--baseline-seconds",
        type=_positive_float,
        metavar="S",
        help=f"calibrate on the first S seconds of the recording ({default_help})",
    )
    base.add_argument(
        "--baseline-frames",
        type=_positive_int,
        metavar="N",
        help="calibrate on the first N frames of the recording",
    )
    base.add_argument("--no-baseline", action="store_true", help="metrics only, no judgement")


def _add_research_parsers(sub: argparse._SubParsersAction) -> None:
    rs = sub.add_parser(
        "rescore",
        help="re-score a replay's landmark recording with other settings (no model)",
        description="Recompute metrics, judgement and alerts from RUN/landmarks.npz. With no "
        "options it repeats the original run's choices; each option changes one of them. "
        "Writes frames.csv, events.jsonl and summary.json into --out (default RUN/rescored).",
    )
    rs.add_argument("run", metavar="RUN", help="a folder written by `posturecam replay --out`")
    rs.add_argument("--out", metavar="DIR", help="output folder (default: RUN/rescored)")
    _add_baseline_args(rs, "default: as the original run")
    rs.add_argument("--view", choices=VIEWS, help="force the camera view")
    rs.add_argument(
        "--settings", metavar="FILE", help="TOML file with [judge] and [temporal] settings"
    )
    _add_sensitivity_arg(rs)
    rs.add_argument("--parquet", action="store_true", help="also write frames.parquet")
    rs.add_argument("--force", action="store_true", help="replace an output folder of another run")
    rs.add_argument("--json", action="store_true", help="print the summary on stdout")

    rep = sub.add_parser(
        "report",
        help="make a self-contained HTML report (and PNG plots) of a replay",
        description="Score over time with alerts and state bands, metric traces against the "
        "baseline band, time per state. Needs matplotlib (pip install 'posturecam[report]').",
    )
    rep.add_argument("run", metavar="RUN", help="a folder written by replay or rescore")
    rep.add_argument(
        "--html", metavar="FILE", help="where to write the HTML (default RUN/report.html)"
    )


def _add_live_parsers(sub: argparse._SubParsersAction) -> None:
    mo = sub.add_parser(
        "monitor",
        help="watch your posture through the webcam and nudge you when slouching lasts",
        description="Samples the camera about twice a second (faster while your posture drifts), "
        "judges it against your calibration and suggests a stretch when slouching persists. "
        "No image is stored. Settings come from the config file (`posturecam config path`); "
        "flags override it.",
    )
    mo.add_argument("--profile", metavar="NAME|PATH", help="calibration profile (default: default)")
    mo.add_argument("--source", help="camera index or a video file played at real time (default 0)")
    mo.add_argument("--rate", type=_rate, metavar="HZ", help="frames/s while settled (1)")
    mo.add_argument(
        "--preview",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a window with landmarks and metrics (keys: q quit, c recalibrate, "
        "s snooze 30 min, p pause)",
    )
    mo.add_argument("--no-notify", action="store_true", help="terminal messages only")
    mo.add_argument("--recalibrate", action="store_true", help="calibrate before monitoring")
    mo.add_argument("--config", metavar="FILE", help="use this settings file instead")
    _add_model_args(mo)

    sn = sub.add_parser(
        "snooze",
        help="stop watching for a while (the camera is released)",
        description="Tell the running monitor to release the camera for a while, e.g. for a "
        "meeting. A monitor started later also honours it.",
    )
    sn.add_argument("duration", nargs="?", default="30m", help="e.g. 30m, 1h, 90s (default 30m)")
    sub.add_parser("pause", help="stop watching until `posturecam resume` (camera released)")
    sub.add_parser("resume", help="end a pause or snooze")

    hi = sub.add_parser(
        "history", help="time monitored, share upright and alerts: today and the last 7 days"
    )
    hi.add_argument("--days", type=_history_days, default=7, help="how many days back (7)")
    hi.add_argument("--json", action="store_true", help="print JSON")

    rc = sub.add_parser(
        "record",
        help="save a frame set (images + manifest.csv) that replay reads",
        description="The one command that writes images, and only into --out. Ctrl-C stops and "
        "keeps every frame recorded so far.",
    )
    rc.add_argument("--source", default="0", help="camera index or video file (default 0)")
    rc.add_argument(
        "--seconds", type=_positive_float, help="stop after S seconds (default: Ctrl-C)"
    )
    rc.add_argument("--fps", type=_rate, default=5.0, help="frames per second (5)")
    rc.add_argument("--out", required=True, metavar="DIR", help="folder for the frame set")
    rc.add_argument("--force", action="store_true", help="replace a recording in --out")

    cf = sub.add_parser("config", help="where the settings file is, and what it says")
    cf.add_argument("action", choices=("path", "show"))
    cf.add_argument("--config", metavar="FILE", help="another settings file")


# ---------------------------------------------------------------------- feedback


def _add_feedback_parser(sub: argparse._SubParsersAction) -> None:
    fb = sub.add_parser(
        "feedback",
        help="tell the running monitor it was wrong (or undo that): it adapts your profile",
        description="not-slouching: the last alert (or the last 30 s) was not a slouch, so the "
        "threshold moves above it. slouching: you are slouching now (the last 5 s). undo: "
        "restore the profile as it was before the last feedback. The running monitor applies "
        "it and saves the profile.",
    )
    fb.add_argument("action", choices=("not-slouching", "slouching", "undo"))
    fb.add_argument(
        "--wait",
        type=_positive_float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for the monitor's answer (default: %(default)s)",
    )


def _add_app_parser(sub: argparse._SubParsersAction) -> None:
    from posturecam.app.command import add_arguments

    ap = sub.add_parser(
        "app",
        help="the desktop app: tray icon, guided setup, dashboard, settings (posturecam[app])",
        description="Runs the same monitor in the background with a tray icon that shows the "
        "state; needs the optional extra: pip install 'posturecam[app]'.",
    )
    add_arguments(ap)
    _add_model_args(ap)


def cmd_app(args: argparse.Namespace) -> int:
    from posturecam.app.command import run

    return run(args)


def cmd_feedback(args: argparse.Namespace) -> int:
    from posturecam.live import control, feedback

    if control.running_monitor() is None:
        raise feedback.FeedbackError(
            "no monitor is running, so there is nothing to give feedback to; start one with "
            "`posturecam monitor`"
        )
    request = feedback.send(args.action, args.wait)
    ack = feedback.wait_for_ack(request.id, args.wait)
    if ack is None:
        raise feedback.FeedbackError(
            f"no monitor answered within {args.wait:g} s; it may be calibrating or busy, so "
            "try again in a moment (the request expires unanswered)"
        )
    if not ack.ok:
        raise feedback.FeedbackError(ack.message)
    print(ack.message)
    return 0


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
    rp.add_argument(
        "source",
        nargs="+",
        help="image folder or video file; several, or a quoted glob like 'C/*/', make a batch "
        "with one output folder per source under --out",
    )
    rp.add_argument("--out", required=True, metavar="DIR", help="output folder")
    rp.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="replay N sources at once in a batch (default: 1)",
    )
    rp.add_argument(
        "--executor",
        choices=("process", "dask"),
        default="process",
        help="where batch workers run: local processes or a Dask cluster (posturecam[dask])",
    )
    rp.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://host:8786, or 'local' for a cluster of --workers "
        "processes on this machine that ends with the batch",
    )
    rp.add_argument(
        "--parquet", action="store_true", help="also write frames.parquet (posturecam[parquet])"
    )
    rp.add_argument("--json", action="store_true", help="also print the summary on stdout")
    rp.add_argument("--fps", type=_rate, help="frame rate of an image folder without manifest.csv")
    rp.add_argument(
        "--stills",
        action="store_true",
        help="images are unrelated photos (IMAGE mode, no tracking)",
    )
    rp.add_argument("--view", choices=VIEWS, help="force the camera view (default: detect)")
    rp.add_argument("--force", action="store_true", help="replace an output folder of another run")
    rp.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_baseline_args(rp, "default for sequences: 8")
    rp.add_argument(
        "--settings", metavar="FILE", help="TOML file with [judge] and [temporal] settings"
    )
    _add_sensitivity_arg(rp)
    _add_model_args(rp)

    _add_research_parsers(sub)
    _add_live_parsers(sub)
    _add_feedback_parser(sub)
    _add_app_parser(sub)

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
    cp.add_argument("--fps", type=_rate, help="frame rate of an image folder")
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
        type=_positive_float,
        default=5.0,
        help="length of the slouch phase (default: %(default)s s)",
    )
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


def _is_batch(sources: list[str]) -> bool:
    return len(sources) > 1 or any(ch in s for s in sources for ch in "*?[")


def _replay_options(args: argparse.Namespace) -> ReplayOptions:
    profile = profiles.load(args.profile) if args.profile else None
    chosen = settings.load(args.settings) if args.settings else settings.Settings()
    judge_base = chosen.judge or (profile.settings if profile else None)
    return ReplayOptions(
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
        parquet=args.parquet,
        temporal=chosen.temporal,
        judge=_judge_settings(judge_base, args.sensitivity),
        adapt=chosen.adapt,
    )


def cmd_replay(args: argparse.Namespace) -> int:
    options = _replay_options(args)
    if args.executor == "dask" and not args.scheduler:
        raise PosturecamError(
            "--executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786), or "
            "--scheduler local to start a cluster here"
        )
    resolved = model.resolve(args.model, args.model_variant, progress=not args.no_progress)
    if _is_batch(args.source):
        return _replay_batch(args, options, resolved)
    result = replay(
        args.source[0],
        args.out,
        lambda mode: MediaPipePose(resolved.path, mode),
        options,
        model_info=_model_info(resolved),
        extra_summary={"run_key": batch.run_key(options, _model_info(resolved))},
    )
    s = result.summary
    out = Path(args.out)
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        print(
            f"{s['source']}: {s['frames']} frames, person found in {s['frames_detected']}, "
            f"{s['frames_skipped']} skipped, view {s['view'] or 'unknown'}, "
            f"{len(s['alerts'])} alert(s); wrote {out / 'frames.csv'}, "
            f"{out / 'events.jsonl'}, {out / 'summary.json'} and the landmarks for rescore"
        )
    for item in s["skipped"]:
        print(f"skipped frame {item['frame']} ({item['name']}): {item['reason']}", file=sys.stderr)
    for warning in s["warnings"]:
        print(f"posturecam: warning: {warning}", file=sys.stderr)
    return 0


def _replay_batch(
    args: argparse.Namespace, options: ReplayOptions, resolved: model.ResolvedModel
) -> int:
    result = batch.run_batch(
        args.source,
        Path(args.out),
        batch.ModelRef(str(resolved.path)),
        options,
        _model_info(resolved),
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        progress=not args.no_progress,
    )
    if args.json:
        print(json.dumps(result.items, indent=2))
    for note in result.notes:
        print(f"posturecam: warning: {note}", file=sys.stderr)
    for item in result.items:
        if item["status"] == "failed":
            print(f"posturecam: error: {item['source']}: {item['error']}", file=sys.stderr)
    done = sum(item["status"] != "failed" for item in result.items)
    resumed = sum(item["status"] == "resumed" for item in result.items)
    if not args.json:
        print(
            f"{done} of {len(result.items)} source(s) replayed into {args.out}/"
            + (f" ({resumed} already done, kept)" if resumed else "")
            + f"; see {Path(args.out) / 'batch.json'}"
        )
    return 1 if result.failed else 0


def cmd_rescore(args: argparse.Namespace) -> int:
    from posturecam.research.rescore import rescore

    changes: dict = {"force": args.force, "parquet": args.parquet}
    if args.profile:
        changes["profile"] = profiles.load(args.profile)
        changes["profile_ref"] = args.profile
    elif args.baseline_seconds is not None:
        changes["baseline_seconds"] = args.baseline_seconds
    elif args.baseline_frames is not None:
        changes["baseline_frames"] = args.baseline_frames
    elif args.no_baseline:
        changes["no_baseline"] = True
    if args.view:
        changes["view"] = args.view
    if args.settings:
        chosen = settings.load(args.settings)
        changes["temporal"] = chosen.temporal
        changes["adapt"] = chosen.adapt
        if chosen.judge is not None:
            changes["judge"] = chosen.judge
    if args.sensitivity:
        base = changes.get("judge") or (
            changes["profile"].settings if "profile" in changes else None
        )
        changes["judge"] = _judge_settings(base, args.sensitivity)
    summary = rescore(args.run, args.out, **changes)
    out = Path(args.out) if args.out else Path(args.run) / "rescored"
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['source']}: {summary['frames']} frames re-scored, "
            f"{len(summary['alerts'])} alert(s); wrote {out}/"
        )
    for warning in summary["warnings"]:
        print(f"posturecam: warning: {warning}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from posturecam.research.report import make_report

    files = make_report(Path(args.run), Path(args.html) if args.html else None)
    print(f"wrote {files.html}")
    for png in files.pngs:
        print(f"wrote {png}")
    return 0


def _user_settings(path: str | None) -> settings.Settings:
    cfg, _path, _existed = settings.load_user(Path(path) if path else None)
    return cfg


def cmd_monitor(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from posturecam.live import launch as live

    cfg = _user_settings(args.config)
    m = cfg.monitor
    monitor = m.updated(
        profile=args.profile,
        source=args.source,
        rate_hz=args.rate,
        max_rate_hz=max(m.max_rate_hz, args.rate) if args.rate is not None else None,
        preview=args.preview,
        notify=False if args.no_notify else None,
    )
    cfg = replace(cfg, monitor=monitor)
    window = None
    if cfg.monitor.preview:
        from posturecam.live import preview

        if not preview.display_available():  # fail now, not after the calibration
            raise PosturecamError(preview.NO_WINDOW)
        window = preview.PreviewWindow()
    resolved = model.resolve(args.model, args.model_variant)
    live.run_monitor(
        cfg,
        lambda mode: MediaPipePose(resolved.path, mode),
        recalibrate=args.recalibrate,
        model_variant=resolved.variant,
        preview=window,
    )
    return 0


def _control_command(action: str, args: argparse.Namespace) -> int:
    from posturecam.live import control
    from posturecam.live import launch as live

    if action == "snooze":
        state = control.snooze(control.parse_duration(args.duration))
    elif action == "pause":
        state = control.pause()
    else:
        state = control.resume()
    print(live.describe_control(state))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from posturecam.live.sessionlog import SessionLog, format_history

    with SessionLog.open() as log:
        days = log.history(days=args.days)
    if args.json:
        print(
            json.dumps(
                [{**d.__dict__, "date": d.date.isoformat()} for d in days],
                indent=2,
            )
        )
    else:
        print(format_history(days))
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


def cmd_config(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else settings.config_path()
    if args.action == "path":
        print(path)
        return 0
    cfg, path, existed = settings.load_user(path)
    if not existed:
        print(f"# {path} does not exist: these are the defaults; save this text there to edit.")
    else:
        print(f"# effective settings from {path}")
    print(settings.show(cfg))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    target = profiles.profile_path(args.profile)
    if args.with_slouch and not args.source.isdigit():
        raise PosturecamError(
            "--with-slouch guides a live camera through a second, slouched phase; for "
            "recorded frames give the slouch as --slouch-source PATH instead"
        )
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
    slouch_source = args.slouch_source or (args.source if args.with_slouch else None)
    if slouch_source is not None:
        if args.with_slouch and not args.no_progress:
            print("Now sit the way you do when you are tired, and stay so.", file=sys.stderr)
        slouch_log, _ = collect(
            int(slouch_source) if str(slouch_source).isdigit() else slouch_source,
            lambda mode: MediaPipePose(resolved.path, mode),
            seconds=None if args.stills else args.slouch_seconds,
            stills=args.stills,
            fps=args.fps,
            progress=not args.no_progress,
            countdown=0 if args.no_progress else 3,
            prompt="Slouch the way you usually do",
        )
        profile = add_slouch(profile, slouch_log, stills=args.stills)
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
    "rescore": cmd_rescore,
    "report": cmd_report,
    "monitor": cmd_monitor,
    "snooze": lambda args: _control_command("snooze", args),
    "pause": lambda args: _control_command("pause", args),
    "resume": lambda args: _control_command("resume", args),
    "history": cmd_history,
    "record": cmd_record,
    "config": cmd_config,
    "calibrate": cmd_calibrate,
    "stretches": cmd_stretches,
    "feedback": cmd_feedback,
    "model": cmd_model,
    "app": cmd_app,
}


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
        print(f"posturecam: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:
        return _unexpected(exc, argv)
