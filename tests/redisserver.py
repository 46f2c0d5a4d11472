"""
The tests' own Redis: the launcher the benchmark's cluster scenario uses too
(L{chatroom.bench.redisserver}), kept importable here under its old name.
"""

from chatroom.bench.redisserver import BINARY, WAIT, RedisServer, installed

__all__ = ["BINARY", "WAIT", "RedisServer", "installed"]
