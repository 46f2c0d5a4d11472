"""
End to end in a real headless Chromium: the page from a C{twistd chatroom}
process, a browser user and a TCP user in one room. Slow, so few, each
wait bounded (L{browser.WAIT}).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.browser import (
    byLabel,
    freePort,
    logIn,
    needChromium,
    say,
    startChromium,
    text,
    waitFor,
    waitForText,
)
from helpers.wire import BlockingClient, ServerProcess, blockingLoggedIn, twistdServer


def _expectFrame(client: BlockingClient, prefix: str, limit: int = 50) -> str:
    """
    The first frame starting with C{prefix}, skipping others (JOINs, OKs...).
    """
    for _ in range(limit):
        frame = client.next()
        if frame.startswith(prefix):
            return frame
    raise AssertionError(f"no frame starting {prefix!r}")


@pytest.fixture
def chromium() -> Iterator[Any]:
    needChromium()
    driver = startChromium()
    try:
        yield driver
    finally:
        driver.quit()


class Room:
    """
    A server process on fixed ports (the browser reconnects to the same URL after a restart).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.webPort = freePort()
        self.server: ServerProcess | None = None
        self.start()

    def start(self) -> None:
        self.server = twistdServer(
            self.directory, "--no-udp", f"--web=tcp:{self.webPort}:interface=127.0.0.1"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.webPort}/"

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.ports["TCP"]

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    needChromium()
    room = Room(tmp_path)
    try:
        yield room
    finally:
        room.stop()


def test_browser_and_tcp_users_chat(chromium: Any, room: Room) -> None:
    """
    Join notices, public messages both ways, direct messages both ways (by
    clicking a name, and by /dm), leave notices; users' text is shown as text.
    """
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "pässword", new=True)
        assert _expectFrame(tom, "C JOIN ") == "C JOIN wendy WEB"
        waitForText(chromium, "#users", "tom (TCP)")
        waitForText(chromium, "#users", "wendy (WEB)")

        say(chromium, "hello tom")
        assert _expectFrame(tom, "D PM ") == "D PM wendy WEB hello tom"
        tom.send("C PM", "D <b>hi</b> <img src=x onerror=alert(1)> wendy")
        waitForText(
            chromium, "#conversation", "tom TCP <b>hi</b> <img src=x onerror=alert(1)> wendy"
        )
        assert chromium.find_elements("css selector", "#conversation b, #conversation img") == []

        # A direct message by clicking the name in the online list.
        chromium.find_element("xpath", "//ul[@id='users']//button[starts-with(., 'tom ')]").click()
        assert byLabel(chromium, "Message").get_attribute("value") == "/dm tom "
        say(chromium, "just for you")
        assert _expectFrame(tom, "D DM ") == "D DM wendy WEB just for you"
        waitForText(chromium, "#conversation", "DM to tom just for you")
        tom.send("C DM", "D wendy and back")
        waitForText(chromium, "#conversation", "DM from tom TCP and back")
        dm = chromium.find_element("xpath", "//li[contains(@class, 'dm')][contains(., 'and back')]")
        assert dm.is_displayed()

        tom.send("C EX")
        waitForText(chromium, "#conversation", "tom (TCP) left.")
        waitFor(chromium, lambda d: "tom" not in text(d, "#users"), "tom gone from the list")
    finally:
        tom.close()


def test_browser_reconnects_after_a_restart(chromium: Any, room: Room) -> None:
    logIn(chromium, room.url, "wendy", "pw", new=True)
    room.stop()
    waitForText(chromium, "#status", "reconnecting")
    room.start()
    waitForText(chromium, "#status", "Connected as wendy.")
    tom = blockingLoggedIn(room.port, "tom")
    try:
        tom.send("C WHO")
        assert _expectFrame(tom, "C USERS ") == "C USERS tom:TCP wendy:WEB"
    finally:
        tom.close()


def test_a_taken_name_offers_ghost(chromium: Any, room: Room) -> None:
    """
    The name held by another session: the page offers to end that session.
    """
    holder = blockingLoggedIn(room.port, "wendy", "pw")
    try:
        chromium.get(room.url)
        byLabel(chromium, "Username").send_keys("wendy")
        byLabel(chromium, "Password").send_keys("pw\n")
        waitForText(chromium, "#login-error", "That name is online")
        ghost = chromium.find_element("id", "ghost")
        assert ghost.is_displayed()
    finally:
        holder.close()


def test_ghost_ends_the_older_session(chromium: Any, room: Room) -> None:
    holder = blockingLoggedIn(room.port, "wendy", "pw")
    try:
        chromium.get(room.url)
        byLabel(chromium, "Username").send_keys("wendy")
        byLabel(chromium, "Password").send_keys("pw\n")
        waitForText(chromium, "#login-error", "That name is online")
        chromium.find_element("id", "ghost").click()
        waitForText(chromium, "#status", "Connected as wendy.")
        assert _expectFrame(holder, "C BYE ") == "C BYE REPLACED"
    finally:
        holder.close()


def test_history_and_stored_direct_messages_on_arrival(chromium: Any, room: Room) -> None:
    logIn(chromium, room.url, "wendy", "pw", new=True)
    byLabel(chromium, "Message")  # logged in: the account exists
    chromium.find_element("id", "leave").click()
    tom = blockingLoggedIn(room.port, "tom")
    try:
        tom.send("C PM", "D said before you came")
        _expectFrame(tom, "C OK PM ")
        tom.send("C DM", "D wendy kept for you")
        assert _expectFrame(tom, "C OK DM ") == "C OK DM wendy STORED"
        logIn(chromium, room.url, "wendy", "pw", new=False)
        waitForText(chromium, "#conversation", "earlier tom TCP said before you came")
        waitForText(chromium, "#conversation", "DM from tom TCP kept for you")
    finally:
        tom.close()
