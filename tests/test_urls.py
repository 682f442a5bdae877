"""Numbers from a URL are read one way (urls.url_int): ASCII or Arabic-Indic digits only."""

from __future__ import annotations

import pytest

from artisan_market.urls import url_int


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("3", 3),
        ("٣", 3),
        ("۳", 3),
        (" 12 ", 12),
        ("0", 0),
        ("²", None),
        ("①", None),
        ("1²", None),
        ("３", None),  # full-width: int() would take it, a URL should not
        ("-3", None),
        ("+3", None),
        ("3.0", None),
        ("", None),
        (None, None),
        ("1" * 10, None),
        ("9" * 9, 999_999_999),
    ],
)
def test_url_int(text, number):
    assert url_int(text) == number


def test_bounds():
    assert url_int("0", minimum=1) is None
    assert url_int("11", maximum=10) is None
    assert url_int("10", minimum=1, maximum=10) == 10
