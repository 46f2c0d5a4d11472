"""
What a new user tripped over on the page (issue 21, defects 2-6), each in
the real headless Chromium against a C{twistd chatroom} process.
"""

from __future__ import annotations

from typing import Any

from helpers.browser import (
    RECONNECT_WAIT,
    Room,
    byLabel,
    expectFrame,
    logIn,
    text,
    waitFor,
    waitForText,
)
from helpers.wire import blockingLoggedIn
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


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
        waitForText(chromium, "#conversation", "Back in the room after", RECONNECT_WAIT)
        waitForText(chromium, "#status", "Connected as wendy.", RECONNECT_WAIT)
        waitForText(chromium, "#conversation", "said while wendy was away")
        for said in ("said before wendy came", "live one", "live two", "live three"):
            assert lines(chromium, said) == 1, said
        assert lines(chromium, "said while wendy was away") == 1
        assert "Earlier messages:" not in text(chromium, "#conversation").split("Back in")[-1]
    finally:
        tom.close()


def test_long_messages_are_counted_in_bytes_and_kept(chromium: Any, room: Room) -> None:
    """
    Defect 3: a typed 5,000-character text was cut to 4,000 and sent; a
    6,000-byte paste was refused in the server's words and the box emptied.
    """
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "pw", new=True)
        box = byLabel(chromium, "Message")
        box.send_keys("x" * 5000)
        assert len(box.get_attribute("value")) == 5000
        assert text(chromium, "#counter") == "906 bytes too long"
        box.send_keys(Keys.ENTER)
        waitForText(chromium, "#conversation", "906 bytes too long")
        assert box.get_attribute("value") == "x" * 5000

        # A paste of 3,000 two-byte letters: 6,000 bytes.
        chromium.execute_script("arguments[0].value = arguments[1];", box, "é" * 3000)
        box.send_keys(Keys.ENTER)
        waitForText(chromium, "#conversation", "1906 bytes too long")
        assert box.get_attribute("value") == "é" * 3000

        # Exactly as much as a frame holds ("D " and 4,094 bytes) is sent whole.
        chromium.execute_script("arguments[0].value = arguments[1];", box, "é" * 2047)
        box.send_keys(Keys.ENTER)
        assert expectFrame(tom, "D PM ") == "D PM wendy WEB " + "é" * 2047
        waitFor(chromium, lambda d: box.get_attribute("value") == "", "the box emptied")
        assert lines(chromium, "too long") == 2
    finally:
        tom.close()


def test_the_password_leaves_the_form(chromium: Any, room: Room) -> None:
    """
    Defect 4: the password stayed in the form after Leave (the next person
    at the computer just clicks Log in) and after a wrong password, whose
    error was the server's raw text.
    """
    logIn(chromium, room.url, "wendy", "right", new=True)
    chromium.find_element(By.ID, "leave").click()
    waitFor(chromium, lambda d: byLabel(d, "Password").is_displayed(), "the login form")
    assert byLabel(chromium, "Password").get_attribute("value") == ""
    assert byLabel(chromium, "Password again").get_attribute("value") == ""
    assert byLabel(chromium, "Username").get_attribute("value") == "wendy"

    byLabel(chromium, "Password").send_keys("wrong\n")
    waitForText(chromium, "#login-error", "Wrong password for wendy.")
    assert byLabel(chromium, "Password").get_attribute("value") == ""
    assert chromium.switch_to.active_element == byLabel(chromium, "Password")

    byLabel(chromium, "Password").send_keys("right\n")
    waitForText(chromium, "#status", "Connected as wendy.", RECONNECT_WAIT)


def distanceFromEnd(driver: Any) -> int:
    return int(
        driver.execute_script(
            "const c = document.getElementById('conversation');"
            "return c.scrollHeight - c.scrollTop - c.clientHeight;"
        )
    )


