"""
Moderation on the page (PROTOCOL.md section 11), in the real headless
Chromium: the notices and refusals in words, the staff's commands and the
staff's menu on a user of the online list.
"""

from __future__ import annotations

import time
from typing import Any

from helpers.browser import Room, byLabel, expectFrame, logIn, say, text, waitFor, waitForText
from helpers.wire import blockingLoggedIn
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from chatroom.sqlitestore import openDatabase
from chatroom.statements import accounts

#: Seconds to see that the page does not reconnect by itself (its first retry is after one).
RETRY_WINDOW = 2.5


def callModule(driver: Any, module: str, function: str, *args: Any) -> Any:
    """
    C{function(*args)} of one of the page's ES modules, run in the page.
    """
    return driver.execute_async_script(
        """
        const [module, name, args, done] = arguments;
        import(module).then((m) => done(m[name](...args)), (e) => done("failed: " + e));
        """,
        module,
        function,
        list(args),
    )


def test_notices_in_words(chromium: Any, room: Room) -> None:
    """
    Every C MOD action reads as a sentence, with local end times.
    """
    chromium.get(room.url)
    until = chromium.execute_script(
        "const d = new Date(); d.setHours(12, 52, 0, 0); return d.toISOString();"
    )
    # The browser's own way to write that time (12:52, or 12:52 PM).
    at = chromium.execute_script(
        "return new Date(arguments[0]).toLocaleTimeString([], "
        "{hour: '2-digit', minute: '2-digit'});",
        until,
    )
    assert at.startswith("12:52")
    sentence = lambda rest: callModule(chromium, "/moderation.js", "modSentence", rest)  # noqa: E731
    assert sentence(f"BAN bob alice {until} flooding") == (
        f"bob was banned by alice until {at}: flooding"
    )
    assert sentence("BAN bob alice - spam") == "bob was banned by alice for good: spam"
    assert sentence("KICK bob alice -") == "bob was kicked by alice."
    assert sentence("KICK bob alice - calm down") == "bob was kicked by alice: calm down"
    assert sentence(f"MUTE bob alice {until}") == f"bob was muted by alice until {at}."
    assert sentence("UNMUTE bob alice -") == "bob may speak again (unmuted by alice)."
    assert sentence("UNBAN bob alice -") == "bob's ban was lifted by alice."
    assert sentence("SLOW 30 alice -") == (
        "alice turned slow mode on: one message every 30 seconds."
    )
    assert sentence("SLOW 0 alice -") == "alice turned slow mode off."
    assert sentence("ROLE bob alice moderator") == "alice made bob a moderator."
    assert sentence("ROLE bob alice user") == "alice made bob a user again."
    refusal = lambda code, text: callModule(chromium, "/moderation.js", "refusal", code, text)  # noqa: E731
    assert refusal("MUTED", until) == f"You are muted until {at}, so this was not sent."
    assert refusal("SLOW", "12") == "Slow mode is on: you may send again in 12 seconds."
    assert refusal("SLOW", "1") == "Slow mode is on: you may send again in 1 second."
    assert "only moderators and admins" in refusal("DENIED", "not allowed")
    banned = callModule(chromium, "/moderation.js", "bannedSentence", f"{until} flooding")
    assert banned == (
        f"This account is banned until {at} (flooding). You may log in with another name."
    )


def test_staff_commands_become_frames(chromium: Any, room: Room) -> None:
    chromium.get(room.url)
    parse = lambda line: callModule(chromium, "/moderation.js", "parseCommand", line)  # noqa: E731
    assert parse("/kick bob being rude")["frame"] == "C KICK bob being rude"
    assert parse("/kick bob")["frame"] == "C KICK bob"
    assert parse("/ban bob 1H flooding  the room")["frame"] == "C BAN bob 1h flooding  the room"
    assert parse("/ban bob forever")["frame"] == "C BAN bob forever"
    assert parse("/mute bob 10m")["frame"] == "C MUTE bob 10m"
    assert parse("/unban bob")["frame"] == "C UNBAN bob"
    assert parse("/unmute bob")["frame"] == "C UNMUTE bob"
    assert parse("/slow 30")["frame"] == "C SLOW 30"
    assert parse("/bans")["frame"] == "C BANS"
    assert parse("/ban bob 1 hour")["error"] == (
        '"1" is not a duration: use 10m, 2h, 3d or forever.'
    )
    assert parse("/ban bob")["error"] == "Usage: /ban name 1h [reason]"
    assert parse("/slow soon")["error"].startswith("Slow mode takes a whole number")
    assert parse("/unmute bob now")["error"] == "Usage: /unmute name"
    assert parse("hello /kick") is None
    assert parse("/shrug") is None


