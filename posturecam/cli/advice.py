"""The command line's words for remedies: each kind of ``errors.Remedy`` phrased with its flags.

Library errors carry what to do as data (``posturecam.errors``); this is the one place that
turns that into ``--flags`` and commands for the terminal.
"""

from __future__ import annotations

from posturecam.errors import PosturecamError

# Every kind in errors.REMEDIES, with the same {fields} (tests/test_advice.py checks it).
CLI_PHRASES: dict[str, str] = {
    "recalibrate": "recalibrate with `posturecam calibrate --profile NAME`",
    "create_profile": "create it with `posturecam calibrate --profile {name}` or pass the path "
    "of a profile file",
    "other_profile_name": "choose another --profile name",
}


def render(exc: PosturecamError) -> str:
    """The error's message as the command line says it."""
    return exc.render(CLI_PHRASES)
