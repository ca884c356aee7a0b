"""Notifications degrade quietly to the terminal and never flood the desktop.

Every test injects ``which`` and ``run``: nothing is ever shown for real.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess

import pytest

from posturecam.live.notify import (
    APP_NAME,
    DesktopNotifier,
    NotificationHub,
    TerminalNotifier,
    applescript_string,
    gvariant_string,
    make_notifier,
    one_line,
)


class FakeRun:
    """Records calls; returns a fixed exit code or raises a given exception."""

    def __init__(self, returncode: int = 0, raises: BaseException | None = None) -> None:
        self.returncode = returncode
        self.raises = raises
        self.calls: list[tuple[list[str], dict]] = []

    def __call__(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        if self.raises is not None:
            raise self.raises
        return subprocess.CompletedProcess(argv, self.returncode, b"", b"")


def which_from(*tools: str):
    return lambda name: f"/usr/bin/{name}" if name in tools else None


def no_tools(name: str) -> None:
    return None


def no_library(system):
    return None


def never_run(*args, **kwargs):
    raise AssertionError("no command should be run")


class FakeDesktop:
    def __init__(self, results: list[bool] | None = None) -> None:
        self.results = list(results or [])
        self.calls: list[tuple[str, str]] = []

    def notify(self, title: str, body: str) -> bool:
        self.calls.append((title, body))
        return self.results.pop(0) if self.results else True


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


# --- terminal --------------------------------------------------------------------------------


def test_terminal_prints_one_line():
    out = io.StringIO()
    assert TerminalNotifier(out).notify("Sit up", "Try chin tucks.\n  1. Sit tall\n\n2. Glide")
    assert out.getvalue() == "Sit up: Try chin tucks. 1. Sit tall 2. Glide\n"


def test_terminal_defaults_to_stdout(capsys):
    TerminalNotifier().notify("Posture", "slouching for a minute")
    assert capsys.readouterr().out == "Posture: slouching for a minute\n"


def test_terminal_survives_a_closed_stream():
    out = io.StringIO()
    out.close()
    assert TerminalNotifier(out).notify("a", "b") is False


@pytest.mark.parametrize(
    ("title", "body", "line"),
    [("T", "B", "T: B"), ("T", "", "T"), ("", "B", "B"), ("T\x00\x07", "a\tb", "T: a b")],
)
def test_one_line(title, body, line):
    assert one_line(title, body) == line


# --- command construction --------------------------------------------------------------------


def test_linux_prefers_notify_send():
    d = DesktopNotifier(system="Linux", which=which_from("notify-send", "gdbus"), run=never_run)
    assert d.command("Sit up", "Chin tucks & rest\nline two") == [
        "/usr/bin/notify-send",
        f"--app-name={APP_NAME}",
        "--",
        "Sit up",
        "Chin tucks &amp; rest\nline two",
    ]


def test_linux_title_starting_with_a_dash_is_not_an_option():
    d = DesktopNotifier(system="Linux", which=which_from("notify-send"), run=never_run)
    argv = d.command("--help", "-x")
    assert argv[argv.index("--") + 1 :] == ["--help", "-x"]


def test_linux_falls_back_to_gdbus():
    d = DesktopNotifier(system="Linux", which=which_from("gdbus"), run=never_run)
    argv = d.command("It's time", "back\\slash")
    assert argv[:9] == [
        "/usr/bin/gdbus",
        "call",
        "--session",
        "--dest",
        "org.freedesktop.Notifications",
        "--object-path",
        "/org/freedesktop/Notifications",
        "--method",
        "org.freedesktop.Notifications.Notify",
    ]
    assert argv[9:] == [
        f"'{APP_NAME}'",
        "uint32 0",
        "''",
        r"'It\'s time'",
        r"'back\\slash'",
        "@as []",
        "@a{sv} {}",
        "int32 -1",
    ]


@pytest.mark.parametrize("system", ["Linux", "FreeBSD", "Darwin", "Windows"])
def test_no_tool_means_no_command(system):
    d = DesktopNotifier(system=system, which=no_tools, run=never_run)
    assert d.command("a", "b") is None
    assert d.available is False
    assert d.notify("a", "b") is False


def test_other_unix_uses_freedesktop():
    d = DesktopNotifier(system="FreeBSD", which=which_from("notify-send"), run=never_run)
    assert d.command("a", "b")[0] == "/usr/bin/notify-send"


def test_macos_osascript_quotes_special_characters():
    d = DesktopNotifier(system="Darwin", which=which_from("osascript"), run=never_run)
    argv = d.command('Say "hi"', 'back\\slash "quoted"\nnext line')
    assert argv[:2] == ["/usr/bin/osascript", "-e"]
    assert argv[2] == (
        r'display notification "back\\slash \"quoted\" next line" with title "Say \"hi\""'
    )
    assert len(argv) == 3  # the text never becomes a separate shell word


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("plain", '"plain"'),
        ('a "b"', r'"a \"b\""'),
        ("c:\\d", r'"c:\\d"'),
        ('\\"', r'"\\\""'),
        ("it's", '"it\'s"'),
    ],
)
def test_applescript_string(text, literal):
    assert applescript_string(text) == literal


def _applescript_unquote(literal: str) -> str:
    assert literal[0] == literal[-1] == '"'
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


@pytest.mark.parametrize("text", ['"', "\\", '\\"', 'x" & do shell script "rm', '\\\\"'])
def test_applescript_string_cannot_be_escaped_from(text):
    literal = applescript_string(text)
    body = literal[1:-1]
    # every double quote inside is preceded by an odd number of backslashes
    for m in re.finditer('"', body):
        run = len(body[: m.start()]) - len(body[: m.start()].rstrip("\\"))
        assert run % 2 == 1
    assert _applescript_unquote(literal) == text


@pytest.mark.parametrize(
    ("text", "literal"),
    [("plain", "'plain'"), ("it's", r"'it\'s'"), ("a\\b", r"'a\\b'"), ("1\n2", r"'1\n2'")],
)
def test_gvariant_string(text, literal):
    assert gvariant_string(text) == literal


def _decode_b64_args(script: str) -> list[str]:
    return [base64.b64decode(b).decode() for b in re.findall(r"\(D '([A-Za-z0-9+/=]*)'\)", script)]


def test_windows_powershell_toast():
    d = DesktopNotifier(system="Windows", which=which_from("powershell"), run=never_run)
    # PowerShell also ends single-quoted strings at curly quotes (U+2018/U+2019).
    title = 'It\'s "time" \u2018now\u2019 $env:X'
    body = "Chin tucks; `whoami`"
    argv = d.command(title, body)
    assert argv[:4] == ["/usr/bin/powershell", "-NoProfile", "-NonInteractive", "-Command"]
    assert len(argv) == 5
    script = argv[4]
    assert "Windows.UI.Notifications" in script
    assert "BurntToast" not in script
    assert _decode_b64_args(script) == [title, body]
    # user text never appears raw, so no quote in it can end a string early
    assert "whoami" not in script and "$env:X" not in script and '"' not in script


def test_windows_run_hides_the_console_window(monkeypatch):
    monkeypatch.setattr(subprocess, "CREATE_NO_WINDOW", 0x08000000, raising=False)
    run = FakeRun()
    DesktopNotifier(system="Windows", which=which_from("powershell"), run=run).notify("a", "b")
    assert run.calls[0][1]["creationflags"] == 0x08000000


def test_platform_is_detected_when_not_given(monkeypatch):
    monkeypatch.setattr("platform.system", lambda: "Darwin")
    d = DesktopNotifier(which=which_from("osascript", "notify-send"), run=never_run)
    assert d.system == "Darwin"
    assert d.command("a", "b")[0] == "/usr/bin/osascript"


# --- running ---------------------------------------------------------------------------------


def test_run_is_safe_and_bounded():
    run = FakeRun()
    d = DesktopNotifier(system="Linux", which=which_from("notify-send"), run=run)
    assert d.notify("Sit up", "now") is True
    (argv, kwargs), *_ = run.calls
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    assert kwargs == {"timeout": 5.0, "capture_output": True, "check": False}
    assert "shell" not in kwargs


@pytest.mark.parametrize(
    "run",
    [
        FakeRun(returncode=1),
        FakeRun(raises=subprocess.TimeoutExpired(["notify-send"], 5)),
        FakeRun(raises=FileNotFoundError("notify-send")),
        FakeRun(raises=PermissionError("denied")),
        FakeRun(raises=OSError("exec format error")),
    ],
)
def test_any_failure_returns_false(run):
    d = DesktopNotifier(system="Linux", which=which_from("notify-send"), run=run)
    assert d.notify("a", "b") is False
    assert len(run.calls) == 1


# --- the hub ---------------------------------------------------------------------------------


def test_no_desktop_tool_means_terminal_only():
    out = io.StringIO()
    hub = make_notifier(
        True, out, system="Linux", which=no_tools, run=never_run, library=no_library
    )
    assert hub.desktop is None and not hub.desktop_active
    assert hub.notify("Sit up", "Try a chin tuck.") is True
    assert out.getvalue() == "Sit up: Try a chin tuck.\n"


def test_no_notify_flag_never_looks_for_tools():
    def which(name):
        raise AssertionError("should not look for tools")

    out = io.StringIO()
    hub = make_notifier(False, out, which=which, run=never_run)
    assert hub.desktop is None
    hub.notify("a", "b")
    assert out.getvalue() == "a: b\n"


def test_enabled_with_a_tool_uses_the_desktop():
    out, run = io.StringIO(), FakeRun()
    hub = make_notifier(
        True, out, system="Linux", which=which_from("notify-send"), run=run, library=no_library
    )
    assert isinstance(hub.desktop, DesktopNotifier)
    assert hub.notify("a", "b") is True
    assert len(run.calls) == 1 and out.getvalue() == "a: b\n"


def test_failing_command_still_prints_the_terminal_line():
    out, run = io.StringIO(), FakeRun(returncode=1)
    hub = make_notifier(
        True, out, system="Linux", which=which_from("notify-send"), run=run, library=no_library
    )
    assert hub.notify("Sit up", "now") is True  # shown on the terminal
    assert out.getvalue() == "Sit up: now\n"
    assert hub.failures == 1 and hub.desktop_sent == 0


def test_at_most_one_desktop_notification_a_minute():
    out, desktop, clock = io.StringIO(), FakeDesktop(), Clock()
    hub = NotificationHub(TerminalNotifier(out), desktop, clock=clock)
    sent = []
    for t in [0, 1, 30, 59.9, 60, 61, 100, 119.9, 120, 500]:
        clock.t = 1000.0 + t
        hub.notify("Sit up", f"t={t}")
        sent.append(len(desktop.calls))
    assert sent == [1, 1, 1, 1, 2, 2, 2, 2, 3, 4]
    assert len(out.getvalue().splitlines()) == 10  # the terminal gets every one
    assert hub.desktop_sent == 4


def test_interval_can_be_longer_but_never_shorter_than_a_minute():
    with pytest.raises(ValueError, match="60"):
        NotificationHub(TerminalNotifier(io.StringIO()), FakeDesktop(), min_interval_s=10)
    desktop, clock = FakeDesktop(), Clock()
    hub = NotificationHub(TerminalNotifier(io.StringIO()), desktop, min_interval_s=300, clock=clock)
    for t in range(0, 600, 60):
        clock.t = 1000.0 + t
        hub.notify("a", "b")
    assert len(desktop.calls) == 2


def test_desktop_is_abandoned_after_three_consecutive_failures():
    out, desktop, clock = io.StringIO(), FakeDesktop([False] * 10), Clock()
    hub = NotificationHub(TerminalNotifier(out), desktop, clock=clock)
    for i in range(6):
        clock.t = 1000.0 + 60 * i
        assert hub.notify("a", "b") is True
    assert len(desktop.calls) == 3
    assert not hub.desktop_active
    assert len(out.getvalue().splitlines()) == 6


def test_a_success_resets_the_failure_count():
    desktop, clock = FakeDesktop([False, False, True, False, False, True]), Clock()
    hub = NotificationHub(TerminalNotifier(io.StringIO()), desktop, clock=clock)
    for i in range(6):
        clock.t = 1000.0 + 60 * i
        hub.notify("a", "b")
    assert len(desktop.calls) == 6 and hub.desktop_active


def test_hub_with_real_desktop_notifier_and_failing_runs(capsys):
    run, clock = FakeRun(raises=subprocess.TimeoutExpired(["gdbus"], 5)), Clock()
    hub = make_notifier(
        True, system="Linux", which=which_from("gdbus"), run=run, library=no_library, clock=clock
    )
    for i in range(5):
        clock.t = 1000.0 + 60 * i
        hub.notify("Posture", "sit tall")
    assert len(run.calls) == 3
    assert capsys.readouterr().out.count("Posture: sit tall\n") == 5


def test_enabled_prefers_desktop_notifier_where_it_serves():
    pytest.importorskip("desktop_notifier")
    from posturecam.live.desktop_notify import ActionNotifier

    hub = make_notifier(True, io.StringIO(), system="Linux", which=no_tools, run=never_run)
    assert isinstance(hub.desktop, ActionNotifier)
    mac = make_notifier(True, io.StringIO(), system="Darwin", which=which_from("osascript"))
    assert isinstance(mac.desktop, DesktopNotifier)  # osascript stays on macOS
