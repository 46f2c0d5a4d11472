"""
What C{C WHO} (and so C{C DM}, which sends the same list first) costs a node of a cluster with
many users present: the cluster scenario's last run (C{chatroom.bench.cluster}).

Ten thousand real logins would cost the benchmark minutes of password hashing, so the others
are written into Redis's presence hash as the users of a node that is not running (one that
never beat is never buried); a node started after that learns of them as it would of any user
present before it joined. One user of the node then asks C{C WHO} again and again, pipelined.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.protocol import Protocol
from twisted.internet.threads import deferToThread

from chatroom.bench import scenarios
from chatroom.bench.scenarios import Result, inBatches, waitUntil

if TYPE_CHECKING:
    from chatroom.bench.engines import Engines

#: Fills the presence hash with ARGV[1] users of a node called C{elsewhere}.
FILL = """
for i = 1, tonumber(ARGV[1]) do
  local key = 'p' .. i
  redis.call('HSET', 'chatroom:present', key, cjson.encode({'elsewhere', key, 'TCP'}))
  redis.call('SADD', 'chatroom:members:elsewhere', key)
end
return 0
"""

EMPTY = "redis.call('DEL', 'chatroom:present', 'chatroom:members:elsewhere') return 0"


class Asker(Protocol):
    """
    A user that asks C{C WHO} C{count} times in one write and waits for the C{C PONG} after.
    """

    transport: ITCPTransport

    def __init__(self, name: str, password: bytes) -> None:
        self.name = name
        self.password = password
        self.welcomed: Deferred[None] = Deferred()
        self.done = False
        self._tail = b""

    def connectionMade(self) -> None:
        self.transport.write(b"C LOGIN %s\nC PASS %s\n" % (self.name.encode(), self.password))

    def dataReceived(self, data: bytes) -> None:
        if not self.welcomed.called and b"C WELCOME " in data:
            self.welcomed.callback(None)
        chunk = self._tail + data
        if b"C PONG asked" in chunk:
            self.done = True
        self._tail = chunk[-16:]

    def ask(self, count: int) -> None:
        self.done = False
        self._tail = b""  # the last PONG is not this one's
        self.transport.write(b"C WHO\n" * count + b"C PING asked\n")


async def who(reactor: Any, engines: Engines, present: int, asked: int) -> Result:
    """
    C{asked} C{C WHO}s of one user of a node while C{present} others are in the room.
    """
    from chatroom.bench.cluster import PASSWORD, Meter, redisFigures, startNode

    await deferToThread(engines.redis.command, "EVAL", FILL, "0", str(present))
    try:
        node = await startNode(reactor, engines)
        try:
            asker = Asker("asker", PASSWORD)
            await inBatches(reactor, [asker], scenarios._tcp(reactor, node.ports["TCP"]))
            asker.ask(1)  # a first list, so that whatever is loaded once is
            await waitUntil(reactor, lambda: asker.done, 60, "the first list")
            await engines.resetStats()
            meter = Meter(engines, [node])
            started = time.monotonic()
            asker.ask(asked)
            await waitUntil(reactor, lambda: asker.done, 300, "every list")
            elapsed = time.monotonic() - started
            figures = meter.figures(asked, asked)
            result = Result(f"cluster C WHO with {present} users present, {asked} asked")
            result.figures = {
                "ms/C WHO": elapsed / asked * 1e3,
                "node µs/C WHO": figures["nodes µs/delivery"],
                "Redis µs/C WHO": figures["Redis µs/delivery"],
            }
            stats = redisFigures(await engines.commandStats())
            result.figures["script calls"] = stats["script calls"]
            return result
        finally:
            await node.stop()
    finally:
        await deferToThread(engines.redis.command, "EVAL", EMPTY, "0")
