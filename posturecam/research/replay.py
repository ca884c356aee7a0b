"""Replay a recorded source through the engine and write its outputs."""

from __future__ import annotations

import contextlib
import errno
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from posturecam import __version__
from posturecam.core.adapt import SETUP_CHANGED, AdaptSettings, Followed, follow_baseline
from posturecam.core.baseline import baseline_of
from posturecam.core.coach import Coach
from posturecam.core.geometry import FRONT, METRICS, MetricTable, detect_view, dominant_view
from posturecam.core.judge import Judgement, JudgeSettings, judge, limits, with_evidence
from posturecam.core.temporal import TemporalSettings, follow
from posturecam.errors import CalibrationError, OutputError
from posturecam.frames.engine import LandmarkLog, measure, prefetch, run_pose
from posturecam.frames.pose import IMAGE, VIDEO, PoseEstimator
from posturecam.frames.sources import open_source, resolve_path
from posturecam.profiles import Profile, check_fits
from posturecam.research import recording
from posturecam.research.outputs import (
    EVENTS,
    FRAMES,
    FRAMES_PARQUET,
    SUMMARY,
    write_events,
    write_frames_csv,
    write_frames_parquet,
)
from posturecam.storage import StagedFiles, atomic_open, probe_writable, write_json

DEFAULT_BASELINE_SECONDS = 8.0
PROFILE = "profile.json"  # the profile a run was judged against, copied for rescore


@dataclass(frozen=True)
class ReplayOptions:
    view: str | None = None  # None: detect
    stills: bool = False  # unrelated photos: IMAGE mode
    fps: float | None = None  # image folders without a manifest
    force: bool = False  # replace an output folder holding another run
    progress: bool = True
    profile: Profile | None = None  # judge against a saved baseline
    profile_ref: str = ""  # the name or path it came from, for the summary
    baseline_seconds: float | None = None  # calibrate on the start of the recording
    baseline_frames: int | None = None
    no_baseline: bool = False  # metrics only
    parquet: bool = False  # also write frames.parquet (needs pyarrow)
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    judge: JudgeSettings | None = None  # replaces the profile's judgement settings
    adapt: AdaptSettings = field(default_factory=AdaptSettings)  # sequences' moving baseline


@dataclass(frozen=True, eq=False)
class Scored:
    """Metrics and judgement of a landmark log, plus how the baseline was chosen."""

    metrics: MetricTable
    judgement: Judgement | None
    baseline: dict[str, Any]
    warnings: list[str]
    followed: Followed | None = None  # a sequence's moving baseline


def _calibration_mask(log: LandmarkLog, options: ReplayOptions) -> tuple[np.ndarray, str]:
    analysed = log.analysed
    if options.baseline_frames is not None:
        order = np.cumsum(analysed)
        return analysed & (
            order <= options.baseline_frames
        ), f"first {options.baseline_frames} frames"
    seconds = options.baseline_seconds or DEFAULT_BASELINE_SECONDS
    start = log.t_s[0] if len(log) else 0.0
    return analysed & (log.t_s < start + seconds), f"first {seconds:g} s"


