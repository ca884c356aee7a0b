"""Feedback to a running monitor: "not slouching", "slouching" and "undo".

`posturecam feedback ACTION` writes ``data_dir()/feedback.json``
(``{"id": hex, "action": ..., "requested": epoch, "expires": epoch}``) atomically; the
monitor, the only writer of the profile, polls it like the control file, labels its recent
frames, saves the profile and answers in ``data_dir()/feedback-ack.json``
(``{"id": ..., "ok": bool, "message": ..., "answered": epoch}``). A damaged or foreign file
reads as "no request" / "no answer" and never raises.

The rest is pure: which recent frames a label applies to, and the profile it makes.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posturecam.errors import FeedbackError
from posturecam.paths import data_dir
from posturecam.storage import write_json

REQUEST_NAME = "feedback.json"
ACK_NAME = "feedback-ack.json"
NOT_SLOUCHING, SLOUCHING, UNDO = "not-slouching", "slouching", "undo"
ACTIONS = (NOT_SLOUCHING, SLOUCHING, UNDO)
KIND = {NOT_SLOUCHING: "not_slouch", SLOUCHING: "slouch"}
SLOUCH_WINDOW_S = 5.0  # "I am slouching now": the last 5 s of judged frames
NO_ALERT_WINDOW_S = 30.0  # "that was not a slouch" without an alert: the last 30 s
HISTORY_S = 600.0  # the monitor keeps this much of judged frames' metrics
HISTORY_FRAMES = 6000  # ... and never more frames than this (10 min at 10 frames/s)
DEFAULT_EXPIRY_S = 60.0  # a request without "expires" is stale after this
_ID = re.compile(r"^[0-9a-f]{8,64}$")
_MESSAGE_MAX = 1000


def request_path() -> Path:
    return data_dir() / REQUEST_NAME


def ack_path() -> Path:
    return data_dir() / ACK_NAME


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


# ---------------------------------------------------------------------- the files


@dataclass(frozen=True)
class Request:
    id: str
    action: str
    requested: float  # epoch seconds
    expires: float  # epoch seconds: a monitor ignores the request after this

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "requested": self.requested,
            "expires": self.expires,
        }


@dataclass(frozen=True)
class Ack:
    id: str
    ok: bool  # False: the monitor could not apply it (e.g. the profile could not be saved)
    message: str
    answered: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "message": self.message, "answered": self.answered}


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def parse_request(data: object) -> Request | None:
    """A valid request, or None for anything else (damaged, foreign, unknown action)."""
    if not isinstance(data, dict):
        return None
    rid, action = data.get("id"), data.get("action")
    requested = _number(data.get("requested"))
    if not (isinstance(rid, str) and _ID.match(rid)) or action not in ACTIONS:
        return None
    if requested is None:
        return None
    expires = _number(data.get("expires"))
    return Request(
        rid, action, requested, requested + DEFAULT_EXPIRY_S if expires is None else expires
    )


def parse_ack(data: object) -> Ack | None:
    if not isinstance(data, dict):
        return None
    rid, message, ok = data.get("id"), data.get("message"), data.get("ok", True)
    answered = _number(data.get("answered"))
    if not (isinstance(rid, str) and _ID.match(rid)) or not isinstance(message, str):
        return None
    if not isinstance(ok, bool) or answered is None:
        return None
    return Ack(rid, ok, message[:_MESSAGE_MAX], answered)


def read_request(path: Path | None = None) -> Request | None:
    return parse_request(_read_json(path or request_path()))


def read_ack(path: Path | None = None) -> Ack | None:
    return parse_ack(_read_json(path or ack_path()))


def send(
    action: str, wait_s: float = 5.0, path: Path | None = None, now: float | None = None
) -> Request:
    """Write a new request atomically (replacing any earlier one)."""
    if action not in ACTIONS:
        raise FeedbackError(f"feedback is one of {', '.join(ACTIONS)}, not {action!r}")
    now = time.time() if now is None else now
    request = Request(secrets.token_hex(8), action, now, now + max(wait_s, 1.0))
    path = path or request_path()
    try:
        write_json(path, request.to_dict())
    except OSError as exc:
        raise FeedbackError(
            f"cannot write {path} ({exc.strerror or exc}); check that the folder is writable "
            "or set POSTURECAM_HOME."
        ) from exc
    return request


def answer(
    request: Request, ok: bool, message: str, path: Path | None = None, now: float | None = None
) -> Ack:
    """Write the monitor's answer atomically (raises OSError if it cannot)."""
    ack = Ack(request.id, ok, message, time.time() if now is None else now)
    write_json(path or ack_path(), ack.to_dict())
    return ack


def wait_for_ack(
    request_id: str,
    wait_s: float,
    path: Path | None = None,
    poll_s: float = 0.05,
    clock: Any = time.monotonic,
    sleep: Any = time.sleep,
) -> Ack | None:
    """The answer to this request, or None if none came within ``wait_s``."""
    deadline = clock() + wait_s
    while True:
        ack = read_ack(path)
        if ack is not None and ack.id == request_id:
            return ack
        if clock() >= deadline:
            return None
        sleep(poll_s)


