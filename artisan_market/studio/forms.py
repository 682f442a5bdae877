"""Listing forms, for a phone keyboard: numbers in Arabic-Indic or Latin digits."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from artisan_market.catalog.models import (
    MAX_DAYS_TO_MAKE,
    MAX_PRICE,
    MAX_STOCK,
    MIN_PRICE,
)
from artisan_market.forms import AmountField, CountField, Form, Length, strip


def PriceField(label, **kwargs) -> AmountField:
    """A price between MIN_PRICE and MAX_PRICE, in any digits and marks."""
    return AmountField(
        label,
        minimum=MIN_PRICE,
        maximum=MAX_PRICE,
        range_message=_l("The price must be between %(min)s and %(max)s."),
        **kwargs,
    )


class PhotosForm(Form):
    photos = MultipleFileField(
        _l("Photos of the piece"),
        render_kw={"accept": "image/*", "multiple": True},
        description=_l("Up to 8 photos. The first one is the cover. Daylight works best."),
    )


AVAILABILITY = [
    SelectChoice("ready", _l("Ready now")),
    SelectChoice("order", _l("Made to order")),
]


class ListingForm(Form):
    """The words and terms of a listing. All optional for a draft; checked again to send."""

    title = StringField(
        _l("Name of the piece"),
        filters=[strip],
        validators=[Length(max=120, message=_l("Keep it under %(max)s characters."))],
        render_kw={"autocomplete": "off"},
    )
    price = PriceField(
        _l("Price in Egyptian pounds"),
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    availability = RadioField(
        _l("Is it ready?"), choices=AVAILABILITY, default="ready", validate_choice=True
    )
    stock = CountField(
        _l("How many do you have ready?"),
        minimum=0,
        maximum=MAX_STOCK,
        render_kw={"inputmode": "numeric"},
    )
    days_to_make = CountField(
        _l("Days needed to make one"),
        minimum=1,
        maximum=MAX_DAYS_TO_MAKE,
        render_kw={"inputmode": "numeric"},
    )
    category = SelectField(_l("Category"), coerce=str, validate_choice=True)
    description = TextAreaField(
        _l("Describe the piece"),
        filters=[strip],
        validators=[Length(max=2000, message=_l("Keep it under %(max)s characters."))],
        description=_l("What it is, how you made it, how to use it."),
    )
    materials = StringField(
        _l("Materials"),
        filters=[strip],
        validators=[Length(max=300, message=_l("Keep it under %(max)s characters."))],
    )
    size = StringField(
        _l("Size (optional)"),
        filters=[strip],
        validators=[Length(max=80, message=_l("Keep it under %(max)s characters."))],
        description=_l("For example: 30 × 20 cm"),
    )
    weight = CountField(
        _l("Weight in grams (optional)"),
        minimum=1,
        maximum=100_000,
        render_kw={"inputmode": "numeric"},
    )

    def set_categories(self, categories, locale: str) -> None:
        self.category.choices = [
            SelectChoice("", _l("Choose a category")),
            *(SelectChoice(str(c.id), c.name(locale)) for c in categories),
        ]


class AltTextForm(Form):
    alt_text = StringField(
        _l("Describe this photo for people who cannot see it"),
        filters=[strip],
        validators=[Length(max=200, message=_l("Keep it under %(max)s characters."))],
    )
