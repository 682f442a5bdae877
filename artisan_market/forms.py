"""The base every form of the site uses: text arrives clean, whatever was typed or pasted."""

from __future__ import annotations

import unicodedata

from flask_wtf import FlaskForm
from wtforms import PasswordField, validators

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
        from artisan_market.i18n import format_number

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
