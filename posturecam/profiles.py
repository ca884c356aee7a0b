"""Calibration profiles: versioned JSON, one per named setup, written atomically."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from posturecam.core.geometry import FRONT, VIEWS
from posturecam.core.rules import (
    DEFAULT_RULES,
    EVIDENCE,
    MAX_EXAMPLES,
    Baseline,
    JudgeSettings,
    MetricStats,
    Samples,
)
from posturecam.errors import ProfileError, Remedy
from posturecam.paths import data_dir
from posturecam.storage import write_json

SCHEMA = "posturecam.profile"
VERSION = 2  # 2: example frames (upright, slouch, not_slouch) beside the statistics
EXAMPLE_KINDS = ("upright", "slouch", "not_slouch")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_BYTES = 16 << 20  # a profile is statistics and at most MAX_EXAMPLES frames per kind
# Every metric is a ratio, an angle in degrees or an offset in metres or body widths:
# a calibrated value beyond this is damage (1e308 would make every frame slouched).
MAX_METRIC = 1e3
_RELATIVE = {e.metric for e in EVIDENCE.values() if e.relative} | {
    r.metric for r in DEFAULT_RULES.values() if r.relative
}


def profile_path(name_or_path: str | Path) -> Path:
    """A name means the user's profile of that name; a path ends in ``.json`` or has a folder.

    Anything else (``"my profile"``, ``""``, ``"-x"``) is refused rather than taken as a file in
    the current folder, which is where a mistyped name would otherwise quietly go.
    """
    text = str(name_or_path)
    if _NAME.match(text) and not text.endswith(".json"):
        return data_dir() / "calibration" / f"{text}.json"
    if isinstance(name_or_path, Path):  # code that passes a Path means that file
        return name_or_path.expanduser()
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    if text.strip() and (text.endswith(".json") or any(sep in text for sep in separators)):
        return Path(text).expanduser()
    raise ProfileError(
        f"{text!r} is neither a profile name nor a profile file: a name is 1 to 64 letters, "
        "digits, '.', '_' or '-', starting with a letter or digit (e.g. 'laptop'); a file is a "
        "path ending in .json or containing a folder (e.g. ./my-profile.json)"
    )


@dataclass(frozen=True)
class Profile:
    name: str
    view: str
    metrics: dict[str, MetricStats]
    image_size: tuple[int, int]
    model_variant: str
    frames: int
    source: str
    settings: JudgeSettings = field(default_factory=JudgeSettings)
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )
    # Example frames' metric values: the calibration frames ("upright"), the
    # person's own slouch ("slouch": two-point calibration or feedback) and
    # frames they said were not a slouch ("not_slouch"). No images, ever.
    examples: dict[str, Samples] = field(default_factory=dict)

    def baseline(self) -> Baseline:
        ex = self.examples
        return Baseline(
            self.view,
            self.metrics,
            upright=ex.get("upright", {}),
            slouch=ex.get("slouch", {}),
            not_slouch=ex.get("not_slouch", {}),
        )

    def with_examples(self, kind: str, samples: Samples) -> Profile:
        """A copy with these frames added to one kind of example, newest ``MAX_EXAMPLES`` kept."""
        if kind not in EXAMPLE_KINDS:
            raise ValueError(f"example kind must be one of {EXAMPLE_KINDS}")
        old = self.examples.get(kind, {})
        names = sorted(set(old) | set(samples))
        n_old = len(next(iter(old.values()))) if old else 0
        n_new = len(next(iter(samples.values()))) if samples else 0
        merged = {
            k: np.concatenate(
                [
                    np.asarray(old.get(k, np.full(n_old, np.nan)), float),
                    np.asarray(samples.get(k, np.full(n_new, np.nan)), float),
                ]
            )[-MAX_EXAMPLES:]
            for k in names
        }
        return replace(self, examples={**self.examples, kind: merged})

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": VERSION,
            "name": self.name,
            "created": self.created,
            "view": self.view,
            "image_size": list(self.image_size),
            "model_variant": self.model_variant,
            "frames": self.frames,
            "source": self.source,
            "metrics": {
                k: {"centre": round(s.centre, 6), "spread": round(s.spread, 6), "n": s.n}
                for k, s in self.metrics.items()
            },
            "settings": self.settings.to_dict(),
            "examples": {
                kind: {
                    k: [None if not math.isfinite(x) else round(x, 6) for x in v.tolist()]
                    for k, v in samples.items()
                }
                for kind, samples in self.examples.items()
                if samples
            },
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "profile") -> Profile:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ProfileError(f"{where} is not a posturecam profile; ", Remedy("recalibrate"), ".")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
            raise ProfileError(
                f"{where} has profile version {version!r}, newer than this posturecam "
                f"understands ({VERSION}); upgrade posturecam or recalibrate."
            )
        try:
            view = data["view"]
            if view not in VIEWS:
                raise ValueError(f"unknown view {view!r}")
            metrics = {str(k): _stats(str(k), s) for k, s in data["metrics"].items()}
            if not metrics:
                raise ValueError("no metrics")
            w, h = data["image_size"]
            profile = cls(
                name=str(data["name"]),
                view=view,
                metrics=metrics,
                image_size=(int(w), int(h)),
                model_variant=str(data.get("model_variant", "")),
                frames=int(data["frames"]),
                source=str(data.get("source", "")),
                settings=JudgeSettings.from_dict(data.get("settings", {})),
                created=str(data["created"]),
                examples=_examples(data.get("examples", {})),
            )
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
            raise ProfileError(
                f"{where} is incomplete or damaged ({exc}); ",
                Remedy("recalibrate"),
                " (the file was left as it is).",
            ) from exc
        needed = _judged_by(profile)
        if not needed & set(metrics):
            raise ProfileError(
                f"{where} holds no metric its judgement uses ({', '.join(sorted(needed))}), so "
                "it could never say slouched or upright; ",
                Remedy("recalibrate"),
                ".",
            )
        return profile


def _stats(metric: str, data: Any) -> MetricStats:
    """One metric's calibration, refused when it could not judge a frame honestly."""
    if not isinstance(data, dict) or isinstance(data.get("n"), bool):
        raise ValueError(f"metric {metric} must be an object of centre, spread and n")
    stats = MetricStats(float(data["centre"]), float(data["spread"]), int(data["n"]))
    if not (math.isfinite(stats.centre) and math.isfinite(stats.spread)):
        raise ValueError(f"metric {metric} is not a finite number")
    if abs(stats.centre) > MAX_METRIC or not 0 <= stats.spread <= MAX_METRIC:
        raise ValueError(
            f"metric {metric} has centre {stats.centre:g} and spread {stats.spread:g}, far "
            f"outside any posture (at most {MAX_METRIC:g})"
        )
    if metric in _RELATIVE and stats.centre == 0:
        raise ValueError(f"metric {metric} has centre 0, so no frame can be compared with it")
    if stats.n < 1:
        raise ValueError(f"metric {metric} was measured on {stats.n} frames")
    return stats


