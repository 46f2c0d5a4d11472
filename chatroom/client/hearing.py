"""
What others do, as the conversation hears it: their public and direct
messages (live, from the history, or kept for us while we were away), and
people joining and leaving, each shown with its time.

A job of the conversation like logging in or sending (see
L{chatroom.client.conversation}), in a module of its own because it only
turns the server's frames into lines: when they are shown (after an
arrival's, or at once) is the arrival's business (L{chatroom.client.arrival}).
"""

from __future__ import annotations

from datetime import datetime

from chatroom.client.catchup import Said
from chatroom.client.conversation import Conversation
from chatroom.client.text import N_, _
from chatroom.codec import Reason

#: Why others leave (C{C LEAVE}'s reason), as the notice tells it.
DEPARTURES = {
    Reason.EXIT: N_("{who} has left the chat."),
    "CLOSED": N_("{who} has left the chat (connection closed)."),
    "TIMEOUT": N_("{who} has left the chat (timed out)."),
    "DROPPED": N_("{who} has left the chat (dropped by the server)."),
    Reason.REPLACED: N_("{who} has left the chat (logged in again)."),
    "KICKED": N_("{who} has left the chat (kicked out by a moderator)."),  # 1.2
    "BANNED": N_("{who} has left the chat (banned by a moderator)."),  # 1.2
}


class Hearing(Conversation):
    """
    The part of the conversation that shows what others say and do.
    """

    def _data(self, rest: str) -> None:
        kind, _space, rest = rest.partition(" ")
        if kind in ("HISTORY", "INBOX"):
            stamp, _space, rest = rest.partition(" ")
            when = _when(stamp)
            parts = rest.split(" ", 2)
            if when is None or len(parts) < 3:
                return
            sender, transport, text = parts
            if kind == "HISTORY":
                self._historyEntry(when, sender, transport, text)
            else:
                mark = self.paint("direct", _("(direct)"))
                self._live(self._stamp(f"{sender}[{transport}] {mark} : {text}", when))
            return
        parts = rest.split(" ", 2)
        if len(parts) < 3:
            return
        sender, transport, text = parts
        if kind == "PM":
            said = Said(self._now(), sender, transport, text)
            self._live(self._stamp(f"{sender}[{transport}] : {text}"), said)
        elif kind == "DM":
            mark = self.paint("direct", _("(direct)"))
            self._live(self._stamp(f"{sender}[{transport}] {mark} : {text}"))

    def _onJOIN(self, rest: str) -> None:
        name, _space, transport = rest.partition(" ")
        notice = _("{who} has joined the chat.").format(who=f"{name} [{transport}]")
        self._live(self._stamp(self.paint("notice", notice)))

    def _onLEAVE(self, rest: str) -> None:
        parts = rest.split(" ")
        if len(parts) < 2:
            return
        reason = parts[2] if len(parts) >= 3 else Reason.EXIT
        notice = _(DEPARTURES.get(reason, "{who} has left the chat.")).format(
            who=f"{parts[0]} [{parts[1]}]"
        )
        self._live(self._stamp(self.paint("notice", notice)))


def _when(stamp: str) -> datetime | None:
    """
    A protocol time (RFC 3339, UTC), or L{None} if it is not one.
    """
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None
