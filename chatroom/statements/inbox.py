"""
The C{inbox} table: direct messages kept for registered users who were offline
(L{chatroom.inbox}), each under its recipient's account key (C{recipient_key}, an
C{accounts.name_key}).
"""

from __future__ import annotations

from chatroom.statements import Connection
from chatroom.store import InboxFull, Said


def keep(db: Connection, recipientKey: str, said: Said, limit: int) -> tuple[str, int] | None:
    """
    Keep C{said} for the account C{recipientKey}: its registered spelling and how many
    messages now wait for it, or L{None} if no account has that key.

    @raise InboxFull: if C{limit} messages wait already (nothing is kept).
    """

    def keep(db: Connection) -> tuple[str, int] | None:
        row = db.execute("SELECT name FROM accounts WHERE name_key = ?", (recipientKey,)).fetchone()
        if row is None:
            return None
        (count,) = db.execute(
            "SELECT count(*) FROM inbox WHERE recipient_key = ?", (recipientKey,)
        ).fetchone()
        if count >= limit:
            raise InboxFull(row[0])
        db.execute(
            "INSERT INTO inbox (recipient_key, at, sender, transport, text) VALUES (?, ?, ?, ?, ?)",
            (recipientKey, *said),
        )
        return row[0], count + 1

    return db.atomically(keep)


def waiting(db: Connection, recipientKey: str, since: int) -> list[tuple[int, Said]]:
    """
    The messages kept for C{recipientKey} since C{since} (milliseconds since the epoch),
    oldest first, each with its id.
    """
    rows = db.execute(
        "SELECT id, at, sender, transport, text FROM inbox"
        " WHERE recipient_key = ? AND at >= ? ORDER BY id",
        (recipientKey, since),
    )
    return [(row[0], row[1:]) for row in rows]


def delete(db: Connection, ids: list[int]) -> None:
    """
    Delete the messages C{ids}, all or none.
    """

    def delete(db: Connection) -> None:
        db.executemany("DELETE FROM inbox WHERE id = ?", [(i,) for i in ids])

    db.atomically(delete)


def expire(db: Connection, before: int) -> int:
    """
    Delete the messages kept before C{before} (milliseconds since the epoch); how many.
    """
    return db.execute("DELETE FROM inbox WHERE at < ?", (before,)).rowcount