def score(log: LandmarkLog, options: ReplayOptions) -> Scored:
    """Metrics, baseline and judgement for a landmark log; the model is not needed here."""
    warnings: list[str] = []
    profile = options.profile
    view = options.view
    if profile is not None:
        # The recording's own view (unless forced) must match the profile's.
        found = detect_view(log.landmarks)
        run_view = view or (dominant_view(found) if (found != "").any() else None)
        sizes = {(int(w), int(h)) for w, h in zip(log.width, log.height, strict=True) if w}
        warnings += check_fits(profile, run_view, next(iter(sizes)) if len(sizes) == 1 else None)
        view = profile.view
    metrics = measure(log, view)
    if profile is not None:
        base, settings = profile.baseline(), options.judge or profile.settings
        baseline = {
            "kind": "profile",
            "profile": options.profile_ref or profile.name,
            "view": profile.view,
            "created": profile.created,
        }
    elif options.no_baseline or (
        options.stills and options.baseline_seconds is None and options.baseline_frames is None
    ):
        if not options.no_baseline:
            warnings.append("unrelated stills with no --profile: metrics only, no judgement")
        return Scored(metrics, None, {"kind": "none"}, warnings)
    else:
        mask, described = _calibration_mask(log, options)
        sub = MetricTable(
            values={k: v[mask] for k, v in metrics.values.items()},
            view=metrics.view[mask],
            reason=metrics.reason[mask],
        )
        try:
            base = baseline_of(sub, view)
        except CalibrationError as exc:
            warnings.append(f"no baseline from the {described} of the recording: {exc}")
            return Scored(metrics, None, {"kind": "none", "error": str(exc)}, warnings)
        settings = options.judge or JudgeSettings()
        baseline = {
            "kind": "recording",
            "window": described,
            "frames": int(mask.sum()),
            "view": base.view,
        }
    baseline["metrics"] = {
        k: {"centre": round(v.centre, 6), "spread": round(v.spread, 6)}
        for k, v in base.stats.items()
    }
    baseline["settings"] = settings.to_dict()
    lim = limits(base, settings)
    baseline["limits"] = {
        "slouch_evidence": None if np.isnan(lim.slouch) else round(lim.slouch, 6),
        "placed_by": lim.placed_by,
        "issues": {k: round(v, 6) for k, v in lim.issues.items()},
    }
    verdict = judge(metrics, base, base.view, settings)
    followed = None
    if not options.stills and base.view == FRONT and np.isfinite(verdict.limit):
        followed = follow_baseline(
            log.t_s, verdict.evidence, metrics.values, verdict.limit, options.adapt
        )
        verdict = with_evidence(verdict, followed.evidence)
        baseline["moving"] = {
            "max_offset": round(followed.max_offset, 6),
            "final_offset": round(float(followed.offset[-1]), 6) if len(log) else 0.0,
            "setup_changes": sum(e.type == SETUP_CHANGED for e in followed.events),
            "settings": options.adapt.to_dict(),
        }
    return Scored(metrics, verdict, baseline, warnings, followed)


@dataclass(frozen=True, eq=False)
class ReplayResult:
    log: LandmarkLog
    scored: Scored
    summary: dict[str, Any]


EstimatorFactory = Callable[[str], PoseEstimator]


