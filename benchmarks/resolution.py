"""How small may the camera's picture be? Accuracy on S4 and the side-view set, downscaled.

The live monitor asks the camera for a small mode: fewer pixels to transfer,
decode and resize all day. This measures what that costs the judgement: S4's
frames (640x360) and the side-chair photos (720x1280) are shrunk so that their
long side is each candidate size (INTER_AREA, as a camera's scaler or our own
resize would), replayed as stills through the CLI exactly as
``benchmarks/evaluate.py`` does, and judged with the shipped defaults.

The smallest size whose S4 balanced accuracy is within 0.01 of the full
picture's, and whose side-view verdicts are unchanged, is the one to ask for.
Downscaled copies live in a temporary folder and are deleted at the end.

    python benchmarks/resolution.py [--datasets ../shared/datasets] [--model PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path

import cv2
import evaluate as ev
import numpy as np

from posturecam.core.baseline import baseline_of
from posturecam.core.geometry import FRONT, SIDE
from posturecam.core.judge import judge
from posturecam.core.rules import JudgeSettings
from posturecam.frames.engine import measure
from posturecam.frames.sources import natural_key

SIZES = (0, 480, 424, 320, 256)  # long side in pixels; 0: as recorded
TOLERANCE = 0.01


def shrunk(paths: list[Path], folder: Path, long_side: int) -> list[Path]:
    """Copies of the images with the given long side (0: links to the originals)."""
    folder.mkdir(parents=True)
    out = []
    for i, p in enumerate(paths):
        dst = folder / f"{i:05d}.png"
        if long_side:
            image = cv2.imread(str(p))
            h, w = image.shape[:2]
            scale = long_side / max(h, w)
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            cv2.imwrite(str(dst), cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        else:
            dst = dst.with_suffix(p.suffix.lower())
            dst.symlink_to(p.resolve())
        out.append(dst)
    return out


def s4_rates(root: Path, work: Path, size: int, model_args: list[str]) -> dict[str, float]:
    with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: natural_key(r["path"]))
    paths = shrunk([root / r["path"] for r in rows], work / "s4_in", size)
    log = ev.landmarks_of(paths, work / "s4", model_args, False)
    bad = np.array([r["label"] == "bad" for r in rows])
    subject = ev.Subject("S4", measure(log, FRONT), bad, FRONT)
    return subject.score(JudgeSettings())


def side_ok(root: Path, work: Path, size: int, model_args: list[str]) -> bool:
    with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    ok = True
    for cam in sorted({r["camera_side"] for r in labels}):
        rows = sorted(
            (r for r in labels if r["camera_side"] == cam), key=lambda r: natural_key(r["path"])
        )
        paths = shrunk([root / r["path"] for r in rows], work / f"side_{cam}_in", size)
        metrics = measure(ev.landmarks_of(paths, work / f"side_{cam}", model_args, False), SIDE)
        straight = np.array([r["posture"] == "straight" for r in rows])
        base = baseline_of(ev.subset(metrics, np.flatnonzero(straight)), SIDE, min_frames=1)
        v = judge(metrics, base, SIDE, JudgeSettings()).slouched
        for r, s in zip(rows, v, strict=True):
            if r["posture"] == "hunchback" and s != 1.0:
                ok = False
            if r["posture"] == "straight" and s != 0.0:
                ok = False
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ev.ROOT.parent / "shared" / "datasets")
    parser.add_argument("--model", help="pose model .task file (default: resolved as the CLI does)")
    args = parser.parse_args()
    model_args = ["--model", args.model] if args.model else []
    results = {}
    print(f"{'long side':>9} {'S4 bal.acc':>10} {'sens':>6} {'spec':>6} {'cover':>6}  side view")
    for size in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            r = s4_rates(args.datasets / "frontal-webcam-1subject", work, size, model_args)
            side = side_ok(args.datasets / "side-chair-1subject", work, size, model_args)
        label = str(size) if size else "as is"
        keys = ("balanced_accuracy", "sensitivity", "specificity", "coverage")
        results[label] = {k: round(r[k], 4) for k in keys} | {"side_view_ok": side}
        print(
            f"{label:>9} {r['balanced_accuracy']:10.3f} {r['sensitivity']:6.3f} "
            f"{r['specificity']:6.3f} {r['coverage']:6.3f}  {'as labelled' if side else 'CHANGED'}"
        )
    full = results["as is"]["balanced_accuracy"]
    fine = [
        s
        for s in SIZES[1:]
        if results[str(s)]["side_view_ok"]
        and results[str(s)]["balanced_accuracy"] >= full - TOLERANCE
    ]
    smallest = min(fine) if fine else None
    print(f"smallest long side within {TOLERANCE} of the full picture: {smallest}")
    print(json.dumps({"sizes": results, "smallest_ok": smallest, "tolerance": TOLERANCE}))


if __name__ == "__main__":
    main()