def staffRoom(room: Room, staff: dict[str, str], users: list[str]) -> None:
    """
    Register C{staff} and C{users} (password C{secret}) over TCP, then give
    the staff their roles through the store's C{setRole}, the server
    stopped so that it reads them at its start.
    """
    for name in [*staff, *users]:
        client = blockingLoggedIn(room.port, name)
        client.send("C EX")
        expectFrame(client, "C BYE ")
        client.close()
    room.stop()
    db = openDatabase(str(room.database))
    try:
        for name, role in staff.items():
            assert accounts.setRole(db, name, role) is True
    finally:
        db.close()
    room.start()


def menuOf(driver: Any, name: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f"#users button[aria-label='Moderate {name}']")


def test_a_moderator_kicks_and_mutes_a_tcp_user_through_the_menu(chromium: Any, room: Room) -> None:
    staffRoom(room, {"alice": "moderator"}, ["tom"])
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "alice", "secret", new=False)
        waitForText(chromium, "#users", "@alice (WEB)")
        waitForText(chromium, "#users", "tom (TCP)")
        assert "@tom" not in text(chromium, "#users")

        # Mute, by the keyboard: the menu button, the duration, the reason, the Mute button.
        button = menuOf(chromium, "tom")
        assert button.get_attribute("aria-expanded") == "false"
        button.send_keys(Keys.ENTER)
        panel = chromium.find_element(By.ID, "moderate")
        waitFor(chromium, lambda d: panel.is_displayed(), "the menu opening")
        assert button.get_attribute("aria-expanded") == "true"
        assert chromium.switch_to.active_element == byLabel(chromium, "For how long")
        Select(byLabel(chromium, "For how long")).select_by_visible_text("10 minutes")
        byLabel(chromium, "Reason").send_keys("shouting")
        chromium.find_element(By.XPATH, "//form[@id='moderate']//button[.='Mute']").click()
        mod = expectFrame(tom, "C MOD ")
        assert mod.startswith("C MOD MUTE tom alice ") and mod.endswith(" shouting"), mod
        waitForText(chromium, "#conversation", "tom was muted by alice until ")
        waitForText(chromium, "#conversation", ": shouting")
        tom.send("C PM", "D can I talk")
        assert expectFrame(tom, "C ERR ").startswith("C ERR MUTED ")

        # Escape closes the menu and gives the focus back to its button.
        menuOf(chromium, "tom").click()
        waitFor(chromium, lambda d: panel.is_displayed(), "the menu opening again")
        byLabel(chromium, "Reason").send_keys(Keys.ESCAPE)
        waitFor(chromium, lambda d: not panel.is_displayed(), "the menu closing")
        assert chromium.switch_to.active_element == menuOf(chromium, "tom")

        # Unmute, then kick.
        menuOf(chromium, "tom").click()
        chromium.find_element(By.XPATH, "//form[@id='moderate']//button[.='Unmute']").click()
        assert expectFrame(tom, "C MOD ") == "C MOD UNMUTE tom alice -"
        waitForText(chromium, "#conversation", "tom may speak again (unmuted by alice).")
        menuOf(chromium, "tom").click()
        byLabel(chromium, "Reason").send_keys("enough")
        chromium.find_element(By.XPATH, "//form[@id='moderate']//button[.='Kick']").click()
        assert expectFrame(tom, "C MOD ") == "C MOD KICK tom alice - enough"
        assert expectFrame(tom, "C BYE ") == "C BYE KICKED"
        waitForText(chromium, "#conversation", "tom was kicked by alice: enough")
        waitForText(chromium, "#conversation", "tom (TCP) was kicked.")
        waitFor(chromium, lambda d: "tom" not in text(d, "#users"), "tom gone from the list")
    finally:
        tom.close()


