"""
C{twistd chatroom}: the server's options and how they build the service.

Options are checked and files looked at here, but nothing is created or
bound: L{buildService} wires the store, the room and the listeners into a
L{ServerService} that does that when it starts.
"""

from __future__ import annotations

import ipaddress
import os
import sqlite3
from dataclasses import replace
from typing import Any, ClassVar

from twisted.internet.endpoints import quoteStringArgument, serverFromString
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.python import usage

from chatroom.accounts import Accounts, AccountStoreService, HashingPool
from chatroom.cluster import NODE_TIMEOUT
from chatroom.heap import HeapTrimmer, libcTrim
from chatroom.history import HISTORY
from chatroom.inbox import INBOX, INBOX_DAYS
from chatroom.listeners import ListenerService, UDPListenerService
from chatroom.migrations import DatabaseError
from chatroom.passwords import Passwords
from chatroom.room import (
    LOGIN_FAILURES,
    LOGIN_TIMEOUT,
    MAX_CLIENTS,
    MAX_PER_HOST,
    MAX_REGISTRATIONS,
    MSG_BURST,
    MSG_RATE,
    Room,
)
from chatroom.sqlitestore import AccountStore, openDatabase
from chatroom.startup import ServerService, StartupError, reportStartupErrors
from chatroom.store import BUSY_TIMEOUT, Store
from chatroom.tcp import SENDQ, ChatFactory
from chatroom.udp import ChatDatagramProtocol, UDPTimings
from chatroom.udp.timings import IDLE_TIMEOUT
from chatroom.web import webSite


def _positive(kind: type) -> Any:
    def check(value: str) -> Any:
        number = kind(value)
        if number <= 0:
            raise ValueError(f"{value} is not above zero")
        return number

    check.coerceDoc = "Must be above zero."  # type: ignore[attr-defined]
    return check


def _atLeastZero(kind: type) -> Any:
    def check(value: str) -> Any:
        number = kind(value)
        if number < 0:
            raise ValueError(f"{value} is below zero")
        return number

    check.coerceDoc = "0 turns it off."  # type: ignore[attr-defined]
    return check


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit() and 0 <= int(value) <= 65535):
        raise ValueError(f"{value!r} is not a port: give a number from 0 to 65535 (0: any free)")
    return int(value)


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = (
        "Runs a chat room. Users connect with `chatclient HOST PORT NAME` "
        "(or by hand: `nc HOST PORT`), log in with a name and a password "
        "(new names are registered at their first login), then send public "
        "(PM) and direct (DM) messages. The protocol is in docs/protocol.rst."
    )

    optParameters: ClassVar[list[list[Any]]] = [
        ["port", "p", 9000, "Port to listen on, for TCP and UDP alike.", _port],
        ["udp-port", None, None, "Port for UDP, when it should differ from --port.", _port],
        [
            "udp-timeout",
            None,
            IDLE_TIMEOUT,
            "Seconds of silence after which a UDP session is over.",
            _positive(float),
        ],
        [
            "interface",
            "i",
            "",
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
            _positive(float),
        ],
        [
            "history",
            None,
            HISTORY,
            "Public messages kept (in --db) for C HISTORY.",
            _atLeastZero(int),
        ],
        [
            "inbox",
            None,
            INBOX,
            "Direct messages kept per offline user; more get ERR INBOX_FULL.",
            _atLeastZero(int),
        ],
        [
            "inbox-days",
            None,
            INBOX_DAYS,
            "Days a direct message is kept for an offline user, then deleted.",
            _positive(float),
        ],
        [
            "msg-rate",
            None,
            MSG_RATE,
            "Frames a second each session may send on average; more get ERR RATE.",
            _atLeastZero(float),
        ],
        [
            "msg-burst",
            None,
            MSG_BURST,
            "Frames each session may send at once before --msg-rate applies.",
            _positive(int),
        ],
        [
            "sendq",
            None,
            SENDQ,
            "Bytes that may wait for a TCP client that stopped reading before it is dropped.",
            _atLeastZero(int),
        ],
        [
            "max-per-ip",
            None,
            MAX_PER_HOST,
            "Sessions at once from one address; more get ERR FULL.",
            _atLeastZero(int),
        ],
        [
            "login-failures",
            None,
            LOGIN_FAILURES,
            "Wrong passwords a minute from one address before its logins get ERR RATE.",
            _atLeastZero(int),
        ],
        [
            "max-registrations",
            None,
            MAX_REGISTRATIONS,
            "New accounts an hour from one address; more get ERR RATE.",
            _atLeastZero(int),
        ],
        [
            "login-timeout",
            None,
            LOGIN_TIMEOUT,
            "Seconds a new session has to finish logging in.",
            _positive(float),
        ],
        [
            "redis",
            None,
            None,
            (
                "redis://host:port URL: join the nodes sharing that Redis in one room"
                " (needs --db postgresql://...)."
            ),
        ],
        [
            "node-timeout",
            None,
            NODE_TIMEOUT,
            "With --redis: seconds after which the others announce a silent node's users gone.",
            _positive(float),
        ],
        [
            "max-clients",
            None,
            MAX_CLIENTS,
            "Most sessions at once; more are refused with ERR FULL.",
            _positive(int),
        ],
    ]

    optFlags: ClassVar[list[list[Any]]] = [
        ["no-accounts", None, "No passwords: LOGIN alone enters the room."],
        ["no-udp", None, "Do not serve UDP."],
        ["no-web", None, "Do not serve the web page and its WebSocket."],
    ]

    #: The web page's port when --port is not 0.
    webPort = 8080

    def __init__(self) -> None:
        super().__init__()
        self["web-origin"] = []

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
        interface = self["interface"]
        if interface:
            try:
                ipaddress.ip_address(interface)
            except ValueError:
                raise usage.UsageError(
                    f"--interface {interface!r} is not an IP address (such as 127.0.0.1 or ::)"
                ) from None
        if self["redis"] is not None:
            checkCluster(self["redis"], self["db"], self["no-accounts"])
        if self["db"] != ":memory:" and not isURL(self["db"]):
            # twistd --rundir changes directory after this: the file is
            # where the operator was when they named it, and only there.
            self["db"] = os.path.abspath(self["db"])

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


