"""Which language a page is in, and numbers, money and dates formatted for it.

Arabic is the default; English is the second language. The switch in the header changes
this browser's pages (a cookie); the language of her messages is a setting of her account,
which also gives her pages their language on a phone that has no choice of its own yet.
"""

from __future__ import annotations

from decimal import Decimal

from babel import numbers
from flask import current_app, has_request_context, request
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

LOCALES = ("ar", "en")
DEFAULT_LOCALE = "ar"
LANG_COOKIE = "lang"
LOCALE_NAMES = {"ar": "العربية", "en": "English"}


def select_locale() -> str:
    """`?lang=` in the URL, else this browser's choice, else the account's, else Arabic.

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
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return DEFAULT_LOCALE


def remember_locale(response, locale: str) -> None:
    """Keep `locale` for this browser's pages, for a year."""
    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def text_direction() -> str:
    return "rtl" if current_locale() == "ar" else "ltr"


def numbering() -> str:
    """The digits of the page: "arab" (١٢٣) on Arabic pages, "latn" (123) on English ones."""
    # Arabic pages use Arabic-Indic digits (١٢٣), as Egyptian schoolbooks and newspapers do.
    return "arab" if current_locale() == "ar" else "latn"


def localise_digits(text: str) -> str:
    """Latin digits in `text` written in the page's digits."""
    # Babel gives the Arabic separators (٬ ٫) but leaves the digits Latin.
    return text.translate(_TO_ARABIC_INDIC) if numbering() == "arab" else text


def format_number(value: int | Decimal) -> str:
    return localise_digits(
        numbers.format_decimal(value, locale=get_locale(), numbering_system=numbering())
    )


def isolate(text: str | None) -> str:
    """Someone's words set apart from the sentence around them (FSI … PDI), so an English
    title in an Arabic sentence, or the other way round, keeps its own direction. For plain
    text (page titles, notifications, email); in markup, <bdi> or dir="auto" does it."""
    return f"\u2068{text}\u2069" if text else ""


def format_day(value) -> str:
    return localise_digits(format_date(value, "long"))


def format_moment(value) -> str:
    return localise_digits(format_datetime(value, "medium"))


def format_short_moment(value) -> str:
    """A day and a time to the minute (a deadline: seconds would only distract)."""
    return localise_digits(format_datetime(value, "short"))


def digits_to_ascii(text: str) -> str:
    """٠١٢٣٤٥٦٧٨٩ and ۰۱۲۳۴۵۶۷۸۹ → 0123456789, for fields that take numbers."""
    return text.translate(_DIGITS)


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TO_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
