"""
The moderation tables of schema v4 (protocol section 11): C{sanctions} (bans and mutes, one of
each kind per account at most), C{moderation} (one row: the slow-mode setting and the count of
changes, see L{chatroom.statements.accounts.bumpChanges}) and C{audit} (every action, kept).
"""

from __future__ import annotations

from typing import Any

from chatroom.statements import Connection
from chatroom.statements.accounts import bumpChanges
from chatroom.store import AuditRecord, Sanction

_SANCTION = "SELECT account_key, name, kind, until_ms, reason, actor, at_ms FROM sanctions"
# Soonest end first, forever (NULL) last, then by name: the same order on both engines.
_SOONEST = " ORDER BY (until_ms IS NULL), until_ms, account_key, kind"


def _sanction(row: Any) -> Sanction:
    return Sanction(
        row[0], row[1], row[2], None if row[3] is None else int(row[3]), row[4], row[5], int(row[6])
    )


def addSanction(db: Connection, sanction: Sanction) -> None:
    """
    Ban or mute, replacing any ban (or mute) of that account.
    """

    def add(db: Connection) -> None:
        db.execute(
            "INSERT INTO sanctions (account_key, name, kind, until_ms, reason, actor, at_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (account_key, kind) DO UPDATE SET name = excluded.name,"
            " until_ms = excluded.until_ms, reason = excluded.reason,"
            " actor = excluded.actor, at_ms = excluded.at_ms",
            (
                sanction.key,
                sanction.name,
                sanction.kind,
                sanction.until,
                sanction.reason,
                sanction.actor,
                sanction.at,
            ),
        )
        bumpChanges(db)

    db.atomically(add)


def removeSanction(db: Connection, accountKey: str, kind: str) -> bool:
    """
    Lift the ban (or mute) of C{accountKey}; C{False} if there was none.
    """

    def remove(db: Connection) -> bool:
        cursor = db.execute(
            "DELETE FROM sanctions WHERE account_key = ? AND kind = ?", (accountKey, kind)
        )
        if cursor.rowcount == 0:
            return False
        bumpChanges(db)
        return True

    return db.atomically(remove)


def sanctionsInForce(db: Connection, nowMs: int) -> list[Sanction]:
    """
    The bans and mutes that hold at C{nowMs}, soonest end first, forever last.
    """
    rows = db.execute(
        _SANCTION + " WHERE until_ms IS NULL OR until_ms > ?" + _SOONEST, (nowMs,)
    ).fetchall()
    return [_sanction(row) for row in rows]


def sanctionsOf(db: Connection, accountKey: str, nowMs: int) -> list[Sanction]:
    """
    The ban and the mute of C{accountKey} that hold at C{nowMs} (none, one or both).
    """
    rows = db.execute(
        _SANCTION + " WHERE account_key = ? AND (until_ms IS NULL OR until_ms > ?)" + _SOONEST,
        (accountKey, nowMs),
    ).fetchall()
    return [_sanction(row) for row in rows]


def slow(db: Connection) -> int:
    """
    Slow mode's seconds between two public messages of a user; 0: off.
    """
    row = db.execute("SELECT slow FROM moderation").fetchone()
    return 0 if row is None else int(row[0])


def setSlow(db: Connection, seconds: int) -> None:
    """
    Set slow mode (0: off).
    """

    def change(db: Connection) -> None:
        db.execute("UPDATE moderation SET slow = ?", (seconds,))
        bumpChanges(db)

    db.atomically(change)


def appendAudit(db: Connection, record: AuditRecord) -> None:
    """
    Keep C{record}.
    """
    db.execute(
        "INSERT INTO audit (at_ms, node, actor, action, target, until_ms, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            record.at,
            record.node,
            record.actor,
            record.action,
            record.target,
            record.until,
            record.reason,
        ),
    )


def auditLog(db: Connection, limit: int) -> list[AuditRecord]:
    """
    The last C{limit} audit records, newest first.
    """
    rows = db.execute(
        "SELECT at_ms, node, actor, action, target, until_ms, reason FROM audit"
        " ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        AuditRecord(int(r[0]), r[1], r[2], r[3], r[4], None if r[5] is None else int(r[5]), r[6])
        for r in rows
    ]
