"""posturecam: watch a person through a webcam and help them sit well.

The package's public face for Python users: the few names a researcher needs, imported on
first use so that ``import posturecam`` stays fast (no numpy, OpenCV or MediaPipe until a
name that needs them is touched)::

    import posturecam
    run = posturecam.replay("sample_frames/hopper", "runs/hopper")
    frames = posturecam.read_frames("runs/hopper")

Everything else lives in the layers (``posturecam.core``, ``frames``, ``research``, ``live``).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "CalibrationError",
    "CameraUnavailable",
    "Frame",
    "Landmarks",
    "ModelError",
    "OutputError",
    "PosturecamError",
    "ProfileError",
    "RecordingError",
    "Remedy",
    "SettingsError",
    "SourceError",
    "__version__",
    "read_frames",
    "replay",
    "rescore",
]
_ERRORS = "posturecam.errors"
# Public name -> the module that defines it. The package root sits above every layer (it
# offers research's replay), imported by name on first use: see tests/test_public_api.py.
_EXPORTS: dict[str, str] = {
    "replay": "posturecam.research.replay",
    "rescore": "posturecam.research.rescore",
    "read_frames": "posturecam.research.outputs",
    "Frame": "posturecam.core.types",
    "Landmarks": "posturecam.core.types",
    "CalibrationError": _ERRORS,
    "CameraUnavailable": _ERRORS,
    "ModelError": _ERRORS,
    "OutputError": _ERRORS,
    "PosturecamError": _ERRORS,
    "ProfileError": _ERRORS,
    "RecordingError": _ERRORS,
    "Remedy": _ERRORS,
    "SettingsError": _ERRORS,
    "SourceError": _ERRORS,
}


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is used."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'posturecam' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
