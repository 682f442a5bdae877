"""Phone numbers: any common way of writing an Egyptian (or international) number, as E.164."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "EG"


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """`01012345678`, `+20 10 1234 5678`, `0020…`, `٠١٠…` → `+201012345678`; None if not a number.

    phonenumbers reads Arabic-Indic and Persian digits itself; a number that is not valid
    for its country (a missing digit, say) gives None.
    """
    raw = (raw or "").strip()
    if not raw or len(raw) > 40:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    """An Egyptian mobile the way people say it (010 1234 5678); others internationally."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, None)
    if number.country_code == 20:
        national = f"0{number.national_number}"
        if len(national) == 11:  # mobiles: 01X XXXX XXXX
            return f"{national[:3]} {national[3:7]} {national[7:]}"
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def whatsapp_url(e164: str) -> str:
    return f"https://wa.me/{e164.lstrip('+')}"
