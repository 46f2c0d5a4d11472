"""
Every default of the server, written once: the room's limits as one frozen
value (L{RoomLimits}), and the defaults of the doors, the cluster and the
store as plain numbers.

This module imports nothing but the standard library (and
L{chatroom.plaintext}, which imports nothing else either), so that parsing the
command line (L{chatroom.options}) shows and checks the defaults without
loading the reactor, the room or the doors; the modules that use a default
import it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatroom.plaintext import PlaintextLogins

#: Output that may wait for a stream client (TCP, WebSocket) that stopped
#: reading, beyond what the transport buffers itself, before it is dropped.
SENDQ = 1024 * 1024

#: Seconds of silence after which a proven UDP session is over (the
#: protocol's 60 s; C{--udp-timeout} changes it).
IDLE_TIMEOUT = 60.0

#: Seconds after which a node (several nodes, through Redis) that stopped
#: beating is declared dead.
NODE_TIMEOUT = 10.0

#: Seconds a database call may wait for a lock another program holds (a
#: backup, the sqlite3 shell), counted from when the call was made, before
#: it fails with L{chatroom.store.Unavailable}: well inside the 30 s a
#: client has to log in.
BUSY_TIMEOUT = 5.0

#: Public messages kept, by default.
HISTORY = 100

#: Direct messages kept for one offline user, at most.
INBOX = 100

#: Days a direct message is kept for an offline user.
INBOX_DAYS = 30.0

#: An inbox longer than this pauses reading from the client until it drains
#: to half of it, so a client pipelining behind a slow password check
#: cannot grow memory.
INBOX_HIGH = 64

#: Seconds of refused frames before a session is dropped.
FLOOD_LIMIT = 10.0

#: Wrong passwords for an existing account that end a session.
MAX_WRONG_PASSWORDS = 3


@dataclass(frozen=True, slots=True)
class RoomLimits:
    """
    The room's limits and capacities, built once from the options
    (L{chatroom.options.Options.roomLimits}); tests make others with
    L{dataclasses.replace}.
    """

    #: Most sessions at once; more are refused with C{ERR FULL}.
    maxClients: int = 1000
    #: Seconds a new session has to finish logging in.
    loginTimeout: float = 30.0
    #: Frames a second a session may send on average (0: no limit)...
    msgRate: float = 20.0
    #: ...and at once.
    msgBurst: int = 40
    #: Seconds of refused frames before a session is dropped.
    floodLimit: float = FLOOD_LIMIT
    #: Frames queued before reading from the client pauses.
    inboxHigh: int = INBOX_HIGH
    # From one address: a classroom or office behind one NAT (40 people, some
    # with two clients, all registering at the start of the lesson) fits, but
    # one address cannot hold more than a few percent of the default 1000
    # sessions, nor register accounts by the thousand.
    #: Sessions at once from one address (0: no limit).
    maxPerHost: int = 64
    #: New accounts an hour from one address (0: no limit); beyond it, new
    #: names get C{ERR RATE}.
    maxRegistrations: int = 60
    #: Wrong passwords a minute from one address before its logins are
    #: refused for the rest of that minute (0: no limit).
    loginFailures: int = 20
    #: Wrong passwords for an existing account that end the session.
    maxWrongPasswords: int = MAX_WRONG_PASSWORDS
    #: Public messages kept for C{C HISTORY} (0: none).
    history: int = HISTORY
    #: Direct messages kept per offline user (0: none are kept)...
    inbox: int = INBOX
    #: ...for this many days.
    inboxDays: float = INBOX_DAYS
    #: Where a password may arrive in clear (PROTOCOL.md section 13).
    plaintextLogins: PlaintextLogins = PlaintextLogins.ANYWHERE
