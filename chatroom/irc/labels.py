"""
IRCv3 labeled-response: the answer to a line that carried a C{label}, as
the lines to send. Pure, so the connection (L{chatroom.irc.door}) only
gathers the answer and keeps the count of its batches.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatroom.irc import wire


def labeled(lines: Sequence[bytes], label: str, server: str, batch: str | None) -> list[bytes]:
    """
    The answer C{lines} to a line labeled C{label}: C{ACK} for none, the
    label on a single line, a C{labeled-response} batch named C{batch}
    around several (or the lines as they are, for a client without
    C{batch}: then C{batch} is L{None}).
    """
    if not lines:
        return [wire.format("ACK", [], server, {"label": label})]
    if len(lines) == 1:
        return [wire.withTags(lines[0], {"label": label})]
    if batch is None:
        return list(lines)
    return [
        wire.format("BATCH", ["+" + batch, "labeled-response"], server, {"label": label}),
        *(wire.withTags(line, {"batch": batch}) for line in lines),
        wire.format("BATCH", ["-" + batch], server),
    ]
