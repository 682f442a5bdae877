"""Sign-up: buyers and artisans create their own accounts."""

import pytest
import sqlalchemy as sa

from artisan_market.accounts.models import ArtisanProfile, Role, User, VerificationStatus
from artisan_market.extensions import db

ARTISAN = {
    "name": "فاطمة حسن",
    "phone": "٠١٠١٢٣٤٥٦٧٨",
    "email": "",
    "password": "سلال من أسوان ٢٠٢٦",
    "display_name": "فاطمة من أسوان",
    "governorate": "ASN",
    "village": "غرب سهيل",
    "craft": "basketry",
    "story": "علمتني أمي.",
}


def test_artisan_signs_up_in_arabic(client):
    """Does an artisan's sign-up (Arabic text, Arabic-Indic digits) create her pending profile?"""
    response = client.submit("/signup/artisan", ARTISAN)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    user = db.session.scalar(sa.select(User).where(User.phone == "+201012345678"))
    assert user.role is Role.ARTISAN
    assert user.locale == "ar"
    profile = user.artisan_profile
    assert profile.verification is VerificationStatus.PENDING
    assert (profile.display_name, profile.governorate, profile.village, profile.craft) == (
        "فاطمة من أسوان",
        "ASN",
        "غرب سهيل",
        "basketry",
    )
    page = client.get("/account").get_data(as_text=True)
    assert "فاطمة من أسوان" in page
    assert "في انتظار تحقق المنسقة" in page


def test_buyer_signs_up_with_email_only(client):
    response = client.submit(
        "/signup", {"name": "Sara", "email": "Sara@Example.org", "password": "a good long one"}
    )
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.email == "sara@example.org"))
    assert user.role is Role.BUYER and user.phone is None
    # logged in straight away
    assert "Sara" in client.get("/account").get_data(as_text=True)


def test_buyer_needs_a_phone_or_an_email(client):
    response = client.submit("/signup", {"name": "Sara", "password": "a good long one"})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_same_phone_twice_is_refused_with_the_form_kept(client, make_user):
    """A second account on the same number, written differently, is refused kindly."""
    make_user(phone="+201012345678")
    response = client.submit("/signup/artisan", {**ARTISAN, "phone": "+20 10 1234 5678"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "غرب سهيل" in page  # what she typed is kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ArtisanProfile)) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "1234567"),  # too short
        ("password", "password123"),  # common
        ("password", "x" * 129),  # too long
        ("governorate", "XX"),  # not one of the 27
        ("craft", "spaceships"),
        ("phone", "12345"),
        ("village", ""),
        ("name", ""),
        ("story", "ح" * 1001),
    ],
)
def test_bad_artisan_fields_are_refused(client, field, value):
    response = client.submit("/signup/artisan", {**ARTISAN, field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_64_character_passwords_and_longer_are_allowed(client):
    """ASVS: at least 64 characters must be allowed."""
    response = client.submit("/signup", {"name": "L", "email": "l@x.org", "password": "ب" * 100})
    assert response.status_code == 303


def test_logged_in_people_are_sent_home_from_sign_up(client, login_as):
    login_as("buyer")
    assert client.get("/signup").status_code == 303
    assert client.get("/signup/artisan").status_code == 303
    assert client.get("/login").status_code == 303
