"""One small exception hierarchy; every message says what the user can do next."""


class PosturecamError(Exception):
    """Base of every error posturecam reports to the user (exit code 2)."""


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
