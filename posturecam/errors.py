"""One small exception hierarchy; every error says what to do next, the advice as data.

An error is written as parts: plain text, nested errors and phrases: a ``Remedy`` (what the
user can do) or a ``Given`` (something the user gave, named the way they gave it), each a kind
and its values, never a command-line flag. ``str(exc)`` words each phrase with the flag-free
words in ``PHRASES``, for Python users; the CLI (``posturecam.cli.advice``) words the same
kinds with its flags, and the desktop app with its menus::

    raise ProfileError(f"{where} is damaged; ", Remedy("recalibrate"), ".")
    raise OutputError(Given("out_dir", path=out), " is a file, not a folder.")

A phrase at the start of a sentence is capitalised, whoever words it.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar, Union

# What the user can do -> flag-free words; ``{name}`` fields are the remedy's values.
REMEDIES: dict[str, str] = {
    "recalibrate": "recalibrate",
    "create_profile": "calibrate a profile named {name} first, or give the path of a profile file",
    "other_profile_name": "choose another profile name",
    "choose_out_folder": "choose another output folder",
    "writable_out_folder": "choose an output folder you can write to",
    "force_replace": "replace it with force=True",
    "rerun_forced": "run again with force=True",
    "give_fps": "give the frame rate (fps=N)",
    "other_camera": "try another camera",
    "other_camera_index": "try another camera index",
    "longer_video_or_camera": "use a longer video or the camera, or calibrate first",
    "no_preview": "run without the preview window",
    "check_scheduler": "check the scheduler address",
    "replay_first": "replay a source into {out} first",
    "other_html": "choose another path for the report",
    "supply_model": "To supply a pose model, use any one of: a model path given for this run; "
    "the {env}=PATH environment variable; a verified file imported into the cache at {cache} "
    "(posturecam.frames.model.import_model); a download from the official URL over HTTPS, "
    "SHA-256 checked (posturecam.frames.model.fetch)",
}
# Something the user gave -> flag-free words naming it.
GIVEN: dict[str, str] = {
    "out_dir": "output folder {path}",
    "out_folder": "output folder {path}",
    "fps_option": "the frame rate (fps)",
    "stills_option": "stills mode",
    "workers_option": "the number of workers",
    "model_option": "the explicit model path",
    "scheduler_choice": "a scheduler address (e.g. tcp://10.0.0.5:8786), or {local!r} to start "
    "a local cluster of the batch's workers",
    "replay_folder": "a replay",
    "replay_out": "a replay",
}
PHRASES: dict[str, str] = {**REMEDIES, **GIVEN}


def fields_of(template: str) -> frozenset[str]:
    """The ``{name}`` fields a phrase uses."""
    return frozenset(f for _, f, _, _ in string.Formatter().parse(template) if f)


@dataclass(frozen=True, init=False)
class Phrase:
    """A kind of advice and the values it names; ``Remedy`` and ``Given`` are its two sorts."""

    kind: str
    values: tuple[tuple[str, str], ...]
    KINDS: ClassVar[Mapping[str, str]] = PHRASES

    def __init__(self, kind: str, **values: object) -> None:
        if kind not in self.KINDS:
            raise ValueError(
                f"unknown {type(self).__name__} kind {kind!r}; known: {sorted(self.KINDS)}"
            )
        missing = fields_of(self.KINDS[kind]) - values.keys()
        if missing:
            raise ValueError(f"{type(self).__name__} {kind!r} needs {sorted(missing)}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "values", tuple(sorted((k, str(v)) for k, v in values.items())))

    def __reduce__(self) -> tuple:
        return (_rebuild, (type(self), self.kind, self.values))

    def phrase(self, phrases: Mapping[str, str]) -> str:
        """This phrase in words: ``phrases[kind]`` with the values filled in."""
        return phrases[self.kind].format(**dict(self.values))


def _rebuild(cls: type[Phrase], kind: str, values: tuple[tuple[str, str], ...]) -> Phrase:
    return cls(kind, **dict(values))


class Remedy(Phrase):
    """What the user can do about an error: a kind from ``REMEDIES`` and its values."""

    KINDS = REMEDIES


class Given(Phrase):
    """Something the user gave (a folder, an option), named as they gave it: ``GIVEN``."""

    KINDS = GIVEN


Part = Union[str, Phrase, "PosturecamError"]


def _starts_sentence(text: str) -> bool:
    stripped = text.rstrip()
    return not stripped or (stripped != text and stripped.endswith((".", "!", "?")))


class PosturecamError(Exception):
    """Base of every error posturecam reports to the user (exit code 2)."""

    def __init__(self, *parts: Part) -> None:
        super().__init__(*parts)
        self.parts: tuple[Part, ...] = parts

    def render(self, phrases: Mapping[str, str] = PHRASES) -> str:
        """The message with every phrase (also of nested errors) worded by ``phrases``."""
        text = ""
        for part in self.parts:
            if isinstance(part, Phrase):
                words = part.phrase(phrases)
                text += words[:1].upper() + words[1:] if _starts_sentence(text) else words
            elif isinstance(part, PosturecamError):
                text += part.render(phrases)
            else:
                text += str(part)
        return text

    def __str__(self) -> str:
        return self.render()

    @property
    def remedies(self) -> tuple[Remedy, ...]:
        """Every remedy the message offers, nested errors' included, in reading order."""
        return tuple(_remedies(self))


def _remedies(exc: PosturecamError) -> Iterator[Remedy]:
    for part in exc.parts:
        if isinstance(part, Remedy):
            yield part
        elif isinstance(part, PosturecamError):
            yield from _remedies(part)


class ModelError(PosturecamError):
    """No usable pose model could be found, fetched or verified."""


class SourceError(PosturecamError):
    """A frame source (folder, video, camera) cannot be used at all."""


class CameraUnavailable(SourceError):
    """The camera cannot be opened or stopped delivering frames."""


class ProfileError(PosturecamError):
    """A calibration profile is missing, corrupt or does not fit this run."""


class CalibrationError(PosturecamError):
    """Calibration frames were not good enough to make a baseline."""


class OutputError(PosturecamError):
    """An output folder cannot be written without losing earlier results."""


class SettingsError(PosturecamError):
    """A settings file cannot be used as written."""


class RecordingError(PosturecamError):
    """A landmark recording is missing, damaged, or of a format this posturecam cannot read."""


class SessionLogError(PosturecamError):
    """The session log file cannot be opened or written."""


class ControlError(PosturecamError):
    """A pause/snooze/resume request or the monitor lock cannot be honoured."""


class FeedbackError(PosturecamError):
    """Feedback cannot reach a running monitor, or the monitor could not apply it."""