def checkCluster(redis: str, db: str, noAccounts: bool) -> None:
    """
    C{--redis} joins nodes that must share their accounts: refuse it with
    a file of this machine's, or without accounts.
    """
    if not isURL(db):
        raise usage.UsageError(
            "--redis needs --db postgresql://...: the nodes must share their accounts,"
            " and an SQLite file cannot be shared"
        )
    if noAccounts:
        raise usage.UsageError("--redis needs accounts: it cannot be used with --no-accounts")
    try:
        from chatroom.cluster.engine import RedisURL
    except ImportError:
        raise usage.UsageError(
            "--redis needs txredisapi (pip install 'chatroom[cluster]')"
        ) from None
    try:
        RedisURL(redis)
    except ValueError as e:
        raise usage.UsageError(f"--redis {redis.split('@')[-1]}: {e}") from None


def checkDatabase(path: str, timeout: float = BUSY_TIMEOUT) -> None:
    """
    Fail now, with a clear message, if the account database cannot be used,
    rather than after daemonising; but create nothing, since the server may
    yet fail to start.

    @param timeout: seconds a PostgreSQL server has to answer.
    @raise StartupError: naming the file (or URL) and what is wrong with it.
    """
    if isURL(path):
        _checkPostgres(path, timeout)
        return
    try:
        if os.path.exists(path) or path == ":memory:":
            openDatabase(path).close()
            return
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            raise OSError(f"no directory {directory}")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise OSError(f"cannot create files in {directory}")
    except (OSError, sqlite3.Error, DatabaseError) as e:
        raise StartupError(f"cannot use --db {path}: {e}") from None


def _checkPostgres(url: str, timeout: float) -> None:
    try:
        from chatroom import pgconnect
    except ImportError:
        raise StartupError(
            f"cannot use --db {url.split('//', 1)[0]}//...: PostgreSQL needs psycopg"
            " (pip install 'chatroom[postgresql]')"
        ) from None
    try:
        pgconnect.checkURL(url, timeout)
    except DatabaseError as e:
        raise StartupError(f"cannot use --db {pgconnect.redacted(url)}: {e}") from None


def openStore(reactor: Any, db: str, timeout: float) -> Store:
    """
    The store C{--db} names: PostgreSQL for a C{postgresql://} URL, else an SQLite file.
    """
    if isURL(db):
        from chatroom.pgstore import PostgresStore

        return PostgresStore(reactor, db, timeout)
    return AccountStore(reactor, db, timeout)


