"""
End to end in a real headless Chromium: the page from a C{twistd chatroom}
process, a browser user and a TCP user in one room. Slow, so few, each
wait bounded (L{browser.WAIT}).
"""

from __future__ import annotations

from typing import Any

from helpers.browser import (
    DM_LOG,
    RECONNECT_WAIT,
    Room,
    byLabel,
    expectFrame,
    logIn,
    openConversation,
    say,
    text,
    unread,
    waitFor,
    waitForText,
)
from helpers.wire import blockingLoggedIn


def test_browser_and_tcp_users_chat(chromium: Any, room: Room) -> None:
    """
    Join notices, public messages both ways, direct messages both ways (by
    clicking a name, and by /dm), leave notices; users' text is shown as text.
    """
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "pässword", new=True)
        assert expectFrame(tom, "C JOIN ") == "C JOIN wendy WEB"
        waitForText(chromium, "#users", "tom (TCP)")
        waitForText(chromium, "#users", "wendy (WEB)")

        say(chromium, "hello tom")
        assert expectFrame(tom, "D PM ") == "D PM wendy WEB hello tom"
        tom.send("C PM", "D <b>hi</b> <img src=x onerror=alert(1)> wendy")
        waitForText(
            chromium, "#conversation", "tom TCP <b>hi</b> <img src=x onerror=alert(1)> wendy"
        )
        assert chromium.find_elements("css selector", "#conversation b, #conversation img") == []

        # A direct message by clicking the name in the online list: its own conversation.
        chromium.find_element("xpath", "//ul[@id='users']//button[starts-with(., 'tom ')]").click()
        waitForText(chromium, "#conversation-title", "Direct messages with tom")
        assert byLabel(chromium, "Message").get_attribute("value") == ""
        say(chromium, "just for you")
        assert expectFrame(tom, "D DM ") == "D DM wendy WEB just for you"
        waitForText(chromium, DM_LOG.format("tom"), "wendy just for you")
        tom.send("C DM", "D wendy and back")
        waitForText(chromium, DM_LOG.format("tom"), "tom TCP and back")
        dm = chromium.find_element("xpath", "//li[contains(@class, 'dm')][contains(., 'and back')]")
        assert dm.is_displayed()
        assert "and back" not in chromium.execute_script(
            "return document.getElementById('conversation').textContent;"
        )
        # And by /dm, typed in the room.
        openConversation(chromium, "Room")
        say(chromium, "/dm tom typed by hand")
        assert expectFrame(tom, "D DM ") == "D DM wendy WEB typed by hand"
        openConversation(chromium, "tom")
        waitForText(chromium, DM_LOG.format("tom"), "wendy typed by hand")
        openConversation(chromium, "Room")

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
    waitForText(chromium, "#status", "Connected as wendy.", RECONNECT_WAIT)
    tom = blockingLoggedIn(room.port, "tom")
    try:
        tom.send("C WHO")
        assert expectFrame(tom, "C USERS ") == "C USERS tom:TCP wendy:WEB"
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
        waitForText(chromium, "#status", "Connected as wendy.", RECONNECT_WAIT)
        assert expectFrame(holder, "C BYE ") == "C BYE REPLACED"
    finally:
        holder.close()


def test_history_and_stored_direct_messages_on_arrival(chromium: Any, room: Room) -> None:
    logIn(chromium, room.url, "wendy", "pw", new=True)
    byLabel(chromium, "Message")  # logged in: the account exists
    chromium.find_element("id", "leave").click()
    tom = blockingLoggedIn(room.port, "tom")
    try:
        tom.send("C PM", "D said before you came")
        expectFrame(tom, "C OK PM ")
        tom.send("C DM", "D wendy kept for you")
        assert expectFrame(tom, "C OK DM ") == "C OK DM wendy STORED"
        logIn(chromium, room.url, "wendy", "pw", new=False)
        waitForText(chromium, "#conversation", "earlier tom TCP said before you came")
        waitFor(chromium, lambda d: unread(d) == {"Room": 0, "tom": 1}, "tom's DM unread")
        openConversation(chromium, "tom")
        waitForText(chromium, DM_LOG.format("tom"), "tom TCP kept for you")
        waitFor(chromium, lambda d: unread(d) == {"Room": 0, "tom": 0}, "tom's DM read")
    finally:
        tom.close()
