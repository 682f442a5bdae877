"""Password hashes are argon2id with OWASP's minimum cost; ASVS password rules hold."""

import pytest
from argon2 import extract_parameters

from artisan_market.accounts.passwords import (
    hash_password,
    is_common,
    verify_password,
)


def test_hash_is_argon2id_with_at_least_19_mib_and_t2():
    """Is the hash argon2id with memory ≥ 19 MiB and time cost ≥ 2?"""
    digest = hash_password("a long enough secret")
    assert digest.startswith("$argon2id$")
    params = extract_parameters(digest)
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2


def test_verify_accepts_only_the_password():
    digest = hash_password("كلمة سر طويلة")
    assert verify_password(digest, "كلمة سر طويلة")
    assert not verify_password(digest, "كلمة سر طويله")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_arabic_indic_digits_match_latin_ones():
    """Typed on an Arabic keyboard one day and a Latin one the next, a password still works."""
    digest = hash_password("souq٢٠٢٦pass")
    assert verify_password(digest, "souq2026pass")


@pytest.mark.parametrize("password", ["password", "12345678", "Qwerty123", "iloveyou", "١٢٣٤٥٦٧٨"])
def test_common_passwords_are_known(password):
    assert is_common(password)


def test_a_long_passphrase_is_not_common():
    assert not is_common("سلال الخوص من أسوان ٢٠٢٦")
