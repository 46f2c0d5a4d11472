"""
The real headless Chromium and a server process with its page, for the
browser tests of this folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.browser import Room, needChromium, startChromium


@pytest.fixture
def chromium() -> Iterator[Any]:
    needChromium()
    driver = startChromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    needChromium()
    room = Room(tmp_path)
    try:
        yield room
    finally:
        room.stop()
