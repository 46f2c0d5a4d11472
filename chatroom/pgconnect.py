"""
Connecting to PostgreSQL: its URLs (never logged with a password), its schema (created,
upgraded, or refused when newer than ours) and SQLite's dialect spoken on it.

The statements (L{chatroom.statements}) are written in SQLite's dialect; L{Connection} is how
they run unchanged on psycopg, the one place where PostgreSQL's differences are translated:
C{?} and C{:name} placeholders become psycopg's C{%s} and C{%(name)s}, a transaction is the
store call's own, and taking turns is an advisory lock. L{chatroom.pgstore} is the store built
on these connections; the start-up checks (L{checkURL}) use them without a store.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

import psycopg

from chatroom import statements
from chatroom.migrations import DatabaseError, plan, targetVersion
from chatroom.statements import accounts

T = TypeVar("T")

#: Advisory lock key (a number of our own): one node at a time upgrades the schema.
_SCHEMA_LOCK = 0x636861_01

# A quoted string or identifier (left alone), a ? or a :name placeholder, or a % (escaped).
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|\?|(?<!:):([A-Za-z_]\w*)|%""")


def redacted(url: str) -> str:
    """
    C{url} fit for a log or an error message: any password replaced by C{***}.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return url.split("//", 1)[0] + "//(a URL that cannot be read)"
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    query = urllib.parse.urlencode(
        [
            (key, "***" if key == "password" else value)
            for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=query))


def schemaFiles() -> Traversable:
    """
    The packaged PostgreSQL schemas: C{vN.sql} and C{upgrade-to-vN.sql}, as for SQLite.
    """
    return resources.files("chatroom.schema").joinpath("postgresql")


@lru_cache(maxsize=256)
def _translated(sql: str) -> str:
    """
    C{sql} with SQLite's placeholders (C{?}, C{:name}) as psycopg's (C{%s}, C{%(name)s}).
    """

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match.group(1) is not None:
            return f"%({match.group(1)})s"
        return token.replace("%", "%%")  # a quoted string: psycopg reads % even there

    return _TOKEN.sub(one, sql)


class Connection:
    """
    A psycopg connection as the statements use one: L{chatroom.statements.Connection}.
    """

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def execute(self, sql: str, parameters: Any = (), /) -> psycopg.Cursor[Any]:
        return self.connection.execute(_translated(sql), parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> psycopg.Cursor[Any]:
        cursor = self.connection.cursor()
        cursor.executemany(_translated(sql), parameters)
        return cursor

    def atomically(self, f: Callable[[statements.Connection], T]) -> T:
        """
        C{f(self)}: every call of the store is one transaction already.
        """
        return f(self)

    def takeTurns(self, lock: int) -> None:
        """
        Take the advisory lock C{lock} until the transaction (the store's call) ends.
        """
        self.execute("SELECT pg_advisory_xact_lock(?)", (lock,))


def ensureSchema(db: psycopg.Connection[Any], schemas: Traversable) -> int:
    """
    Bring the database to the newest schema in C{schemas}, creating it if empty, each step in
    a transaction of its own; a database newer than this chatroom is refused. Nodes starting
    together take turns.

    @param db: a connection in autocommit mode.
    @return: the version the database now holds.
    @raise DatabaseError: if the database cannot be brought to the newest schema.
    """
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        exists = db.execute("SELECT to_regclass('version') IS NOT NULL").fetchone()
        row = db.execute("SELECT version FROM version").fetchone() if exists and exists[0] else None
        for version, script in plan(schemas, None if row is None else int(row[0])):
            # One savepoint per step: a failed step leaves the version before it.
            with db.transaction():
                db.execute(script.read_text("utf-8"))
                db.execute("DELETE FROM version")
                db.execute("INSERT INTO version VALUES (%s)", (version,))
    return targetVersion(schemas)


def connect(
    url: str, timeout: float, schemas: Traversable | None = None
) -> psycopg.Connection[Any]:
    """
    A connection to C{url}, its schema brought up to date, and every account's look-alike
    keys brought to this code's rule (L{accounts.rekey}).

    @raise psycopg.Error: if PostgreSQL cannot be reached or refuses us.
    @raise DatabaseError: if the schema cannot be used.
    """
    db = psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(timeout)))
    try:
        ensureSchema(db, schemaFiles() if schemas is None else schemas)
        with db.transaction():
            accounts.rekey(Connection(db))
    except BaseException:
        db.close()
        raise
    return db


def oneLine(error: BaseException, url: str = "") -> str:
    """
    libpq's message on one line (it spreads hints over several), without C{url} (libpq quotes
    a URL it cannot read whole, password and all).
    """
    message = str(error)
    if url:
        message = message.replace(url, redacted(url))
    return " ".join(message.split())


def checkURL(url: str, timeout: float) -> None:
    """
    Fail now, with one clear line, if C{url} cannot be used: not a valid URL, or no PostgreSQL
    answers there, or its schema is newer than ours. Creates nothing: the server may yet fail
    to start (the store creates the schema when it opens).

    @raise DatabaseError: saying what is wrong, the password left out.
    """
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error as e:
        raise DatabaseError(f"not a valid PostgreSQL URL: {oneLine(e, url)}") from None
    target = targetVersion(schemaFiles())
    try:
        with psycopg.connect(url, connect_timeout=max(1, round(timeout))) as db:
            exists = db.execute("SELECT to_regclass('version') IS NOT NULL").fetchone()
            row = (
                db.execute("SELECT max(version) FROM version").fetchone()
                if exists and exists[0]
                else None
            )
    except psycopg.Error as e:
        raise DatabaseError(oneLine(e, url)) from None
    if row is not None and row[0] is not None and row[0] > target:
        raise DatabaseError(f"database schema v{row[0]} is newer than this chatroom (v{target})")