def test_the_staff_type_commands(chromium: Any, room: Room) -> None:
    staffRoom(room, {"alice": "moderator"}, ["tom"])
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "alice", "secret", new=False)
        waitForText(chromium, "#users", "tom (TCP)")
        say(chromium, "/ban tom 1h flooding the room")
        mod = expectFrame(tom, "C MOD ")
        assert mod.startswith("C MOD BAN tom alice ") and mod.endswith(" flooding the room")
        assert expectFrame(tom, "C BYE ") == "C BYE BANNED"
        waitForText(chromium, "#conversation", "tom was banned by alice until ")
        waitFor(chromium, lambda d: byLabel(d, "Message").get_attribute("value") == "", "box empty")
        say(chromium, "/bans")
        waitForText(chromium, "#conversation", "1 ban or mute in force:")
        waitForText(chromium, "#conversation", "tom banned by alice until ")
        say(chromium, "/unban tom")
        waitForText(chromium, "#conversation", "tom's ban was lifted by alice.")
        say(chromium, "/slow 30")
        waitForText(chromium, "#conversation", "alice turned slow mode on: one message every 30")
        say(chromium, "/ban nobody 1h")
        waitForText(chromium, "#conversation", "There is no account named nobody.")
        assert byLabel(chromium, "Message").get_attribute("value") == "/ban nobody 1h"
    finally:
        tom.close()


def test_a_plain_user_has_no_menu_and_a_muted_one_keeps_the_text(chromium: Any, room: Room) -> None:
    staffRoom(room, {"tom": "moderator"}, ["wendy"])
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "secret", new=False)
        waitForText(chromium, "#users", "@tom (TCP)")
        assert chromium.find_elements(By.CSS_SELECTOR, "#users .moderate-button") == []
        assert not chromium.find_element(By.ID, "staff-help").is_displayed()

        say(chromium, "/kick tom")
        waitForText(chromium, "#conversation", "Not allowed: only moderators and admins")
        waitFor(chromium, lambda d: byLabel(d, "Message").get_attribute("value") == "", "box empty")

        tom.send("C MUTE wendy 10m spam")
        assert expectFrame(tom, "C OK ") == "C OK MUTE wendy"
        waitForText(chromium, "#conversation", "wendy was muted by tom until ")
        say(chromium, "hello there")
        waitForText(chromium, "#conversation", "You are muted until ")
        waitForText(chromium, "#conversation", "not sent. Your text is still in the box.")
        box = byLabel(chromium, "Message")
        assert box.get_attribute("value") == "hello there"
        assert box.get_attribute("readonly") is None

        tom.send("C UNMUTE wendy", "C SLOW 30")
        assert expectFrame(tom, "C OK SLOW") == "C OK SLOW 30"
        waitForText(chromium, "#conversation", "tom turned slow mode on")
        box.send_keys("\n")  # the kept text, sent now
        assert expectFrame(tom, "D PM ") == "D PM wendy WEB hello there"
        waitFor(chromium, lambda d: box.get_attribute("value") == "", "the box emptied")
        say(chromium, "and again")
        waitForText(chromium, "#conversation", "Slow mode is on: you may send again in ")
        assert box.get_attribute("value") == "and again"
    finally:
        tom.close()


def test_a_ban_is_explained_and_not_retried(chromium: Any, room: Room) -> None:
    staffRoom(room, {"tom": "moderator"}, ["wendy"])
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "secret", new=False)
        tom.send("C BAN wendy 1d flooding")
        waitForText(chromium, "#login-error", "You were banned by tom until ")
        waitForText(chromium, "#login-error", "You cannot log in with this name until it ends.")
        assert text(chromium, "#status") == "Banned from the room."
        # No reconnecting (the first attempt would come after a second).
        time.sleep(RETRY_WINDOW)
        assert text(chromium, "#status") == "Banned from the room."
        # Trying again by hand: the refusal in words.
        byLabel(chromium, "Password").send_keys("secret\n")
        waitForText(chromium, "#login-error", "This account is banned until ")
        waitForText(chromium, "#login-error", "(flooding). You may log in with another name.")
    finally:
        tom.close()


