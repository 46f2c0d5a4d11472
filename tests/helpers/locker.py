"""
Another program holding an SQLite database's write lock (a backup, an
administrator in the sqlite3 shell), as a real process.
"""

from __future__ import annotations

import subprocess
import sys
from typing import IO

from helpers.wire import WAIT

# Holds BEGIN EXCLUSIVE on a database until its stdin ends.
_LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
db.close()
"""


class Locker:
    """
    Another process, holding the database's write lock until released.
    """

    def __init__(self, path: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LOCKER, path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None  # piped
        self._input: IO[str] = self.process.stdin
        self._output: IO[str] = self.process.stdout
        assert self._output.readline() == "locked\n"

    def release(self) -> None:
        if self.process.poll() is None:
            self._input.close()
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=WAIT)
        self._output.close()
