"""Password hashing (argon2id) and the password rules of OWASP ASVS 5.0 (6.2).

Rules: at least 8 characters, up to 128 allowed, any characters (Arabic included), no
composition rules, and none of the 30,000 most common passwords.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from artisan_market.i18n import digits_to_ascii
from artisan_market.transactions import slow_work

MIN_LENGTH = 8
MAX_LENGTH = 128

# argon2id, 19 MiB, t=2, p=1: the minimum OWASP recommends, and about 30 ms on this hardware.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
# Verified against when the account does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


def normalise(password: str) -> str:
    """NFKC and Latin digits, so one password typed on two keyboards (١٢٣ or 123) matches."""
    return digits_to_ascii(unicodedata.normalize("NFKC", password))


def hash_password(password: str) -> str:
    """argon2id of the password (about 30 ms of CPU: no transaction is held meanwhile)."""
    with slow_work():
        return _hasher.hash(normalise(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; also spends the same time when there is no hash.

    No transaction is held while it works (see `hash_password`)."""
    with slow_work():
        return _verify(password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        if password_hash is None:
            _hasher.verify(_DUMMY_HASH, normalise(password))
            return False
        return _hasher.verify(password_hash, normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """True for the 30,000 most used passwords (zxcvbn's list), case-insensitive."""
    return normalise(password).casefold() in _common_passwords()
