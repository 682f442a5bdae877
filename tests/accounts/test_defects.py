"""Defects an outside tester found in accounts (log-in limits, password links, sign-up,
redirects), kept as tests so they cannot come back; each failed on the code it was found in."""

from __future__ import annotations

import unicodedata
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from artisan_market.accounts import services
from artisan_market.accounts.models import PasswordLinkPurpose, User
from artisan_market.extensions import db, limiter
from tests.conftest import PASSWORD, Client, log_in
from tests.test_defects_web import parse_html

PHONE = "+201000000004"
TYPED = "01000000004"
WRONG = "wrong password!"


def _login(client, login: str, password: str, **kwargs):
    return client.submit("/login", {"login": login, "password": password}, **kwargs)


@pytest.fixture
def limited_app(make_app):
    """The default per-account limit (10 per 15 minutes); the address limit out of the way."""
    app = make_app(LOGIN_LIMIT_PER_ADDRESS="1000 per hour")
    app.test_client_class = Client
    with app.app_context():
        yield app


def _limiter_keys() -> set[str]:
    storage = limiter.storage
    return set(getattr(storage, "storage", {})) | set(getattr(storage, "events", {}))


# --- 3. The per-account log-in limit and padded log-in names -------------------------------

PADDED = [
    pytest.param(" " * 300 + TYPED, id="300-spaces"),
    pytest.param(" " * 301 + TYPED, id="301-spaces"),
    pytest.param(" " * 250 + TYPED, id="250-spaces"),
    pytest.param("\x01" * 300 + TYPED, id="300-controls"),
]


@pytest.mark.parametrize("login", PADDED)
def test_padding_does_not_escape_a_locked_account(limited_app, make_user, login):
    """Once her account is locked after 10 failures, does the right password with a padded
    log-in name (300 spaces or control characters, then her number) still get 429?"""
    make_user(phone=PHONE)
    client = limited_app.test_client()
    for _ in range(10):
        assert _login(client, TYPED, WRONG).status_code == 422
    assert _login(client, TYPED, PASSWORD).status_code == 429
    response = _login(client, login, PASSWORD)
    assert response.status_code == 429
    assert client.get("/account").status_code == 303  # not logged in


def test_every_padding_length_shares_the_locked_count(limited_app, make_user):
    """Does each new padding length get no fresh set of attempts: after the lock, every
    padded variant (200 to 320 spaces) gets 429?"""
    make_user(phone=PHONE)
    client = limited_app.test_client()
    for _ in range(10):
        _login(client, TYPED, WRONG)
    answers = {n: _login(client, " " * n + TYPED, PASSWORD).status_code for n in range(200, 321, 8)}
    assert answers == dict.fromkeys(answers, 429)


def test_an_over_long_login_is_refused_without_a_counter(limited_app, make_user):
    """Is a 300-character log-in name (padding, then her number, right password) refused
    with 422, without logging in and without a limiter counter of its own?"""
    make_user(phone=PHONE)
    client = limited_app.test_client()
    client.csrf_token("/login")
    before = _limiter_keys()
    login = " " * (300 - len(TYPED)) + TYPED
    assert len(login) == 300
    response = _login(client, login, PASSWORD)
    assert response.status_code == 422
    assert client.get("/account").status_code == 303  # not logged in
    wrong = _login(client, " " * 280 + "x" * 20, WRONG)
    assert wrong.status_code == 422
    new = {key for key in _limiter_keys() - before if "127.0.0.1" not in key}
    assert new == set()


# --- 15. The 429 answer ---------------------------------------------------------------------


def test_throttled_log_in_says_when_and_keeps_what_she_typed(limited_app, make_user):
    """Does the 429 answer to a log-in carry Retry-After (a positive number of seconds) and
    the log-in box with what she typed?"""
    make_user(phone=PHONE)
    client = limited_app.test_client()
    for _ in range(10):
        _login(client, TYPED, WRONG)
    typed = "0100 000 0004"
    response = _login(client, typed, PASSWORD)
    assert response.status_code == 429
    retry = response.headers.get("Retry-After", "")
    assert retry.isascii() and retry.isdigit() and int(retry) > 0, f"Retry-After: {retry!r}"
    box = parse_html(response.get_data(as_text=True)).find("input", name="login")
    assert box is not None and box.attrs.get("value") == typed


# --- 4. Password links only from the coordinator who verified her ---------------------------


def test_only_her_coordinator_makes_her_a_password_link(
    app, client, make_user, make_artisan, make_organisation
):
    """May a coordinator who did not verify an artisan make her a password link (and so
    take over her account)? No: 404; her own coordinator and admins still get 200."""
    coordinator_a = make_user("coordinator")
    coordinator_b = make_user("coordinator")
    admin = make_user("admin")
    organisation = make_organisation()
    artisan = make_artisan()
    profile_id = artisan.artisan_profile.id
    log_in(client, coordinator_a)
    verified = client.submit(
        f"/review/artisans/{profile_id}/verify", {"organisation": str(organisation.id)}
    )
    assert verified.status_code == 303
    db.session.refresh(artisan.artisan_profile)
    assert artisan.artisan_profile.verified_by_id == coordinator_a.id

    url = f"/coordinator/artisans/{artisan.id}/password-link"
    answers = {}
    for who in (coordinator_b, coordinator_a, admin):
        other = app.test_client()
        log_in(other, who)
        answers[who.name] = other.submit(url, page="/coordinator/artisans").status_code
    assert answers == {coordinator_b.name: 404, coordinator_a.name: 200, admin.name: 200}


