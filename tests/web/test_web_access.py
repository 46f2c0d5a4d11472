"""
The page for everyone (issue 21): dark when the system is, on a phone's
375 px without sideways scrolling, usable from the keyboard alone, and with
no serious or critical violations found by axe-core, in light and in dark;
in the real headless Chromium.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers.axe import violations
from helpers.browser import DM_LOG, Room, byLabel, expectFrame, logIn, say, waitFor, waitForText
from helpers.wire import blockingLoggedIn
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def scheme(driver: Any, name: str) -> None:
    """
    The system's colour scheme, as the page sees it through prefers-color-scheme.
    """
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": name}]},
    )


def background(driver: Any) -> list[int]:
    colour = driver.execute_script("return getComputedStyle(document.body).backgroundColor;")
    return [int(part) for part in colour[colour.index("(") + 1 : -1].split(",")[:3]]


def busyPage(driver: Any, room: Room) -> Any:
    """
    Logged in as wendy, with tom's public lines, a mention, a link, a direct
    message and our own line: the page with most of what it can show.
    """
    tom = blockingLoggedIn(room.port, "tom")
    logIn(driver, room.url, "wendy", "pw", new=True)
    say(driver, "my line, with a link https://example.org/")
    expectFrame(tom, "D PM wendy")
    tom.send("C PM", "D hello @wendy")
    tom.send("C DM", "D wendy a word alone")
    waitFor(driver, lambda d: d.title == "(1) chatroom", "the direct message unread")
    return tom


@pytest.mark.parametrize("colours", ["light", "dark"])
def test_axe_finds_nothing_serious(chromium: Any, room: Room, colours: str) -> None:
    scheme(chromium, colours)
    chromium.get(room.url)
    assert violations(chromium) == [], "login form"
    tom = busyPage(chromium, room)
    try:
        assert violations(chromium) == [], "the room"
        chromium.find_element(By.XPATH, "//ul[@id='users']//button[starts-with(., 'tom ')]").click()
        waitForText(chromium, DM_LOG.format("tom"), "a word alone")
        assert violations(chromium) == [], "a direct conversation"
        # The check itself sees a fault: a button without a name is critical.
        chromium.execute_script(
            "document.getElementById('composer').append(document.createElement('button'));"
        )
        assert [v["id"] for v in violations(chromium)] == ["button-name"]
    finally:
        tom.close()


def test_dark_when_the_system_is(chromium: Any, room: Room) -> None:
    scheme(chromium, "light")
    chromium.get(room.url)
    assert min(background(chromium)) > 200
    scheme(chromium, "dark")
    waitFor(chromium, lambda d: max(background(d)) < 60, "a dark background")
    text = chromium.execute_script("return getComputedStyle(document.body).color;")
    assert min(int(part) for part in text[text.index("(") + 1 : -1].split(",")[:3]) > 180


def test_a_phone_needs_no_sideways_scrolling(chromium: Any, room: Room) -> None:
    chromium.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 375, "height": 667, "deviceScaleFactor": 2, "mobile": True},
    )
    chromium.get(room.url)
    tom = busyPage(chromium, room)
    try:
        tom.send("C PM", "D " + "averyveryverylongwordwithoutanyspaces" * 5)
        expectFrame(tom, "C OK PM ")
        waitForText(chromium, "#conversation", "averyvery")
        sizes = chromium.execute_script(
            "const e = document.documentElement;"
            "return [e.scrollWidth, e.clientWidth, window.innerWidth];"
        )
        assert sizes[1] == 375 and sizes[0] <= sizes[1], sizes
        box = byLabel(chromium, "Message").rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    finally:
        tom.close()


def test_keyboard_only(chromium: Any, room: Room) -> None:
    """
    Log in, write to one person and come back to the room without a mouse.
    """
    tom = blockingLoggedIn(room.port, "tom")
    try:
        chromium.get(room.url)
        keys = ActionChains(chromium)
        byLabel(chromium, "Username").click()  # the page's first field
        keys.send_keys("wendy", Keys.TAB, "pw", Keys.ENTER).perform()
        waitFor(chromium, lambda d: byLabel(d, "Password again").is_displayed(), "confirm")
        ActionChains(chromium).send_keys("pw", Keys.ENTER).perform()
        waitForText(chromium, "#status", "Connected as wendy.")
        waitForText(chromium, "#users", "tom (TCP)")
        assert chromium.switch_to.active_element == byLabel(chromium, "Message")

        def focusOn(label: str) -> None:
            for _ in range(30):
                ActionChains(chromium).send_keys(Keys.TAB).perform()
                active = chromium.switch_to.active_element
                if (active.get_attribute("aria-label") or active.text).startswith(label):
                    return
            raise AssertionError(f"Tab never reached {label!r}")

        focusOn("Direct messages with tom")
        ActionChains(chromium).send_keys(Keys.ENTER).perform()
        waitForText(chromium, "#conversation-title", "Direct messages with tom")
        assert chromium.switch_to.active_element == byLabel(chromium, "Message")
        ActionChains(chromium).send_keys("by keyboard", Keys.ENTER).perform()
        assert expectFrame(tom, "D DM ") == "D DM wendy WEB by keyboard"
        focusOn("Room")
        ActionChains(chromium).send_keys(Keys.ENTER).perform()
        waitForText(chromium, "#conversation-title", "Room")
    finally:
        tom.close()
