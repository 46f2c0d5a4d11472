"""
Durations as moderators and C{chatroom-admin} type them, and ends as the protocol shows them.
"""

from __future__ import annotations

import pytest

from chatroom import durations


@pytest.mark.parametrize(
    ("word", "seconds"),
    [("1m", 60), ("10m", 600), ("2h", 7200), ("3d", 259200), ("36500d", 36500 * 86400)],
)
def test_durations(word, seconds):
    assert durations.parse(word) == seconds


def test_forever_has_no_end():
    assert durations.parse("forever") is None
    assert durations.until(1000, None) is None
    assert durations.shown(None) == "-"


@pytest.mark.parametrize(
    "word",
    [
        "",
        "0m",
        "00m",
        "10",
        "m",
        "1w",
        "-1h",
        "+1h",
        "1.5h",
        "10M",
        "1h30m",
        " 1h",
        "١h",
        "Forever",
        "36501d",
        "9999999d",
    ],
)
def test_anything_else_is_refused(word):
    with pytest.raises(durations.BadDuration):
        durations.parse(word)


def test_ends_are_shown_in_rfc_3339_utc_with_milliseconds():
    assert durations.until(1_000, 60) == 61_000
    assert durations.shown(1_796_527_016_048) == "2026-12-06T03:16:56.048Z"
