"""
Redis Sentinel: C{--redis sentinel://HOST:PORT[,HOST:PORT...]/MASTERNAME}.

With a single Redis, every node stops when it stops. Sentinels watch a master and its
replicas, and promote a replica when the master is gone. A node then asks the sentinels, before
each connection it makes (L{chatroom.cluster.link.RedisLink}), where the master is now
(C{SENTINEL get-master-addr-by-name}), and checks, before it counts the connection, that the
server it reached calls itself a master (C{ROLE}): a sentinel that has not yet noticed the failover
points at the old master, which refuses the connection or, started again, is a replica; the
link then tries again, and asks again. The master lost is lived through as a Redis restarted:
the node says who is here (L{chatroom.cluster.liveness}) before serving again.

The question is asked in a few lines of our own rather than with a client library: one
command, one reply of two strings, each sentinel in turn, bounded in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure

from chatroom.store import Unavailable


class SentinelURL:
    """
    C{sentinel://[[user]:password@]host:port[,host:port...]/master[/db]}, parsed; the password
    and database are the master's.
    """

    def __init__(self, url: str) -> None:
        scheme, sep, rest = url.partition("://")
        if scheme != "sentinel" or not sep:
            raise ValueError("give a sentinel://host:port[,host:port...]/master URL")
        where, _, path = rest.partition("/")
        credentials, at, hosts = where.rpartition("@")
        if not at:
            hosts = where
        self.username: str | None = None
        self.password: str | None = None
        if credentials:
            user, colon, password = credentials.partition(":")
            self.username = unquote(user) if user else None
            self.password = unquote(password) if colon else None
        self.sentinels: list[tuple[str, int]] = []
        for item in hosts.split(","):
            host, _, port = item.rpartition(":")
            if not host:
                host, port = port, "26379"
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"a sentinel must be host:port, not {item!r}")
            self.sentinels.append((host, int(port)))
        master, _, db = path.strip("/").partition("/")
        if not master:
            raise ValueError("the URL names no master (sentinel://host:port/master)")
        if db and not db.isdigit():
            raise ValueError(f"the database must be a number, not {db!r}")
        self.master = master
        self.db = int(db) if db else None
        # Where the master was last found: for the console only.
        self.host, self.port = self.sentinels[0]

    def redacted(self) -> str:
        """
        The URL without its password, for the console.
        """
        hosts = ",".join(f"{h}:{p}" for h, p in self.sentinels)
        db = f"/{self.db}" if self.db is not None else ""
        return f"sentinel://{hosts}/{self.master}{db}"


def _command(*words: str) -> bytes:
    encoded = [w.encode("utf-8") for w in words]
    return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in encoded)


class _Question(Protocol):
    """
    Asks a sentinel one C{SENTINEL get-master-addr-by-name} and reads its reply: an array of two
    bulk strings (host, port), or a null array if it knows no such master.
    """

    transport: ITCPTransport | None

    def __init__(self, master: str) -> None:
        self.master = master
        self.answer: Deferred[tuple[str, int] | None] = Deferred()
        self._buffer = b""

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(_command("SENTINEL", "get-master-addr-by-name", self.master))

    def dataReceived(self, data: bytes) -> None:
        self._buffer += data
        lines = self._buffer.split(b"\r\n")
        if self.answer.called or len(lines) < 2:
            return
        head = lines[0]
        if head in (b"*-1", b"$-1"):
            self._answered(None)
        elif head.startswith(b"-"):
            self._failed(head[1:].decode("utf-8", "replace"))
        elif head == b"*2":
            if len(lines) < 6:
                return  # more to come
            host, port = lines[2].decode("utf-8", "replace"), lines[4]
            if port.isdigit():
                self._answered((host, int(port)))
            else:
                self._failed("a port that is not a number")
        else:
            self._failed("an answer that is not an address")

    def _answered(self, where: tuple[str, int] | None) -> None:
        self.answer.callback(where)
        assert self.transport is not None
        self.transport.loseConnection()

    def _failed(self, why: str) -> None:
        self.answer.errback(Unavailable(f"sentinel: {why}"))
        assert self.transport is not None
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure = Failure(ConnectionError())) -> None:  # noqa: B008
        if not self.answer.called:
            self.answer.errback(Unavailable("the sentinel closed the connection"))


class Sentinels:
    """
    Where the master is, asked of each sentinel in turn.
    """

    def __init__(self, reactor: Any, url: SentinelURL, timeout: float) -> None:
        self.reactor = reactor
        self.url = url
        self.timeout = timeout

    def locate(self) -> Deferred[tuple[str, int]]:
        """
        The master's address from the first sentinel that knows it; fails with L{Unavailable}
        if none does in time.
        """
        return Deferred.fromCoroutine(self._locate())

    async def _locate(self) -> tuple[str, int]:
        why = "no sentinel answered"
        for host, port in self.url.sentinels:
            try:
                where = await self._ask(host, port)
            except Exception as e:  # noqa: BLE001 -- the next sentinel may answer
                why = f"sentinel {host}:{port}: {e or type(e).__name__}"
                continue
            if where is None:
                why = f"sentinel {host}:{port} knows no master {self.url.master!r}"
                continue
            self.url.host, self.url.port = where
            return where
        raise Unavailable(why)

    async def _ask(self, host: str, port: int) -> tuple[str, int] | None:
        endpoint = TCP4ClientEndpoint(self.reactor, host, port, timeout=self.timeout)
        question = _Question(self.url.master)
        connected = endpoint.connect(Factory.forProtocol(lambda: question))
        connected.addTimeout(self.timeout, self.reactor)
        await connected
        answer = question.answer
        answer.addTimeout(self.timeout, self.reactor)
        try:
            return await answer
        finally:
            if question.transport is not None:
                question.transport.abortConnection()


def role(p: Any) -> Deferred[Any]:
    """
    Fails unless the server of connection C{p} is a master (C{ROLE}): a replica, or an old
    master not yet made one, must not be used.
    """

    def checked(reply: Sequence[Any]) -> None:
        if not reply or reply[0] != "master":
            raise Unavailable(
                f"Redis there is a {reply[0] if reply else 'stranger'}, not the master"
            )

    d: Deferred[Any] = p.execute_command("ROLE")
    return d.addCallback(checked)
