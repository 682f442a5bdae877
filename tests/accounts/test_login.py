"""Log-in and log-out: by phone or email, a new session each time, attempts limited."""

import os

import pytest

from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "typed", ["01012345678", "+20 10 1234 5678", "00201012345678", "٠١٠١٢٣٤٥٦٧٨"]
)
def test_log_in_with_the_phone_in_any_form(client, make_user, typed):
    make_user(phone="+201012345678")
    response = client.submit("/login", {"login": typed, "password": PASSWORD})
    assert response.status_code == 303


def test_log_in_with_email_in_any_case(client, make_user):
    make_user(email="mona@example.org")
    response = client.submit("/login", {"login": " Mona@Example.org ", "password": PASSWORD})
    assert response.status_code == 303


def test_wrong_password_says_so_without_saying_which_part(client, make_user):
    make_user(phone="+201012345678")
    for login in ("01012345678", "01099999999"):
        response = client.submit("/login", {"login": login, "password": "wrong password!"})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "كلمة السر" in page
        assert f'value="{login}"' in page  # what she typed stays


def test_log_in_starts_a_new_session(client, make_user):
    """Is the session from before the log-in discarded (no session fixation)?"""
    make_user(phone="+201012345678")
    client.get("/")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = client.get_cookie("am_session").value
    client.submit("/login", {"login": "01012345678", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]
    assert client.get_cookie("am_session").value != before


def test_log_out_needs_a_post(client, login_as):
    login_as("buyer")
    assert client.get("/logout").status_code == 405
    response = client.submit("/logout")
    assert response.status_code == 303
    assert client.get("/account").status_code == 303  # asked to log in again


def test_new_password_ends_other_sessions(client, app, make_user):
    """After a password change, a cookie stolen earlier no longer works."""
    user = make_user(phone="+201012345678")
    other = app.test_client()
    from tests.conftest import log_in

    log_in(other, user)
    assert other.get("/account").status_code == 200
    log_in(client, user)
    response = client.submit(
        "/account/password",
        {"current_password": PASSWORD, "password": "another long password"},
        page="/account/password",
    )
    assert response.status_code == 303
    assert client.get("/account").status_code == 200  # this session goes on
    assert other.get("/account").status_code == 303  # the other one ended


def test_change_password_refuses_a_wrong_current_one(client, login_as):
    login_as("artisan")
    response = client.submit(
        "/account/password",
        {"current_password": "not it at all", "password": "another long password"},
    )
    assert response.status_code == 422
    assert 'id="current_password-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x",
        "\t//evil.example",
    ],
)
def test_next_cannot_leave_the_site(client, make_user, target):
    make_user(phone="+201012345678")
    response = client.submit(
        "/login?" + __import__("urllib.parse").parse.urlencode({"next": target}),
        {"login": "01012345678", "password": PASSWORD},
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location


def test_next_inside_the_site_is_followed(client, make_user):
    make_user(phone="+201012345678")
    response = client.submit(
        "/login?next=/account/password", {"login": "01012345678", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/account/password"


def test_asking_for_a_private_page_comes_back_after_log_in(client):
    response = client.get("/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/account"


def _fail(client, login, times):
    for _ in range(times):
        response = client.submit("/login", {"login": login, "password": "wrong password!"})
    return response


def test_attempts_are_limited_per_account(make_app, make_user):
    """After too many failures on one account, even the right password waits (429, Arabic)."""
    app = make_app(LOGIN_LIMIT_PER_ACCOUNT="3 per hour", LOGIN_LIMIT_PER_ADDRESS="100 per hour")
    from tests.conftest import Client

    app.test_client_class = Client
    with app.app_context():
        make_user(phone="+201012345678")
        client = app.test_client()
        assert _fail(client, "01012345678", 3).status_code == 422
        response = client.submit("/login", {"login": "01012345678", "password": PASSWORD})
        assert response.status_code == 429
        page = response.get_data(as_text=True)
        assert 'lang="ar"' in page and "محاولات" in page
        assert 'value="01012345678"' in page  # the form is back with what she typed
        # another account from the same address is not locked
        make_user(phone="+201055555555")
        ok = client.submit("/login", {"login": "01055555555", "password": PASSWORD})
        assert ok.status_code == 303


def test_attempts_are_limited_per_address(make_app):
    app = make_app(LOGIN_LIMIT_PER_ACCOUNT="100 per hour", LOGIN_LIMIT_PER_ADDRESS="4 per hour")
    from tests.conftest import Client

    app.test_client_class = Client
    with app.app_context():
        client = app.test_client()
        for n in range(4):
            assert _fail(client, f"0101234560{n}", 1).status_code == 422
        assert _fail(client, "01012345679", 1).status_code == 429
        client.set_cookie("lang", "en")
        page = _fail(client, "01012345679", 1).get_data(as_text=True)
        assert "Too many log-in attempts" in page


def test_successful_log_ins_do_not_count(make_app, make_user):
    app = make_app(LOGIN_LIMIT_PER_ACCOUNT="2 per hour")
    from tests.conftest import Client

    app.test_client_class = Client
    with app.app_context():
        make_user(phone="+201012345678")
        for _ in range(4):
            client = app.test_client()
            ok = client.submit("/login", {"login": "01012345678", "password": PASSWORD})
            assert ok.status_code == 303


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL") and not os.environ.get("CI"),
    reason="needs REDIS_URL (CI always sets it)",
)
def test_limits_are_shared_through_redis(make_app, make_user):
    """With REDIS_URL, two app processes share one count (two apps stand in for two hosts)."""
    if not os.environ.get("REDIS_URL"):
        pytest.fail("CI must set REDIS_URL")
    from artisan_market.extensions import limiter
    from tests.conftest import Client

    settings = {
        "RATELIMIT_STORAGE_URI": os.environ["REDIS_URL"],
        "LOGIN_LIMIT_PER_ACCOUNT": "3 per hour",
    }
    first = make_app(**settings)
    first.test_client_class = Client
    with first.app_context():
        limiter.reset()  # counts left in Redis by an earlier run
        make_user(phone="+201012345678")
        assert _fail(first.test_client(), "01012345678", 3).status_code == 422
    # A second app builds its own connection to the storage, as another process would;
    # with memory:// it would start from zero and let her in.
    second = make_app(**settings)
    second.test_client_class = Client
    with second.app_context():
        response = second.test_client().submit(
            "/login", {"login": "01012345678", "password": PASSWORD}
        )
        assert response.status_code == 429


def test_with_redis_down_log_in_is_still_limited_per_process(make_app, make_user):
    """Redis unreachable (docs/decisions.md, "When Redis is down"): log-in still works and
    its limits still hold, counted in this process's memory until Redis is back."""
    from tests.conftest import Client, free_port

    app = make_app(
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
        LOGIN_LIMIT_PER_ACCOUNT="3 per hour",
        LOGIN_LIMIT_PER_ADDRESS="100 per hour",
    )
    app.test_client_class = Client
    with app.app_context():
        make_user(phone="+201012345678")
        client = app.test_client()
        assert _fail(client, "01012345678", 3).status_code == 422
        refused = client.submit("/login", {"login": "01012345678", "password": PASSWORD})
        assert refused.status_code == 429
        other = app.test_client()
        make_user(phone="+201012345679")
        welcome = other.submit("/login", {"login": "01012345679", "password": PASSWORD})
        assert welcome.status_code == 303
