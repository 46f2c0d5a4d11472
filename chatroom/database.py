"""
The database C{--db} names: a PostgreSQL URL or an SQLite file, checked
before the server starts (so a bad one fails with one line, before
daemonising, and creates nothing) and opened as the store.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from chatroom.migrations import DatabaseError
from chatroom.sqlitestore import AccountStore, openDatabase
from chatroom.startup import StartupError
from chatroom.store import BUSY_TIMEOUT, Store


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
