"""The live session's profile: kept, saved through the caller, changed by feedback on the
recent judged frames, and undone from memory or from the profile file's backup."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from pathlib import Path

from posturecam.core.rules import JudgeSettings
from posturecam.core.temporal import UPRIGHT, Step
from posturecam.errors import PosturecamError
from posturecam.live import feedback as fb
from posturecam.live.scoring import FrameVerdict
from posturecam.profiles import Profile

UNDO_DEPTH = 10  # feedback steps the monitor can undo (the profile file's backup: one)


class RecentFrames:
    """Judged frames' metrics (bounded), and where the last alert's episode began."""

    def __init__(self) -> None:
        self.frames: deque[fb.Judged] = deque(maxlen=fb.HISTORY_FRAMES)
        self.episode: fb.Episode | None = None
        self._left_upright_t: float | None = None

    def remember(self, t_s: float, verdict: FrameVerdict, step: Step) -> None:
        if self.frames and t_s < self.frames[-1].t_s:  # a new clock (camera restarted)
            self.frames.clear()
            self.episode, self._left_upright_t = None, None
        for event in step.events:
            if event.type == "state" and event.data.get("from") == UPRIGHT:
                self._left_upright_t = event.t_s
            elif event.type == "alert":
                start = self._left_upright_t
                self.episode = fb.Episode(event.t_s if start is None else start, event.t_s)
        if verdict.present is True and not verdict.carried_over and verdict.metrics:
            self.frames.append(fb.Judged(t_s, dict(verdict.metrics), verdict.carried_over))
        while self.frames and self.frames[0].t_s < t_s - fb.HISTORY_S:
            self.frames.popleft()


class ProfileKeeper:
    """The profile in use; ``save`` writes it where the caller keeps it (``path``)."""

    def __init__(
        self, profile: Profile | None, save: Callable[[Profile], None], path: Path | None = None
    ) -> None:
        self.profile = profile
        self.save_profile = save
        self.path = path  # where save_profile writes; its backup sits beside it
        self._undo: deque[Profile] = deque(maxlen=UNDO_DEPTH)

    def save(self, profile: Profile) -> str:
        """Save through ``save_profile``; "" on success, else what went wrong."""
        try:
            self.save_profile(profile)
        except (OSError, PosturecamError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            where = f" to {self.path}" if self.path else ""
            return f"could not save the profile{where} ({reason})"
        return ""

    def apply(self, action: str, recent: RecentFrames, settings: JudgeSettings) -> tuple[bool, str]:
        """Apply one feedback action; (ok, what changed). Never raises on a failed save."""
        assert self.profile is not None
        old = self.profile
        if action == fb.UNDO:
            return self._undo_feedback(settings)
        outcome = fb.apply(old, action, list(recent.frames), recent.episode, settings)
        if outcome.profile is None:
            return True, outcome.message
        backup = self._backup_text()
        error = self.save(outcome.profile)
        if error:
            return False, f"{error}; the feedback was not applied and the profile is unchanged"
        self._undo.append(old)
        if backup is not None and self.path is not None:
            # If this fails, undo still works in this session, from memory.
            with contextlib.suppress(OSError):
                _write_text(backup_path(self.path), backup)
        self.profile = outcome.profile
        return True, outcome.message

    def _undo_feedback(self, settings: JudgeSettings) -> tuple[bool, str]:
        assert self.profile is not None
        from_file = not self._undo
        if from_file:
            previous = self._load_backup()
            if previous is None:
                return True, "nothing to undo: no feedback was given to this profile"
        else:
            previous = self._undo[-1]
        error = self.save(previous)
        if error:
            return False, f"{error}; nothing was undone"
        if not from_file:
            self._undo.pop()
        if self.path is not None and (from_file or not self._undo):
            with contextlib.suppress(OSError):
                backup_path(self.path).unlink(missing_ok=True)
        message = fb.describe_change(self.profile, previous, settings, "undid the last feedback")
        self.profile = previous
        return True, message

    def _backup_text(self) -> str | None:
        if self.path is None:
            return None
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _load_backup(self) -> Profile | None:
        if self.path is None or self.profile is None:
            return None
        from posturecam.profiles import load

        backup = backup_path(self.path)
        if not backup.is_file():
            return None
        try:
            previous = load(backup)
        except PosturecamError:
            return None
        return previous if previous.view == self.profile.view else None


def backup_path(profile_path: Path) -> Path:
    """The profile file as it was before the last feedback (not a *.json, so not a profile)."""
    return profile_path.with_name(profile_path.name + ".before-feedback")


def _write_text(path: Path, text: str) -> None:
    from posturecam.storage import write_text

    write_text(path, text)
