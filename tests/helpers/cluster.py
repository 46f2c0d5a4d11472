"""
Several nodes on one Redis and one PostgreSQL, for the cluster tests: nodes started on
demand and stopped by their PIDs, and a blocking client that can wait for silence.
"""

from __future__ import annotations

from pathlib import Path

from chatroom.bench import pgserver, redisserver
from helpers.wire import BlockingClient, twistdServer

#: The nodes' --node-timeout in these tests: short, so a death is seen quickly.
NODE_TIMEOUT = 2.0

#: Seconds a test waits for something that should come (generous: the machine is shared).
WAIT = 15.0


class Cluster:
    """
    Nodes started on demand, all on one database and one Redis; stopped by their PIDs.
    """

    def __init__(self, directory: Path, db: str, redis: redisserver.RedisServer) -> None:
        self.directory = directory
        self.db = db
        self.redis = redis
        self.nodes: list = []
        self.clients: list[Client] = []
        self.postgres: pgserver.PostgresServer | None = None

    def node(self, *options: str, redisInConfig: Path | None = None):
        """
        A node on this cluster's Redis, or on the one a config file names (C{redisInConfig}:
        a URL with a password stays off the command line).
        """
        where = self.directory / f"node{len(self.nodes)}"
        where.mkdir()
        redis = (
            f"--redis={self.redis.url}" if redisInConfig is None else f"--config={redisInConfig}"
        )
        node = twistdServer(
            where,
            f"--db={self.db}",
            redis,
            f"--node-timeout={NODE_TIMEOUT:g}",
            "--no-udp",
            *options,
        )
        self.nodes.append(node)
        node.waitForLog("cluster: node")
        return node

    def login(self, node, name: str, password: str = "pw") -> Client:
        client = Client(node.ports["TCP"])
        self.clients.append(client)
        client.expect("C HELLO chatroom 1 TCP")
        client.send(f"C LOGIN {name}", f"C PASS {password}")
        assert client.next().startswith("C PASSWORD ")
        welcome = client.next()
        assert welcome.startswith(f"C WELCOME {name} TCP"), welcome
        return client

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        for node in self.nodes:
            node.stop()


class Client(BlockingClient):
    """
    L{BlockingClient} reading the socket itself, so that waiting for silence (L{quiet})
    leaves it usable.
    """

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.sock.settimeout(WAIT)
        self._buffer = b""
        self.oks = 0

    def next(self) -> str:
        while b"\n" not in self._buffer:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("the server closed the connection")
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8").removesuffix("\r")

    def quiet(self, seconds: float) -> list[str]:
        """
        What arrives within C{seconds}, expecting it to be nothing.
        """
        self.sock.settimeout(seconds)
        try:
            return [self.next()]
        except TimeoutError:
            return []
        finally:
            self.sock.settimeout(WAIT)