# --- 9. Bidirectional controls in a sign-up name --------------------------------------------


def test_bidi_override_is_removed_from_a_signup_name(client):
    """Is a right-to-left override removed from the name given at sign-up?"""
    response = client.submit(
        "/signup",
        {"name": "سارة \u202etxt.exe", "email": "sara@example.org", "password": PASSWORD},
        page="/signup",
    )
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.email == "sara@example.org"))
    assert user.name == "سارة txt.exe"


# --- 14. After a session ends in the middle of a decision ----------------------------------


def _next_of(location: str) -> list[str]:
    return parse_qs(urlsplit(location).query).get("next", [])


def test_log_in_after_an_expired_post_goes_back_to_the_page(client, make_product):
    """Pressing Approve when logged out: is `next` the page she was on (the Referer, when on
    this site), never the POST-only address?"""
    product = make_product(status="pending")
    response = client.submit(
        f"/review/products/{product.id}/approve",
        headers={"Referer": "http://localhost/review?governorate=ASN"},
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/login")
    assert _next_of(location) == ["/review?governorate=ASN"]


@pytest.mark.parametrize("referer", [None, "https://elsewhere.example/review"])
def test_log_in_after_an_expired_post_without_a_page_of_ours(client, make_product, referer):
    """Pressing Approve when logged out, with no Referer or one from another site: is there
    no `next` at all?"""
    product = make_product(status="pending")
    headers = {"Referer": referer} if referer else {}
    response = client.submit(f"/review/products/{product.id}/approve", headers=headers)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/login")
    assert _next_of(location) == []


def test_log_in_with_a_post_only_next_lands_on_a_page(client, make_user, make_product):
    """Logging in with next=/review/products/<id>/approve (POST only): does she land on a
    page that answers 200, not a 405?"""
    product = make_product(status="pending")
    make_user("coordinator", phone=PHONE)
    response = client.submit(
        f"/login?next=/review/products/{product.id}/approve",
        {"login": TYPED, "password": PASSWORD},
        page="/login",
    )
    assert response.status_code == 303
    landed = client.get(response.headers["Location"])
    assert landed.status_code == 200


# --- 16. The set-password page is not kept by any cache -------------------------------------


def test_set_password_page_is_not_stored(client, make_artisan, make_user):
    """Does the set-password page (a valid one-time link) say Cache-Control: no-store, for
    a visitor who is not logged in?"""
    artisan = make_artisan()
    token = services.issue_password_link(
        artisan,
        purpose=PasswordLinkPurpose.RESET,
        created_by=make_user("coordinator"),
        days=7,
    )
    db.session.commit()
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")


# --- 19b. A phone already registered: a way to log in -----------------------------------

ARTISAN_FIELDS = {
    "display_name": "فاطمة",
    "governorate": "ASN",
    "village": "غرب سهيل",
    "craft": "basketry",
    "story": "",
}


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/signup", {"name": "سارة", "phone": TYPED, "password": PASSWORD}),
        (
            "/signup/artisan",
            {"name": "فاطمة", "phone": TYPED, "password": PASSWORD, **ARTISAN_FIELDS},
        ),
    ],
    ids=["buyer", "artisan"],
)
def test_signup_with_a_known_phone_links_to_log_in(client, make_user, url, data):
    """Signing up with a phone number that already has an account: does the form offer a
    link to the log-in page, by the phone field or in the errors?"""
    make_user(phone=PHONE)
    response = client.submit(url, data, page=url)
    assert response.status_code == 422
    tree = parse_html(response.get_data(as_text=True))
    assert tree.find(id="phone-error") is not None  # refused for the phone number
    form = next(f for f in tree.find_all("form") if f.attrs.get("action") == url)
    links = [a.attrs.get("href", "") for a in form.find_all("a")]
    assert any(href.startswith("/login") for href in links), links


# --- 19c. Phone numbers in Arabic-Indic digits on Arabic pages -----------------------------


def test_phone_in_arabic_indic_digits_on_arabic_pages(client, login_as, make_artisan):
    """On the coordinator's Arabic list of artisans, is her number written ٠١٠… rather
    than 010…?"""
    login_as("coordinator")
    make_artisan(phone="+201012345678")
    response = client.get("/coordinator/artisans")
    assert response.status_code == 200
    tree = parse_html(response.get_data(as_text=True))
    shown = [a.text() for a in tree.find_all("a") if a.attrs.get("href", "").startswith("tel:")]
    assert shown, "no phone number on the page"
    compact = "".join(
        ch for ch in shown[0] if not ch.isspace() and unicodedata.category(ch) != "Cf"
    )
    assert compact == "٠١٠١٢٣٤٥٦٧٨"


# --- 19e. Where each role lands after logging in ----------------------------------------------


def test_log_in_lands_on_her_own_home(app, make_user, make_artisan):
    """Logging in with no `next`: does an artisan land on /studio, a coordinator on /review
    and a buyer on /?"""
    make_artisan(verified=True, phone="+201000000001")
    make_user("coordinator", phone="+201000000002")
    make_user("buyer", phone="+201000000003")
    app.test_client_class = Client
    landed = {}
    for role, typed in (
        ("artisan", "01000000001"),
        ("coordinator", "01000000002"),
        ("buyer", "01000000003"),
    ):
        response = _login(app.test_client(), typed, PASSWORD, page="/login")
        assert response.status_code == 303, role
        landed[role] = response.headers["Location"]
    assert landed == {"artisan": "/studio", "coordinator": "/review", "buyer": "/"}
