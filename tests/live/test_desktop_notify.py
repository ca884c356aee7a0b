"""desktop-notifier as the desktop channel: a Snooze button that snoozes through the control
file, quiet failures, nothing imported before the first message.

Most tests use a fake of desktop-notifier's API (an object with ``send_notification``); the
last one runs the real library against a small notification server on a private D-Bus.
"""

import asyncio
import io
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from posturecam.live import control
from posturecam.live import desktop_notify as dn
from posturecam.live.notify import NotificationHub, TerminalNotifier

pytest.importorskip("desktop_notifier")
ROOT = Path(__file__).resolve().parents[2]


class FakeApi:
    """desktop-notifier's async API as far as the notifier uses it; remembers each message.

    ``dispatch=False`` is a service that failed (the library then logs instead of raising);
    ``delay_s`` a service that answers late.
    """

    def __init__(self, dispatch: bool = True, delay_s: float = 0.0) -> None:
        self.dispatch, self.delay_s = dispatch, delay_s
        self.sent: list = []
        self.threads: set[str] = set()

    async def send_notification(self, notification) -> str:
        self.threads.add(threading.current_thread().name)
        await asyncio.sleep(self.delay_s)
        self.sent.append(notification)
        if self.dispatch:
            notification.on_dispatched()
        return notification.identifier


@pytest.fixture
def made():
    """Notifiers made by a test, closed after it (their loop threads stop)."""
    notifiers: list[dn.ActionNotifier] = []

    def make(api: FakeApi, **kw) -> dn.ActionNotifier:
        notifier = dn.ActionNotifier(lambda app_name: api, system=kw.pop("system", "Linux"), **kw)
        notifiers.append(notifier)
        return notifier

    yield make
    for notifier in notifiers:
        notifier.close()


def test_supported_where_the_library_is_native_and_installed():
    def found(name: str) -> object:
        return object()

    assert dn.supported("Linux", found) and dn.supported("Windows", found)
    assert not dn.supported("Darwin", found)  # a dummy backend outside a signed app bundle
    assert not dn.supported("FreeBSD", found)
    assert not dn.supported("Linux", lambda name: None)  # not installed
    assert isinstance(dn.native("Linux"), dn.ActionNotifier) and dn.native("Darwin") is None


def test_a_message_carries_the_snooze_button_and_is_sent_on_its_own_thread(made):
    api = FakeApi()
    notifier = made(api)
    assert notifier.notify("posturecam: sit tall", "Ears over shoulders & breathe <slowly>")
    (note,) = api.sent
    assert note.title == "posturecam: sit tall"
    assert note.message == "Ears over shoulders &amp; breathe &lt;slowly&gt;"  # D-Bus markup
    assert [b.title for b in note.buttons] == [dn.SNOOZE_LABEL] == ["Snooze 30 min"]
    assert api.threads == {"posturecam-notify"}  # never the monitor's thread


def test_windows_text_is_not_escaped_and_control_characters_go(made):
    api = FakeApi()
    assert made(api, system="Windows").notify("sit\x00 tall", "a & b\n  c")
    assert (api.sent[0].title, api.sent[0].message) == ("sit tall", "a & b\nc")


def test_pressing_snooze_snoozes_the_monitor_through_the_control_file(made):
    api = FakeApi()
    notifier = made(api)
    assert notifier.notify("posturecam", "sit tall")
    before = time.time()
    api.sent[0].buttons[0].on_pressed()  # what the desktop does on a click of the button
    until = control.read().snooze_until
    assert until is not None and before + 1790 <= until <= time.time() + 1810
    assert control.read().mode(time.time()) == "snoozed" and notifier.snoozes == 1


def test_a_snooze_that_cannot_be_written_is_not_a_crash(made):
    def broken(seconds: float):
        raise control.ControlError("cannot write control.json")

    api = FakeApi()
    notifier = made(api, snooze=broken)
    assert notifier.notify("posturecam", "sit tall")
    api.sent[0].buttons[0].on_pressed()
    assert notifier.snoozes == 0 and notifier.notify("posturecam", "again")


@pytest.mark.parametrize(
    ("api", "why"),
    [(FakeApi(dispatch=False), "the service refused"), (FakeApi(delay_s=2.0), "it hung")],
)
def test_failures_are_false_and_the_hub_gives_up_after_three(made, api, why):
    notifier = made(api, timeout_s=0.3)
    clock = iter(range(0, 10_000, 61)).__next__
    hub = NotificationHub(TerminalNotifier(io.StringIO()), notifier, clock=clock)
    for _ in range(5):
        assert hub.notify("posturecam", "sit tall")  # the terminal line still counts
    assert hub.failures == 3 and not hub.desktop_active, why


