"""What a URL's query string may say, read one way everywhere.

A query string is typed by anyone: numbers are read by `url_int` (ASCII or Arabic-Indic digits
only; `str.isdigit` would take "²" and "①", which `int()` then refuses), and a page passes on
only the parameters it knows (`known_args`): never `_method`, `_external` or `_scheme`, which
`url_for` would obey.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from flask import request

from artisan_market.i18n import digits_to_ascii

_WHOLE_NUMBER = re.compile(r"[0-9٠-٩۰-۹]{1,9}")


def url_int(text: str | None, *, minimum: int = 0, maximum: int = 2**31 - 1) -> int | None:
    """A whole number written with ASCII or Arabic-Indic digits, within bounds; else None."""
    if text is None or not _WHOLE_NUMBER.fullmatch(text.strip()):
        return None
    number = int(digits_to_ascii(text.strip()))
    return number if minimum <= number <= maximum else None


def known_args(names: Iterable[str], args: Mapping[str, str] | None = None) -> dict[str, str]:
    """The query parameters in `names` that have a value, as text; nothing else."""
    args = request.args if args is None else args
    return {name: args[name] for name in names if args.get(name)}
