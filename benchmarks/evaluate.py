"""Accuracy of posture judgement on real labelled photos, per subject, measured honestly.

Protocol (../shared/datasets/README.md): per subject, calibrate on the first
10 good photos by natural file-name order and judge every other photo as a
still. An undecided photo counts as wrong for both classes. Reported per
subject: balanced accuracy, sensitivity, specificity, coverage and the score's
ROC AUC, for

- ``defaults``: the shipped JudgeSettings;
- ``loso``: leave-one-subject-out. Every constant chosen by looking at data
  (slouch_k and the one-point cap) is re-chosen here on the other subjects
  only, from a fixed candidate grid, by the mean balanced accuracy over those
  subjects. The metrics the evidence combines are fixed by the shipped defaults,
  from first principles (see judge.DEFAULT_WEIGHTS);
- ``loso_metrics``: the same, but the metrics, their weights and how they
  combine are re-chosen too (the data, not the principle, picks them);
- ``two_point``: defaults plus a two-point calibration (the first 10 bad
  photos by natural order as the person's slouch examples; the 20 calibration
  photos are not scored).

The model runs once per set, through the CLI (`replay --stills --no-baseline`,
which keeps a landmark recording); judgement then runs in this process with
the package's own functions, exactly as `posturecam rescore` does. The noise
floor is measured, not tuned: three times the frame-to-frame noise of the
combined evidence on S4's good clip replayed as video. Last line: one JSON
object keyed by subject (defaults), plus "loso", "loso_metrics", "two_point" and "side".

    python benchmarks/evaluate.py [--datasets ../shared/datasets] [--model PATH] [--lite PATH]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from posturecam.core.baseline import baseline_of, samples_of
from posturecam.core.geometry import FRONT, SIDE, MetricTable
from posturecam.core.judge import judge, slouch_evidence
from posturecam.core.rules import JudgeSettings
from posturecam.frames.engine import measure
from posturecam.frames.sources import natural_key
from posturecam.research import recording

ROOT = Path(__file__).resolve().parents[1]
CALIB = 10

# The candidate grid LOSO chooses from: which metrics the evidence combines
# (with weights), and slouch_k. Written down before looking at any held-out score.
WEIGHT_SETS: list[dict[str, float]] = [
    {"head_height": 1.0},
    {"ear_height": 1.0},
    {"ear_height": 1.0, "head_height": 0.5},
    {"ear_height": 1.0, "head_height": 1.0},
    {"ear_height": 1.0, "neck_angle": 0.5},
    {"ear_height": 1.0, "neck_angle": 1.0},
    {"head_height": 1.0, "neck_angle": 1.0},
    {"ear_height": 1.0, "head_height": 1.0, "neck_angle": 1.0},
    {"ear_height": 1.0, "head_height": 0.5, "ear_span": 0.5},
    {"ear_height": 1.0, "neck_height": 0.5},
]
SLOUCH_KS = (2.0, 3.0, 4.0, 5.0, 6.0)
CAPS = (0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
COMBINES = ("mean", "min")
CANDIDATE_METRICS = (
    "head_height",
    "ear_height",
    "neck_height",
    "nose_height",
    "head_pitch",
    "neck_angle",
    "head_forward_z",
    "ear_span",
    "shoulder_y",
)
# Direction in which each candidate metric gets worse, for its AUC.
WORSE_WHEN_LOWER = {"head_height", "ear_height", "neck_height", "nose_height", "head_pitch"}


# --------------------------------------------------------------------------- statistics


def rates(truth_bad: np.ndarray, verdict: np.ndarray) -> dict[str, float]:
    """Sensitivity, specificity, balanced accuracy, coverage; undecided (NaN) is wrong."""
    said_bad = verdict == 1.0
    said_good = verdict == 0.0
    sens = float(np.mean(said_bad[truth_bad])) if truth_bad.any() else float("nan")
    spec = float(np.mean(said_good[~truth_bad])) if (~truth_bad).any() else float("nan")
    return {
        "balanced_accuracy": (sens + spec) / 2,
        "sensitivity": sens,
        "specificity": spec,
        "coverage": float(np.mean(np.isfinite(verdict))),
    }


def roc_auc(truth_bad: np.ndarray, badness: np.ndarray) -> float:
    """Probability that a bad photo scores worse than a good one (ties count half)."""
    ok = np.isfinite(badness)
    pos, neg = badness[ok & truth_bad], badness[ok & ~truth_bad]
    if not pos.size or not neg.size:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


# --------------------------------------------------------------------------- the model, once


def posturecam(*args: str) -> None:
    cmd = [sys.executable, "-m", "posturecam", *args, "--no-progress"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")


def landmarks_of(paths: list[Path], work: Path, model_args: list[str], video: bool) -> MetricTable:
    """Metrics of the photos in this order: linked under neutral names, replayed once."""
    folder = work / "frames"
    folder.mkdir(parents=True)
    for i, p in enumerate(paths):
        os.symlink(p.resolve(), folder / f"{i:05d}{p.suffix.lower()}")
    mode = ["--fps", "30"] if video else ["--stills"]
    posturecam(
        "replay", str(folder), *mode, "--no-baseline", "--out", str(work / "out"), *model_args
    )
    log, _ = recording.load(work / "out" / recording.FILENAME)
    return log


def subset(table: MetricTable, idx: np.ndarray) -> MetricTable:
    return MetricTable(
        {k: v[idx] for k, v in table.values.items()}, table.view[idx], table.reason[idx]
    )


# --------------------------------------------------------------------------- one subject


class Subject:
    """One person's photos: calibration frames, test frames and truth."""

    def __init__(self, name: str, metrics: MetricTable, bad: np.ndarray, view: str | None = None):
        self.name, self.metrics, self.bad = name, metrics, bad
        good = np.flatnonzero(~bad)
        self.calib = good[:CALIB]
        self.test = np.setdiff1d(np.arange(len(bad)), self.calib)
        self.baseline = baseline_of(subset(metrics, self.calib), view, min_frames=1)
        slouch_idx = np.flatnonzero(bad)[:CALIB]
        self.two_point = replace(
            self.baseline, slouch=samples_of(subset(metrics, slouch_idx), self.baseline.view)
        )
        self.test_two = np.setdiff1d(self.test, slouch_idx)

    def score(self, settings: JudgeSettings, two_point: bool = False) -> dict[str, float]:
        idx = self.test_two if two_point else self.test
        base = self.two_point if two_point else self.baseline
        v = judge(subset(self.metrics, idx), base, base.view, settings)
        out = rates(self.bad[idx], v.slouched)
        out["auc"] = roc_auc(self.bad[idx], 100.0 - v.score)
        out["photos"] = int(idx.size)
        return out

    def ceiling(self, settings: JudgeSettings) -> tuple[float, float]:
        """The best balanced accuracy any one fixed threshold on the evidence reaches here.

        Chosen on this subject's own test photos (an oracle, never a figure to claim): how
        much placing the threshold better could still buy, and so whether a subject's gap
        is in where the line is drawn or in the evidence itself.
        """
        v = judge(subset(self.metrics, self.test), self.baseline, self.baseline.view, settings)
        truth = self.bad[self.test]
        best = (-1.0, float("nan"))
        values = np.unique(v.evidence[np.isfinite(v.evidence)])
        for thr in (values[:-1] + values[1:]) / 2:  # every distinct cut
            verdict = np.where(np.isnan(v.evidence), np.nan, (v.evidence > thr).astype(float))
            best = max(best, (rates(truth, verdict)["balanced_accuracy"], float(thr)))
        return best

    def metric_auc(self, metric: str) -> float:
        v = self.metrics[metric][self.test]
        return roc_auc(self.bad[self.test], -v if metric in WORSE_WHEN_LOWER else v)


