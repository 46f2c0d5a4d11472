"""
C{chatroom-admin} as tests run it: a real process in a directory, its piped
input given, its output and status read; and what the tests read of the
databases it writes (SQLite or PostgreSQL).
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from chatroom.bench import pgserver
from chatroom.database import isURL
from helpers.wire import installed

#: Seconds one chatroom-admin run may take (argon2 hashing, PostgreSQL's connection).
RUN_TIMEOUT = 60

_names = itertools.count()


def runAdmin(cwd: Path, *args: str, input: str = "") -> subprocess.CompletedProcess[str]:
    """
    C{chatroom-admin} with the words given, in C{cwd}, C{input} piped to it.
    """
    return subprocess.run(
        [installed("chatroom-admin"), *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def oneMistake(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """
    C{result} is a mistake told in one line on standard error (holding
    C{words}), exit status 1.
    """
    assert result.returncode == 1, result
    assert result.stderr.startswith("chatroom-admin: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def rows(db: str, sql: str) -> list[Any]:
    """
    What C{sql} finds in C{db} (an SQLite file or a PostgreSQL URL).
    """
    if isURL(db):
        with psycopg.connect(db) as pg:
            return pg.execute(sql).fetchall()
    lite = sqlite3.connect(db)
    try:
        return lite.execute(sql).fetchall()
    finally:
        lite.close()


def write(db: str, sql: str, parameters: tuple[object, ...]) -> None:
    """
    Run C{sql} (with C{?} placeholders) on C{db}, committed.
    """
    if isURL(db):
        with psycopg.connect(db) as pg:
            pg.execute(sql.replace("?", "%s"), parameters)
        return
    lite = sqlite3.connect(db)
    try:
        with lite:
            lite.execute(sql, parameters)
    finally:
        lite.close()


def freshPostgres(postgres: pgserver.PostgresServer) -> str:
    """
    A new empty database in our PostgreSQL cluster, its URL.
    """
    if postgres.process is None:  # a test that stopped it failed before it started it again
        postgres.start()
    return postgres.createDatabase(f"admin{os.getpid()}_{next(_names)}")