def test_a_kick_is_explained_and_not_undone_by_a_reconnect(chromium: Any, room: Room) -> None:
    staffRoom(room, {"tom": "moderator"}, ["wendy"])
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "wendy", "secret", new=False)
        expectFrame(tom, "C JOIN wendy")
        tom.send("C KICK wendy be nice")
        waitForText(chromium, "#login-error", "kicked by tom: be nice. You may log in again.")
        assert text(chromium, "#status") == "Kicked out of the room."
        assert expectFrame(tom, "C LEAVE ") == "C LEAVE wendy WEB KICKED"
        time.sleep(RETRY_WINDOW)  # a reconnect would have come back by now
        tom.send("C WHO")
        assert expectFrame(tom, "C USERS ") == "C USERS @tom:TCP"
    finally:
        tom.close()


def test_a_user_made_moderator_gets_the_menu_at_once(chromium: Any, room: Room) -> None:
    """
    The C MOD ROLE notice about the page's user makes them staff: the
    menu and the commands appear without logging in again, and go again.
    """
    staffRoom(room, {"tom": "admin"}, ["wendy", "bob"])
    tom = blockingLoggedIn(room.port, "tom")
    bob = blockingLoggedIn(room.port, "bob")
    try:
        logIn(chromium, room.url, "wendy", "secret", new=False)
        waitForText(chromium, "#users", "bob (TCP)")
        assert chromium.find_elements(By.CSS_SELECTOR, "#users .moderate-button") == []
        tom.send("C ROLE wendy moderator")
        assert expectFrame(tom, "C OK ") == "C OK ROLE wendy"
        waitForText(chromium, "#conversation", "tom made wendy a moderator.")
        waitForText(chromium, "#users", "@wendy (WEB)")
        menuOf(chromium, "bob")  # beside the others' names
        assert (
            chromium.find_elements(By.CSS_SELECTOR, "#users button[aria-label='Moderate wendy']")
            == []
        )
        assert chromium.find_element(By.ID, "staff-help").is_displayed()
        tom.send("C ROLE wendy user")
        waitForText(chromium, "#conversation", "tom made wendy a user again.")
        waitFor(
            chromium,
            lambda d: d.find_elements(By.CSS_SELECTOR, "#users .moderate-button") == [],
            "the menu gone",
        )
    finally:
        tom.close()
        bob.close()


def test_the_keyboard_keeps_its_place_when_the_list_changes(chromium: Any, room: Room) -> None:
    """
    Someone joining draws the list anew; the focus stays on the same button.
    """
    staffRoom(room, {"alice": "moderator"}, ["tom", "bob"])
    tom = blockingLoggedIn(room.port, "tom")
    try:
        logIn(chromium, room.url, "alice", "secret", new=False)
        waitForText(chromium, "#users", "tom (TCP)")
        chromium.execute_script("arguments[0].focus();", menuOf(chromium, "tom"))
        bob = blockingLoggedIn(room.port, "bob")
        waitForText(chromium, "#users", "bob (TCP)")
        assert chromium.switch_to.active_element == menuOf(chromium, "tom")
        bob.close()
    finally:
        tom.close()


def test_slow_mode_keeps_the_lines_not_sent_yet(chromium: Any, room: Room) -> None:
    """
    A message of several lines goes as one message per line: when slow
    mode refuses the second, it and the lines after it stay in the box.
    """
    staffRoom(room, {"tom": "moderator"}, ["wendy"])
    tom = blockingLoggedIn(room.port, "tom")
    try:
        tom.send("C SLOW 30")
        assert expectFrame(tom, "C OK SLOW") == "C OK SLOW 30"
        logIn(chromium, room.url, "wendy", "secret", new=False)
        box = byLabel(chromium, "Message")
        box.send_keys("one")
        for line in ("two", "three"):
            box.send_keys(Keys.SHIFT, Keys.ENTER)
            box.send_keys(line)
        box.send_keys(Keys.ENTER)
        assert expectFrame(tom, "D PM ") == "D PM wendy WEB one"
        waitForText(chromium, "#conversation", "Slow mode is on: you may send again in ")
        waitFor(chromium, lambda d: box.get_attribute("readonly") is None, "the box free")
        assert box.get_attribute("value") == "two\nthree"
    finally:
        tom.close()
