"""Research commands: parsers and commands for replay, rescore, report and model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from posturecam import profiles, settings
from posturecam.cli import advice
from posturecam.cli import args as cli_args
from posturecam.core.geometry import VIEWS
from posturecam.core.rules import JudgeSettings
from posturecam.errors import PosturecamError
from posturecam.frames import model
from posturecam.research import batch
from posturecam.research.options import (
    BaselineChoice,
    ProfileBaseline,
    ReplayOptions,
    ScoringOptions,
    WindowBaseline,
    baseline_choice,
)
from posturecam.research.replay import replay
from posturecam.research.run_folder import RESCORED
from posturecam.research.run_key import run_key


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The research group's subcommands."""
    _add_replay_parser(sub)
    _add_rescore_parser(sub)
    _add_report_parser(sub)
    _add_model_parser(sub)


def _add_replay_parser(sub: argparse._SubParsersAction) -> None:
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
        type=cli_args.positive_int,
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
    rp.add_argument(
        "--fps", type=cli_args.rate, help="frame rate of an image folder without manifest.csv"
    )
    rp.add_argument(
        "--stills",
        action="store_true",
        help="images are unrelated photos (IMAGE mode, no tracking)",
    )
    rp.add_argument("--view", choices=VIEWS, help="force the camera view (default: detect)")
    rp.add_argument("--force", action="store_true", help="replace an output folder of another run")
    rp.add_argument("--no-progress", action="store_true", help="no progress bar")
    cli_args.add_baseline_args(rp, "default for sequences: 8")
    rp.add_argument(
        "--settings", metavar="FILE", help="TOML file with [judge] and [temporal] settings"
    )
    cli_args.add_sensitivity_arg(rp)
    cli_args.add_model_args(rp)


def _add_rescore_parser(sub: argparse._SubParsersAction) -> None:
    rs = sub.add_parser(
        "rescore",
        help="re-score a replay's landmark recording with other settings (no model)",
        description="Recompute metrics, judgement and alerts from RUN/landmarks.npz. With no "
        "options it repeats the original run's choices; each option changes one of them. "
        "Writes frames.csv, events.jsonl and summary.json into --out (default RUN/rescored).",
    )
    rs.add_argument("run", metavar="RUN", help="a folder written by `posturecam replay --out`")
    rs.add_argument("--out", metavar="DIR", help="output folder (default: RUN/rescored)")
    cli_args.add_baseline_args(rs, "default: as the original run")
    rs.add_argument("--view", choices=VIEWS, help="force the camera view")
    rs.add_argument(
        "--settings", metavar="FILE", help="TOML file with [judge] and [temporal] settings"
    )
    cli_args.add_sensitivity_arg(rs)
    rs.add_argument("--parquet", action="store_true", help="also write frames.parquet")
    rs.add_argument("--force", action="store_true", help="replace an output folder of another run")
    rs.add_argument("--json", action="store_true", help="print the summary on stdout")


def _add_report_parser(sub: argparse._SubParsersAction) -> None:
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


def _add_model_parser(sub: argparse._SubParsersAction) -> None:
    mp = sub.add_parser(
        "model",
        help="show, fetch, import or verify the pose model",
        description="Models resolve in this order: --model PATH, $POSTURECAM_MODEL, the user "
        "cache, a verified download from the official URL.",
    )
    mp.add_argument("action", choices=("path", "fetch", "import", "verify"))
    mp.add_argument("file", nargs="?", help="with import: the .task file to copy into the cache")
    cli_args.add_model_args(mp)


def _model_info(resolved: model.ResolvedModel) -> dict[str, str]:
    return {"variant": resolved.variant, "path": str(resolved.path), "origin": resolved.origin}


def _is_batch(sources: list[str]) -> bool:
    return len(sources) > 1 or any(ch in s for s in sources for ch in "*?[")


def _baseline(args: argparse.Namespace) -> BaselineChoice | None:
    """The baseline the flags choose (they exclude each other); None when none is given."""
    given = args.profile or args.no_baseline
    if not given and args.baseline_seconds is None and args.baseline_frames is None:
        return None
    profile = profiles.load(args.profile) if args.profile else None
    return baseline_choice(
        profile, args.profile or "", args.baseline_seconds, args.baseline_frames, args.no_baseline
    )


def _judge(
    judge: JudgeSettings | None, baseline: BaselineChoice | None, sensitivity: list[str]
) -> JudgeSettings | None:
    """``judge`` (else the profile's settings) with the --sensitivity factors."""
    profile = baseline.profile if isinstance(baseline, ProfileBaseline) else None
    return cli_args.judge_settings(judge or (profile.settings if profile else None), sensitivity)


def _replay_options(args: argparse.Namespace) -> ReplayOptions:
    baseline = _baseline(args) or WindowBaseline()
    chosen = settings.load(args.settings) if args.settings else settings.Settings()
    scoring = ScoringOptions(
        view=args.view,
        stills=args.stills,
        fps=args.fps,
        baseline=baseline,
        temporal=chosen.temporal,
        judge=_judge(chosen.judge, baseline, args.sensitivity),
        adapt=chosen.adapt,
    )
    return ReplayOptions(
        scoring, parquet=args.parquet, force=args.force, progress=not args.no_progress
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
        cli_args.estimator(resolved.path),
        options,
        model_info=_model_info(resolved),
        extra_summary={"run_key": run_key(options, _model_info(resolved))},
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
    for item, error in zip(result.items, result.errors, strict=True):
        if item["status"] == "failed":
            words = advice.render(error) if isinstance(error, PosturecamError) else error
            print(f"posturecam: error: {item['source']}: {words}", file=sys.stderr)
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

    changes: dict[str, Any] = {}
    baseline = _baseline(args)
    if baseline is not None:
        changes["baseline"] = baseline  # replaces the original run's choice whole
    if args.view:
        changes["view"] = args.view
    if args.settings:
        chosen = settings.load(args.settings)
        changes.update(temporal=chosen.temporal, adapt=chosen.adapt)
        if chosen.judge is not None:
            changes["judge"] = chosen.judge
    if args.sensitivity:
        changes["judge"] = _judge(changes.get("judge"), baseline, args.sensitivity)
    summary = rescore(args.run, args.out, force=args.force, parquet=args.parquet, **changes)
    out = Path(args.out) if args.out else Path(args.run) / RESCORED
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
    "model": cmd_model,
}
