"""Which language a page is in, and numbers, money and dates formatted for it.

Arabic is the default; English is the second language. The choice is kept in a cookie
(for everyone) and on the account (so it follows her to another phone).
"""

from __future__ import annotations

from decimal import Decimal

from babel import numbers
from flask import has_request_context, request
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

LOCALES = ("ar", "en")
DEFAULT_LOCALE = "ar"
LANG_COOKIE = "lang"
LOCALE_NAMES = {"ar": "العربية", "en": "English"}


def select_locale() -> str:
    """`?lang=` in the URL, else the account's language, else the cookie's, else Arabic.

    The URL wins so that each language of a public page has an address of its own (for
    search engines' hreflang and for shared links); it changes nothing stored.
    Outside a request (command-line tools) English: operators read the CLI in English, and
    anything sent to a person from there uses `force_locale` with her own language.
    """
    if not has_request_context():
        return "en"
    from_url = request.args.get("lang")
    if from_url in LOCALES:
        return from_url
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def text_direction() -> str:
    return "rtl" if current_locale() == "ar" else "ltr"


def _numbering() -> str:
    # Arabic pages use Arabic-Indic digits (١٢٣), as Egyptian schoolbooks and newspapers do.
    return "arab" if current_locale() == "ar" else "latn"


def _localise_digits(text: str) -> str:
    # Babel gives the Arabic separators (٬ ٫) but leaves the digits Latin.
    return text.translate(_TO_ARABIC_INDIC) if _numbering() == "arab" else text


def format_number(value: int | Decimal) -> str:
    return _localise_digits(
        numbers.format_decimal(value, locale=get_locale(), numbering_system=_numbering())
    )


def format_money(minor_units: int, currency: str = "EGP") -> str:
    """Piastres (an int) as money in the page's language: ‏١٬٢٥٠٫٥٠ ج.م.‏ / EGP 1,250.50.

    Whole pounds are written without ".00" (٣٥٠ ج.م.), as prices are written in Egypt.
    """
    if not isinstance(minor_units, int):
        raise TypeError("money is an integer count of minor units")
    amount = Decimal(minor_units) / Decimal(100)
    locale = get_locale()
    if current_locale() == "en":
        # English would print "EGP1,250.50"; a space reads better.
        pattern = "¤\xa0#,##0.00"
    else:
        pattern = locale.currency_formats["standard"].pattern
    if minor_units % 100 == 0:
        pattern = pattern.replace(".00", "")
    text = numbers.format_currency(
        amount,
        currency,
        format=pattern,
        locale=locale,
        numbering_system=_numbering(),
        currency_digits=False,
    )
    return _localise_digits(text)


def format_day(value) -> str:
    return _localise_digits(format_date(value, "long"))


def format_moment(value) -> str:
    return _localise_digits(format_datetime(value, "medium"))


def digits_to_ascii(text: str) -> str:
    """٠١٢٣٤٥٦٧٨٩ and ۰۱۲۳۴۵۶۷۸۹ → 0123456789, for fields that take numbers."""
    return text.translate(_DIGITS)


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TO_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
