"""
What a new user tripped over on the page (issue 21, defects 2-6), each in
the real headless Chromium against a C{twistd chatroom} process.
"""

from __future__ import annotations

from typing import Any

from helpers.browser import Room, expectFrame, logIn, text, waitForText
from helpers.wire import blockingLoggedIn
from selenium.webdriver.common.by import By


def lines(driver: Any, containing: str) -> int:
    """
    How many lines of the conversation contain C{containing}.
    """
    return sum(
        containing in item.text
        for item in driver.find_elements(By.CSS_SELECTOR, "#conversation li")
    )


def test_a_reconnect_shows_only_what_was_missed(chromium: Any, room: Room) -> None:
    """
    Defect 2: after a restart of the server the page came back with the
    whole history again, every message twice.
    """
    tom = blockingLoggedIn(room.port, "tom")
    try:
        tom.send("C PM", "D said before wendy came")
        expectFrame(tom, "C OK PM ")
        logIn(chromium, room.url, "wendy", "pw", new=True)
        waitForText(chromium, "#conversation", "earlier tom TCP said before wendy came")
        for word in ("one", "two", "three"):
            tom.send("C PM", f"D live {word}")
            expectFrame(tom, "C OK PM ")
        waitForText(chromium, "#conversation", "live three")
    finally:
        tom.close()
    room.stop()
    waitForText(chromium, "#status", "reconnecting")
    room.start()
    tom = blockingLoggedIn(room.port, "tom")
    try:
        tom.send("C PM", "D said while wendy was away")
        expectFrame(tom, "C OK PM ")
        waitForText(chromium, "#conversation", "Back in the room after")
        waitForText(chromium, "#status", "Connected as wendy.")
        waitForText(chromium, "#conversation", "said while wendy was away")
        for said in ("said before wendy came", "live one", "live two", "live three"):
            assert lines(chromium, said) == 1, said
        assert lines(chromium, "said while wendy was away") == 1
        assert "Earlier messages:" not in text(chromium, "#conversation").split("Back in")[-1]
    finally:
        tom.close()
