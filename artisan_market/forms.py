"""The base every form of the site uses: text arrives clean, whatever was typed or pasted."""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, validators
from wtforms.validators import ValidationError

from artisan_market import money
from artisan_market.i18n import digits_to_ascii, format_number

_KEEP = {"\t", "\n"}
# Right-to-left embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI):
# typed into a title they reorder the words around them ("حصيرة \u202egnp.exe" shows as
# "حصيرة exe.png"). The page isolates her text itself (`i18n.isolate`, dir="auto").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(value):
    """Drop control characters (NUL breaks PostgreSQL; others are invisible junk) and bidi
    embedding, override and isolate characters; NFC."""
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(
        ch
        for ch in value
        if ch in _KEEP or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS)
    )
    return unicodedata.normalize("NFC", value)


def strip(value):
    """A filter: spaces around what she typed are not part of it."""
    return value.strip() if isinstance(value, str) else value


def show_rule_error(form, error) -> None:
    """Put a RuleError's message on its field, or above the form when it names none; the
    error stays on the form (`rule_error`) for the page to say more about it."""
    form.rule_error = error
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        form.form_errors.append(str(error.message))
    else:
        field.errors = [*field.errors, str(error.message)]


class Form(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            # Passwords are hashed as typed; everything else is cleaned before validation.
            if unbound_field.field_class is not PasswordField:
                options["filters"] = [clean_text, *unbound_field.kwargs.get("filters", ())]
            return unbound_field.bind(form=form, **options)


class Length(validators.Length):
    """WTForms' Length, with the numbers in its message in the page's digits (٨ or 8).

    Messages use %(min)s, %(max)s and %(length)s.
    """

    def __call__(self, form, field):
        length = len(field.data or "")
        if length >= self.min and (self.max == -1 or length <= self.max):
            return
        raise validators.ValidationError(
            str(self.message)
            % {
                "min": format_number(self.min),
                "max": format_number(self.max),
                "length": format_number(length),
            }
        )


class EmptyForm(Form):
    """A button-only POST (log out, language, a confirmation): just the CSRF token."""


class CountField(StringField):
    """A whole number typed in any digits (٣ or 3); `number` is the int (None when empty)."""

    number: int | None = None

    def __init__(self, *args, minimum: int = 0, maximum: int = 9999, **kwargs):
        super().__init__(*args, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        if not valuelist:
            return  # not sent: what process_data made of the default stands
        super().process_formdata(valuelist)
        text = digits_to_ascii((self.data or "").strip())
        self.number = int(text) if re.fullmatch(r"\d{1,9}", text) else None
        self.parse_error = bool(text) and self.number is None

    def process_data(self, value):
        super().process_data(value)
        self.number = value if isinstance(value, int) else None
        self.parse_error = False

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_number(self.number) if self.number is not None else ""

    def pre_validate(self, form):
        if getattr(self, "parse_error", False) or (
            self.number is not None and not self.minimum <= self.number <= self.maximum
        ):
            raise ValidationError(
                _l(
                    "Write a whole number from %(min)s to %(max)s.",
                    min=format_number(self.minimum),
                    max=format_number(self.maximum),
                )
            )


class AmountField(StringField):
    """Pounds as typed (١٢٥٫٥٠, ١٢٥،٥٠, 125,50, 1,250 ج.م) → `piastres` (int); None when empty.

    More decimals than the currency has, a sign, or text are refused with a message saying
    how to write an amount. `minimum` and `maximum` (piastres) bound it; `range_message`
    (with %(min)s and %(max)s) says so, or the default messages do.
    """

    piastres: int | None = None
    refusal = None

    def __init__(
        self, *args, minimum: int = 1, maximum: int = 100_000_000, range_message=None, **kwargs
    ):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(*args, **kwargs)
        self.minimum, self.maximum, self.range_message = minimum, maximum, range_message

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.piastres, self.refusal = None, None
        try:
            self.piastres = money.parse(self.data)
        except money.NotMoney as refused:
            self.refusal = refused.message

    def process_data(self, value):
        super().process_data(None if value is None else money.amount_text(value))
        self.piastres, self.refusal = value, None

    def pre_validate(self, form):
        if self.refusal is not None:
            raise ValidationError(self.refusal)
        if self.piastres is None or self.minimum <= self.piastres <= self.maximum:
            return
        if self.range_message is not None:
            raise ValidationError(
                str(self.range_message)
                % {
                    "min": money.format_money(self.minimum),
                    "max": money.format_money(self.maximum),
                }
            )
        if self.piastres < self.minimum:
            raise ValidationError(_l("Enter an amount above zero."))
        raise ValidationError(
            _l("Write an amount up to %(max)s.", max=money.format_money(self.maximum))
        )