def waitForSize(driver: Any, width: int, height: int) -> None:
    def resized(d: Any) -> bool:
        return bool(
            d.execute_script("return [window.outerWidth, window.outerHeight];") == [width, height]
        )

    waitFor(driver, resized, f"the window at {width}x{height}")


def test_the_newest_message_stays_in_view_when_the_window_changes(
    chromium: Any, room: Room
) -> None:
    """
    Defect 5: a smaller window (a phone's keyboard opening, a rotation)
    left the newest messages below the view.
    """
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "pw", new=True)
        for number in range(15):  # long lines, more than the view holds, within the rate limit
            tom.send("C PM", f"D line {number} " + "words " * 50)
            expectFrame(tom, "C OK PM ")
        waitForText(chromium, "#conversation", "line 14")
        waitFor(chromium, lambda d: distanceFromEnd(d) <= 1, "the view at the newest line")
        for width, height in [(1100, 500), (600, 700), (700, 400), (1100, 800)]:
            chromium.set_window_size(width, height)
            waitForSize(chromium, width, height)
            waitFor(chromium, lambda d: distanceFromEnd(d) <= 1, f"the newest line at {height}")
        # Scrolled up on purpose, the view stays where the reader put it.
        chromium.execute_script("document.getElementById('conversation').scrollTop = 0;")
        chromium.set_window_size(1100, 600)
        waitForSize(chromium, 1100, 600)
        assert (
            chromium.execute_script("return document.getElementById('conversation').scrollTop;")
            == 0
        )
    finally:
        tom.close()


def test_an_outage_marks_the_list_and_the_form_is_even(chromium: Any, room: Room) -> None:
    """
    Defect 6: during an outage the online list showed everyone as if
    nothing happened; while confirming a new name the status said
    "Connecting…"; "Password again" was narrower than the other fields.
    """
    chromium.get(room.url)
    byLabel(chromium, "Username").send_keys("wendy")
    byLabel(chromium, "Password").send_keys("pw\n")
    again = byLabel(chromium, "Password again")
    waitFor(chromium, lambda d: again.is_displayed(), "the second password field")
    assert text(chromium, "#status") == "Confirming the new name…"
    widths = {
        label: byLabel(chromium, label).rect["width"]
        for label in ("Username", "Password", "Password again")
    }
    assert len(set(widths.values())) == 1, widths
    again.send_keys("pw\n")
    waitForText(chromium, "#status", "Connected as wendy.", RECONNECT_WAIT)
    waitForText(chromium, "#users", "wendy (WEB)")
    assert "out of date" not in text(chromium, "#people")

    room.stop()
    waitForText(chromium, "#status", "reconnecting")
    waitForText(chromium, "#people", "Not connected: this list may be out of date.")
    users = chromium.find_element(By.ID, "users")
    assert users.get_attribute("aria-describedby") == "users-stale"
    room.start()
    waitForText(chromium, "#status", "Connected as wendy.", RECONNECT_WAIT)
    waitFor(chromium, lambda d: "out of date" not in text(d, "#people"), "the list current again")
    assert users.get_attribute("aria-describedby") is None


def test_the_favicon(chromium: Any, room: Room) -> None:
    chromium.get(room.url)
    answer = chromium.execute_async_script(
        """
        const done = arguments[0];
        fetch("/favicon.ico").then(
          async (r) => done([r.status, r.headers.get("Content-Type"),
                             (await r.arrayBuffer()).byteLength]),
          (e) => done(["failed", String(e), 0]));
        """
    )
    assert answer[0] == 200 and answer[1] == "image/x-icon" and answer[2] > 0, answer
    icon = chromium.find_element(By.CSS_SELECTOR, "link[rel~='icon']")
    shown = chromium.execute_async_script(
        """
        const [href, done] = arguments;
        const image = new Image();
        image.onload = () => done([image.naturalWidth, image.naturalHeight]);
        image.onerror = () => done("not an image");
        image.src = href;
        """,
        icon.get_attribute("href"),
    )
    assert shown != "not an image" and shown[0] > 0, shown