def _unwritable(out_dir: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ELOOP:
        return OutputError(
            f"--out {out_dir} is a symbolic link loop; remove the link or choose another folder."
        )
    why = exc.strerror or str(exc)
    if exc.errno == errno.ENOENT and exc.strerror and "symbolic link" in exc.strerror:
        return OutputError(f"--out {out_dir}: {why}; create that folder or choose another one.")
    remedy = {
        errno.ENOSPC: "free some disk space or choose another --out folder",
        errno.EDQUOT: "free some space in your quota or choose another --out folder",
    }.get(exc.errno or 0, "choose a folder you can write to with --out")
    return OutputError(f"cannot write to --out {out_dir} ({why}); {remedy}.")


def check_out_dir(out_dir: Path, source_id: str, force: bool, run_key: str | None = None) -> bool:
    """Refuse to mix two runs in one folder, and refuse a folder that cannot be written.

    A different run is replaced only with --force. The same source replayed again with
    the same ``run_key`` (options, model, version) may refresh its folder; with another
    key it is another run. Creates the folder (and writes and removes a probe file in it)
    so a read-only or full destination fails before the model runs; returns whether the
    folder was created here, so a caller that fails later can remove it again.
    """
    summary = out_dir / SUMMARY
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out {out_dir} is a file, not a folder; choose a folder name.")
    if not force and out_dir.exists():
        _check_same_run(out_dir, summary, source_id, run_key)
    created = not out_dir.exists() and not out_dir.is_symlink()
    try:
        probe_writable(out_dir)
    except OSError as exc:
        if created:
            remove_if_empty(out_dir)
        raise _unwritable(out_dir, exc) from None
    return created


def _check_same_run(out_dir: Path, summary: Path, source_id: str, run_key: str | None) -> None:
    if summary.exists():
        try:
            old = json.loads(summary.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        previous = old.get("source_path")
        if previous == source_id:
            if run_key is None or old.get("run_key") in (None, run_key):
                return
            raise OutputError(
                f"{out_dir} already holds a run of this source with other options, model or "
                "posturecam version; choose another --out folder, pass --force to replace it, "
                "or use `posturecam rescore` to try other settings"
            )
        raise OutputError(
            f"{out_dir} already holds the results of another run ({previous or 'unreadable'}); "
            "choose another --out folder or pass --force to replace it."
        )
    if (out_dir / FRAMES).exists():
        raise OutputError(
            f"{out_dir} holds a frames.csv from an unknown run; "
            "choose another --out folder or pass --force to replace it."
        )


def remove_if_empty(out_dir: Path) -> None:
    """Undo check_out_dir's mkdir after a failure that wrote nothing."""
    with contextlib.suppress(OSError):
        out_dir.rmdir()


def _metric_summary(metrics: MetricTable) -> dict[str, dict[str, float]]:
    out = {}
    for name in METRICS:
        v = metrics[name]
        v = v[~np.isnan(v)]
        if v.size:
            out[name] = {
                "median": round(float(np.median(v)), 6),
                "p10": round(float(np.percentile(v, 10)), 6),
                "p90": round(float(np.percentile(v, 90)), 6),
            }
    return out


def _judgement_summary(verdict: Judgement | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    decided = ~np.isnan(verdict.slouched)
    return {
        "frames_decided": int(decided.sum()),
        "frames_undecided": int((~decided).sum()),
        "share_slouched": round(float(np.mean(verdict.slouched[decided])), 4)
        if decided.any()
        else None,
        "median_score": round(float(np.nanmedian(verdict.score)), 2) if decided.any() else None,
    }


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything scored from a landmark log: what replay and rescore write."""

    scored: Scored
    columns: dict[str, Any]
    events: list[dict[str, Any]]
    time_in: dict[str, float] | None


def analyse(log: LandmarkLog, options: ReplayOptions) -> Analysis:
    """Metrics, judgement, states and coached events of a log; no model, no files."""
    scored = score(log, options)
    metrics, verdict = scored.metrics, scored.judgement
    detected = log.landmarks.detected
    analysed = log.analysed
    # True/False whether a person was found; None when the frame itself was unusable.
    present = [bool(d) if a else None for d, a in zip(detected, analysed, strict=True)]
    columns: dict[str, Any] = {
        "frame": log.frame,
        "t_s": log.t_s,
        "source": log.name,
        "detected": present,
        "view": metrics.view,
        **{name: metrics[name] for name in METRICS},
        "reason": metrics.reason,
    }
    story = None
    if verdict is not None:
        story = follow(log.t_s, present, verdict.worst, verdict.issues, options.temporal)
        columns.update(
            head_scale=verdict.head_scale,
            evidence=verdict.evidence,
            evidence_zero=(
                scored.followed.offset
                if scored.followed is not None
                else np.where(np.isfinite(verdict.evidence), 0.0, np.nan)
            ),
            score=verdict.score,
            slouched=verdict.slouched,
            state=story.states,
            issues=verdict.issues,
        )
    coach = Coach()
    happened = list(story.events) if story else []
    if scored.followed is not None:
        # Stable by time: the baseline's events come before the timeline's at one instant.
        happened = sorted(scored.followed.events + happened, key=lambda e: e.t_s)
    events = [coach.advise(e).to_dict() for e in happened]
    return Analysis(scored, columns, events, story.time_in if story else None)


def options_record(options: ReplayOptions) -> dict[str, Any]:
    """The options that shape results, as stored in summary.json (rescore starts from them)."""
    return {
        "view": options.view,
        "stills": options.stills,
        "fps": options.fps,
        "profile": options.profile_ref or None,
        "baseline_seconds": options.baseline_seconds,
        "baseline_frames": options.baseline_frames,
        "no_baseline": options.no_baseline,
        "temporal": options.temporal.to_dict(),
        "judge": options.judge.to_dict() if options.judge else None,
        "adapt": options.adapt.to_dict(),
    }


# Every file posturecam writes into a run folder; replacing a run touches these only
# (a user's notes, report.html or a rescored/ folder beside them are left alone).
OWNED = (FRAMES, FRAMES_PARQUET, EVENTS, PROFILE, recording.FILENAME, SUMMARY)
# Removed when the new run has none; landmarks.npz is not: a rescore written over a
# replay's folder of the same source must not delete what the model saw.
_STALE = (FRAMES_PARQUET, PROFILE)


def _swap_in(out_dir: Path, writers: list[tuple[str, Callable[[Path], None]]]) -> None:
    """Write every file under a temporary name, then swap them in, summary.json last.

    An error while writing leaves the folder exactly as it was (no temporary files);
    an interrupted swap leaves no summary.json, so the folder never looks complete.
    """
    name: str | None = None
    try:
        with StagedFiles(out_dir) as staged:
            for name, write in writers:
                write(staged.path(name))
            name = None
            staged.commit(last=SUMMARY, stale=_STALE)
    except OSError as exc:
        why = exc.strerror or str(exc)
        if name is None:
            raise OutputError(
                f"cannot move the new results into place in {out_dir} ({why}); the folder "
                "holds no complete run now: fix the folder, then run again with --force."
            ) from None
        remedy = {
            errno.ENOSPC: "free some disk space or choose another --out folder",
            errno.EDQUOT: "free some space in your quota or choose another --out folder",
        }.get(exc.errno or 0, "check that the folder is writable or choose another --out folder")
        raise OutputError(
            f"cannot write {out_dir / name} ({why}); nothing in {out_dir} was changed: "
            f"{remedy}, then run again."
        ) from None


def write_run(
    out_dir: Path,
    log: LandmarkLog,
    analysis: Analysis,
    head: dict[str, Any],
    options: ReplayOptions,
    tail: dict[str, Any] | None = None,
    record: dict[str, Any] | None = None,
    exact_time: bool = True,
) -> dict[str, Any]:
    """Write landmarks.npz (when ``record``, its metadata, is given), frames.csv (and
    .parquet), events.jsonl, profile.json and, last, summary.json, replacing an earlier
    run's files only once all of them are written (see ``_swap_in``).

    ``exact_time=False`` writes t_s to 6 digits, as for a version 1 recording.
    """
    metrics, verdict = analysis.scored.metrics, analysis.scored.judgement
    analysed = log.analysed
    views = [v for v in metrics.view if v]
    skipped = [
        {"frame": int(f), "name": str(nm), "reason": str(r)}
        for f, nm, r, a in zip(log.frame, log.name, log.skip_reason, analysed, strict=True)
        if not a
    ]
    n = len(log)
    events = analysis.events
    summary: dict[str, Any] = {
        "posturecam": __version__,
        **head,
        "frames": n,
        "frames_analysed": int(analysed.sum()),
        "frames_detected": int(log.landmarks.detected.sum()),
        "frames_skipped": len(skipped),
        "skipped": skipped,
        "duration_s": round(float(log.t_s[-1] - log.t_s[0]), 3) if n else 0.0,
        "view": views[0] if views else None,
        "view_forced": options.view is not None,
        "options": options_record(options),
        "baseline": analysis.scored.baseline,
        "warnings": analysis.scored.warnings,
        "metrics": _metric_summary(metrics),
        "judgement": _judgement_summary(verdict),
        "alerts": [e for e in events if e["type"] == "alert"],
        "breaks": [e for e in events if e["type"] == "break"],
        "time_in_state_s": analysis.time_in,
        **(tail or {}),
    }

    def save_recording(path: Path) -> None:
        with atomic_open(path, "wb") as fh:
            recording.dump(fh, log, record or {})

    writers: list[tuple[str, Callable[[Path], None]]] = []
    if record is not None:
        writers.append((recording.FILENAME, save_recording))
    writers.append((FRAMES, lambda p: write_frames_csv(p, analysis.columns, exact_time)))
    if options.parquet:
        writers.append((FRAMES_PARQUET, lambda p: write_frames_parquet(p, analysis.columns)))
    writers.append((EVENTS, lambda p: write_events(p, analysis.events)))
    profile = options.profile
    if profile is not None:
        # The exact baseline used, so a rescore can reproduce this run bit for bit.
        writers.append((PROFILE, lambda p: write_json(p, profile.to_dict())))
    writers.append((SUMMARY, lambda p: write_json(p, summary)))
    _swap_in(out_dir, writers)
    return summary


def replay(
    source: str | Path,
    out_dir: str | Path,
    make_estimator: EstimatorFactory,
    options: ReplayOptions = ReplayOptions(),
    model_info: dict[str, Any] | None = None,
    on_frame: Callable[[], None] | None = None,
    extra_summary: dict[str, Any] | None = None,
) -> ReplayResult:
    """Replay one source; writes its landmark recording and outputs, summary.json last.

    ``on_frame`` is called after every frame (batch progress across processes);
    ``extra_summary`` is merged into summary.json (a batch's run key).
    """
    out_dir = Path(out_dir)
    source_id = str(resolve_path(source)) if not str(source).isdigit() else str(source)
    created = check_out_dir(out_dir, source_id, options.force, (extra_summary or {}).get("run_key"))
    try:
        return _replay(
            source, out_dir, source_id, make_estimator, options, model_info, on_frame, extra_summary
        )
    except BaseException:
        if created:
            remove_if_empty(out_dir)
        raise


def _replay(
    source: str | Path,
    out_dir: Path,
    source_id: str,
    make_estimator: EstimatorFactory,
    options: ReplayOptions,
    model_info: dict[str, Any] | None,
    on_frame: Callable[[], None] | None,
    extra_summary: dict[str, Any] | None,
) -> ReplayResult:
    mode = IMAGE if options.stills else VIDEO
    started = time.perf_counter()
    with open_source(source, fps=options.fps, stills=options.stills) as src:
        estimator = make_estimator(mode)
        try:
            bar = tqdm(
                desc=f"replay {src.name}",
                unit="frame",
                disable=not options.progress or None,
                leave=False,
            )
            with bar:

                def tick(_frame: object) -> None:
                    bar.update()
                    if on_frame is not None:
                        on_frame()

                frames = prefetch(src) if src.kind != "camera" else src
                try:
                    log = run_pose(frames, estimator, on_frame=tick)
                finally:
                    if frames is not src:
                        frames.close()  # stop the decode thread before the source closes
        finally:
            estimator.close()
        src_name, src_kind, ignored = src.name, src.kind, list(src.ignored)
    wall = time.perf_counter() - started
    head = {
        "source": src_name,
        "source_path": source_id,
        "source_kind": src_kind,
        "mode": mode,
        "model": model_info or {},
    }
    analysis = analyse(log, options)  # may refuse (profile of another view): before any write
    n = len(log)
    summary = write_run(
        out_dir,
        log,
        analysis,
        {**head, "ignored_files": ignored, "recording": recording.FILENAME},
        options,
        tail={
            **(extra_summary or {}),
            "timing": {
                "wall_s": round(wall, 3),
                "model_s": round(log.model_seconds, 3),
                "frames_per_s": round(n / wall, 2) if wall > 0 else None,
            },
        },
        record=head,
    )
    return ReplayResult(log=log, scored=analysis.scored, summary=summary)
