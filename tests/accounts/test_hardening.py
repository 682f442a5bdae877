"""Holes a review found in the foundation, each kept closed by a test."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import PASSWORD, Client, log_in


@pytest.mark.parametrize(
    "variant",
    [
        "01012345678",
        " 01012345678 ",
        "010\x0312345678",
        "+20 10 1234 5678",
        "0020 10 1234 5678",
        "٠١٠١٢٣٤٥٦٧٨",
    ],
)
def test_every_spelling_of_an_account_shares_one_limit(make_app, make_user, variant):
    """Can a guesser escape the per-account limit by writing the number another way? No."""
    app = make_app(LOGIN_LIMIT_PER_ACCOUNT="3 per hour", LOGIN_LIMIT_PER_ADDRESS="100 per hour")
    app.test_client_class = Client
    with app.app_context():
        make_user(phone="+201012345678")
        client = app.test_client()
        for spelling in ("01012345678", "+201012345678", "٠١٠١٢٣٤٥٦٧٨"):
            client.submit("/login", {"login": spelling, "password": "wrong password!"})
        response = client.submit("/login", {"login": variant, "password": PASSWORD})
        assert response.status_code == 429


def test_email_spellings_share_one_limit(make_app, make_user):
    app = make_app(LOGIN_LIMIT_PER_ACCOUNT="2 per hour", LOGIN_LIMIT_PER_ADDRESS="100 per hour")
    app.test_client_class = Client
    with app.app_context():
        make_user(email="mona@example.org")
        client = app.test_client()
        for spelling in ("mona@example.org", "MONA@example.org"):
            client.submit("/login", {"login": spelling, "password": "wrong password!"})
        response = client.submit("/login", {"login": " Mona@Example.ORG\x01", "password": PASSWORD})
        assert response.status_code == 429


def test_a_cookie_copied_before_logout_is_worthless_after(app, make_user):
    """Logging out ends the session for every copy of the cookie (a shared phone)."""
    app.test_client_class = Client
    user = make_user(phone="+201012345678")
    client = app.test_client()
    client.submit("/login", {"login": "01012345678", "password": PASSWORD})
    copied = client.get_cookie("am_session").value
    client.submit("/logout")
    thief = app.test_client()
    thief.set_cookie("am_session", copied)
    assert thief.get("/account").status_code == 303
    assert user.id


def test_sign_ups_are_limited_per_address(make_app):
    """Sign-up answers 'this phone has an account': its pace is limited (enumeration)."""
    app = make_app(SIGNUP_LIMIT_PER_ADDRESS="3 per hour")
    app.test_client_class = Client
    with app.app_context():
        client = app.test_client()
        for n in range(3):
            response = client.submit("/signup", {"name": "x", "phone": f"0101234567{n}"})
            assert response.status_code == 422
        assert client.submit("/signup", {"name": "x"}).status_code == 429


@pytest.mark.parametrize(
    "url",
    [
        "/coordinator/artisans/9223372036854775808/password-link",
        "/coordinator/artisans/0/password-link",
        "/review/products/99999999999999999999/approve",
        "/studio/products/9223372036854775808/status",
    ],
)
def test_absurd_ids_are_404_not_500(client, login_as, url):
    login_as("admin")
    assert client.submit(url).status_code == 404


def test_session_starting_forms_are_not_boosted(client):
    """A new session brings a new CSRF token; htmx keeps <body>'s old one if boosted."""
    for path in ("/login", "/signup", "/signup/artisan"):
        page = client.get(path).get_data(as_text=True)
        form = page[page.index('<form method="post" action="' + path) :]
        assert 'hx-boost="false"' in form[: form.index(">")]


class _WriteLockProbe:
    """Fails the test if SQLite's write lock is held while slow work runs."""

    def __init__(self, app):
        self.path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        self.checked = 0

    def assert_free(self):
        probe = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")  # raises "database is locked" if held
            probe.execute("ROLLBACK")
        finally:
            probe.close()
        self.checked += 1

    def wrap(self, function):
        def wrapped(*args, **kwargs):
            self.assert_free()
            return function(*args, **kwargs)

        return wrapped


class _ProbedHasher:
    def __init__(self, hasher, probe):
        self.hash = probe.wrap(hasher.hash)
        self.verify = probe.wrap(hasher.verify)
        self.check_needs_rehash = hasher.check_needs_rehash


def test_no_write_lock_while_hashing_or_reencoding(sqlite_app, monkeypatch):
    """Log-in, sign-up, password change and a photo upload hold no lock while the CPU works."""
    import io

    from artisan_market.accounts import passwords, services
    from artisan_market.accounts.models import Role
    from artisan_market.media import services as media
    from tests.conftest import small_jpeg

    # The probe sits where the CPU works (argon2, the photo pipeline), inside whatever the
    # app does around it: the check is that nothing on the way there holds the lock.
    probe = _WriteLockProbe(sqlite_app)
    hasher = passwords._hasher
    monkeypatch.setattr(passwords, "_hasher", _ProbedHasher(hasher, probe))
    monkeypatch.setattr(media, "process_photo", probe.wrap(media.process_photo))
    sqlite_app.test_client_class = Client

    buyer = sqlite_app.test_client()
    assert (
        buyer.submit(
            "/signup", {"name": "Sara", "email": "s@x.org", "password": PASSWORD}
        ).status_code
        == 303
    )
    buyer.submit("/logout")
    assert buyer.submit("/login", {"login": "s@x.org", "password": PASSWORD}).status_code == 303
    assert (
        buyer.submit(
            "/account/password", {"current_password": PASSWORD, "password": "another long one!"}
        ).status_code
        == 303
    )

    coordinator = services.register(
        name="Mona", phone="+201000000001", email=None, password=None, role=Role.COORDINATOR
    )
    from artisan_market.extensions import db

    db.session.commit()
    staff = sqlite_app.test_client()
    log_in(staff, coordinator)
    response = staff.submit(
        "/coordinator/artisans/new",
        {
            "name": "زينب",
            "phone": "01122334455",
            "governorate": "MT",
            "village": "سيوة",
            "craft": "embroidery",
            "photo": (io.BytesIO(small_jpeg()), "her.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert probe.checked == 5  # sign-up, log-in, 2 in the password change, the photo


def test_cli_refuses_a_password_the_log_in_form_would_refuse(runner):
    result = runner.invoke(
        args=["users", "create", "--role", "admin", "--name", "x",
              "--email", "a@b.org", "--password", "x" * 200]
    )  # fmt: skip
    assert result.exit_code != 0
    bad_email = runner.invoke(
        args=["users", "create", "--role", "admin", "--name", "x",
              "--email", "not an email", "--password", "a strong password"]
    )  # fmt: skip
    assert bad_email.exit_code != 0
