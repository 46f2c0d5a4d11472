"""
How C{chatroom-admin} writes its answers: one line per account, sanction or
audit record, columns separated by two spaces (names hold no spaces, so
C{awk} and C{cut} can take them apart), times in RFC 3339 UTC.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence


def instant(seconds: float) -> str:
    """
    A time (seconds since the epoch) as RFC 3339 UTC, to the second.
    """
    moment = datetime.datetime.fromtimestamp(int(seconds), datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """
    C{rows} as lines, each column as wide as its widest cell (the last
    column left as it is).
    """
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + list(row[-1:])
        lines.append("  ".join(cells).rstrip())
    return lines
