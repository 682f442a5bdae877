"""Every common way of writing an Egyptian number is the same account."""

import pytest

from artisan_market.accounts.phones import display_phone, normalise_phone

SAME_NUMBER = [
    "01012345678",
    "010 1234 5678",
    "010-1234-5678",
    "+201012345678",
    "+20 10 1234 5678",
    "00201012345678",
    "0020 10 1234 5678",
    "(010) 12345678",
    "٠١٠١٢٣٤٥٦٧٨",  # Arabic-Indic digits
    "٠١٠ ١٢٣٤ ٥٦٧٨",
    "+٢٠١٠١٢٣٤٥٦٧٨",
    "۰۱۰۱۲۳۴۵۶۷۸",  # Persian (Eastern Arabic-Indic) digits, as some keyboards type
    " 01012345678 ",
]


@pytest.mark.parametrize("raw", SAME_NUMBER)
def test_egyptian_forms_normalise_to_one_e164(raw):
    """Does each way of writing her number give the same E.164 value?"""
    assert normalise_phone(raw) == "+201012345678"


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "0101234567", "010123456789", "12345", "phone", "<b>010</b>", "٠١٠", "0" * 50],
)
def test_not_numbers_are_refused(raw):
    """Is anything that is not a valid number refused (None), not stored half-right?"""
    assert normalise_phone(raw) is None


def test_other_countries_are_kept_international():
    """A buyer abroad types her number with its country code."""
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"


def test_display_is_national_for_egypt():
    assert display_phone("+201012345678") == "010 1234 5678"
    assert display_phone("+442079460958").startswith("+44")
