"""Where posturecam keeps its files: the one place that resolves the user's folders.

``$POSTURECAM_HOME`` is read here and nowhere else. It isolates everything (tests, CI, a
portable setup): profiles, control files, the session log, the settings file, the model
cache and crash logs all go under it. Otherwise each kind of file goes to the platform's
user folder for it (platformdirs): data, config or cache. Crash logs never go beside a run's
outputs. No numpy here: `posturecam snooze` must start fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENV_HOME = "POSTURECAM_HOME"
APP = "posturecam"


def home(environ: Mapping[str, str] | None = None) -> str | None:
    """``$POSTURECAM_HOME`` as written, or None when unset or empty."""
    env = os.environ if environ is None else environ
    return env.get(ENV_HOME) or None


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where profiles and logs live: $POSTURECAM_HOME, else the platform's user data folder.

    The variable is taken as written here (no ``~`` expansion), as it always was for these
    files, so the folder of existing profiles and logs stays where it is.
    """
    chosen = home(environ)
    if chosen:
        return Path(chosen)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Folder of ``config.toml``: $POSTURECAM_HOME, else the platform's user config folder."""
    chosen = home(environ)
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP))


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$POSTURECAM_HOME``, else the user cache folder (e.g. ``~/.cache/posturecam``)."""
    chosen = home(environ)
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP))


def model_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Folder for cached pose models: ``<cache root>/models``."""
    return cache_root(environ) / "models"


def crash_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Folder for crash logs: ``<cache root>/crash``."""
    return cache_root(environ) / "crash"
