"""Argument types and adders that several command groups share, and the estimator they build."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from posturecam.core.rules import JudgeSettings
from posturecam.errors import SettingsError
from posturecam.frames import model
from posturecam.frames.pose import MediaPipePose

# Bounds of the command line's times and rates: beyond them a value is a typo, and values like
# 1e308 s or 1e-308 Hz overflow the clocks and timers they reach.
MAX_SECONDS = 7 * 24 * 3600.0  # a week
MIN_RATE_HZ, MAX_RATE_HZ = 0.001, 1000.0


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_float(text: str) -> float:
    """A duration in seconds: more than 0 and at most a week."""
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_SECONDS:.0f} seconds (7 days), got {text}"
        )
    return value


def rate(text: str) -> float:
    """A frame or sampling rate in Hz, from one frame in about 17 minutes to 1000 a second."""
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
    if not MIN_RATE_HZ <= value <= MAX_RATE_HZ:
        raise argparse.ArgumentTypeError(
            f"must be between {MIN_RATE_HZ:g} and {MAX_RATE_HZ:g} per second, got {text}"
        )
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def add_sensitivity_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sensitivity",
        action="append",
        default=[],
        metavar="ISSUE=X",
        help="make one issue more (X > 1) or less (X < 1) sensitive; repeatable",
    )


def judge_settings(base: JudgeSettings | None, sensitivity: list[str]) -> JudgeSettings | None:
    """``base`` with the ``--sensitivity ISSUE=X`` factors applied (``base`` itself if none)."""
    if not sensitivity:
        return base
    try:
        return (base or JudgeSettings()).with_sensitivity(**parse_sensitivity(sensitivity))
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc


def parse_sensitivity(items: list[str]) -> dict[str, float]:
    """``ISSUE=VALUE`` pairs from the command line."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise SettingsError(
                f"--sensitivity takes ISSUE=NUMBER (e.g. head_drop=1.5), got {item!r}"
            ) from None
    return out


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="PATH", help="pose model .task file (default: resolved)")
    p.add_argument(
        "--model-variant",
        choices=sorted(model.VARIANTS),
        default=model.DEFAULT_VARIANT,
        help="official model to use from the cache or download (default: %(default)s)",
    )


def add_baseline_args(p: argparse.ArgumentParser, default_help: str) -> None:
    base = p.add_mutually_exclusive_group()
    base.add_argument("--profile", metavar="NAME|PATH", help="judge against a saved calibration")
    base.add_argument(
        "--baseline-seconds",
        type=positive_float,
        metavar="S",
        help=f"calibrate on the first S seconds of the recording ({default_help})",
    )
    base.add_argument(
        "--baseline-frames",
        type=positive_int,
        metavar="N",
        help="calibrate on the first N frames of the recording",
    )
    base.add_argument("--no-baseline", action="store_true", help="metrics only, no judgement")


def estimator(path: Path) -> Callable[[str], MediaPipePose]:
    """The pose estimator factory (running mode -> estimator) for the model at ``path``.

    The one place the commands build estimators: tests replace ``MediaPipePose`` here.
    """
    return lambda mode: MediaPipePose(path, mode)
