"""One small exception hierarchy; every error says what to do next, the remedy as data.

An error is written as parts: plain text, nested errors and ``Remedy`` values (what to do, as a
kind and its values, never a command-line flag). ``str(exc)`` phrases each remedy with the
flag-free words in ``REMEDIES``, for Python users; the CLI (``posturecam.cli.advice``) phrases
the same remedies with its flags, and the desktop app with its menus::

    raise ProfileError(f"{where} is damaged; ", Remedy("recalibrate"), ".")

A remedy at the start of a sentence is capitalised, whoever phrases it.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Union

# Every kind of remedy -> its flag-free words; ``{name}`` fields are the remedy's values.
REMEDIES: dict[str, str] = {
    "recalibrate": "recalibrate",
    "create_profile": "calibrate a profile named {name} first, or give the path of a profile file",
    "other_profile_name": "choose another profile name",
}


def fields_of(template: str) -> frozenset[str]:
    """The ``{name}`` fields a phrase uses."""
    return frozenset(f for _, f, _, _ in string.Formatter().parse(template) if f)


@dataclass(frozen=True, init=False)
class Remedy:
    """What the user can do about an error: a kind from ``REMEDIES`` and the values it names."""

    kind: str
    values: tuple[tuple[str, str], ...]

    def __init__(self, kind: str, **values: object) -> None:
        if kind not in REMEDIES:
            raise ValueError(f"unknown remedy kind {kind!r}; known: {sorted(REMEDIES)}")
        missing = fields_of(REMEDIES[kind]) - values.keys()
        if missing:
            raise ValueError(f"remedy {kind!r} needs {sorted(missing)}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "values", tuple(sorted((k, str(v)) for k, v in values.items())))

    def phrase(self, phrases: Mapping[str, str]) -> str:
        """This remedy in words: ``phrases[kind]`` with the values filled in."""
        return phrases[self.kind].format(**dict(self.values))


Part = Union[str, Remedy, "PosturecamError"]


def _starts_sentence(text: str) -> bool:
    stripped = text.rstrip()
    return not stripped or (stripped != text and stripped.endswith((".", "!", "?")))


class PosturecamError(Exception):
    """Base of every error posturecam reports to the user (exit code 2)."""

    def __init__(self, *parts: Part) -> None:
        super().__init__(*parts)
        self.parts: tuple[Part, ...] = parts

    def render(self, phrases: Mapping[str, str] = REMEDIES) -> str:
        """The message with every remedy (also of nested errors) phrased by ``phrases``."""
        text = ""
        for part in self.parts:
            if isinstance(part, Remedy):
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
