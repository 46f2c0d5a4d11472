"""
The tests' own PostgreSQL: the launcher the benchmark's cluster scenario uses too
(L{chatroom.bench.pgserver}), kept importable here under its old name.
"""

from chatroom.bench.pgserver import BINARIES, WAIT, PostgresServer, installed

__all__ = ["BINARIES", "WAIT", "PostgresServer", "installed"]
