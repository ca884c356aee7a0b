"""The desktop app (Qt through PySide6): tray, setup, dashboard, settings, nudges.

It presents what the live monitor reports and never judges posture itself.
Only this subpackage imports PySide6; importing ``posturecam.app`` alone does not,
so the CLI can say "install posturecam[app]" instead of failing on an import.
"""

from __future__ import annotations

NEEDS_QT = (
    "the desktop app needs PySide6, which is not installed; install it with "
    "pip install 'posturecam[app]'"
)


def qt_available() -> bool:
    """True when PySide6's widgets can be imported (the optional ``app`` extra)."""
    try:
        import PySide6.QtWidgets  # noqa: F401
    except ImportError:
        return False
    return True