def _judged_by(profile: Profile) -> set[str]:
    """Metrics the profile's judgement reads: the weighted evidence (front), the slouch rules."""
    if profile.view == FRONT:
        return {m for m, w in profile.settings.weights.items() if w > 0}
    return {r.metric for r in DEFAULT_RULES.values() if r.slouch and r.view == profile.view}


def _examples(data: Any) -> dict[str, Samples]:
    """Example frames from JSON: known kinds, equal-length lists of numbers or null."""
    if not isinstance(data, dict):
        raise ValueError("examples must be an object")
    out: dict[str, Samples] = {}
    for kind, samples in data.items():
        if kind not in EXAMPLE_KINDS or not isinstance(samples, dict):
            raise ValueError(f"unknown example kind {kind!r}")
        cols = {}
        for metric, values in samples.items():
            if not isinstance(values, list) or len(values) > MAX_EXAMPLES:
                raise ValueError(
                    f"examples.{kind}.{metric} must be a list of at most {MAX_EXAMPLES}"
                )
            if any(
                v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)))
                for v in values
            ):
                raise ValueError(f"examples.{kind}.{metric} must hold numbers")
            arr = np.array([np.nan if v is None else v for v in values], float)
            if (np.abs(arr) > MAX_METRIC).any():
                raise ValueError(f"examples.{kind}.{metric} must be finite, at most {MAX_METRIC:g}")
            cols[str(metric)] = arr
        if len({len(v) for v in cols.values()}) > 1:
            raise ValueError(f"examples.{kind} columns differ in length")
        out[kind] = cols
    return out


def load(name_or_path: str | Path) -> Profile:
    path = profile_path(name_or_path)
    if not path.is_file():
        raise ProfileError(
            f"no profile at {path}; ", Remedy("create_profile", name=name_or_path), "."
        )
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValueError(f"larger than {MAX_BYTES >> 20} MiB, far more than a profile holds")
        data = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise ProfileError(
            f"profile {path} is nested far too deeply to be a profile; it was left as it is. "
            "Recalibrate to another name, or delete the file and ",
            Remedy("recalibrate"),
            ".",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ProfileError(
            f"profile {path} cannot be read ({exc}); it was left as it is. Recalibrate to "
            "another name, or delete the file and recalibrate."
        ) from exc
    return Profile.from_dict(data, where=f"profile {path}")


def save(profile: Profile, name_or_path: str | Path, overwrite_other_view: bool = False) -> Path:
    """Write atomically; never replace an unreadable profile or one of another view silently."""
    path = profile_path(name_or_path)
    if path.exists():
        try:
            old = load(path)
        except ProfileError as exc:
            raise ProfileError(
                f"{path} exists but is not a valid profile, so it was not overwritten: ",
                exc,
                " Move it away or ",
                Remedy("other_profile_name"),
                ".",
            ) from exc
        if old.view != profile.view and not overwrite_other_view:
            raise ProfileError(
                f"{path} holds a {old.view}-view profile; this calibration is "
                f"{profile.view}-view. ",
                Remedy("other_profile_name"),
                " (one per setup, e.g. 'laptop', 'side').",
            )
    write_json(path, profile.to_dict())
    return path


def check_fits(profile: Profile, view: str | None, image_size: tuple[int, int] | None) -> list[str]:
    """Errors for a profile of another view; warnings for another image size."""
    if view is not None and view != profile.view:
        raise ProfileError(
            f"profile '{profile.name}' was calibrated in {profile.view} view but this run is "
            f"{view} view; use a {view}-view profile or recalibrate."
        )
    warnings = []
    if image_size and tuple(image_size) != tuple(profile.image_size):
        warnings.append(
            f"profile '{profile.name}' was made at {profile.image_size[0]}x{profile.image_size[1]} "
            f"but frames are {image_size[0]}x{image_size[1]}; if the camera moved, recalibrate."
        )
    return warnings
