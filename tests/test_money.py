"""Money, read and written one way (money.py): what people type, what pages show, what a
payment provider counts. Every expectation is written out here."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from artisan_market import money

READ = [
    ("250", 25000),
    ("٢٥٠", 25000),
    ("۲۵۰", 25000),  # Persian digits
    ("125.5", 12550),
    ("125.50", 12550),
    ("١٢٥٫٥٠", 12550),  # Arabic decimal mark
    ("١٢٥،٥٠", 12550),  # Arabic comma before two digits: a decimal mark
    ("125,50", 12550),
    ("12,5", 1250),
    ("1,250", 125000),  # before three digits: thousands
    ("١٬٢٥٠", 125000),  # Arabic thousands separator
    ("1,250,000.75", 125000075),
    (" 300 ج.م ", 30000),
    ("٣٠٠ جنيه", 30000),
    ("EGP 45", 4500),
    ("1 250", 125000),  # a space between groups
    ("", None),
    ("   ", None),
]
REFUSED = ["abc", "-5", "1.234", "1,2345", "12,", ",5", "1e3", "1.2.3", "٢٥٠ دولار", "0x10"]


@pytest.mark.parametrize(("typed", "minor"), READ)
def test_what_people_type_is_read_as_piastres(typed, minor):
    assert money.parse(typed) == minor


@pytest.mark.parametrize("typed", REFUSED)
def test_what_is_not_an_amount_is_refused_with_an_example(app, typed):
    """Is it refused, with an example that shows piastres, in the page's digits?"""
    with pytest.raises(money.NotMoney) as refused, app.test_request_context():
        money.parse(typed)
    with app.test_request_context():
        with force_locale("en"):
            assert "250" in str(refused.value.message) and "125.50" in str(refused.value.message)
        with force_locale("ar"):
            assert "١٢٥٫٥٠" in str(refused.value.message)


def test_amounts_written_back(app):
    with app.test_request_context():
        assert money.plain_text(25000) == "250"
        assert money.plain_text(12550) == "125.50"
        assert money.decimal_text(25000) == "250.00"
        assert money.decimal_text(5) == "0.05"
        with force_locale("ar"):
            assert money.amount_text(12550) == "١٢٥٫٥٠"
            assert money.format_money(125050) == "\u200f١٬٢٥٠٫٥٠\xa0ج.م.\u200f"
        with force_locale("en"):
            assert money.amount_text(12550) == "125.50"
            assert money.format_money(125050) == "EGP\xa01,250.50"
        assert money.amount_text(None) == ""
        for not_money in (12.5, None, True, "100"):
            with pytest.raises(TypeError):
                money.format_money(not_money)


@pytest.mark.parametrize(
    ("minor", "currency", "provider"),
    [(12550, "EGP", 12550), (100, "USD", 100), (500, "JPY", 500), (1230, "KWD", 1230)],
)
def test_provider_amounts(minor, currency, provider):
    """Stripe counts EGP and USD in hundredths, JPY in whole yen, KWD in thousandths (fils,
    as we do) with the last digit 0."""
    assert money.to_provider(minor, currency) == provider
    assert money.from_provider(provider, currency) == minor


def test_an_amount_finer_than_the_provider_takes_is_refused():
    with pytest.raises(ValueError):
        money.to_provider(1234, "KWD")
