"""
System programs some tests need (PostgreSQL, redis-server, ngIRCd, Chromium):
CI installs them all (C{.ci/system-packages}), so there a missing one fails
the test; on a developer's machine it skips it, saying what to install.
"""

from __future__ import annotations

import os

import pytest


def need(present: bool, what: str, install: str) -> None:
    """
    Go on if C{present}; otherwise fail under CI, skip elsewhere.

    @param what: the program, as the message names it.
    @param install: how to install it, for the skip message.
    """
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must have {what} (.ci/system-packages)")
    pytest.skip(f"{what} is not installed ({install})")