def isURL(db: str) -> bool:
    """
    Whether C{--db} names a PostgreSQL database (libpq's URL schemes) rather than a file.
    """
    return db.startswith(("postgresql://", "postgres://"))


def tcpEndpoint(reactor: Any, description: str, option: str = "--tcp") -> IStreamServerEndpoint:
    """
    The TCP listener's endpoint, from its description.

    Parsing loads TLS keys and certificates, so a missing or bad file shows
    here, before anything listens.

    @raise StartupError: if the description cannot be used.
    """
    try:
        return serverFromString(reactor, description)
    except Exception as e:  # noqa: BLE001 -- each endpoint type fails in its own way
        raise StartupError(f"cannot use {option} {description}: {e}") from None


def makeService(config: Options) -> ServerService:
    """
    The chat service and its listeners, ready for twistd to start.

    A L{StartupError} raised from here or while starting ends twistd with
    its message alone.
    """
    from twisted.internet import reactor

    reportStartupErrors()
    return buildService(config, reactor)


def buildService(
    config: Options,
    reactor: Any,
    passwords: Passwords | None = None,
    udpTimings: UDPTimings | None = None,
) -> ServerService:
    """
    L{makeService} with its dependencies passed in, for tests and tools.

    Nothing is created or bound yet. When the service starts, the
    listeners bind first, then the store opens (and so creates) the account
    database, then the room and the listeners start serving; on stop the
    listeners and the room say goodbye, then the store closes.

    @param passwords: the password hasher (OWASP parameters by default).
    @param udpTimings: the UDP server's timers (its idle timeout is
        C{--udp-timeout}'s); tests give shorter ones than a real server.
    @raise StartupError: if an option names something unusable.
    """
    tcp = tcpEndpoint(reactor, config.tcpDescription())
    webDescription = config.webDescription()
    web = None if webDescription is None else tcpEndpoint(reactor, webDescription, "--web")
    top = ServerService(reactor)
    accounts = None
    store = None
    # The database keeps accounts, and history even in a room without them.
    if not config["no-accounts"] or config["history"]:
        checkDatabase(config["db"], config["db-timeout"])
        store = openStore(reactor, config["db"], config["db-timeout"])
        storage = AccountStoreService(store)
        storage.setName("store")
        storage.setServiceParent(top)
    if not config["no-accounts"]:
        assert store is not None  # opened above: accounts need the database
        hashing = HashingPool(reactor)
        hashing.setServiceParent(top)
        accounts = Accounts(store, passwords or Passwords(), hashing.run)
    roster = None
    if config["redis"] is not None:
        from chatroom.cluster.engine import RedisURL
        from chatroom.cluster.roster import ClusterRoster

        roster = ClusterRoster(reactor, RedisURL(config["redis"]), config["node-timeout"])
    chat = Room(
        reactor,
        accounts,
        roster=roster,
        maxClients=config["max-clients"],
        loginTimeout=config["login-timeout"],
        msgRate=config["msg-rate"],
        msgBurst=config["msg-burst"],
        maxPerHost=config["max-per-ip"],
        loginFailures=config["login-failures"],
        maxRegistrations=config["max-registrations"],
        history=config["history"],
        store=store,
        inbox=config["inbox"],
        inboxDays=config["inbox-days"],
    )
    chat.setName("chat")
    chat.setServiceParent(top)
    if roster is not None:
        from chatroom.cluster.roster import ClusterService

        roster.heard = chat.history.remember
        ClusterService(roster).setServiceParent(top)
    heap = HeapTrimmer(reactor, libcTrim())
    heap.setName("heap")
    heap.setServiceParent(top)
    factory = ChatFactory(chat, reactor, config["sendq"])
    listener = ListenerService(tcp, factory, "TCP", top.failLate)
    listener.setName("tcp")
    listener.setServiceParent(top)
    if not config["no-udp"]:
        udpPort = config["port"] if config["udp-port"] is None else config["udp-port"]
        timings = replace(udpTimings or UDPTimings(), idleTimeout=config["udp-timeout"])
        datagrams = ChatDatagramProtocol(chat, reactor, timings)
        udp = UDPListenerService(reactor, udpPort, config["interface"], datagrams)
        udp.setName("udp")
        udp.setServiceParent(top)
    if web is not None:
        site = webSite(chat, reactor, config["web-origin"], config["sendq"])
        page = ListenerService(web, site, "WEB", top.failLate)
        page.setName("web")
        page.setServiceParent(top)
    return top
