"""Every form answers wrong input with the form again: errors, what she typed, never a 500."""

from __future__ import annotations

import html

import pytest

from tests.conftest import PASSWORD, log_in

SCRIPT = "<script>alert(1)</script>"
BAD_VALUES = {
    "arabic": "نص عربي طويل بعض الشيء",
    "arabic_digits": "٠١٢٣٤٥٦٧٨٩",
    "long": "ب" * 5000,
    "empty": "",
    "spaces": "   ",
    "html": SCRIPT,
    "nul": "a\x00b",
}

ARTISAN_FIELDS = {
    "display_name": "فاطمة",
    "governorate": "ASN",
    "village": "غرب سهيل",
    "craft": "basketry",
    "story": "قصتي",
}
FORMS = {
    # name: (url, role that fills it or None, valid data)
    "signup": ("/signup", None, {"name": "سارة", "email": "s@x.org", "password": PASSWORD}),
    "signup_artisan": (
        "/signup/artisan",
        None,
        {"name": "فاطمة", "phone": "01012345678", "password": PASSWORD, **ARTISAN_FIELDS},
    ),
    "login": ("/login", None, {"login": "01012345678", "password": PASSWORD}),
    "new_artisan": (
        "/coordinator/artisans/new",
        "coordinator",
        {"name": "زينب", "phone": "01122334455", **ARTISAN_FIELDS},
    ),
    "language": ("/language", None, {"locale": "en", "next": "/"}),
    "change_password": (
        "/account/password",
        "buyer",
        {"current_password": PASSWORD, "password": "another long password"},
    ),
}
CASES = [
    pytest.param(form, field, kind, id=f"{form}-{field}-{kind}")
    for form, (_url, _role, data) in FORMS.items()
    for field in data
    for kind in BAD_VALUES
]


@pytest.mark.parametrize(("form", "field", "kind"), CASES)
def test_bad_input_never_breaks_a_form(client, make_user, form, field, kind):
    url, role, valid = FORMS[form]
    if role:
        log_in(client, make_user(role))
    value = BAD_VALUES[kind]
    response = client.submit(url, {**valid, field: value}, page="/")
    assert response.status_code in (200, 303, 422), response.status_code
    page = response.get_data(as_text=True)
    assert SCRIPT not in page  # never echoed unescaped
    if response.status_code == 422:
        assert 'class="errors"' in page or 'class="form-errors"' in page
        kept = value.strip().replace("\x00", "")
        if "password" not in field and kept and kind != "nul" and field not in ARTISAN_CHOICES:
            assert html.escape(kept, quote=True) in page or kept in page


ARTISAN_CHOICES = {"governorate", "craft"}


def test_nothing_half_saved_when_a_form_is_refused(client):
    """A refused artisan sign-up leaves no account behind."""
    import sqlalchemy as sa

    from artisan_market.accounts.models import User
    from artisan_market.extensions import db

    bad = {**FORMS["signup_artisan"][2], "village": "ب" * 5000}
    assert client.submit("/signup/artisan", bad).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
