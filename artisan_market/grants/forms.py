"""Grant forms, short and in plain words, for a phone keyboard (٣ or 3 in amounts)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional

from artisan_market.egypt import CRAFTS, GOVERNORATES
from artisan_market.forms import AmountField, Form, Length, strip
from artisan_market.grants.models import MAX_BUDGET, PURPOSE_LABELS, FunderKind, Purpose
from artisan_market.ledger.models import METHOD_LABELS, PayMethod

_SHORT = _l("Keep it under %(max)s characters.")


class ApplicationForm(Form):
    amount = AmountField(
        _l("How much do you need?"),
        validators=[InputRequired(message=_l("Write the amount in pounds."))],
    )
    purpose = RadioField(
        _l("What is it for?"),
        choices=[SelectChoice(p.value, PURPOSE_LABELS[p]) for p in Purpose],
        validators=[DataRequired(message=_l("Choose what it is for."))],
    )
    purpose_other = StringField(
        _l("If something else: what?"),
        filters=[strip],
        validators=[Length(max=120, message=_SHORT)],
    )
    plan = TextAreaField(
        _l("How will you use it?"),
        description=_l("A few lines: what you will buy and what it changes for your work."),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Say in a few words how you will use it.")),
            Length(max=1000, message=_SHORT),
        ],
        render_kw={"rows": 4},
    )
    photo = FileField(
        _l("A photo (optional)"),
        description=_l("Of your work, or of what you want to buy."),
        render_kw={"accept": "image/*"},
    )


class ApproveForm(Form):
    amount = AmountField(
        _l("Amount to award"), validators=[InputRequired(message=_l("Write the amount."))]
    )


class DeclineForm(Form):
    reason = TextAreaField(
        _l("Why not (she will read this)"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Write the reason she will read.")),
            Length(max=500, message=_SHORT),
        ],
        render_kw={"rows": 3},
    )


def method_field(label):
    return RadioField(
        label,
        choices=[SelectChoice(m.value, METHOD_LABELS[m]) for m in PayMethod],
        validators=[DataRequired(message=_l("Choose how the money was given."))],
    )


class InstalmentForm(Form):
    amount = AmountField(
        _l("Amount given"), validators=[InputRequired(message=_l("Write the amount."))]
    )
    paid_on = DateField(
        _l("Given on"), validators=[InputRequired(message=_l("Write the date it was given."))]
    )
    method = method_field(_l("How"))
    reference = StringField(
        _l("Reference (optional)"),
        description=_l("The transfer or wallet reference, or the receipt number."),
        filters=[strip],
        validators=[Length(max=80, message=_SHORT)],
        render_kw={"dir": "ltr"},
    )
    receipt = FileField(_l("Photo of the receipt (optional)"), render_kw={"accept": "image/*"})


class DisputeForm(Form):
    note = TextAreaField(
        _l("What happened? (optional)"),
        filters=[strip],
        validators=[Length(max=500, message=_SHORT)],
        render_kw={"rows": 2},
    )


class CancelInstalmentForm(Form):
    reason = TextAreaField(
        _l("What was the mistake?"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Say why this instalment is a mistake.")),
            Length(max=300, message=_SHORT),
        ],
        render_kw={"rows": 2},
    )


class ReportForm(Form):
    text = TextAreaField(
        _l("How is it going?"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Write a few words.")),
            Length(max=1000, message=_SHORT),
        ],
        render_kw={"rows": 3},
    )
    photo = FileField(_l("A photo (optional)"), render_kw={"accept": "image/*"})


class VisitForm(ReportForm):
    text = TextAreaField(
        _l("What did you see on the visit?"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Write a few words.")),
            Length(max=1000, message=_SHORT),
        ],
        render_kw={"rows": 3},
    )


class ProgrammeForm(Form):
    name_ar = StringField(
        _l("Name in Arabic"),
        filters=[strip],
        validators=[DataRequired(message=_l("Write the name.")), Length(max=120, message=_SHORT)],
        render_kw={"dir": "rtl", "lang": "ar"},
    )
    name_en = StringField(
        _l("Name in English"),
        filters=[strip],
        validators=[DataRequired(message=_l("Write the name.")), Length(max=120, message=_SHORT)],
        render_kw={"dir": "ltr", "lang": "en"},
    )
    funder = StringField(
        _l("Funder"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Write who funds it.")),
            Length(max=200, message=_SHORT),
        ],
    )
    funder_kind = RadioField(
        _l("The funder is"),
        choices=[SelectChoice(k.value, k.label) for k in FunderKind],
        validators=[DataRequired(message=_l("Choose one."))],
        default=FunderKind.MEMBER.value,
    )
    budget = AmountField(
        _l("Budget"),
        maximum=MAX_BUDGET,
        validators=[InputRequired(message=_l("Write the budget."))],
    )
    largest_award = AmountField(
        _l("Largest award to one woman"),
        validators=[InputRequired(message=_l("Write the largest award."))],
    )
    opens_on = DateField(_l("Opens on"), validators=[InputRequired(message=_l("Write the date."))])
    closes_on = DateField(
        _l("Closes on"), validators=[InputRequired(message=_l("Write the date."))]
    )
    governorates = SelectMultipleField(
        _l("Governorates (none chosen: all)"),
        choices=[SelectChoice(code, name) for code, name in GOVERNORATES.items()],
        validators=[Optional()],
        render_kw={"size": 6},
    )
    crafts = SelectMultipleField(
        _l("Crafts (none chosen: all)"),
        choices=[SelectChoice(code, name) for code, name in CRAFTS.items()],
        validators=[Optional()],
        render_kw={"size": 6},
    )


class ProgrammeChoiceForm(Form):
    programme = SelectField(_l("Programme"), coerce=int)
