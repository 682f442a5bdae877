"""Payouts, corrections and the platform's fee."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired

from artisan_market.forms import AmountField, Form, Length, strip
from artisan_market.grants.forms import method_field


class PayoutForm(Form):
    amount = AmountField(
        _l("Amount paid to her"), validators=[InputRequired(message=_l("Write the amount."))]
    )
    paid_on = DateField(
        _l("Paid on"), validators=[InputRequired(message=_l("Write the date it was paid."))]
    )
    method = method_field(_l("How"))
    reference = StringField(
        _l("Reference (optional)"),
        filters=[strip],
        validators=[Length(max=80, message=_l("Keep it under %(max)s characters."))],
        render_kw={"dir": "ltr"},
    )


class ReverseForm(Form):
    reason = TextAreaField(
        _l("Why is this entry wrong?"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Say why this entry is wrong.")),
            Length(max=300, message=_l("Keep it under %(max)s characters.")),
        ],
        render_kw={"rows": 2},
    )


class FeeForm(Form):
    percent = StringField(
        _l("Platform fee, in percent of each sale"),
        description=_l("0 means the artisan keeps all of the price. At most 50."),
        filters=[strip],
        validators=[DataRequired(message=_l("Write the fee, 0 for none."))],
        render_kw={"inputmode": "decimal", "size": 6},
    )
