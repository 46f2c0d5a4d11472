"""
Presence: who is in the room, which names are held by logins under way, and
sending one frame to everyone present.

The room reaches all of it through L{IRoster} only, so that presence shared
between several nodes can replace L{Roster}, the in-process one, later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zope.interface import Interface, implementer

from chatroom import names

if TYPE_CHECKING:
    from chatroom.pipeline import Session


class IRoster(Interface):
    """
    Who is online and which names are taken, for one room.

    Names are held by their key (L{chatroom.names.key}), taken from
    C{session.nameKey}: this is the one place that decides which keys a
    session holds.
    """

    def holder(nameKey: str) -> Session | None:
        """
        The session present with, or logging in with, C{nameKey}.
        """

    def reserve(session: Session) -> None:
        """
        Hold C{session.nameKey} for a login under way.
        """

    def release(session: Session) -> None:
        """
        Give back what C{session} reserved, if it still holds it.
        """

    def enter(session: Session) -> None:
        """
        C{session} logged in (its reservation already given back): present.
        """

    def leave(session: Session) -> None:
        """
        C{session}, present, left.
        """

    def find(nameKey: str) -> Session | None:
        """
        The session present with C{nameKey}.
        """

    def present() -> list[Session]:
        """
        Every session present, sorted case-insensitively by name.
        """

    def broadcast(frame: bytes, sender: Session | None) -> int:
        """
        Send C{frame}, encoded once, to everyone present but C{sender};
        returns how many got it.
        """


@implementer(IRoster)
class Roster:
    """
    Presence in this process.

    @ivar online: present sessions by name key.
    @ivar reserved: sessions between C{LOGIN} and the end of their login, by
        the key of the name they asked for, so nobody else can take it.
    """

    def __init__(self) -> None:
        self.online: dict[str, Session] = {}
        self.reserved: dict[str, Session] = {}

    def holder(self, nameKey: str) -> Session | None:
        return self.online.get(nameKey) or self.reserved.get(nameKey)

    def reserve(self, session: Session) -> None:
        assert session.nameKey is not None
        self.reserved[session.nameKey] = session

    def release(self, session: Session) -> None:
        if session.nameKey is not None and self.reserved.get(session.nameKey) is session:
            del self.reserved[session.nameKey]

    def enter(self, session: Session) -> None:
        assert session.nameKey is not None
        self.online[session.nameKey] = session

    def leave(self, session: Session) -> None:
        assert session.nameKey is not None
        del self.online[session.nameKey]

    def find(self, nameKey: str) -> Session | None:
        return self.online.get(nameKey)

    def present(self) -> list[Session]:
        return sorted(
            self.online.values(),
            key=lambda s: (names.caseless(s.name or ""), f"{s.name}:{s.channel.transportName}"),
        )

    def broadcast(self, frame: bytes, sender: Session | None) -> int:
        # The hot path of a public message: no more than a loop of sends.
        count = 0
        for session in self.online.values():
            if session is not sender:
                session.channel.send(frame)
                count += 1
        return count
