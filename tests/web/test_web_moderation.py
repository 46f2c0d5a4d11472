"""
Moderation on the page (PROTOCOL.md section 11), in the real headless
Chromium: the notices and refusals in words, the staff's commands and the
staff's menu on a user of the online list.
"""

from __future__ import annotations

from typing import Any

from helpers.browser import Room


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
