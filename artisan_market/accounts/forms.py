"""Account forms. Each strips what she typed, keeps it on error, and says what is wrong."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import EmailField, PasswordField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Optional, ValidationError

from artisan_market.accounts.passwords import MAX_LENGTH, MIN_LENGTH, is_common
from artisan_market.accounts.phones import normalise_phone
from artisan_market.egypt import CRAFTS, GOVERNORATES
from artisan_market.forms import Form, Length, strip


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class PhoneField(TelField):
    """Shows what she typed; `e164` is the one stored form (None when empty or invalid)."""

    @property
    def e164(self) -> str | None:
        return normalise_phone(self.data) if self.data else None


class PhoneNumber:
    """Accepts any common way of writing a number (Arabic-Indic digits too)."""

    def __call__(self, form, field):
        if field.data and normalise_phone(field.data) is None:
            raise ValidationError(
                _l("This does not look like a phone number. Example: 010 1234 5678")
            )


class SentLength:
    """The length as sent, before any cleaning: a name padded past any real one is refused,
    not quietly trimmed into a valid one."""

    def __init__(self, max: int, message):
        self.max, self.message = max, message

    def __call__(self, form, field):
        if field.raw_data and len(field.raw_data[0] or "") > self.max:
            raise ValidationError(self.message)


class GoodPassword:
    def __call__(self, form, field):
        if field.data and is_common(field.data):
            raise ValidationError(
                _l("This password is too common. Choose one that is harder to guess.")
            )


def password_field(label):
    return PasswordField(
        label,
        validators=[
            InputRequired(message=_l("Enter a password.")),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=_l("The password must be %(min)s to %(max)s characters long."),
            ),
            GoodPassword(),
        ],
        render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH},
    )


def name_field(label=None):
    return StringField(
        label or _l("Your name"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Enter your name.")),
            Length(max=120, message=_l("Keep it under %(max)s characters.")),
        ],
        render_kw={"autocomplete": "name"},
    )


def phone_field(label=None, required=True):
    first = DataRequired(message=_l("Enter your phone number.")) if required else Optional()
    return PhoneField(
        label or _l("Phone number"),
        filters=[strip],
        validators=[
            first,
            Length(max=40, message=_l("This phone number is too long.")),
            PhoneNumber(),
        ],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "dir": "ltr"},
    )


def email_field(label=None):
    return EmailField(
        label or _l("Email (optional)"),
        filters=[_lower],
        validators=[
            Optional(),
            Length(max=254, message=_l("This email is too long.")),
            Email(
                message=_l("This does not look like an email address."), check_deliverability=False
            ),
        ],
        render_kw={"autocomplete": "email", "dir": "ltr"},
    )


def _choices(mapping, prompt) -> list[SelectChoice]:
    return [SelectChoice("", prompt), *(SelectChoice(code, name) for code, name in mapping.items())]


# The longest log-in name: an email address can be 254 characters.
MAX_LOGIN_LENGTH = 254


class LoginForm(Form):
    login = StringField(
        _l("Phone number or email"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Enter your phone number or email.")),
            SentLength(
                max=MAX_LOGIN_LENGTH, message=_l("This is too long for a phone number or email.")
            ),
        ],
        render_kw={"autocomplete": "username", "dir": "ltr"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(message=_l("Enter your password.")),
            Length(max=MAX_LENGTH, message=_l("This password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class SignupForm(Form):
    """A buyer's account: a phone number or an email (at least one), and a password."""

    name = name_field()
    phone = phone_field(_l("Phone number (optional if you give an email)"), required=False)
    email = email_field(_l("Email (optional if you give a phone number)"))
    password = password_field(_l("Choose a password (8 characters or more)"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and not self.phone.data and not self.email.data:
            self.phone.errors.append(_l("Give a phone number or an email, so you can log in."))
            return False
        return ok


class ArtisanDetailsMixin:
    display_name = StringField(
        _l("Name shown to buyers (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=80, message=_l("Keep it under %(max)s characters."))],
    )
    governorate = SelectField(
        _l("Governorate"),
        choices=_choices(GOVERNORATES, _l("Choose your governorate")),
        validators=[DataRequired(message=_l("Choose your governorate."))],
        validate_choice=True,
    )
    village = StringField(
        _l("City or village"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Enter your city or village.")),
            Length(max=120, message=_l("Keep it under %(max)s characters.")),
        ],
        description=_l("Only coordinators see this."),
    )
    craft = SelectField(
        _l("Your craft"),
        choices=_choices(CRAFTS, _l("Choose your craft")),
        validators=[DataRequired(message=_l("Choose your craft."))],
    )
    story = TextAreaField(
        _l("Your story (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=1000, message=_l("Keep it under %(max)s characters."))],
        description=_l("A few lines for buyers: who you are, how you learnt your craft."),
    )
    photo = FileField(
        _l("Your photo (optional)"),
        render_kw={"accept": "image/*"},
        description=_l("A photo of you or of your hands at work."),
    )


class ArtisanSignupForm(ArtisanDetailsMixin, Form):
    """An artisan signs up herself: her phone is required (most have no email)."""

    name = name_field()
    phone = phone_field()
    email = email_field()
    password = password_field(_l("Choose a password (8 characters or more)"))


class OnBehalfArtisanForm(ArtisanDetailsMixin, Form):
    """A coordinator creates an artisan's account; she sets her password through a link."""

    name = name_field(_l("Her name"))
    phone = phone_field(_l("Her phone number"))
    email = email_field()


class SetPasswordForm(Form):
    password = password_field(_l("New password (8 characters or more)"))


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[
            InputRequired(message=_l("Enter your current password.")),
            Length(max=MAX_LENGTH, message=_l("This password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    password = password_field(_l("New password (8 characters or more)"))
