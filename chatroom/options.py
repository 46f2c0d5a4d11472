"""
The options of C{twistd chatroom} (and C{chatserver}): each one's default,
and its check (the checks themselves are L{chatroom.optionchecks}).

Checking options looks at nothing but the words given; what they name is
looked at in L{chatroom.database} and L{chatroom.tap}, and nothing is built
here.
"""

from __future__ import annotations

import ipaddress
import os
import site
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from twisted.internet.endpoints import quoteStringArgument
from twisted.python import usage

from chatroom import __version__, configfile
from chatroom.database import isURL
from chatroom.optionchecks import atLeastZero, checkCluster, checkIRCChannel, port, positive, where
from chatroom.settings import (
    BUSY_TIMEOUT,
    IDLE_TIMEOUT,
    NODE_TIMEOUT,
    SENDQ,
    RoomLimits,
)

#: The room's defaults, shown by --help.
_ROOM = RoomLimits()

#: The options that set the room's limits, and the field of L{RoomLimits}
#: each one sets.
ROOM_LIMITS = {
    "max-clients": "maxClients",
    "login-timeout": "loginTimeout",
    "msg-rate": "msgRate",
    "msg-burst": "msgBurst",
    "max-per-ip": "maxPerHost",
    "login-failures": "loginFailures",
    "max-registrations": "maxRegistrations",
    "history": "history",
    "inbox": "inbox",
    "inbox-days": "inboxDays",
    "plaintext-logins": "plaintextLogins",
}


