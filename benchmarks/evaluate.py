"""Accuracy of posture judgement on real labelled photos, run through the CLI.

Protocol (../shared/datasets/README.md): per subject, calibrate on the first
10 good photos by natural file-name order, judge every other photo as a
still, with one default configuration for everyone. Prints a table and, as
its last line, one JSON object.

    python benchmarks/evaluate.py [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from posturecam.sources import natural_key

ROOT = Path(__file__).resolve().parents[1]


def balanced_accuracy(truth_bad: np.ndarray, said_bad: np.ndarray) -> float:
    tpr = float(np.mean(said_bad[truth_bad])) if truth_bad.any() else float("nan")
    tnr = float(np.mean(~said_bad[~truth_bad])) if (~truth_bad).any() else float("nan")
    return (tpr + tnr) / 2


def roc_auc(truth_bad: np.ndarray, badness: np.ndarray) -> float:
    """Probability that a bad photo scores worse than a good one (ties count half)."""
    pos, neg = badness[truth_bad], badness[~truth_bad]
    if not pos.size or not neg.size:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


def posturecam(*args: str) -> None:
    cmd = [sys.executable, "-m", "posturecam", *args, "--no-progress"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")


def link_all(paths: list[Path], folder: Path) -> list[str]:
    """Symlink photos under neutral names, so nothing downstream sees a label."""
    folder.mkdir(parents=True)
    names = []
    for i, p in enumerate(paths):
        name = f"{i:05d}{p.suffix.lower()}"
        os.symlink(p.resolve(), folder / name)
        names.append(name)
    return names


def judge_folder(calib: list[Path], test: list[Path], work: Path, view: str | None) -> list[dict]:
    link_all(calib, work / "calib")
    names = link_all(test, work / "test")
    profile = work / "profile.json"
    view_args = ["--view", view] if view else []
    posturecam(
        "calibrate",
        "--source",
        str(work / "calib"),
        "--stills",
        "--profile",
        str(profile),
        *view_args,
    )
    posturecam(
        "replay",
        str(work / "test"),
        "--stills",
        "--profile",
        str(profile),
        "--out",
        str(work / "out"),
        *view_args,
    )
    with open(work / "out" / "frames.csv", newline="", encoding="utf-8") as fh:
        rows = {r["source"]: r for r in csv.DictReader(fh)}
    return [rows[n] for n in names]


def evaluate_frontal(root: Path, work: Path) -> dict[str, dict]:
    with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    results = {}
    for subject in sorted({r["subject"] for r in labels}):
        rows = sorted(
            (r for r in labels if r["subject"] == subject), key=lambda r: natural_key(r["path"])
        )
        good = [r for r in rows if r["label"] == "good"]
        calib = good[:10]
        test = [r for r in rows if r not in calib]
        out = judge_folder(
            [root / r["path"] for r in calib],
            [root / r["path"] for r in test],
            work / subject,
            None,
        )
        truth = np.array([r["label"] == "bad" for r in test])
        slouched = np.array([o["slouched"] for o in out])
        decided = slouched != ""
        said_bad = slouched == "1"  # undecided counts as an error for bad photos
        score = np.array([float(o["score"]) if o["score"] else np.nan for o in out])
        scored = ~np.isnan(score)
        results[subject] = {
            "balanced_accuracy": round(balanced_accuracy(truth, said_bad), 4),
            "auc": round(roc_auc(truth[scored], 100 - score[scored]), 4),
            "photos": len(test),
            "undecided": int((~decided).sum()),
        }
    return results


def evaluate_side(root: Path, work: Path) -> dict:
    with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    verdicts = {}
    for cam in sorted({r["camera_side"] for r in labels}):
        rows = sorted(
            (r for r in labels if r["camera_side"] == cam), key=lambda r: natural_key(r["path"])
        )
        calib = [r for r in rows if r["posture"] == "straight"]
        out = judge_folder(
            [root / r["path"] for r in calib],
            [root / r["path"] for r in rows],
            work / f"side_{cam}",
            "side",
        )
        for r, o in zip(rows, out, strict=True):
            verdicts[f"{cam}:{r['path']}"] = (r["posture"], o["slouched"])
    hunch_ok = all(v == "1" for p, v in verdicts.values() if p == "hunchback")
    straight_ok = all(v == "0" for p, v in verdicts.values() if p == "straight")
    return {
        "hunchback_all_slouched": hunch_ok,
        "straight_none_slouched": straight_ok,
        "verdicts": {k: f"{p}={v or 'undecided'}" for k, (p, v) in verdicts.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        frontal = evaluate_frontal(args.datasets / "frontal-desk-3subjects", work)
        side = evaluate_side(args.datasets / "side-chair-1subject", work)
    print(f"{'subject':8} {'balanced acc':>12} {'AUC':>6} {'photos':>7} {'undecided':>9}")
    for subject, r in frontal.items():
        print(
            f"{subject:8} {r['balanced_accuracy']:12.3f} {r['auc']:6.3f} {r['photos']:7d} "
            f"{r['undecided']:9d}"
        )
    print(
        f"side view: every hunchback slouched: {side['hunchback_all_slouched']}, "
        f"no straight slouched: {side['straight_none_slouched']}"
    )
    for k, v in side["verdicts"].items():
        print(f"  {k}: {v}")
    summary = {
        s: {"balanced_accuracy": r["balanced_accuracy"], "auc": r["auc"]}
        for s, r in frontal.items()
    }
    summary["side"] = {k: side[k] for k in ("hunchback_all_slouched", "straight_none_slouched")}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
