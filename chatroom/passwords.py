"""
Password hashing: salted, slow, and never on the reactor thread.

Hashing is deliberately expensive (tens of milliseconds of CPU and memory
hardness), so every call here is blocking; callers run them with
C{deferToThread}.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_PASSWORD = 256

#: OWASP's argon2id baseline: 19 MiB of memory, two passes, one lane.
OWASP = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class Passwords:
    """
    Hash and verify passwords with one set of argon2id parameters.

    Tests may pass a cheaper L{PasswordHasher}; servers use L{OWASP}.
    """

    def __init__(self, hasher: PasswordHasher = OWASP) -> None:
        self._hasher = hasher

    def hash(self, password: str) -> str:
        """
        A PHC-format hash string, salt and parameters included.
        """
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """
        Whether C{password} matches the C{stored} hash.
        """
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needsRehash(self, stored: str) -> bool:
        """
        Whether C{stored} was made with other parameters than ours, so that
        raising the parameters upgrades each account at its next login.
        """
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