def candidates(defaults: JudgeSettings, metrics: bool) -> list[JudgeSettings]:
    """The grid: slouch_k x cap, and with ``metrics`` also every weight set and combine."""
    shapes = (
        [(w, c) for w in WEIGHT_SETS for c in COMBINES if len(w) > 1 or c == "mean"]
        if metrics
        else [(defaults.weights, defaults.combine)]
    )
    return [
        replace(defaults, slouch_k=k, cap=cap, weights=w, combine=c)
        for (w, c), k, cap in itertools.product(shapes, SLOUCH_KS, CAPS)
    ]


def choose(train: list[Subject], grid: list[JudgeSettings]) -> JudgeSettings:
    """The candidate with the best mean balanced accuracy here (then the best worst one)."""

    def merit(s: JudgeSettings) -> tuple[float, float]:
        ba = [t.score(s)["balanced_accuracy"] for t in train]
        return (round(float(np.mean(ba)), 4), float(np.min(ba)))

    return max(grid, key=merit)


def measured_noise(log, settings: JudgeSettings) -> float:
    """Frame-to-frame noise of the combined evidence on a video of a person sitting well.

    The robust spread of the second difference divided by sqrt(6) is the
    white-noise part of a signal; slow movements barely contribute to it.
    """
    table = measure(log, FRONT)
    centres = {m: float(np.nanmedian(table[m])) for m in settings.weights}
    ev = slouch_evidence(table.values, centres, settings.weights, settings.combine)
    d2 = np.diff(ev[np.isfinite(ev)], 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6))


