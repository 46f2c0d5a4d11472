"""
The IRC users of this node, as IRC needs to see them and the room does not
keep: their user name, real name and host (for C{nick!user@host}), whether
they joined the channel, their away message, and how they quit.

One L{Directory} belongs to one IRC listener (made by its factory, never
global); it is read by every connection of that listener when it turns the
room's frames into lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from chatroom.irc.tags import MsgIds
from chatroom.names import caseless

if TYPE_CHECKING:
    from chatroom.irc.tags import Said


class Peer(Protocol):
    """
    What the directory needs of a registered IRC connection.
    """

    caps: set[str]  # its IRCv3 capabilities (who gets TAGMSG and tags)

    def peerLine(self, line: bytes) -> None:
        """
        Another IRC user of this node joined or parted the channel.
        """

    def push(self, line: bytes) -> None:
        """
        A line on its own (a TAGMSG, which never passes through the room).
        """


@dataclass(slots=True)
class Entry:
    nick: str
    user: str
    realname: str
    host: str
    peer: Peer
    joined: bool = False
    away: str | None = None
    invisible: bool = False  # user mode +i: left out of WHO masks by those not in the channel
    quit: str | None = None  # the QUIT message, once the client sent one
    said: Said | None = None  # its last message, on its way through the room (tags.py)

    @property
    def mask(self) -> str:
        return f"{self.nick}!{self.user}@{self.host}"


class Directory:
    """
    The registered IRC users of one listener, by caseless name.
    """

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self.msgids = MsgIds()  # the msgid of every message shown on this listener

    def add(self, entry: Entry) -> None:
        self._entries[caseless(entry.nick)] = entry

    def remove(self, entry: Entry) -> None:
        if self._entries.get(caseless(entry.nick)) is entry:
            del self._entries[caseless(entry.nick)]

    def get(self, nick: str) -> Entry | None:
        return self._entries.get(caseless(nick))

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def tell(self, line: bytes, besides: Entry) -> None:
        """
        Send C{line} to every other joined IRC user.
        """
        for entry in self:
            if entry is not besides and entry.joined:
                entry.peer.peerLine(line)


def maskOf(directory: Directory, name: str, transport: str) -> str:
    """
    How a room user shows as an IRC source: C{nick!user@host} for an IRC
    user of this node, C{name!TRANSPORT@TRANSPORT} for everyone else, so
    the door of every speaker shows.
    """
    entry = directory.get(name) if transport == "IRC" else None
    if entry is not None:
        return entry.mask
    return f"{name}!{transport}@{transport}"
