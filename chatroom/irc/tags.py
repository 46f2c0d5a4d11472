"""
IRCv3 message-tags between IRC users: client-only tags (C{+name}), the
C{msgid} tag, and what a message carries on its way from one IRC
connection to another.

Why a side path. The room's frames (C{D PM}, C{D DM}) carry a name, a
transport and a text and nothing else, because every door must be able to
show them and the TCP, UDP and web doors have no place for tags. So
client-only tags never enter the room. Instead the sending IRC connection
leaves its message's record (L{Said}: command, text, msgid, client-only
tags) on its L{chatroom.irc.directory.Entry} in the listener's directory
just before it hands the text to the room, the way a C{NOTICE} was already
told apart from a C{PRIVMSG}. When the room's frame reaches another IRC
connection of the same listener, the mapping finds the sender's entry by
name (transport C{IRC}), checks the text, and adds those tags (L{said});
the sender's echo-message echo, made when the room says C{OK}, uses the
same record. One message so has one C{msgid} for its echo and for every
IRC recipient, and the room and the other doors are untouched: they get the
text, as before. A record is replaced by its sender's next message, not
cleared on C{OK}: where the room's frame comes after its C{OK} (several
nodes, through Redis), it is still found.

C{msgid}: the room keeps no message ids (its history has times only,
PROTOCOL 1.1 C{D HISTORY}), so the door makes them (L{MsgIds}): a random
prefix per listener and a counter, unique across listeners, nodes and
restarts, and cheap. A message from another door gets one id per frame
(the room hands the same bytes to every session of a broadcast, and the
factory decodes them once; L{frameMsgid}), so every IRC recipient of this
listener sees the same id. Known limits: C{CHATHISTORY} replays carry no
C{msgid} (the room has none to give); with several nodes, an IRC message
reaching the IRC users of another node gets that node's id and no client
tags (the record lives in one listener's directory).

C{TAGMSG} (no text, nothing other doors could show) never enters the room:
L{chatroom.irc.messages.tagmsg} hands it from the directory straight to the
IRC users that negotiated message-tags.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatroom.irc.directory import Directory
    from chatroom.irc.door import IRCConnection
    from chatroom.irc.factory import IRCFactory

#: Tags a client may send that the server relays: client-only ones.
CLIENT_ONLY = "+"


@dataclass(frozen=True, slots=True)
class Said:
    """
    One message of an IRC user on its way through the room: what the
    recipients on IRC and the sender's echo show beside its text.
    """

    command: str  # PRIVMSG, NOTICE or TAGMSG
    text: str
    msgid: str
    tags: dict[str, str] = field(default_factory=dict)  # client-only tags


class MsgIds:
    """
    Message ids of one listener: a random prefix and a counter.
    """

    __slots__ = ("_count", "_prefix")

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(6)
        self._count = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}-{next(self._count):x}"


def clientTags(connection: IRCConnection, tags: Mapping[str, str] | None) -> dict[str, str]:
    """
    The client-only tags of a line, to relay: none from a client that did
    not negotiate message-tags (it does not know what it sent). Their size
    is bounded already: a tag section over 4094 bytes got 417 before the
    line was handled (L{chatroom.irc.wire.tooLong}).
    """
    if not tags or "message-tags" not in connection.caps:
        return {}
    return {k: v for k, v in tags.items() if k.startswith(CLIENT_ONLY) and len(k) > 1}


def said(directory: Directory, name: str, transport: str, text: str) -> Said | None:
    """
    The record an IRC user of this listener left for its message C{text},
    if the room's frame (from C{name} on C{transport}) is that message.
    """
    if transport != "IRC":
        return None
    entry = directory.get(name)
    record = entry.said if entry is not None else None
    if record is None or record.text != text:
        return None
    return record


def frameMsgid(factory: IRCFactory) -> str:
    """
    The msgid of the room's frame in hand: one for every recipient of a
    broadcast (kept with the lines made of that frame).
    """
    key = ("msgid",)
    made = factory.lines.get(key)
    if made is None:
        made = factory.lines[key] = [factory.directory.msgids.next().encode()]
    return made[0].decode()


def withMessageTags(
    connection: IRCConnection, tags: dict[str, str], record: Said | None
) -> dict[str, str]:
    """
    C{tags} (server-time, account) with the msgid and the client-only tags
    of a message, for a recipient that negotiated message-tags.
    """
    if "message-tags" not in connection.caps:
        return tags
    msgid = record.msgid if record is not None else frameMsgid(connection.factory)
    return {**tags, "msgid": msgid, **(record.tags if record is not None else {})}