# --------------------------------------------------------------------------- the sets


def frontal_subjects(datasets: Path, work: Path, model_args: list[str]) -> dict[str, Subject]:
    subjects = {}
    for folder in ("frontal-desk-3subjects", "frontal-webcam-1subject"):
        root = datasets / folder
        with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
            labels = list(csv.DictReader(fh))
        for name in sorted({r["subject"] for r in labels}):
            rows = sorted(
                (r for r in labels if r["subject"] == name), key=lambda r: natural_key(r["path"])
            )
            log = landmarks_of([root / r["path"] for r in rows], work / name, model_args, False)
            bad = np.array([r["label"] == "bad" for r in rows])
            subjects[name] = Subject(name, measure(log, FRONT), bad, FRONT)
    return subjects


def side_verdicts(datasets: Path, work: Path, model_args: list[str]) -> dict:
    root = datasets / "side-chair-1subject"
    with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    verdicts = {}
    for cam in sorted({r["camera_side"] for r in labels}):
        rows = sorted(
            (r for r in labels if r["camera_side"] == cam), key=lambda r: natural_key(r["path"])
        )
        log = landmarks_of(
            [root / r["path"] for r in rows], work / f"side_{cam}", model_args, False
        )
        metrics = measure(log, SIDE)
        straight = np.array([r["posture"] == "straight" for r in rows])
        base = baseline_of(subset(metrics, np.flatnonzero(straight)), SIDE, min_frames=1)
        v = judge(metrics, base, SIDE, JudgeSettings())
        for r, s in zip(rows, v.slouched, strict=True):
            said = "undecided" if np.isnan(s) else str(int(s))
            verdicts[f"{cam}:{r['path']}"] = (r["posture"], said)
    return {
        "hunchback_all_slouched": all(v == "1" for p, v in verdicts.values() if p == "hunchback"),
        "straight_none_slouched": all(v == "0" for p, v in verdicts.values() if p == "straight"),
        "verdicts": {k: f"{p}={v}" for k, (p, v) in verdicts.items()},
    }


# --------------------------------------------------------------------------- report


def table_lines(title: str, results: dict[str, dict[str, float]]) -> list[str]:
    head = f"{'subject':8} {'bal.acc':>8} {'sens':>6} {'spec':>6} {'cover':>6} {'AUC':>6}"
    lines = [title, head]
    for name, r in results.items():
        lines.append(
            f"{name:8} {r['balanced_accuracy']:8.3f} {r['sensitivity']:6.3f} "
            f"{r['specificity']:6.3f} {r['coverage']:6.3f} {r['auc']:6.3f}"
        )
    return lines


