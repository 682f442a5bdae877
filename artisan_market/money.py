"""Money, in one place: an integer count of minor units (piastres) and an ISO 4217 currency.

    parse("١٢٥،٥٠")          → 12550        what she typed, in any digits and marks
    format_money(12550)      → ‏١٢٥٫٥٠ ج.م.‏ / EGP 125.50, for the page's language
    amount_text(12550)       → "125.50" / "١٢٥٫٥٠", as she would type it back into a form
    plain_text(25000)        → "250", short, for query strings
    decimal_text(25000)      → "250.00", every decimal, for schema.org
    to_provider / from_provider: the amount a payment provider counts in

No floats anywhere: amounts are ints, and text is turned into ints by string arithmetic.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from babel import numbers
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from artisan_market.i18n import current_locale, digits_to_ascii, localise_digits, numbering

DEFAULT_CURRENCY = "EGP"

# How people write "pounds" after a number; dropped before reading it.
_CURRENCY_WORDS = ("ج.م.", "ج.م", "جنيهاً", "جنيها", "جنيه", "egp", "l.e.", "l.e", "le")
# Spaces of every width, and the invisible marks that keep digits in order in Arabic text.
_INVISIBLE = dict.fromkeys(map(ord, " \u00a0\u2009\u202f\u200e\u200f\u061c\u066c'"), None)
_MARKS = str.maketrans({"٫": ".", "،": ","})
_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")
_AMOUNT = re.compile(r"(\d{1,12})(?:\.(\d+))?")
# Stripe counts these currencies in whole units, the three-decimal ones in thousandths (with
# the last digit 0), everything else in hundredths, like us.
_THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
_ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)


class NotMoney(ValueError):
    """The text is not an amount; `message` says how to write one."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def minor_digits(currency: str = DEFAULT_CURRENCY) -> int:
    """How many digits the currency has after its decimal mark (EGP: 2)."""
    return numbers.get_currency_precision(currency)


def parse(text: str | None, currency: str = DEFAULT_CURRENCY) -> int | None:
    """What she typed → minor units; None when she typed nothing.

    Takes Arabic-Indic or Latin digits; ٫ or . for the decimal mark, and , or ، too when one
    or two digits follow it (١٢٥،٥٠, 125,50); thousands grouped by , or ٬ (1,250); spaces;
    "ج.م" or "جنيه" after the number. Refuses (NotMoney) anything else, a negative amount,
    and more decimals than the currency has.
    """
    text = unicodedata.normalize("NFKC", digits_to_ascii(text or "")).strip().casefold()
    for word in _CURRENCY_WORDS:
        text = text.removesuffix(word).removeprefix(word).strip()
    text = text.translate(_INVISIBLE).translate(_MARKS)
    if not text:
        return None
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    elif _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    match = _AMOUNT.fullmatch(text)
    places = minor_digits(currency)
    if match is None or len(match.group(2) or "") > places:
        raise NotMoney(example_message(currency))
    whole, fraction = match.group(1), match.group(2) or ""
    return int(whole) * 10**places + int((fraction + "0" * places)[:places] or 0)


def example_message(currency: str = DEFAULT_CURRENCY):
    """How to write an amount, with an example in the page's digits."""
    return _l(
        "Write the amount in pounds with digits, and piastres after a comma or point if any. "
        "Example: %(whole)s or %(piastres)s",
        whole=_Example(25000, currency),
        piastres=_Example(12550, currency),
    )


class _Example:
    """An example amount, written when the message is (in the language of that moment)."""

    def __init__(self, minor: int, currency: str):
        self.minor, self.currency = minor, currency

    def __str__(self) -> str:
        return amount_text(self.minor, self.currency)


def plain_text(minor: int, currency: str = DEFAULT_CURRENCY) -> str:
    """ "125.50", "250" (whole amounts without decimals): for schema.org and query strings."""
    places = minor_digits(currency)
    whole, rest = divmod(minor, 10**places)
    return f"{whole}" if rest == 0 else f"{whole}.{rest:0{places}d}"


def decimal_text(minor: int, currency: str = DEFAULT_CURRENCY) -> str:
    """ "350.00", "125.50": every decimal written, for machines that read prices (schema.org)."""
    places = minor_digits(currency)
    whole, rest = divmod(minor, 10**places)
    return f"{whole}.{rest:0{places}d}" if places else f"{whole}"


def amount_text(minor: int | None, currency: str = DEFAULT_CURRENCY) -> str:
    """The amount as she would type it, in the page's digits: "١٢٥٫٥٠" or "125.50"."""
    if minor is None:
        return ""
    text = plain_text(minor, currency)
    if numbering() == "arab":
        text = text.replace(".", "٫")
    return localise_digits(text)


def format_money(minor: int, currency: str = DEFAULT_CURRENCY) -> str:
    """Minor units as money in the page's language: ‏١٬٢٥٠٫٥٠ ج.م.‏ / EGP 1,250.50.

    Whole pounds are written without ".00" (٣٥٠ ج.م.), as prices are written in Egypt.
    Refuses (TypeError) anything but an int: money is never a float, and None is not zero.
    """
    if not isinstance(minor, int) or isinstance(minor, bool):
        raise TypeError("money is an integer count of minor units")
    places = minor_digits(currency)
    amount = Decimal(minor).scaleb(-places)
    locale = get_locale()
    if current_locale() == "en":
        # English would print "EGP1,250.50"; a space reads better.
        pattern = "¤\xa0#,##0." + "0" * places
    else:
        pattern = locale.currency_formats["standard"].pattern
    if minor % 10**places == 0:
        pattern = pattern.replace("." + "0" * places, "")
    text = numbers.format_currency(
        amount,
        currency,
        format=pattern,
        locale=locale,
        numbering_system=numbering(),
        currency_digits=False,
    )
    return localise_digits(text)


def _provider_digits(currency: str) -> int:
    code = currency.upper()
    return 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2


def _rescale(amount: int, places: int, to_places: int, currency: str) -> int:
    if places <= to_places:
        return amount * 10 ** (to_places - places)
    whole, rest = divmod(amount, 10 ** (places - to_places))
    if rest:
        raise ValueError(f"{amount} has more decimals than {currency} takes here")
    return whole


def to_provider(minor: int, currency: str = DEFAULT_CURRENCY) -> int:
    """The amount as a payment provider (Stripe) counts it, in its smallest unit.

    Refuses (ValueError) an amount finer than the provider can take (Stripe takes the
    three-decimal currencies in thousandths, the last digit 0).
    """
    amount = _rescale(minor, minor_digits(currency), _provider_digits(currency), currency)
    if currency.upper() in _THREE_DECIMAL and amount % 10:
        raise ValueError(f"{minor} has more decimals than {currency} takes here")
    return amount


def from_provider(amount: int, currency: str = DEFAULT_CURRENCY) -> int:
    """A provider's amount back in our minor units (the inverse of `to_provider`)."""
    return _rescale(amount, _provider_digits(currency), minor_digits(currency), currency)
