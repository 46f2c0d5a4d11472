"""
The page as people expect a chat page (issue 21): own lines set apart,
"(you)" in the list, date lines, mentions, links, direct messages as
conversations of their own with unread counts, the count in the title and
the icon, the "new messages" marker, desktop notifications and messages of
several lines; in the real headless Chromium against a C{twistd chatroom}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.browser import (
    DM_LOG,
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
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

#: window.Notification, the browser's API, replaced inside the page before
#: its script runs: it records what would be shown, and is "default" (not
#: asked yet) until the page asks.
NOTIFICATION_STUB = """
window.shownNotes = [];
window.askedNotes = 0;
class RecordingNotification {
  static permission = "default";
  static async requestPermission() {
    window.askedNotes += 1;
    RecordingNotification.permission = "granted";
    return "granted";
  }
  constructor(title, options) { window.shownNotes.push([title, options.body]); }
}
Object.defineProperty(window, "Notification",
  {value: RecordingNotification, configurable: true, writable: true});
"""


def lineClasses(driver: Any, containing: str) -> list[str]:
    """
    The class lists of the lines of the room containing C{containing}.
    """
    return [
        item.get_attribute("class")
        for item in driver.find_elements(By.CSS_SELECTOR, "#conversation li")
        if containing in item.text
    ]


def test_own_lines_you_dates_mentions_and_links(chromium: Any, room: Room) -> None:
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "pw", new=True)
        waitForText(chromium, "#users", "tom (TCP)")
        you = chromium.find_elements(By.CSS_SELECTOR, "#users .you")
        assert [element.find_element(By.XPATH, "..").text for element in you] == [
            "wendy (WEB) (you)"
        ]
        assert "tom (TCP) (you)" not in text(chromium, "#users")

        say(chromium, "my own words")
        expectFrame(tom, "D PM wendy")
        waitForText(chromium, "#conversation", "my own words")
        assert lineClasses(chromium, "my own words") == ["pm mine"]

        tom.send(
            "C PM",
            "D @wendy see https://example.org/a?b=1. not javascript:alert(1) "
            "nor <a href=x>x</a> ftp://files.example",
        )
        waitForText(chromium, "#conversation", "see https://example.org/a?b=1. not javascript")
        assert "nor <a href=x>x</a> ftp://files.example" in text(chromium, "#conversation")
        tom.send("C PM", "D @wendyx is someone else, and so is wendy@example.org")
        waitForText(chromium, "#conversation", "@wendyx is someone else")
        assert lineClasses(chromium, "see https") == ["pm mention"]
        assert lineClasses(chromium, "@wendyx") == ["pm"]
        marks = chromium.find_elements(By.CSS_SELECTOR, "#conversation mark.mention")
        assert [mark.text for mark in marks] == ["@wendy"]
        links = chromium.find_elements(By.CSS_SELECTOR, "#conversation a")
        assert [
            (a.get_attribute("href"), a.text, a.get_attribute("rel"), a.get_attribute("target"))
            for a in links
        ] == [
            (
                "https://example.org/a?b=1",
                "https://example.org/a?b=1",
                "noopener noreferrer",
                "_blank",
            )
        ]

        # A line where the day changes, in the page's own module.
        dates = chromium.execute_async_script(
            """
            const done = arguments[0];
            import("/conversation.js").then((page) => {
              const day = 86400000;
              page.line([["two days ago", "text"]], "pm", new Date(Date.now() - 2 * day));
              page.line([["same day", "text"]], "pm", new Date(Date.now() - 2 * day + 1));
              page.line([["yesterday", "text"]], "pm", new Date(Date.now() - day));
              page.line([["today", "text"]], "pm", new Date());
              done([...document.querySelectorAll("#conversation li.day")]
                .map((li) => li.textContent));
            });
            """
        )
        assert dates[0] == "Today" and dates[-2:] == ["Yesterday", "Today"], dates
        assert len(dates) == 4, dates  # one for the first lines, none between same-day lines
    finally:
        tom.close()


def test_unread_counts_marker_title_icon_and_notifications(chromium: Any, room: Room) -> None:
    chromium.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NOTIFICATION_STUB})
    tom = blockingLoggedIn(room.port, "tom")

    def icon(driver: Any) -> str:
        return str(driver.find_element(By.ID, "icon").get_attribute("href")).rsplit("/", 1)[-1]

    try:
        logIn(chromium, room.url, "wendy", "pw", new=True)
        assert chromium.title == "chatroom"
        assert icon(chromium) == "favicon.svg"

        # Off until allowed: a direct message before the button was pressed.
        tom.send("C DM", "D wendy first, unseen")
        expectFrame(tom, "C OK DM ")
        waitFor(chromium, lambda d: unread(d) == {"Room": 0, "tom": 1}, "one unread from tom")
        assert chromium.title == "(1) chatroom"
        assert icon(chromium) == "favicon-unread.svg"
        assert "first, unseen" not in text(chromium, "#conversation")
        assert chromium.execute_script("return window.shownNotes;") == []

        button = chromium.find_element(By.ID, "notify")
        assert button.text == "Turn on notifications"
        button.click()
        waitFor(chromium, lambda d: not button.is_displayed(), "the button gone once asked")
        assert chromium.execute_script("return window.askedNotes;") == 1

        tom.send("C DM", "D wendy psst")
        expectFrame(tom, "C OK DM ")
        waitFor(chromium, lambda d: unread(d)["tom"] == 2, "two unread from tom")
        assert chromium.title == "(2) chatroom"
        assert chromium.execute_script("return window.shownNotes;") == [
            ["tom wrote to you", "psst"]
        ]

        openConversation(chromium, "tom")
        waitFor(chromium, lambda d: d.title == "chatroom", "the title without a count")
        assert icon(chromium) == "favicon.svg"
        assert unread(chromium) == {"Room": 0, "tom": 0}
        waitForText(chromium, DM_LOG.format("tom"), "first, unseen")

        # A mention in the room while reading tom's: a count and a notification.
        tom.send("C PM", "D hey @Wendy, look")
        expectFrame(tom, "C OK PM ")
        waitFor(chromium, lambda d: unread(d)["Room"] == 1, "the mention unread")
        assert chromium.execute_script("return window.shownNotes;")[-1] == [
            "tom mentioned you",
            "hey @Wendy, look",
        ]
        tom.send("C PM", "D not about anyone")
        expectFrame(tom, "C OK PM ")
        waitFor(chromium, lambda d: unread(d)["Room"] == 2, "two unread in the room")
        assert len(chromium.execute_script("return window.shownNotes;")) == 2

        # Back in the room, scrolled up: the new line is marked, a button jumps to it.
        openConversation(chromium, "Room")
        waitFor(chromium, lambda d: unread(d)["Room"] == 0, "the room read")
        for number in range(12):
            tom.send("C PM", f"D filler {number} " + "words " * 40)
            expectFrame(tom, "C OK PM ")
        waitForText(chromium, "#conversation", "filler 11")
        # Scrolled up, and the page's scroll handler run (scroll events come
        # with the next frame) before the next line arrives.
        chromium.execute_async_script(
            "document.getElementById('conversation').scrollTop = 0;"
            "requestAnimationFrame(() => requestAnimationFrame(arguments[0]));"
        )
        tom.send("C PM", "D while you were up there")
        expectFrame(tom, "C OK PM ")
        jump = chromium.find_element(By.ID, "jump")
        waitFor(chromium, lambda d: jump.is_displayed(), "the new messages button")
        assert unread(chromium)["Room"] == 1
        assert chromium.title == "(1) chatroom"
        after = chromium.execute_script(
            "const m = document.querySelector('#conversation li.new-marker');"
            "return m && m.nextElementSibling.textContent;"
        )
        assert after is not None and "while you were up there" in after
        jump.click()
        waitFor(chromium, lambda d: unread(d)["Room"] == 0, "read after the jump")
        assert not jump.is_displayed()
        assert chromium.title == "chatroom"
    finally:
        tom.close()


def test_a_tab_in_the_background_counts_in_its_title(chromium: Any, room: Room) -> None:
    """
    The tab is put in the background by document.hidden, the browser's
    property, set inside the page with the event the browser would send.
    """
    tom = blockingLoggedIn(room.port, "tom")
    visibility = (
        "Object.defineProperty(document, 'hidden', {value: arguments[0], configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'));"
    )
    try:
        logIn(chromium, room.url, "wendy", "pw", new=True)
        tom.send("C PM", "D seen at once")
        waitForText(chromium, "#conversation", "seen at once")
        assert chromium.title == "chatroom"
        chromium.execute_script(visibility, True)
        for said in ("while away", "and more"):
            tom.send("C PM", f"D {said}")
            expectFrame(tom, "C OK PM ")
        waitFor(chromium, lambda d: d.title == "(2) chatroom", "two unread in the title")
        after = chromium.execute_script(
            "return document.querySelector('#conversation li.new-marker')"
            ".nextElementSibling.textContent;"
        )
        assert "while away" in after
        chromium.execute_script(visibility, False)
        waitFor(chromium, lambda d: d.title == "chatroom", "read once the tab is shown")
    finally:
        tom.close()


def test_several_lines_go_as_one_message_each(chromium: Any, room: Room) -> None:
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "pw", new=True)
        box = byLabel(chromium, "Message")
        assert box.tag_name == "textarea"
        box.send_keys("first line")
        box.send_keys(Keys.SHIFT, Keys.ENTER)
        box.send_keys("second line")
        assert box.get_attribute("value") == "first line\nsecond line"
        box.send_keys(Keys.ENTER)
        assert expectFrame(tom, "D PM ") == "D PM wendy WEB first line"
        assert expectFrame(tom, "D PM ") == "D PM wendy WEB second line"
        waitFor(chromium, lambda d: box.get_attribute("value") == "", "the box emptied")
        waitForText(chromium, "#conversation", "second line")

        # One line too long: nothing is sent, everything stays in the box.
        chromium.execute_script(
            "arguments[0].value = arguments[1];arguments[0].dispatchEvent(new Event('input'));",
            box,
            "short\n" + "x" * 5000,
        )
        assert text(chromium, "#counter") == "906 bytes too long"
        box.send_keys(Keys.ENTER)
        waitForText(chromium, "#conversation", "906 bytes too long")
        assert box.get_attribute("value") == "short\n" + "x" * 5000
    finally:
        tom.close()


def test_leave_forgets_the_conversations(chromium: Any, room: Room) -> None:
    """
    At a shared computer the next person sees nothing of the last one's
    direct messages.
    """
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "pw", new=True)
        tom.send("C DM", "D wendy a secret")
        tom.send("C PM", "D said in the room")
        waitFor(chromium, lambda d: unread(d) == {"Room": 0, "tom": 1}, "the DM unread")
        chromium.find_element(By.ID, "leave").click()
        waitFor(chromium, lambda d: byLabel(d, "Password").is_displayed(), "the login form")
        assert chromium.title == "chatroom"
        page = chromium.execute_script("return document.body.textContent;")
        assert "a secret" not in page and "said in the room" not in page
        # The next person, on the same page (no reload).
        byLabel(chromium, "Username").clear()
        byLabel(chromium, "Username").send_keys("nina")
        byLabel(chromium, "Password").send_keys("pw\n")
        again = byLabel(chromium, "Password again")
        waitFor(chromium, lambda d: again.is_displayed(), "the second password field")
        again.send_keys("pw\n")
        waitForText(chromium, "#status", "Connected as nina.")
        assert unread(chromium) == {"Room": 0}
        assert "a secret" not in chromium.execute_script("return document.body.textContent;")
    finally:
        tom.close()


def test_every_file_of_the_page_is_served() -> None:
    """
    A module left out of the allow-list is a 404 and a blank page.
    """
    from chatroom.web.site import PAGES

    static = Path(__file__).resolve().parents[2] / "chatroom" / "web" / "static"
    served = {name for name, _ in PAGES.values()}
    assert {path.name for path in static.iterdir()} == served
