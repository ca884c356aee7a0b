"""Live commands: parsers and commands for monitor, pause/snooze/resume, history, feedback,
app, config and stretches."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from posturecam import settings
from posturecam.cli import args as cli_args
from posturecam.core import stretches
from posturecam.frames import model
from posturecam.live.sessionlog import MAX_HISTORY_DAYS


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The live group's subcommands."""
    _add_monitor_parser(sub)
    _add_control_parsers(sub)
    _add_history_parser(sub)
    _add_feedback_parser(sub)
    _add_app_parser(sub)
    _add_config_parser(sub)
    _add_stretches_parser(sub)


def _history_days(text: str) -> int:
    value = cli_args.positive_int(text)
    if value > MAX_HISTORY_DAYS:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_HISTORY_DAYS} (about 10 years), got {text}"
        )
    return value


def _add_monitor_parser(sub: argparse._SubParsersAction) -> None:
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
    mo.add_argument("--rate", type=cli_args.rate, metavar="HZ", help="frames/s while settled (1)")
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
    cli_args.add_model_args(mo)


def _add_control_parsers(sub: argparse._SubParsersAction) -> None:
    sn = sub.add_parser(
        "snooze",
        help="stop watching for a while (the camera is released)",
        description="Tell the running monitor to release the camera for a while, e.g. for a "
        "meeting. A monitor started later also honours it.",
    )
    sn.add_argument("duration", nargs="?", default="30m", help="e.g. 30m, 1h, 90s (default 30m)")
    sub.add_parser("pause", help="stop watching until `posturecam resume` (camera released)")
    sub.add_parser("resume", help="end a pause or snooze")


def _add_history_parser(sub: argparse._SubParsersAction) -> None:
    hi = sub.add_parser(
        "history", help="time monitored, share upright and alerts: today and the last 7 days"
    )
    hi.add_argument("--days", type=_history_days, default=7, help="how many days back (7)")
    hi.add_argument("--json", action="store_true", help="print JSON")


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
        type=cli_args.positive_float,
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
    cli_args.add_model_args(ap)


def _add_config_parser(sub: argparse._SubParsersAction) -> None:
    cf = sub.add_parser("config", help="where the settings file is, and what it says")
    cf.add_argument("action", choices=("path", "show"))
    cf.add_argument("--config", metavar="FILE", help="another settings file")


def _add_stretches_parser(sub: argparse._SubParsersAction) -> None:
    sp = sub.add_parser(
        "stretches",
        help="list the stretch and exercise catalog",
        description="Gentle, evidence-based stretches and exercises posturecam suggests. "
        "Stop if anything hurts.",
    )
    sp.add_argument("--for", dest="issue", metavar="ISSUE", help="only entries for this issue")
    sp.add_argument("--json", action="store_true", help="print the entries as JSON")


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
            raise preview.no_window()
        window = preview.PreviewWindow()
    resolved = model.resolve(args.model, args.model_variant)
    live.run_monitor(
        cfg,
        cli_args.estimator(resolved.path),
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
    from posturecam.live.history import format_history
    from posturecam.live.sessionlog import SessionLog

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


def cmd_app(args: argparse.Namespace) -> int:
    from posturecam.app.command import run

    return run(args)


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


def cmd_stretches(args: argparse.Namespace) -> int:
    catalog = stretches.load_catalog()
    if args.json:
        print(json.dumps(stretches.catalog_as_json(catalog, args.issue), indent=2))
    else:
        print(stretches.list_text(catalog, args.issue))
    return 0


COMMANDS = {
    "monitor": cmd_monitor,
    "snooze": lambda args: _control_command("snooze", args),
    "pause": lambda args: _control_command("pause", args),
    "resume": lambda args: _control_command("resume", args),
    "history": cmd_history,
    "feedback": cmd_feedback,
    "app": cmd_app,
    "config": cmd_config,
    "stretches": cmd_stretches,
}
