"""
Presence: who is in the room, which names are held by logins under way, and
sending one frame to everyone present.

The room reaches all of it through L{IRoster} only, so that presence shared
between several nodes (L{chatroom.cluster.roster.ClusterRoster}, on Redis)
can replace L{Roster}, the in-process one. What needs the other nodes may
answer with a Deferred there; L{Roster} answers at once, as it always did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zope.interface import Interface, implementer

from chatroom import codec, names

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from chatroom.history import Said
    from chatroom.pipeline import Session


class IRoster(Interface):
    """
    Who is online and which names are taken, for one room.

    Names are held by two keys: their look-alike key (L{chatroom.names.key}:
    given to L{reserve}, and C{session.lookalikeKey} once it is present) and
    the skeleton of their spelling as shown (L{chatroom.names.shownKey});
    this is the one place that decides which keys a session holds.
    """

    def holder(name: str, asking: Session | None) -> Session | None:
        """
        The session other than C{asking}, present or logging in, whose name
        is C{name} for uniqueness: the same key, or the same shown key.
        """

    def reserve(
        session: Session, name: str, lookalikeKey: str, ghost: bool = False
    ) -> Deferred[str | None] | None:
        """
        Hold C{name} (its C{lookalikeKey} and its shown key) for C{session}'s
        login under way (1.1: a C{GHOST} login holds it beside the present
        session it may replace; with C{ghost}, that session may be on
        another node, see L{claim}).

        L{None} when held at once; else a Deferred that fires with L{None}
        once held, or with the name, as shown, of whoever holds it on
        another node (then nothing is held), or fails with
        L{chatroom.store.Unavailable}.
        """

    def release(session: Session) -> None:
        """
        Give back what C{session} reserved, if it still holds it.
        """

    def claim(session: Session, name: str) -> Deferred[str | None] | None:
        """
        C{session}'s password was right for C{name} (as registered): before
        it enters as C{name}, end the session
        its C{GHOST} login replaces on another node (C{BYE REPLACED}
        there, C{LEAVE … REPLACED} to everyone) and take its name, at once.

        L{None} if there is nothing to end elsewhere; else a Deferred that
        fires with L{None} once the name is C{session}'s, or with the name,
        as shown, of whoever else holds it, or fails with
        L{chatroom.store.Unavailable}.
        """

    def enter(session: Session) -> None:
        """
        C{session} logged in (its reservation already given back): present,
        by its C{name} and C{lookalikeKey}.
        """

    def leave(session: Session) -> None:
        """
        C{session}, present, left.
        """

    def find(lookalikeKey: str) -> Session | None:
        """
        The session present with C{lookalikeKey}.
        """

    def present() -> list[Session]:
        """
        Every session present, sorted case-insensitively by name.
        """

    def entries() -> list[str] | Deferred[list[str]]:
        """
        C{name:transport} of everyone present, sorted as L{present}.
        """

    def broadcast(frame: bytes, sender: Session | None) -> int:
        """
        Send C{frame}, encoded once, to everyone present but C{sender};
        returns how many got it.
        """

    def say(frame: bytes, sender: Session, said: Said) -> int | Deferred[int]:
        """
        L{broadcast} a public message (C{said}, for other nodes' history);
        how many got it, or a Deferred of that (failing with
        L{chatroom.store.Unavailable} if it reached nobody).
        """

    def elsewhere(lookalikeKey: str, frame: bytes) -> Deferred[str | None] | None:
        """
        Hand a direct message to C{lookalikeKey}, not present here, on another
        node: a Deferred of their name once they have it (L{None}: nobody
        has it); L{None} if there are no other nodes.
        """

    def expel(lookalikeKey: str, name: str, reason: str) -> None:
        """
        End the session of the account C{name} (present as C{lookalikeKey}), on
        whichever node it is (1.2: C{KICKED}, C{BANNED}): it gets C{C BYE <reason>},
        everyone else C{C LEAVE <name> <transport> <reason>}. Nothing if absent.
        """


@implementer(IRoster)
class Roster:
    """
    Presence in this process.

    @ivar online: present sessions by look-alike key.
    @ivar reserved: sessions between C{LOGIN} and the end of their login, by
        the key of the name they asked for, so nobody else can take it.
    @ivar shown: the sessions of both, by the shown key of their name: a name
        whose key is free is still taken if it looks like one of these on
        screen (C{aIice} beside C{alice}).
    """

    def __init__(self) -> None:
        self.online: dict[str, Session] = {}
        self.reserved: dict[str, Session] = {}
        self.shown: dict[str, Session] = {}
        # The name and look-alike key each login under way reserved.
        self._reserving: dict[Session, tuple[str, str]] = {}
        # The shown key each session holds: its name may change spelling
        # between LOGIN and WELCOME (typed alice, registered as Alice).
        self._shownBy: dict[Session, str] = {}

    def holder(self, name: str, asking: Session | None) -> Session | None:
        lookalikeKey = names.key(name)
        for session in (
            self.online.get(lookalikeKey),
            self.reserved.get(lookalikeKey),
            self.shown.get(names.shownKey(name)),
        ):
            if session is not None and session is not asking:
                return session
        return None

    def reserve(self, session: Session, name: str, lookalikeKey: str, ghost: bool = False) -> None:
        self.reserved[lookalikeKey] = session
        self._reserving[session] = (name, lookalikeKey)
        self._show(session, name, lookalikeKey)
        return None

    def reservation(self, session: Session) -> tuple[str, str] | None:
        """
        The name and look-alike key C{session} reserved, if it still holds them.
        """
        held = self._reserving.get(session)
        if held is None or self.reserved.get(held[1]) is not session:
            return None
        return held

    def release(self, session: Session) -> None:
        held = self._reserving.pop(session, None)
        if held is not None and self.reserved.get(held[1]) is session:
            del self.reserved[held[1]]
        self._unshow(session)

    def claim(self, session: Session, name: str) -> None:
        return None  # one process: GHOST replaces in the room (Room.replace)

    def enter(self, session: Session) -> None:
        assert session.name is not None and session.lookalikeKey is not None
        self.online[session.lookalikeKey] = session
        self._show(session, session.name, session.lookalikeKey)

    def leave(self, session: Session) -> None:
        assert session.lookalikeKey is not None
        del self.online[session.lookalikeKey]
        self._unshow(session)

    def _show(self, session: Session, name: str, lookalikeKey: str) -> None:
        self._unshow(session)
        shownKey = names.shownKey(name)
        if shownKey == lookalikeKey:
            shownKey = lookalikeKey  # most names: one string kept, not two
        # A GHOST login reserves the name its own older session still
        # shows: that one keeps the shown key until it is replaced.
        if self.shown.setdefault(shownKey, session) is session:
            self._shownBy[session] = shownKey

    def _unshow(self, session: Session) -> None:
        shownKey = self._shownBy.pop(session, None)
        if shownKey is not None and self.shown.get(shownKey) is session:
            del self.shown[shownKey]

    def find(self, lookalikeKey: str) -> Session | None:
        return self.online.get(lookalikeKey)

    def present(self) -> list[Session]:
        return sorted(
            self.online.values(),
            key=lambda s: (names.caseless(s.name or ""), f"{s.name}:{s.channel.transportName}"),
        )

    def entries(self) -> list[str]:
        return [f"{s.name}:{s.channel.transportName}" for s in self.present()]

    def say(self, frame: bytes, sender: Session, said: Said) -> int:
        return self.broadcast(frame, sender)

    def elsewhere(self, lookalikeKey: str, frame: bytes) -> None:
        return None

    def expel(self, lookalikeKey: str, name: str, reason: str) -> None:
        session = self.online.get(lookalikeKey)
        # The same account, not a look-alike made before 1.1 that holds the key.
        if session is not None and names.caseless(session.name or "") == names.caseless(name):
            session.close(codec.command("BYE", reason), reason)

    def broadcast(self, frame: bytes, sender: Session | None) -> int:
        # The hot path of a public message: no more than a loop of sends.
        count = 0
        for session in self.online.values():
            if session is not sender:
                session.channel.send(frame)
                count += 1
        return count
