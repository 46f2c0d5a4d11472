"""
The IRC listener's factory: one L{IRCConnection} per client, all into one
room, on one channel; and what they share (the flusher, the directory of
this listener's IRC users, the frame decoded last and the lines made of it).
"""

from __future__ import annotations

import socket

from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.internet.protocol import Factory
from twisted.logger import Logger

from chatroom import codec
from chatroom.codec import Frame, FrameError
from chatroom.irc.directory import Directory
from chatroom.irc.door import IRCConnection, asLine
from chatroom.output import Flusher
from chatroom.pipeline import IDoorway
from chatroom.settings import SENDQ


class IRCFactory(Factory):
    """
    Makes an L{IRCConnection} for each client, all into one room, all on
    one channel.
    """

    def __init__(
        self,
        doorway: IDoorway,
        clock: IReactorTime,
        channel: str = "#chatroom",
        serverName: str | None = None,
        network: str = "chatroom",
        sendq: int = SENDQ,
        accounts: bool = True,
    ) -> None:
        self.doorway = doorway
        self.clock = clock
        self.log = Logger()
        self.channel = channel
        self.serverName = serverName or socket.gethostname()
        self.network = network
        self.sendq = sendq
        #: Whether users log in to accounts (not C{--no-accounts}): only then
        #: do C{WHOIS} (C{330}) and C{account-tag} name an account.
        self.accounts = accounts
        self.flusher = Flusher(clock, encode=asLine)
        self.directory = Directory()
        self.created = clock.seconds()
        self._raw: bytes | None = None
        self._frame: Frame | None = None
        #: The lines made of the frame decoded last, by what differs between
        #: recipients (their tags, the command): made once for a broadcast.
        self.lines: dict[tuple[object, ...], list[bytes]] = {}

    def now(self) -> str:
        """
        The time of the frame in hand, as C{server-time} says it: one for
        every recipient of a broadcast.
        """
        key = ("time",)
        made = self.lines.get(key)
        if made is None:
            from chatroom.irc.mapping import stamp

            made = self.lines[key] = [stamp(self.clock.seconds()).encode()]
        return made[0].decode()

    def decoded(self, raw: bytes) -> Frame | None:
        """
        The room's frame C{raw}, decoded once for a run of recipients (a
        broadcast hands the same bytes to each session in turn).
        """
        if raw is not self._raw:
            self._raw = raw
            self.lines.clear()
            try:
                self._frame = codec.decode(raw, codec.MAX_SERVER_FRAME)
            except FrameError:
                self._frame = None
        return self._frame

    def buildProtocol(self, addr: IAddress | None) -> IRCConnection:  # type: ignore[override]
        protocol = IRCConnection()
        protocol.factory = self
        return protocol
