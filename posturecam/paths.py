"""Where posturecam keeps its own files that are not data: crash logs.

Follows the model cache (posturecam/model.py ``cache_dir``): ``$POSTURECAM_HOME`` isolates
everything (tests, CI, a portable setup), otherwise the platform's user cache folder. Crash logs
never go beside a run's outputs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENV_HOME = "POSTURECAM_HOME"


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
