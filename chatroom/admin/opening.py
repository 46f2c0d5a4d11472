"""
Which database C{chatroom-admin} works on, whether it is chatroom's, and
opening it as the server's own store.

The database is named by C{--db} (an SQLite file or a PostgreSQL URL, as the
server's option), or found in the server's configuration file
(C{--config}, its C{db} key), or else is the server's default,
C{chatroom.sqlite}. Before the store opens it (which would create chatroom's
tables in any database it is given), it is checked: a file or database that
holds other tables, or that is not SQLite at all, is refused; one that does
not exist yet is made only by C{accounts create}, so that the first admin
can be made before the server ever ran.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from chatroom.admin.errors import AdminError
from chatroom.configfile import ConfigError, load
from chatroom.database import isURL, openStore
from chatroom.migrations import DatabaseError
from chatroom.sqlitestore import SQLiteConnection
from chatroom.store import BUSY_TIMEOUT, Store, Unavailable

T = TypeVar("T")

#: The server's own default --db (chatroom.options).
DEFAULT_DB = "chatroom.sqlite"


@dataclass(frozen=True)
class Database:
    """
    A database to work on.

    @ivar db: the file or URL, password and all (to connect with).
    @ivar shown: the same, fit for a message (no password).
    @ivar timeout: seconds each call may take.
    @ivar new: whether it does not exist yet, or holds nothing yet.
    @ivar made: whether it is an SQLite file that does not exist yet (so
        that a command that fails may remove the file it made).
    """

    db: str
    shown: str
    timeout: float
    new: bool
    made: bool = False

    def unmake(self) -> None:
        """
        Remove the SQLite file (and its journal) this command made, if it
        made one: a command that failed leaves nothing behind.
        """
        if self.made:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.db + suffix)


def where(args: argparse.Namespace) -> tuple[str, float]:
    """
    The database the command line names, and its timeout: C{--db}, or the
    C{db} and C{db-timeout} of C{--config}'s file, or the server's default.

    @raise AdminError: if the configuration file cannot be used.
    """
    db: Any = args.db
    timeout: Any = args.db_timeout
    if args.config is not None:
        try:
            settings = load(args.config)
        except ConfigError as e:
            raise AdminError(str(e)) from None
        db = settings.get("db", DEFAULT_DB)
        if not isinstance(db, str) or not db:
            raise AdminError(f"{args.config}: key 'db': must be a file name or a URL")
        if timeout is None and "db-timeout" in settings:
            timeout = settings["db-timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
                raise AdminError(f"{args.config}: key 'db-timeout': must be a positive number")
    return (db or DEFAULT_DB), float(timeout or BUSY_TIMEOUT)


def shown(db: str) -> str:
    """
    C{db} fit for a message: a URL's password left out.
    """
    if not isURL(db):
        return db
    try:
        from chatroom.pgconnect import redacted
    except ImportError:
        return db.split("//", 1)[0] + "//..."
    return redacted(db)


def check(db: str, timeout: float, mayCreate: bool) -> Database:
    """
    C{db}, checked to be chatroom's (or, if C{mayCreate}, not to exist yet).

    @raise AdminError: saying what is wrong with it.
    """
    if isURL(db):
        return _checkPostgres(db, timeout, mayCreate)
    return _checkSQLite(db, timeout, mayCreate)


def _checkSQLite(path: str, timeout: float, mayCreate: bool) -> Database:
    if path == ":memory:":
        raise AdminError("--db :memory: is no database to manage: name the server's file")
    if os.path.isdir(path):
        raise AdminError(f"{path} is a directory, not a chatroom database")
    if not os.path.exists(path):
        if not mayCreate:
            raise AdminError(
                f"no database at {path} (the server makes it when it first starts;"
                " 'chatroom-admin accounts create' makes one too)"
            )
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            raise AdminError(f"cannot make the database {path}: no directory {directory}")
        return Database(path, path, timeout, new=True, made=True)
    try:
        with sqlite3.connect(_readOnly(path), uri=True, timeout=timeout) as probe:
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master")}
        probe.close()
    except sqlite3.DatabaseError as e:
        if "not a database" in str(e):
            raise AdminError(f"{path} is not a chatroom database (not an SQLite file)") from None
        raise AdminError(f"cannot read {path}: {e}") from None
    if not tables:
        if not mayCreate:
            raise AdminError(f"{path} is empty: the server has not made its tables yet")
        return Database(path, path, timeout, new=True)
    if not {"version", "accounts"} <= tables:
        raise AdminError(f"{path} is not a chatroom database (it holds other tables)")
    return Database(path, path, timeout, new=False)


def _checkPostgres(url: str, timeout: float, mayCreate: bool) -> Database:
    named = shown(url)
    try:
        import psycopg
    except ImportError:
        raise AdminError("PostgreSQL needs psycopg (pip install 'chatroom[postgresql]')") from None
    try:
        with psycopg.connect(url, connect_timeout=max(1, round(timeout))) as probe:
            row = probe.execute(
                "SELECT to_regclass('version') IS NOT NULL, to_regclass('accounts') IS NOT NULL,"
                " (SELECT count(*) FROM information_schema.tables"
                "  WHERE table_schema = current_schema())"
            ).fetchone()
    except psycopg.Error as e:
        message = " ".join(str(e).replace(url, named).split())
        raise AdminError(f"cannot use {named}: {message}") from None
    assert row is not None
    hasVersion, hasAccounts, tables = row
    if not tables:
        if not mayCreate:
            raise AdminError(f"{named} is empty: the server has not made its tables yet")
        return Database(url, named, timeout, new=True)
    if not (hasVersion and hasAccounts):
        raise AdminError(f"{named} is not a chatroom database (it holds other tables)")
    return Database(url, named, timeout, new=False)


def peek(database: Database, statement: Callable[..., T], *args: object) -> T | None:
    """
    C{statement} (a read of L{chatroom.statements}) run now, on a read-only
    connection of its own, before the store and the reactor start: for the
    checks worth making before a password is asked for (L{None} for a
    database that does not exist yet).

    @raise AdminError: if the database cannot be read.
    """
    if database.new:
        return None
    if isURL(database.db):
        import psycopg

        from chatroom.pgconnect import Connection

        try:
            with psycopg.connect(
                database.db, connect_timeout=max(1, round(database.timeout))
            ) as pg:
                pg.read_only = True
                return statement(Connection(pg), *args)
        except psycopg.Error as e:
            message = " ".join(str(e).replace(database.db, database.shown).split())
            raise AdminError(f"cannot use {database.shown}: {message}") from None
    try:
        probe = sqlite3.connect(
            _readOnly(database.db), uri=True, timeout=database.timeout, factory=SQLiteConnection
        )
        try:
            return statement(probe, *args)
        finally:
            probe.close()
    except sqlite3.Error as e:
        raise AdminError(f"cannot read {database.shown}: {e}") from None


def _readOnly(path: str) -> str:
    """
    An SQLite URI that opens C{path} read-only, so that looking creates
    nothing, not even a journal.
    """
    return "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"


async def opened(reactor: Any, database: Database) -> Store:
    """
    The server's store on C{database}, open (its schema made or brought up
    to date, as the server does).

    @raise AdminError: if it cannot be opened.
    """
    store = openStore(reactor, database.db, database.timeout)
    try:
        await store.open()
    except Unavailable as e:
        await store.close()
        database.unmake()
        raise AdminError(f"cannot use {database.shown}: {_reason(e)}") from None
    return store


def _reason(error: Unavailable) -> str:
    cause = error.__cause__
    if isinstance(cause, DatabaseError | sqlite3.Error):
        return str(cause)
    return str(error)
