"""
The C{history} table: the room's last public messages (L{chatroom.history}), in the order
said.
"""

from __future__ import annotations

from chatroom.statements import Connection
from chatroom.store import Said


def trim(db: Connection, keep: int) -> int:
    """
    Delete all but the newest C{keep} messages; how many were deleted.
    """
    return db.execute(
        "DELETE FROM history"
        " WHERE id <= (SELECT id FROM history ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (keep,),
    ).rowcount


def append(db: Connection, batch: list[Said], keep: int) -> int:
    """
    Add C{batch}, then delete what fell out of the newest C{keep}, in one transaction; how
    many were deleted.
    """

    def insert(db: Connection) -> int:
        db.executemany(
            "INSERT INTO history (at, sender, transport, text) VALUES (?, ?, ?, ?)", batch
        )
        return trim(db, keep)

    return db.atomically(insert)


def load(db: Connection, keep: int) -> tuple[list[Said], int]:
    """
    The newest C{keep} messages, oldest first, once the older ones are deleted; and how many
    were.
    """

    def load(db: Connection) -> tuple[list[Said], int]:
        trimmed = trim(db, keep)
        rows = db.execute("SELECT at, sender, transport, text FROM history ORDER BY id").fetchall()
        return rows, trimmed

    return db.atomically(load)
