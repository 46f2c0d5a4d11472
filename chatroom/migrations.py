"""
The versions of the database's schema and the steps between them, and
bringing an SQLite file up to date (PostgreSQL's is
L{chatroom.pgconnect.ensureSchema}, on the same L{plan}).

C{vN.sql} in the packaged C{chatroom.schema} directory builds version N from
nothing and C{upgrade-to-vN.sql} takes version N-1 to N; each step is applied
atomically, and a database newer than this chatroom is refused. A new version
is two new files per engine and nothing else here: see L{chatroom.statements}.
"""

from __future__ import annotations

import re
import sqlite3
from importlib import resources
from importlib.resources.abc import Traversable

from chatroom import names

_FULL = re.compile(r"v(\d+)\.sql")


class DatabaseError(Exception):
    """
    The database file cannot be used by this version of chatroom.
    """


def schemaFiles() -> Traversable:
    """
    The packaged schema directory: C{vN.sql} builds version N from
    nothing, C{upgrade-to-vN.sql} takes version N-1 to N.
    """
    return resources.files("chatroom.schema")


def targetVersion(schemas: Traversable) -> int:
    """
    The newest schema version present in C{schemas}.
    """
    versions = [
        int(m.group(1)) for entry in schemas.iterdir() if (m := _FULL.fullmatch(entry.name))
    ]
    if not versions:
        raise DatabaseError("no schema files found")
    return max(versions)


def plan(schemas: Traversable, current: int | None) -> list[tuple[int, Traversable]]:
    """
    The scripts that take a database at schema C{current} (L{None}: empty)
    to the newest in C{schemas}, each with the version it makes: the fresh
    C{vN.sql} for an empty database, else each C{upgrade-to-vN.sql} in turn.

    @raise DatabaseError: if the database is newer than this chatroom, or a
        step is missing.
    """
    target = targetVersion(schemas)
    if current is not None and current > target:
        raise DatabaseError(f"database schema v{current} is newer than this chatroom (v{target})")
    if current is None:
        steps = [(target, schemas.joinpath(f"v{target}.sql"))]
    else:
        steps = [
            (version, schemas.joinpath(f"upgrade-to-v{version}.sql"))
            for version in range(current + 1, target + 1)
        ]
    for version, script in steps:
        if not script.is_file():
            raise DatabaseError(f"no way from schema v{current} to v{version} ({script.name})")
    return steps


def schemaVersion(db: sqlite3.Connection) -> int | None:
    """
    The schema version recorded in C{db}, or L{None} for an empty file.
    """
    try:
        row = db.execute("SELECT version FROM version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else int(row[0])


def _apply(db: sqlite3.Connection, script: str, version: int) -> None:
    # executescript commits first; BEGIN...COMMIT makes each step atomic,
    # so a crash or an error mid-upgrade leaves the previous version intact.
    try:
        db.executescript(
            f"BEGIN;\n{script}\n"
            f"DELETE FROM version; INSERT INTO version VALUES ({version});\nCOMMIT;"
        )
    except sqlite3.Error:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def ensureSchema(db: sqlite3.Connection, schemas: Traversable) -> int:
    """
    Bring C{db} to the newest schema in C{schemas}, creating it if empty.

    @return: the version the database now holds.
    @raise DatabaseError: if the file was written by a newer chatroom.
    """
    # Upgrade steps are SQL; what only Python knows is offered as functions.
    db.create_function("chatroom_skeleton", 1, names.key, deterministic=True)
    db.create_function("chatroom_shown_skeleton", 1, names.shownKey, deterministic=True)
    steps = plan(schemas, schemaVersion(db))
    for version, script in steps:
        _apply(db, script.read_text("utf-8"), version)
    return targetVersion(schemas)
