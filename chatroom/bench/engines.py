"""
The engines of the cluster scenario: a Redis and a PostgreSQL of the benchmark's own (Debian's
C{redis-server} and PostgreSQL, each on a free loopback port in a temporary directory, stopped
by its PID), whether they can run here at all, and what they cost: CPU from C{/proc}, and
Redis's own count of each command's calls and time.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from twisted.internet.threads import deferToThread

from chatroom.bench import pgserver, redisserver
from chatroom.bench.server import TICKS


def missing() -> str | None:
    """
    Why the scenario cannot run here, or L{None} when both engines and the C{cluster} extra's
    client libraries are installed (README's plain install has neither library).
    """
    for module in ("txredisapi", "psycopg"):
        try:
            importlib.import_module(module)
        except ImportError:
            return f"{module} is not installed (pip install 'chatroom[cluster]')"
    if not redisserver.installed():
        return "redis-server is not installed (apt-get install redis-server)"
    if not pgserver.installed():
        return f"PostgreSQL is not installed in {pgserver.BINARIES} (apt-get install postgresql)"
    return None


def cpuOf(pid: int) -> float:
    """
    User and system CPU seconds process C{pid} has used (0 once it is gone).
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def commandStats(info: bytes) -> dict[str, float]:
    """
    Calls and microseconds per call of each command, from Redis's C{INFO commandstats} reply:
    C{{"evalsha calls": 500, "evalsha µs/call": 6.1, ...}}.
    """
    stats: dict[str, float] = {}
    for line in info.decode("utf-8", "replace").splitlines():
        name, _, values = line.partition(":")
        if not name.startswith("cmdstat_"):
            continue
        fields = dict(pair.split("=", 1) for pair in values.split(",") if "=" in pair)
        command = name.removeprefix("cmdstat_")
        stats[f"{command} calls"] = int(fields.get("calls", 0))
        stats[f"{command} µs/call"] = float(fields.get("usec_per_call", "nan"))
    return stats


class Engines:
    """
    A Redis and a PostgreSQL database of our own, for one benchmark run; both blocking
    launchers run off the reactor thread.
    """

    def __init__(self, redis: redisserver.RedisServer, postgres: pgserver.PostgresServer) -> None:
        self.redis = redis
        self.postgres = postgres
        self.db = ""

    @classmethod
    async def start(cls) -> Engines:
        redis = redisserver.RedisServer()
        postgres: pgserver.PostgresServer | None = None
        try:
            await deferToThread(redis.start)
            postgres = await deferToThread(pgserver.PostgresServer)
            await deferToThread(postgres.start)
            engines = cls(redis, postgres)
            engines.db = await deferToThread(postgres.createDatabase, "chatbench")
            return engines
        except BaseException:
            await deferToThread(redis.remove)
            if postgres is not None:
                await deferToThread(postgres.remove)
            raise

    def redisCpu(self) -> float:
        assert self.redis.process is not None
        return cpuOf(self.redis.process.pid)

    def postgresCpu(self) -> dict[int, float]:
        """
        CPU seconds of each PostgreSQL process (the nodes' backends among them), by PID.
        """
        return {pid: cpuOf(pid) for pid in self.postgres.pids()}

    async def resetStats(self) -> None:
        await deferToThread(self.redis.command, "CONFIG", "RESETSTAT")

    async def commandStats(self) -> dict[str, float]:
        return commandStats(await deferToThread(self.redis.command, "INFO", "commandstats"))

    async def remove(self) -> None:
        await deferToThread(self.redis.remove)
        await deferToThread(self.postgres.remove)