class FeedbackWatcher:
    """What the monitor polls every loop: one ``stat``, a re-read only when the file changed."""

    def __init__(self, path: Path | None = None, ack: Path | None = None) -> None:
        self.path = path or request_path()
        self.ack_path = ack or ack_path()
        self._key: tuple[int, int, int] | None = None
        self._seen: set[str] = set()

    def poll(self, now: float) -> Request | None:
        """A new, unexpired request once; None otherwise."""
        try:
            st = os.stat(self.path)
        except OSError:
            self._key = None
            return None
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if key == self._key:
            return None
        self._key = key
        request = read_request(self.path)
        if request is None or request.id in self._seen:
            return None
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen.add(request.id)
        if now > request.expires:  # its sender has given up waiting: do not act behind its back
            return None
        return request

    def answer(self, request: Request, ok: bool, message: str, now: float) -> None:
        answer(request, ok, message, self.ack_path, now)


# ---------------------------------------------------------------------- the pure part


@dataclass(frozen=True)
class Judged:
    """One judged frame in the monitor's recent history: its time and metric values."""

    t_s: float
    metrics: dict[str, float]
    carried_over: bool = False  # a frame the model did not run on (reused landmarks)


@dataclass(frozen=True)
class Episode:
    """The last alert: from when the timeline left "upright" to the alert."""

    start_s: float
    alert_s: float


def usable(frames: Sequence[Judged]) -> list[Judged]:
    """Frames the model ran on and a person was measured in."""
    return [f for f in frames if not f.carried_over and f.metrics]


def select(action: str, frames: Sequence[Judged], episode: Episode | None) -> list[Judged]:
    """The recent frames a label applies to (oldest first)."""
    good = usable(frames)
    if not good:
        return []
    if action == SLOUCHING:
        return [f for f in good if f.t_s >= good[-1].t_s - SLOUCH_WINDOW_S]
    if action == NOT_SLOUCHING:
        if episode is not None:
            return [f for f in good if episode.start_s <= f.t_s <= episode.alert_s]
        return [f for f in good if f.t_s >= good[-1].t_s - NO_ALERT_WINDOW_S]
    raise ValueError(f"no frames for {action!r}")


def samples(frames: Sequence[Judged], view: str) -> dict[str, np.ndarray]:
    """The frames' evidence metrics, as a profile keeps examples (front view only)."""
    from posturecam.core.geometry import FRONT
    from posturecam.core.rules import EVIDENCE

    if view != FRONT or not frames:
        return {}
    return {
        k: np.array([f.metrics.get(k, math.nan) for f in frames], float) for k in sorted(EVIDENCE)
    }


def slouch_threshold(profile: Any, settings: Any = None) -> tuple[float, str]:
    from posturecam.core.judge import limits

    lim = limits(profile.baseline(), settings or profile.settings, sequence=True)  # the monitor's
    return lim.slouch, lim.placed_by


_PLACED = {
    "spread": "placed by your calibration",
    "clear": "a clear slouch; smaller ones count when they hold",
    "two-point": "placed between your upright and slouch examples",
    "feedback": "moved by your feedback",
}


def describe_change(old: Any, new: Any, settings: Any = None, what: str = "") -> str:
    """``slouch threshold 0.120 -> 0.185 (moved by your feedback); ...``"""
    before, _ = slouch_threshold(old, settings)
    after, how = slouch_threshold(new, settings)
    if not math.isfinite(after):
        head = "side view: feedback is kept but does not move a threshold"
    elif math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-9):
        head = f"slouch threshold stays {after:.3f} ({_PLACED.get(how, how)})"
    else:
        head = f"slouch threshold {before:.3f} -> {after:.3f} ({_PLACED.get(how, how)})"
    return f"{head}; {what}" if what else head


@dataclass(frozen=True)
class Outcome:
    profile: Any  # the new Profile, or None when nothing changes
    message: str


def apply(
    profile: Any,
    action: str,
    frames: Sequence[Judged],
    episode: Episode | None,
    settings: Any = None,
) -> Outcome:
    """The profile with these frames labelled (``not-slouching`` or ``slouching``)."""
    from posturecam.core.rules import MAX_EXAMPLES

    if action not in KIND:
        raise ValueError(f"apply() labels frames; {action!r} is not a label")
    chosen = select(action, frames, episode)
    if not chosen:
        return Outcome(None, "nothing changed: no judged frames to learn from yet")
    new_samples = samples(chosen, profile.view)
    if not new_samples:
        return Outcome(None, f"nothing changed: a {profile.view}-view profile keeps no examples")
    kind = KIND[action]
    updated = profile.with_examples(kind, new_samples)
    before, _ = slouch_threshold(profile, settings)
    after, _ = slouch_threshold(updated, settings)
    if action == SLOUCHING and after > before:
        # A slouch already over the threshold would place a two-point threshold above it and
        # make the monitor less sensitive: the opposite of "you missed my slouch".
        return Outcome(
            None,
            f"nothing changed: these frames are already judged a slouch (threshold {before:.3f})",
        )
    kept = len(next(iter(updated.examples[kind].values())))
    label = kind.replace("_", "-")
    span = (
        f" from the alert's episode ({len(chosen)} frames)"
        if (action == NOT_SLOUCHING and episode is not None)
        else f" ({len(chosen)} frames)"
    )
    what = f"labelled {label}{span}; {kept} of {MAX_EXAMPLES} {label} examples kept"
    if action == SLOUCHING and after == before:
        what += (
            "; a slouch this small counts once it holds for a while (compared with how you "
            "sat in the minutes before), not frame by frame"
        )
    return Outcome(updated, describe_change(profile, updated, settings, what))