def protocolDocument() -> str:
    """
    Where this chatroom's protocol document is: the checkout's C{docs/protocol.rst} when
    running from one, else the copy the install put in C{share/doc/chatroom} (setup.cfg's
    data_files) under the environment's prefix, or the user's with C{pip install --user}.
    """
    source = Path(__file__).resolve().parent.parent
    candidates = [source / "docs" / "protocol.rst"] if (source / "setup.cfg").is_file() else []
    for prefix in (sys.prefix, site.getuserbase()):
        candidates.append(Path(prefix) / "share" / "doc" / "chatroom" / "protocol.rst")
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    return "docs/protocol.rst in chatroom's source"


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = (
        "Runs a chat room. Users connect with `chatclient HOST PORT NAME` "
        "(or by hand: `nc HOST PORT`), log in with a name and a password "
        "(new names are registered at their first login), then send public "
        f"(PM) and direct (DM) messages. The protocol is in {protocolDocument()}."
    )

    optParameters: ClassVar[list[list[Any]]] = [
        ["port", "p", 9000, "Port to listen on, for TCP and UDP alike.", port],
        ["udp-port", None, None, "Port for UDP, when it should differ from --port.", port],
        [
            "udp-timeout",
            None,
            IDLE_TIMEOUT,
            "Seconds of silence after which a UDP session is over.",
            positive(float),
        ],
        [
            "interface",
            "i",
            None,
            "Address to listen on (default: every IPv4 interface; '::' adds IPv6).",
        ],
        [
            "tcp",
            None,
            None,
            (
                "Endpoint description that replaces the TCP listener, "
                "e.g. ssl:9443:privateKey=key.pem:certKey=cert.pem for TLS."
            ),
        ],
        [
            "dtls",
            None,
            None,
            (
                "Also serve UDP inside DTLS: PORT:privateKey=KEY:certKey=CERT[:interface=ADDR]"
                " (the files a TLS --tcp takes; interface defaults to --interface)."
            ),
        ],
        [
            "web",
            None,
            None,
            (
                "Endpoint description for the web page and its WebSocket (default: "
                "tcp:8080 on --interface, any free port when --port is 0), "
                "e.g. ssl:8443:privateKey=key.pem:certKey=cert.pem for https and wss."
            ),
        ],
        [
            "db",
            None,
            "chatroom.sqlite",
            "SQLite file, or postgresql:// URL, that keeps accounts, history and stored messages.",
        ],
        [
            "db-timeout",
            None,
            BUSY_TIMEOUT,
            (
                "Seconds an account change may wait for another program's lock on --db;"
                " then the client gets ERR UNAVAILABLE."
            ),
            positive(float),
        ],
        [
            "history",
            None,
            _ROOM.history,
            "Public messages kept (in --db) for C HISTORY.",
            atLeastZero(int),
        ],
        [
            "inbox",
            None,
            _ROOM.inbox,
            "Direct messages kept per offline user; more get ERR INBOX_FULL.",
            atLeastZero(int),
        ],
        [
            "inbox-days",
            None,
            _ROOM.inboxDays,
            "Days a direct message is kept for an offline user, then deleted.",
            positive(float),
        ],
        [
            "msg-rate",
            None,
            _ROOM.msgRate,
            "Frames a second each session may send on average; more get ERR RATE.",
            atLeastZero(float),
        ],
        [
            "msg-burst",
            None,
            _ROOM.msgBurst,
            "Frames each session may send at once before --msg-rate applies.",
            positive(int),
        ],
        [
            "sendq",
            None,
            SENDQ,
            "Bytes that may wait for a TCP client that stopped reading before it is dropped.",
            atLeastZero(int),
        ],
        [
            "max-per-ip",
            None,
            _ROOM.maxPerHost,
            "Sessions at once from one address; more get ERR FULL.",
            atLeastZero(int),
        ],
        [
            "login-failures",
            None,
            _ROOM.loginFailures,
            "Wrong passwords a minute from one address before its logins get ERR RATE.",
            atLeastZero(int),
        ],
        [
            "max-registrations",
            None,
            _ROOM.maxRegistrations,
            "New accounts an hour from one address; more get ERR RATE.",
            atLeastZero(int),
        ],
        [
            "plaintext-logins",
            None,
            _ROOM.plaintextLogins,
            (
                "Where a password may arrive in clear (plain TCP, UDP, ws): anywhere,"
                " loopback (127.0.0.0/8 and ::1 only) or nowhere; elsewhere C LOGIN"
                " gets ERR INSECURE, so passwords travel only inside TLS, DTLS or wss."
            ),
            where,
        ],
        [
            "login-timeout",
            None,
            _ROOM.loginTimeout,
            "Seconds a new session has to finish logging in.",
            positive(float),
        ],
        [
            "redis",
            None,
            None,
            (
                "redis://host:port URL, or sentinel://host:port[,host:port...]/master"
                " (Redis Sentinel, which follows a failover): join the nodes sharing"
                " that Redis in one room"
                " (needs --db postgresql://...)."
            ),
        ],
        [
            "node-timeout",
            None,
            NODE_TIMEOUT,
            "With --redis: seconds after which the others announce a silent node's users gone.",
            positive(float),
        ],
        [
            "max-clients",
            None,
            _ROOM.maxClients,
            "Most sessions at once; more are refused with ERR FULL.",
            positive(int),
        ],
        [
            "metrics",
            None,
            None,
            (
                "Endpoint description for /metrics (Prometheus), /livez and /readyz over HTTP,"
                " e.g. tcp:9100:interface=127.0.0.1 (default: none)."
            ),
        ],
        [
            "irc",
            None,
            None,
            (
                "Endpoint description for the IRC listener (default: none),"
                " e.g. tcp:6667 or ssl:6697:privateKey=key.pem:certKey=cert.pem."
            ),
        ],
        ["irc-channel", None, "#chatroom", "The IRC channel that is the room."],
        [
            "irc-server-name",
            None,
            None,
            "The name the IRC listener gives itself (default: the host name).",
        ],
        [
            "config",
            None,
            None,
            "TOML file of options (keys: the long names); the command line wins over it.",
        ],
    ]

    optFlags: ClassVar[list[list[Any]]] = [
        ["no-accounts", None, "No passwords: LOGIN alone enters the room."],
        ["no-udp", None, "Do not serve UDP."],
        ["no-web", None, "Do not serve the web page and its WebSocket."],
        ["no-irc", None, "Do not serve IRC, even if --irc (or the config file) asks."],
    ]

    #: The web page's port when --port is not 0.
    webPort = 8080

    def __init__(self) -> None:
        super().__init__()
        self["web-origin"] = []
        # An opt_ method's help is its docstring, indentation and all: one line of words.
        self.docs = {name: " ".join(doc.split()) if doc else doc for name, doc in self.docs.items()}

    def opt_version(self) -> None:
        """
        Display chatroom's version (and Twisted's) and exit.
        """
        from twisted import copyright

        print(f"chatroom {__version__} (Twisted {copyright.version})")
        sys.exit(0)

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        """
        Parse C{options}, after the settings of the file C{--config} names:
        a mistake in that file stops here, in one line, with exit status 1.
        So does a mistake in the options when twistd parses them (as its
        subcommand, with a C{parent}); otherwise it raises L{usage.UsageError}.
        """
        args = sys.argv[1:] if options is None else options
        parameters = {row[0]: (row[4] if len(row) > 4 else None) for row in self.optParameters}
        parameters.pop("config")
        flags = frozenset(row[0] for row in self.optFlags)
        try:
            words = configfile.withConfig(args, parameters, flags)
        except configfile.ConfigError as e:
            sys.stderr.write(f"{os.path.basename(sys.argv[0])}: {e}\n")
            raise SystemExit(1) from None
        if getattr(self, "parent", None) is None:
            super().parseOptions(words)
            return
        # Under twistd (or twist), whose own handling prints the whole usage before the
        # reason: the reason, and where the usage is.
        try:
            super().parseOptions(words)
        except usage.UsageError as e:
            runner = os.path.basename(sys.argv[0])
            sys.stderr.write(
                f"{runner} chatroom: {e}\nUsage: {runner} [options] chatroom [options]"
                f" ({runner} chatroom --help lists them)\n"
            )
            raise SystemExit(1) from None

    def opt_web_origin(self, origin: str) -> None:
        """
        Another origin (such as https://chat.example.org) whose pages may
        use the WebSocket; repeat for more. The server's own page always may.
        """
        if not origin.startswith(("http://", "https://")) or " " in origin:
            raise usage.UsageError(
                f"--web-origin {origin!r} is not an origin (such as https://chat.example.org)"
            )
        self["web-origin"].append(origin)

    def postOptions(self) -> None:
        if self["interface"] is None:
            self["interface"] = ""  # every IPv4 interface, as Twisted spells it
        interface = self["interface"]
        if interface:
            try:
                ipaddress.ip_address(interface)
            except ValueError:
                raise usage.UsageError(
                    f"--interface {interface!r} is not an IP address (such as 127.0.0.1 or ::)"
                ) from None
        if self["dtls"] is not None:
            from chatroom.dtls.context import parseDTLS

            try:
                self["dtls"] = parseDTLS(self["dtls"])
            except ValueError as e:
                raise usage.UsageError(f"--dtls: {e}") from None
        checkIRCChannel(self["irc-channel"])
        if self["redis"] is not None:
            checkCluster(self["redis"], self["db"], self["no-accounts"])
        if self["db"] != ":memory:" and not isURL(self["db"]):
            # twistd --rundir changes directory after this: the file is
            # where the operator was when they named it, and only there.
            self["db"] = os.path.abspath(self["db"])

    def roomLimits(self) -> RoomLimits:
        """
        The room's limits, as the options set them.
        """
        return RoomLimits(**{field: self[option] for option, field in ROOM_LIMITS.items()})

    def tcpDescription(self) -> str:
        """
        The endpoint description the TCP listener uses.
        """
        if self["tcp"]:
            return self["tcp"]
        description = f"tcp:{self['port']}"
        if self["interface"]:
            description += f":interface={quoteStringArgument(self['interface'])}"
        return description

    def ircDescription(self) -> str | None:
        """
        The endpoint description the IRC listener uses, or L{None} for none:
        IRC is off unless C{--irc} is given (see README).
        """
        if self["no-irc"] or not self["irc"]:
            return None
        return str(self["irc"])

    def webDescription(self) -> str | None:
        """
        The endpoint description the web listener uses, or L{None} for none.

        A server told to take any free port (C{--port 0}, as tests and tools
        do) takes any free one for the page too, so such servers never
        contend for 8080.
        """
        if self["no-web"]:
            return None
        if self["web"]:
            return self["web"]
        description = f"tcp:{self.webPort if self['port'] else 0}"
        if self["interface"]:
            description += f":interface={quoteStringArgument(self['interface'])}"
        return description
