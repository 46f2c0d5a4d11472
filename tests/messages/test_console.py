"""
The console shows every public message, gathered, in the room's order.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.logger import ILogObserver, LogEvent, formatEvent
from zope.interface import implementer

from chatroom.console import PUBLIC_INTERVAL, Console


def console() -> tuple[Console, Clock, list[str]]:
    clock = Clock()
    shown: list[str] = []

    @implementer(ILogObserver)
    def observe(event: LogEvent) -> None:
        shown.append(formatEvent(event))

    return Console(clock, "test", observer=observe), clock, shown


def test_public_messages_are_shown_together_within_the_interval():
    log, clock, shown = console()
    log.public("alice", "TCP", "Hello")
    log.public("bob", "UDP", "hi alice")
    clock.advance(PUBLIC_INTERVAL / 2)
    assert shown == []
    clock.advance(PUBLIC_INTERVAL / 2)
    assert shown == ["alice[TCP] : Hello\nbob[UDP] : hi alice"]
    clock.advance(PUBLIC_INTERVAL * 5)
    assert len(shown) == 1  # nothing more to show, nothing shown


def test_another_event_shows_what_was_gathered_first():
    log, clock, shown = console()
    log.public("alice", "TCP", "bye all")
    log.info("{who} left", who="alice")
    assert shown == ["alice[TCP] : bye all", "alice left"]
    clock.advance(PUBLIC_INTERVAL)
    assert len(shown) == 2


def test_format_characters_in_a_message_are_shown_as_typed():
    log, _, shown = console()
    log.public("kim", "TCP", "{oops} {0} }{")
    log.flush()
    assert shown == ["kim[TCP] : {oops} {0} }{"]
