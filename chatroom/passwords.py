"""
Password hashing: salted, slow, and never on the reactor thread.

Hashing is deliberately expensive (tens of milliseconds of CPU and memory
hardness), so every call here is blocking; callers run them with
C{deferToThread}.
"""

from __future__ import annotations

import precis_i18n
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_PASSWORD = 256

_OPAQUE = precis_i18n.get_profile("OpaqueString")


class BadPassword(ValueError):
    """
    A password that the PRECIS OpaqueString profile refuses; the message
    says why.
    """


def prepare(password: str) -> str:
    """
    The form of C{password} that is hashed and compared (protocol 1.1):
    PRECIS OpaqueString (RFC 8265 section 4.2), so that C{café} typed
    composed or decomposed, or with a no-break space for a space, is one
    password.

    @raise BadPassword: for a password the profile refuses (invisible or
        unassigned characters, nothing at all).
    """
    try:
        return _OPAQUE.enforce(password)
    except UnicodeEncodeError as e:
        if e.end - e.start == 1:
            char = f"U+{ord(e.object[e.start]):04X}"
            why = str(e.reason).split("/")[-1].replace("_", " ")
            raise BadPassword(f"passwords cannot hold {char} ({why})") from None
        raise BadPassword("a password is needed") from None
    except UnicodeError:
        raise BadPassword("passwords cannot hold invisible or unassigned characters") from None


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
