"""
C{twistd chatroom}: how the server's options (L{chatroom.options}) build the
service.

Files are looked at here, but nothing is created or
bound: L{buildService} wires the store, the room and the listeners into a
L{ServerService} that does that when it starts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IStreamServerEndpoint

from chatroom.accounts import Accounts, AccountStoreService, HashingPool
from chatroom.database import checkDatabase, openStore
from chatroom.heap import HeapTrimmer, libcTrim
from chatroom.listeners import ListenerService, UDPListenerService
from chatroom.options import Options
from chatroom.passwords import Passwords
from chatroom.room import Room
from chatroom.startup import (
    ServerService,
    StartupError,
    reportStartupErrors,
    stopCleanlyOnSIGTERM,
)
from chatroom.store import Store
from chatroom.tcp import ChatFactory
from chatroom.udp import ChatDatagramProtocol, UDPTimings
from chatroom.web import webSite

if TYPE_CHECKING:
    from chatroom.cluster.roster import ClusterRoster


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
    service = buildService(config, reactor)
    stopCleanlyOnSIGTERM(reactor)
    return service


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
    ircDescription = config.ircDescription()
    irc = None if ircDescription is None else tcpEndpoint(reactor, ircDescription, "--irc")
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
        from chatroom.cluster.engine import parseURL
        from chatroom.cluster.roster import ClusterRoster

        roster = ClusterRoster(reactor, parseURL(config["redis"]), config["node-timeout"])
    chat = Room(
        reactor,
        accounts,
        roster,
        store,
        config.roomLimits(),
        node=None if roster is None else roster.node,
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
    if config["dtls"] is not None:
        dtlsListener(reactor, config, top, chat, udpTimings)
    if web is not None:
        site = webSite(chat, reactor, config["web-origin"], config["sendq"])
        page = ListenerService(web, site, "WEB", top.failLate)
        page.setName("web")
        page.setServiceParent(top)
    if irc is not None:
        from chatroom.irc import IRCFactory

        doors = IRCFactory(
            chat,
            reactor,
            config["irc-channel"],
            config["irc-server-name"],
            sendq=config["sendq"],
            accounts=not config["no-accounts"],
        )
        ircListener = ListenerService(irc, doors, "IRC", top.failLate)
        ircListener.setName("irc")
        ircListener.setServiceParent(top)
    if config["metrics"] is not None:
        operatorListener(reactor, config["metrics"], top, chat, store, roster)
    return top


def dtlsListener(
    reactor: Any,
    config: Options,
    top: ServerService,
    chat: Room,
    udpTimings: UDPTimings | None,
) -> None:
    """
    The C{--dtls} door: its own port, the plain UDP server inside it on the
    same timings as C{--port}'s (C{--udp-timeout} included).

    @raise StartupError: if the key or certificate cannot be used.
    """
    from chatroom.dtls import DTLSDoor, serverContext
    from chatroom.dtls.gate import CookieGate

    spec = config["dtls"]
    try:
        context, fingerprint = serverContext(spec)
    except ValueError as e:
        raise StartupError(f"cannot use --dtls: {e}") from None
    timings = replace(udpTimings or UDPTimings(), idleTimeout=config["udp-timeout"])
    door = DTLSDoor(chat, reactor, CookieGate(context, reactor), timings)
    interface = config["interface"] if spec.interface is None else spec.interface
    listener = UDPListenerService(reactor, spec.port, interface, door, "DTLS", fingerprint)
    listener.setName("dtls")
    listener.setServiceParent(top)


def operatorListener(
    reactor: Any,
    description: str,
    top: ServerService,
    chat: Room,
    store: Store | None,
    roster: ClusterRoster | None,
) -> None:
    """
    The C{--metrics} site (L{chatroom.health}), listening beside the others;
    imported only when asked for.
    """
    from chatroom.health import (
        databaseAnswers,
        listenersUp,
        operatorSite,
        redisAnswers,
    )
    from chatroom.metrics import MetricsPage, roomRegistry

    endpoint = tcpEndpoint(reactor, description, "--metrics")
    checks = [listenersUp([s for s in top if s.name in ("tcp", "udp", "dtls", "web", "irc")])]
    if store is not None:
        checks.append(databaseAnswers(store, reactor))
    if roster is not None:
        engine = roster.liveness.engine
        checks.append(redisAnswers(lambda: engine.connected))
    site = operatorSite(MetricsPage(roomRegistry(chat)), checks)
    listener = ListenerService(endpoint, site, "METRICS", top.failLate)
    listener.setName("metrics")
    listener.setServiceParent(top)
