"""Cart, checkout and fulfilment forms, for a phone keyboard (٣ or 3 in number fields)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional

from artisan_market.accounts.forms import email_field, phone_field
from artisan_market.egypt import GOVERNORATES
from artisan_market.forms import AmountField, CountField, Form, Length, strip
from artisan_market.orders.models import CANCEL_LABELS, MAX_QUANTITY, CancelReason


class AddToCartForm(Form):
    quantity = CountField(_l("How many"), minimum=1, maximum=MAX_QUANTITY, default=1)


class QuantityForm(Form):
    """A cart line's new quantity; 0 takes it out."""

    quantity = CountField(
        _l("How many"),
        minimum=0,
        maximum=MAX_QUANTITY,
        validators=[InputRequired(message=_l("Write how many you want."))],
    )


class CheckoutForm(Form):
    name = StringField(
        _l("Your name"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Write the name the courier asks for.")),
            Length(max=120, message=_l("Keep it under %(max)s characters.")),
        ],
        render_kw={"autocomplete": "name"},
    )
    phone = phone_field(_l("Phone number for the courier"))
    governorate = SelectField(
        _l("Governorate"),
        validators=[DataRequired(message=_l("Choose the governorate."))],
        render_kw={"autocomplete": "address-level1"},
    )
    city = StringField(
        _l("City or village"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Write the city or village.")),
            Length(max=120, message=_l("Keep it under %(max)s characters.")),
        ],
        render_kw={"autocomplete": "address-level2"},
    )
    address = TextAreaField(
        _l("Address"),
        description=_l("Street, building, floor, and a landmark the courier can ask for."),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Write the address.")),
            Length(max=500, message=_l("Keep it under %(max)s characters.")),
        ],
        render_kw={"autocomplete": "street-address", "rows": 3},
    )
    notes = TextAreaField(
        _l("Notes for the artisans (optional)"),
        filters=[strip],
        validators=[Length(max=500, message=_l("Keep it under %(max)s characters."))],
        render_kw={"rows": 2},
    )
    email = email_field(_l("Email (optional): we send you the link to follow your order"))
    payment = RadioField(
        _l("How will you pay?"), validators=[DataRequired(message=_l("Choose how to pay."))]
    )

    def set_choices(self, payment_choices: list[tuple[str, str]]) -> None:
        self.governorate.choices = [
            SelectChoice("", _l("Choose the governorate")),
            *(SelectChoice(code, name) for code, name in GOVERNORATES.items()),
        ]
        self.payment.choices = [SelectChoice(value, label) for value, label in payment_choices]
        if not self.payment.data and payment_choices:
            self.payment.data = payment_choices[0][0]


class AcceptForm(Form):
    ready_by = DateField(
        _l("Ready by"),
        validators=[Optional()],
        description=_l("The day the made-to-order pieces will be ready."),
    )


class ShipForm(Form):
    courier = StringField(
        _l("Courier (optional)"),
        filters=[strip],
        validators=[Length(max=80, message=_l("Keep it under %(max)s characters."))],
    )
    tracking_number = StringField(
        _l("Tracking number (optional)"),
        filters=[strip],
        validators=[Length(max=80, message=_l("Keep it under %(max)s characters."))],
        render_kw={"dir": "ltr"},
    )


class CancelForm(Form):
    reason = RadioField(
        _l("Why can this part not be sent?"),
        choices=[SelectChoice(reason.value, CANCEL_LABELS[reason]) for reason in CancelReason],
        validators=[DataRequired(message=_l("Choose a reason."))],
    )
    note = TextAreaField(
        _l("A word for the buyer (optional)"),
        filters=[strip],
        validators=[Length(max=500, message=_l("Keep it under %(max)s characters."))],
        render_kw={"rows": 2},
    )


MAX_SHIPPING_FEE = 100_000  # 1,000 EGP for one parcel: more is a typo


def FeeField(label, **kwargs) -> AmountField:
    """A shipping fee in pounds as typed (٦٠ or 60,50): 0 (free) up to MAX_SHIPPING_FEE."""
    return AmountField(
        label,
        minimum=0,
        maximum=MAX_SHIPPING_FEE,
        range_message=_l("Write a fee up to %(max)s."),
        **kwargs,
    )


class _ShippingForm(Form):
    default = FeeField(
        _l("Fee for one parcel, for every governorate"),
        validators=[InputRequired(message=_l("Write the fee for all governorates."))],
    )

    def by_governorate(self) -> list[tuple[str, AmountField]]:
        return [(code, self[f"fee_{code}"]) for code in GOVERNORATES]

    def rates(self) -> dict[str, int | None]:
        """ "*" → the fee for all; each governorate → its own fee, or None (the fee for all)."""
        return {"*": self.default.piastres, **{c: f.piastres for c, f in self.by_governorate()}}


# One box per governorate: an empty box means the fee for all.
ShippingForm = type(
    "ShippingForm",
    (_ShippingForm,),
    {
        f"fee_{code}": FeeField(name, render_kw={"inputmode": "decimal", "size": 8})
        for code, name in GOVERNORATES.items()
    },
)
