"""The command line's words for advice: each kind of ``errors.Remedy`` and ``errors.Given``
worded with the CLI's flags and commands.

Library errors carry what to do as data (``posturecam.errors``); this is the one place that
turns it into ``--flags`` for the terminal. Every kind has words here, with the same
``{fields}`` as its flag-free words (tests/test_advice.py checks it).
"""

from __future__ import annotations

from posturecam.errors import PosturecamError

CLI_REMEDIES: dict[str, str] = {
    "recalibrate": "recalibrate with `posturecam calibrate --profile NAME`",
    "create_profile": "create it with `posturecam calibrate --profile {name}` or pass the path "
    "of a profile file",
    "other_profile_name": "choose another --profile name",
    "choose_out_folder": "choose another --out folder",
    "writable_out_folder": "choose a folder you can write to with --out",
    "force_replace": "pass --force to replace it",
    "rerun_forced": "run again with --force",
    "give_fps": "pass --fps N",
    "other_camera": "try another --source",
    "other_camera_index": "try another --source index",
    "longer_video_or_camera": "use a longer video or the camera (--source 0), or calibrate "
    "first with `posturecam calibrate`",
    "no_preview": "run without --preview",
    "check_scheduler": "check --scheduler",
    "replay_first": "run `posturecam replay SOURCE --out {out}` first",
    "other_html": "choose another --html path",
    "supply_model": "To supply a pose model, use any one of:\n"
    "  --model PATH                  use this .task file for this run\n"
    "  {env}=PATH         environment variable, same effect as --model\n"
    "  posturecam model import FILE  copy a verified file into the cache at {cache}\n"
    "  posturecam model fetch        download from the official URL over HTTPS "
    "(SHA-256 checked)",
}
CLI_GIVEN: dict[str, str] = {
    "out_dir": "--out {path}",
    "out_folder": "--out folder {path}",
    "fps_option": "--fps",
    "stills_option": "--stills",
    "workers_option": "--workers",
    "model_option": "--model",
    "scheduler_choice": "--scheduler ADDRESS (e.g. tcp://10.0.0.5:8786), or --scheduler "
    "{local} to start a cluster of --workers processes here",
    "replay_folder": "`posturecam replay SOURCE --out DIR`",
    "replay_out": "`replay --out`",
}
CLI_PHRASES: dict[str, str] = {**CLI_REMEDIES, **CLI_GIVEN}


def render(exc: PosturecamError) -> str:
    """The error's message as the command line says it."""
    return exc.render(CLI_PHRASES)
