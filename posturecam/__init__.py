"""posturecam: watch a person through a webcam and help them sit well."""

__version__ = "0.1.0"
