"""Where posturecam keeps its files: the user data folder, and crash logs in the cache.

One place reads ``$POSTURECAM_HOME`` for profiles, control files and the session
log (no numpy here: `posturecam snooze` must start fast). Crash logs follow the
model cache (posturecam/frames/model.py ``cache_dir``): ``$POSTURECAM_HOME`` isolates
everything (tests, CI, a portable setup), otherwise the platform's user cache
folder. Crash logs never go beside a run's outputs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENV_HOME = "POSTURECAM_HOME"


def data_dir() -> Path:
    """Where profiles and logs live: $POSTURECAM_HOME, else the platform's user data folder."""
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home)
    import platformdirs

    return Path(platformdirs.user_data_dir("posturecam"))


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$POSTURECAM_HOME``, else the user cache folder (e.g. ``~/.cache/posturecam``)."""
    env = os.environ if environ is None else environ
    home = env.get(ENV_HOME)
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("posturecam"))


def crash_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Folder for crash logs: ``<cache root>/crash``."""
    return cache_root(environ) / "crash"