def test_a_library_that_cannot_start_is_false(made):
    def no_toasts(app_name: str):
        raise RuntimeError("Could not get ToastNotificationManagerForUser")

    notifier = dn.ActionNotifier(no_toasts, system="Windows")
    try:
        assert notifier.notify("posturecam", "sit tall") is False
    finally:
        notifier.close()
    assert notifier._thread is None


def test_nothing_is_imported_or_started_before_the_first_message():
    code = (
        "import sys, threading\n"
        "from posturecam.live.desktop_notify import ActionNotifier\n"
        "n = ActionNotifier()\n"
        "assert n.available\n"
        "print('desktop_notifier' in sys.modules, 'dbus_fast' in sys.modules,"
        " threading.active_count())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60, check=True)  # fmt: skip
    assert done.stdout.split() == ["False", "False", "1"]


def test_close_stops_the_loop_thread(made):
    notifier = made(FakeApi())
    assert notifier.notify("posturecam", "sit tall")
    thread = notifier._thread
    notifier.close()
    assert thread is not None and not thread.is_alive()
    assert notifier.notify("posturecam", "a new loop after close")


# ---------------------------------------------------------------------- the real library


def _notification_server(address: str, ready: threading.Event, box: dict) -> None:
    """org.freedesktop.Notifications on ``address``: records Notify, can emit ActionInvoked."""
    from dbus_fast.aio import MessageBus
    from dbus_fast.service import ServiceInterface, method, signal

    # D-Bus signatures, as dbus-fast reads them from the annotations
    S, U, INT, AS, ASV, SSSS, US, UU = "s", "u", "i", "as", "a{sv}", "ssss", "us", "uu"

    class Notifications(ServiceInterface):
        def __init__(self) -> None:
            super().__init__("org.freedesktop.Notifications")
            self.shown: list[tuple] = []

        @method()
        def GetCapabilities(self) -> AS:
            return ["actions", "body"]

        @method()
        def GetServerInformation(self) -> SSSS:
            return ["tests", "posturecam", "1", "1.2"]

        @method()
        def Notify(self, app: S, replaces: U, icon: S, summary: S, body: S, actions: AS,
                   hints: ASV, timeout: INT) -> U:  # fmt: skip
            self.shown.append((app, summary, body, list(actions)))
            return len(self.shown)

        @method()
        def CloseNotification(self, nid: U) -> None:
            return None

        @signal()
        def ActionInvoked(self, nid, key) -> US:
            return [nid, key]

        @signal()
        def NotificationClosed(self, nid, reason) -> UU:
            return [nid, reason]

    async def serve() -> None:
        bus = await MessageBus(bus_address=address).connect()
        service = Notifications()
        bus.export("/org/freedesktop/Notifications", service)
        await bus.request_name("org.freedesktop.Notifications")
        box.update(service=service, loop=asyncio.get_running_loop(), stop=asyncio.Event())
        ready.set()
        await box["stop"].wait()
        bus.disconnect()

    asyncio.run(serve())


@pytest.fixture
def notification_bus(monkeypatch):
    """A private session bus with a notification server on it (skipped without dbus-daemon)."""
    pytest.importorskip("dbus_fast")
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus-daemon)")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    address = daemon.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    ready, box = threading.Event(), {}
    server = threading.Thread(target=_notification_server, args=(address, ready, box), daemon=True)
    server.start()
    assert ready.wait(10), "the notification server did not start"
    yield box
    box["loop"].call_soon_threadsafe(box["stop"].set)
    server.join(5)
    daemon.terminate()
    daemon.wait(5)


def test_the_real_library_shows_the_button_and_its_press_snoozes(notification_bus):
    notifier = dn.ActionNotifier()
    try:
        assert notifier.notify("posturecam: sit tall", "Ears over shoulders")
        service = notification_bus["service"]
        ((app, summary, body, actions),) = service.shown
        assert (app, summary, body) == ("posturecam", "posturecam: sit tall", "Ears over shoulders")
        key = actions[actions.index(dn.SNOOZE_LABEL) - 1]  # [key, label, key, label, ...]
        loop = notification_bus["loop"]
        loop.call_soon_threadsafe(service.ActionInvoked, 1, key)  # the user clicks "Snooze"
        deadline = time.monotonic() + 5
        while control.read().snooze_until is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert control.read().mode(time.time()) == "snoozed" and notifier.snoozes == 1
    finally:
        notifier.close()
