"""Review decisions: approve or reject a listing, verify or decline an artisan."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from artisan_market.catalog.models import REJECTION_TEXT, RejectionReason
from artisan_market.forms import Form, Length


class RejectForm(Form):
    reason = RadioField(
        _l("Why does it need changes?"),
        choices=[SelectChoice(r.value, REJECTION_TEXT[r][0]) for r in RejectionReason],
        validators=[DataRequired(message=_l("Choose a reason."))],
    )
    note = TextAreaField(
        _l("A note for her (needed for “something else”)"),
        validators=[Optional(), Length(max=500, message=_l("Keep it under %(max)s characters."))],
    )


class VerifyForm(Form):
    organisation = SelectField(
        _l("Organisation that vouches for her"),
        validators=[DataRequired(message=_l("Choose the organisation that vouches for her."))],
    )

    def set_organisations(self, organisations, locale: str, governorate: str) -> None:
        """The organisations of her governorate and the national ones (no governorate);
        all of them when none of those exists."""
        near = [o for o in organisations if o.governorate in (governorate, None)]
        self.organisation.choices = [
            SelectChoice("", _l("Choose an organisation")),
            *(SelectChoice(str(o.id), o.name(locale)) for o in near or organisations),
        ]


class DeclineForm(Form):
    reason = TextAreaField(
        _l("Why not now? She will read this."),
        validators=[
            DataRequired(message=_l("Write the reason, so she knows what to do.")),
            Length(max=500, message=_l("Keep it under %(max)s characters.")),
        ],
    )