def rounded(results: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    keys = ("balanced_accuracy", "sensitivity", "specificity", "coverage", "auc")
    return {s: {k: round(r[k], 4) for k in keys} for s, r in results.items()}


def describe(s: JudgeSettings) -> str:
    weights = "+".join(f"{w:g}*{m}" for m, w in s.weights.items())
    return f"{s.combine}({weights}), slouch_k={s.slouch_k:g}, cap={s.cap:g}, floor={s.floor:.3f}"


def compare_lite(lite: dict[str, Subject], defaults: JudgeSettings, full_loso: dict) -> dict:
    """Lite against full, same defaults and the same leave-one-subject-out choice."""
    grid = candidates(defaults, False)
    loso = {
        name: held.score(choose([s for n, s in lite.items() if n != name], grid))
        for name, held in lite.items()
    }
    plain = {n: s.score(defaults) for n, s in lite.items()}
    print()
    for line in table_lines("Lite model, defaults:", plain):
        print(line)
    print()
    for line in table_lines("Lite model, leave-one-subject-out (metrics as shipped):", loso):
        print(line)
    gap = {n: full_loso[n]["balanced_accuracy"] - loso[n]["balanced_accuracy"] for n in loso}
    close = all(g <= 0.01 for g in gap.values())
    print(
        "  full - lite (LOSO balanced accuracy): "
        + ", ".join(f"{n} {g:+.3f}" for n, g in gap.items())
    )
    print(f"  lite within 0.01 of full on every subject: {close}")
    out = rounded(plain)
    return {**out, "loso": rounded(loso), "within_0.01_of_full": close}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--model", help="pose model .task file (default: resolved as the CLI does)")
    parser.add_argument(
        "--lite",
        type=Path,
        help="also score the Lite model (pose_landmarker_lite.task) with the same defaults",
    )
    args = parser.parse_args()
    model_args = ["--model", args.model] if args.model else []
    defaults = JudgeSettings()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lite = (
            frontal_subjects(args.datasets, work / "lite", ["--model", str(args.lite)])
            if args.lite
            else None
        )
        subjects = frontal_subjects(args.datasets, work, model_args)
        s4 = args.datasets / "frontal-webcam-1subject"
        good_clip = sorted(
            (s4 / "images" / "good").glob("*.jpg"), key=lambda p: natural_key(p.name)
        )
        clip = landmarks_of(good_clip, work / "S4_video", model_args, True)
        side = side_verdicts(args.datasets, work, model_args)

    noise = measured_noise(clip, defaults)
    print(f"frame-to-frame noise of the default evidence (S4 good clip as video): {noise:.4f}")
    print(f"noise floor = 3 x noise = {3 * noise:.3f}; shipped floor = {defaults.floor:.3f}")

    print("\nAUC of each candidate metric per subject (test photos):")
    print(f"{'metric':16}" + "".join(f"{n:>8}" for n in subjects))
    for m in CANDIDATE_METRICS:
        print(f"{m:16}" + "".join(f"{s.metric_auc(m):8.3f}" for s in subjects.values()))

    results = {n: s.score(defaults) for n, s in subjects.items()}
    two_point = {n: s.score(defaults, two_point=True) for n, s in subjects.items()}
    print()
    for line in table_lines(f"defaults ({describe(defaults)}):", results):
        print(line)
    loso = {}
    for key, metrics, title in (
        ("loso", False, "slouch_k and cap chosen without the subject; metrics as shipped"),
        ("loso_metrics", True, "metrics, weights, combine, slouch_k, cap chosen without it"),
    ):
        grid = candidates(defaults, metrics)
        loso[key], chosen = {}, {}
        for name, held_out in subjects.items():
            pick = choose([s for n, s in subjects.items() if n != name], grid)
            chosen[name] = describe(pick)
            loso[key][name] = held_out.score(pick)
        print()
        for line in table_lines(f"leave-one-subject-out ({title}):", loso[key]):
            print(line)
        for name, text in chosen.items():
            print(f"  {name} scored with: {text}")
        print(f"  chosen on all subjects: {describe(choose(list(subjects.values()), grid))}")
    print()
    for line in table_lines("two-point calibration (10 upright + 10 slouched photos):", two_point):
        print(line)
    ceiling = {n: s.ceiling(defaults) for n, s in subjects.items()}
    print("\nbest one fixed threshold on the shipped evidence, chosen on the subject itself")
    print("(an oracle: what threshold placement alone could still buy):")
    for name, (ba, thr) in ceiling.items():
        print(f"  {name}: balanced accuracy {ba:.3f} at {thr:.2f}")
    print(
        f"\nside view: every hunchback slouched: {side['hunchback_all_slouched']}, "
        f"no straight slouched: {side['straight_none_slouched']}"
    )
    for k, v in side["verdicts"].items():
        print(f"  {k}: {v}")
    summary: dict = rounded(results)
    summary["loso"] = rounded(loso["loso"])
    summary["loso_metrics"] = rounded(loso["loso_metrics"])
    summary["two_point"] = rounded(two_point)
    summary["side"] = {k: side[k] for k in ("hunchback_all_slouched", "straight_none_slouched")}
    summary["noise_floor"] = round(3 * noise, 4)
    summary["threshold_ceiling"] = {
        n: {"balanced_accuracy": round(ba, 4), "threshold": round(thr, 2)}
        for n, (ba, thr) in ceiling.items()
    }
    if lite is not None:
        summary["lite"] = compare_lite(lite, defaults, summary["loso"])
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
