"""
What every part of the client's conversation shares: where it is, what it
holds, and the view it talks through.

The conversation (L{chatroom.client.machine.ClientMachine}) is one state
machine, but its jobs (logging in, arriving, sending, coming back after a
lost session) are written in modules of their own, as mixins of
L{Conversation}. This base class holds the state they share, so each
module reads on its own and a type checker sees every attribute.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chatroom.client.catchup import Said
from chatroom.client.style import Painter, plain
from chatroom.client.text import _
from chatroom.codec import Err

#: Answers to the operation prompt that leave, besides EX (any case).
LEAVE_WORDS = frozenset({"ex", "exit", "quit", "goodbye", "görüşürüz", "!q"})

# Where the conversation is.
CONNECTING = "CONNECTING"  # waiting for the transport
LOGGING_IN = "LOGGING_IN"  # LOGIN sent, waiting for PASSWORD or WELCOME
PASSWORD = "PASSWORD"  # asking the user for the password
PASSWORD_AGAIN = "PASSWORD_AGAIN"  # asking for a new password a second time
PASS_SENT = "PASS_SENT"  # waiting for WELCOME
NAMING = "NAMING"  # asking the user for another name
REPLACING = "REPLACING"  # asking whether to end the user's other session (GHOST)
ARRIVING = "ARRIVING"  # welcomed; who is online and the history asked for
OPERATION = "OPERATION"  # asking "Operation [PM/DM/EX]"
OFFERING = "OFFERING"  # asking whether text typed there goes to everyone
WAIT_WHO = "WAIT_WHO"  # C WHO sent
WAIT_ACK = "WAIT_ACK"  # C PM sent
PM_TEXT = "PM_TEXT"  # asking for the public message
WAIT_USERS = "WAIT_USERS"  # C DM sent
DM_TARGET = "DM_TARGET"  # asking whom to write to
DM_TEXT = "DM_TEXT"  # asking for the direct message
WAIT_OK = "WAIT_OK"  # a D frame sent, waiting for OK or an error
WAIT_MOD = "WAIT_MOD"  # a moderation verb sent (1.2), waiting for OK or an error
WAIT_BANS = "WAIT_BANS"  # C BANS sent, waiting for the list
WAIT_PASSWD = "WAIT_PASSWD"  # C PASSWD or its C PASS sent, waiting for the next step
PASSWD_OLD = "PASSWD_OLD"  # asking for the current password, to change it
PASSWD_NEW = "PASSWD_NEW"  # asking for the new password
PASSWD_REPEAT = "PASSWD_REPEAT"  # asking for the new password a second time
LEAVING = "LEAVING"  # C EX sent
DONE = "DONE"

#: Prompts of a login in progress: the server's login deadline may pass there.
LOGIN_PROMPTS = (PASSWORD, PASSWORD_AGAIN, NAMING, REPLACING)

#: Questions about one operation, which Ctrl-C cancels.
OPERATION_PROMPTS = (PM_TEXT, DM_TARGET, DM_TEXT, OFFERING)

#: Waiting for the server's answer to an operation.
WAITING = (WAIT_ACK, WAIT_USERS, WAIT_OK, WAIT_WHO)

#: Changing the password once logged in: the prompts, which Ctrl-C cancels.
PASSWD_PROMPTS = (PASSWD_OLD, PASSWD_NEW, PASSWD_REPEAT)

#: Moderation and password changes under way (L{chatroom.client.moderation},
#: L{chatroom.client.passwd}): their refusals are theirs to explain.
MODERATING = (WAIT_MOD, WAIT_BANS, WAIT_PASSWD, *PASSWD_PROMPTS)


class ClientView(Protocol):
    """
    Everything the machine asks of the world around it.
    """

    def send(self, frame: str) -> None:
        """Send one frame to the server."""

    def show(self, text: str) -> None:
        """Print a line for the user (above any prompt being typed at)."""

    def ask(self, prompt: str, secret: bool = False, default: str = "") -> None:
        """
        Prompt the user; the answer comes back through L{answer}. C{default}
        is text already on the line for the user to edit (a message that
        was refused, kept); a pipe ignores it.
        """

    def reconnect(self) -> None:
        """Open a new session with the server; L{connected} follows."""

    def away(self, why: str) -> None:
        """
        The session was lost (or an attempt to come back failed): try again
        later (only asked of a machine that L{Conversation.comesBack}).
        """

    def back(self) -> None:
        """Logged in again after L{away}."""

    def finish(self, status: int) -> None:
        """The conversation is over; exit with C{status}."""


def localNow() -> datetime:
    """
    The time here, with its zone: what every shown time is converted to.
    """
    return datetime.now().astimezone()


class Conversation:
    """
    The state every job of the conversation reads and writes.

    @ivar name: the name we log in with (the server's spelling once welcomed).
    @ivar transport: C{"TCP"} or C{"UDP"}.
    @ivar offerGhost: when the name is taken, ask whether to end the user's
        own other session (at a terminal); otherwise, ask for another name
        as version 1 clients did, where C{!ghost} asks for it instead.
    @ivar terminal: a person types the answers: new passwords are asked
        twice, text typed at the operation prompt is offered as a public
        message, and a message refused before sending is put back on the
        line for editing. Piped input keeps the version 1 dialogue, since
        scripts depend on it.
    @ivar comesBack: after a lost session, log in again (with the password
        held in memory) instead of ending (L{chatroom.client.away}).
    @ivar clock: the time now, in the zone times are shown in.
    @ivar paint: colours a piece of text by what it is (L{style}).
    """

    def __init__(
        self,
        view: ClientView,
        name: str,
        transport: str,
        offerGhost: bool = False,
        terminal: bool = False,
        clock: Callable[[], datetime] = localNow,
        paint: Painter = plain,
    ) -> None:
        self.view = view
        self.name = name
        self.transport = transport
        self.offerGhost = offerGhost
        self.terminal = terminal
        self.clock = clock
        self.paint = paint
        self.comesBack = False
        self.state = CONNECTING
        self.welcomed = False
        self.sessionAlive = False
        # Logging in (login.py).
        self._password: str | None = None  # kept only to log in again
        self._newAccount = False
        self._ghost = False  # logging in with GHOST: the user asked to replace
        self._firstPassword: str | None = None  # a new password, until typed again
        self._lastError: Err | None = None  # the code of the last frame, if it was C ERR
        # Operations and sending (machine.py, outbox.py).
        self._target = ""
        self._users: list[str] = []  # entries of a C USERS list still arriving
        # Messages still to send, in order: (target or None for everyone, text).
        self._outbox: deque[tuple[str | None, str]] = deque()
        self._text: str | None = None  # the message being sent, echoed once sent
        self._awaiting: str | None = None  # "PM"/"DM": the server waits for our D frame
        self._offered: list[str] = []  # text typed at the operation prompt, offered
        self._offerYes = True  # Enter sends what is offered (not when it looks like a command)
        # Moderation and password changes (moderation.py, passwd.py).
        self.staff = False  # a moderator or admin, as the server last said (1.2)
        self._bans: list[str] = []  # lines of a C BANS answer still arriving
        self._bansLeft = 0  # D BAN frames still to come
        self._newPassword: str | None = None  # typed once, or sent and not yet confirmed
        # Arriving (arrival.py).
        self._arrival: deque[str] = deque()  # answers awaited on arrival: WHO, HISTORY
        self._held: list[tuple[str, Said | None]] = []  # lines held until arrival is shown
        self._historyLeft = 0  # D HISTORY frames still to come
        self._history: list[Said] = []  # this arrival's history, shown once complete
        self._seen: list[Said] = []  # the last public messages shown (catchup.REMEMBERED)
        # Coming back (away.py).
        self.away = False  # welcomed once, then lost: coming back
        self._resumeAt = OPERATION  # the prompt showing while away
        self._lostAt = 0.0  # when the session was lost (seconds since the epoch)

    # Shared by every job.

    def _stamp(self, text: str, when: datetime | None = None) -> str:
        """
        C{text} after the local time C{HH:MM} (with the date when it was
        not today), so every message and notice says when.
        """
        now = self.clock()
        when = now if when is None else when.astimezone(now.tzinfo)
        shown = when.strftime("%H:%M" if when.date() == now.date() else "%Y-%m-%d %H:%M")
        return f"{self.paint('time', shown)} {text}"

    def _now(self) -> float:
        """
        The machine's clock as seconds since the epoch (for L{Said}).
        """
        return self.clock().timestamp()

    def _notice(self, text: str) -> None:
        """
        A line about the room (not a message), with the time.
        """
        self.view.show(self._stamp(self.paint("notice", text)))

    def _ask(self, prompt: str, default: str = "") -> None:
        if default:
            self.view.ask(prompt, default=default)
        else:
            self.view.ask(prompt)

    def _askOperation(self, default: str = "") -> None:
        self.state = OPERATION
        self._ask(_("Operation [PM/DM/EX]: "), default)

    def _finish(self, text: str, status: int) -> None:
        if self.state != DONE:
            self._release()
            self.state = DONE
            self.sessionAlive = False
            self.view.show(text)
            self.view.finish(status)

    # Each job's entry points that the others call (defined in its module).

    def _release(self) -> None:
        """Show the lines held during an arrival (L{chatroom.client.arrival})."""
        raise NotImplementedError

    def _live(self, line: str, said: Said | None = None) -> None:
        """Show what happens now, held during an arrival (L{chatroom.client.arrival})."""
        raise NotImplementedError

    def _historyEntry(self, when: datetime, sender: str, transport: str, text: str) -> None:
        """One C{D HISTORY} frame of the arrival (L{chatroom.client.arrival})."""
        raise NotImplementedError

    def _logIn(self) -> None:
        """Send C{C LOGIN} (L{chatroom.client.login})."""
        raise NotImplementedError

    def _arrive(self) -> None:
        """Ask who is here and what was said (L{chatroom.client.arrival})."""
        raise NotImplementedError

    def _cameBack(self) -> None:
        """Welcomed again after a lost session (L{chatroom.client.away})."""
        raise NotImplementedError

    def _resume(self) -> None:
        """Back at the prompt shown while away (L{chatroom.client.away})."""
        raise NotImplementedError

    def _keepForEditing(self, target: str | None, text: str) -> None:
        """Put a message that was not sent back to edit (L{chatroom.client.outbox})."""
        raise NotImplementedError

    def _notSent(self) -> None:
        """The message being sent was refused (L{chatroom.client.outbox})."""
        raise NotImplementedError

    def _leave(self) -> None:
        """Leave politely (L{chatroom.client.machine})."""
        raise NotImplementedError
