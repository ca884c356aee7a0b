"""Scoring options: what shapes a run's results, as one frozen value with one record and one key.

``ScoringOptions`` says how a landmark log is scored (view, timing, judgement,
the moving baseline, and the ``BaselineChoice``: a saved profile, a window at
the start of the recording, or none). ``record`` is what summary.json keeps
(rescore starts from it again with ``from_record``); ``key_material`` is what
a batch's run key hashes. How a run is written (``force``, ``progress``,
``parquet``) is not a scoring option: ``ReplayOptions`` carries it beside them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from posturecam.core.adapt import AdaptSettings
from posturecam.core.rules import JudgeSettings
from posturecam.core.temporal import TemporalSettings
from posturecam.profiles import Profile


@dataclass(frozen=True)
class ProfileBaseline:
    """Judge against a saved calibration profile."""

    profile: Profile
    ref: str = ""  # the name or path it came from, for the summary


@dataclass(frozen=True)
class WindowBaseline:
    """Calibrate on the start of the recording: its first ``seconds`` or ``frames``.

    Neither given is the default window (WINDOW_S), which unrelated
    stills do not get: they have no start to calibrate on.
    """

    seconds: float | None = None
    frames: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is not None and self.frames is not None:
            raise ValueError("a baseline window is seconds or frames, not both")

    @property
    def is_default(self) -> bool:
        return self.seconds is None and self.frames is None


@dataclass(frozen=True)
class NoBaseline:
    """Metrics only: nothing is judged."""


BaselineChoice = ProfileBaseline | WindowBaseline | NoBaseline


def baseline_choice(
    profile: Profile | None = None,
    ref: str = "",
    seconds: float | None = None,
    frames: int | None = None,
    none: bool = False,
) -> BaselineChoice:
    """The choice from its flat spelling (the command line's flags, summary.json's record).

    Precedence as replay always had it: a profile, then none, then frames, then seconds.
    """
    if profile is not None:
        return ProfileBaseline(profile, ref)
    if none:
        return NoBaseline()
    if frames is not None:
        return WindowBaseline(frames=frames)
    return WindowBaseline(seconds=seconds)


@dataclass(frozen=True)
class ScoringOptions:
    """Everything that shapes a run's results, except the model and posturecam's version."""

    view: str | None = None  # None: detect
    stills: bool = False  # unrelated photos: IMAGE mode, no moving baseline
    fps: float | None = None  # image folders without a manifest
    baseline: BaselineChoice = field(default_factory=WindowBaseline)
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    judge: JudgeSettings | None = None  # replaces the profile's judgement settings
    adapt: AdaptSettings = field(default_factory=AdaptSettings)  # sequences' moving baseline

    @property
    def profile(self) -> Profile | None:
        return self.baseline.profile if isinstance(self.baseline, ProfileBaseline) else None

    def _flat_baseline(self) -> dict[str, Any]:
        b = self.baseline
        return {
            "profile": (b.ref or None) if isinstance(b, ProfileBaseline) else None,
            "baseline_seconds": b.seconds if isinstance(b, WindowBaseline) else None,
            "baseline_frames": b.frames if isinstance(b, WindowBaseline) else None,
            "no_baseline": isinstance(b, NoBaseline),
        }

    def record(self) -> dict[str, Any]:
        """The options as summary.json stores them (rescore starts from them again)."""
        return {
            "view": self.view,
            "stills": self.stills,
            "fps": self.fps,
            **self._flat_baseline(),
            "temporal": self.temporal.to_dict(),
            "judge": self.judge.to_dict() if self.judge else None,
            "adapt": self.adapt.to_dict(),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], profile: Profile | None) -> ScoringOptions:
        """The options a run was made with: its record, and the exact profile it used."""
        o = record or {}
        choice = baseline_choice(
            profile,
            o.get("profile") or "",
            o.get("baseline_seconds"),
            o.get("baseline_frames"),
            bool(o.get("no_baseline", False)),
        )
        temporal, judge, adapt = o.get("temporal"), o.get("judge"), o.get("adapt")
        return cls(
            view=o.get("view"),
            stills=bool(o.get("stills", False)),
            fps=o.get("fps"),
            baseline=choice,
            temporal=TemporalSettings.from_dict(temporal) if temporal else TemporalSettings(),
            judge=JudgeSettings.from_dict(judge) if judge else None,
            adapt=AdaptSettings.from_dict(adapt) if adapt else AdaptSettings(),
        )

    def key_material(self) -> dict[str, Any]:
        """What the run key hashes: every option, the profile by content, in canonical form.

        The same material (and so the same keys) as the flat options of earlier versions,
        so a batch folder made before still resumes.
        """
        flat = self._flat_baseline()
        return canonical(
            {
                "view": self.view,
                "stills": self.stills,
                "fps": self.fps,
                "profile": self.profile,
                "profile_ref": flat["profile"] or "",
                "baseline_seconds": flat["baseline_seconds"],
                "baseline_frames": flat["baseline_frames"],
                "no_baseline": flat["no_baseline"],
                "temporal": self.temporal,
                "judge": self.judge,
                "adapt": self.adapt,
            }
        )


def canonical(value: Any) -> Any:
    """JSON-ready, canonical form of options, profiles and settings (for hashing)."""
    if hasattr(value, "to_dict"):
        return canonical(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [canonical(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


_FLAT_BASELINE = {
    "profile": "profile",
    "profile_ref": "ref",
    "baseline_seconds": "seconds",
    "baseline_frames": "frames",
    "no_baseline": "none",
}


def scoring_options(**fields: Any) -> ScoringOptions:
    """ScoringOptions from keywords: its own fields, with the baseline whole or spelt flat
    (``profile=``, ``profile_ref=``, ``baseline_seconds=``, ``baseline_frames=``,
    ``no_baseline=``), as earlier versions' ReplayOptions took it."""
    flat = {
        _FLAT_BASELINE[name]: fields.pop(name) for name in list(fields) if name in _FLAT_BASELINE
    }
    if flat:
        if "baseline" in fields:
            raise TypeError("give baseline= or its flat spelling, not both")
        fields["baseline"] = baseline_choice(**flat)
    return ScoringOptions(**fields)


@dataclass(frozen=True, init=False)
class ReplayOptions:
    """A replay's options: what to score (``scoring``) and how to write it.

    ``ReplayOptions(baseline_seconds=3.0, force=True)`` spells the scoring options
    flat, as ``scoring_options`` does; ``ReplayOptions(scoring, parquet=True)`` takes
    them whole.
    """

    scoring: ScoringOptions
    parquet: bool  # also write frames.parquet (needs pyarrow); part of a batch's key
    force: bool  # replace an output folder holding another run
    progress: bool  # show a progress bar

    def __init__(
        self,
        scoring: ScoringOptions | None = None,
        *,
        parquet: bool = False,
        force: bool = False,
        progress: bool = True,
        **fields: Any,
    ) -> None:
        if scoring is not None and fields:
            raise TypeError("give scoring= or its fields, not both")
        object.__setattr__(self, "scoring", scoring or scoring_options(**fields))
        object.__setattr__(self, "parquet", parquet)
        object.__setattr__(self, "force", force)
        object.__setattr__(self, "progress", progress)


def scoring_of(options: ScoringOptions | ReplayOptions) -> ScoringOptions:
    """The scoring options, given them or a replay's options."""
    return options.scoring if isinstance(options, ReplayOptions) else options
