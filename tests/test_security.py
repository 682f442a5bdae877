"""The security baseline: headers, CSRF, cookies, upload size, error pages."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, Client

PAGES = ["/", "/login", "/signup", "/signup/artisan", "/healthz", "/no-such-page"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_has_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_pages_have_no_inline_script_or_style(client):
    """The CSP forbids inline code; the pages must not need any."""
    for path in ["/", "/login", "/signup/artisan"]:
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "<script " in page  # only src= scripts
        assert " style=" not in page and "<style" not in page
        assert " onclick=" not in page and "hx-on" not in page


def test_static_files_are_hashed_and_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    import re

    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    with client.get(css) as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip"])
def test_scripts_and_styles_are_compressed_and_pages_are_not(client, encoding):
    """htmx is 52 KB; compressed, a third of that. Pages are never compressed by the app:
    they hold a CSRF token next to reflected search text (BREACH)."""
    import gzip

    import brotli
    from backports import zstd

    decode = {
        "br": brotli.decompress,
        "zstd": zstd.decompress,
        "gzip": gzip.decompress,
    }[encoding]
    plain = client.get("/static/vendor/htmx.min.js", headers={"Accept-Encoding": ""})
    original = plain.get_data()
    plain.close()
    accept = {"Accept-Encoding": f"{encoding}, deflate;q=0.5"}
    with client.get("/static/vendor/htmx.min.js", headers=accept) as response:
        assert response.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.get_data()
        assert len(body) < len(original) / 2 and decode(body) == original
        etag = response.headers["ETag"]
    assert etag != plain.headers["ETag"]  # one validator per encoding
    with client.get(
        "/static/vendor/htmx.min.js", headers={**accept, "If-None-Match": etag}
    ) as again:
        assert again.status_code == 304
    with client.get("/static/css/app.css", headers=accept) as css:
        assert css.headers["Content-Encoding"] == encoding
    page = client.get("/shop?q=سلة", headers={"Accept-Encoding": "br, zstd, gzip, deflate"})
    assert "Content-Encoding" not in page.headers
    assert "سلة" in page.get_data(as_text=True)


def test_compressed_files_are_kept_once_per_file_and_encoding(client):
    """Compressed once, then served from memory; another ?v= is the same file, not a new
    entry (a stream of made-up versions must not fill the memory), and a missing file is
    not compressed at all."""
    from artisan_market.extensions import compress

    compress.cache.clear()
    accept = {"Accept-Encoding": "br"}
    bodies = set()
    for version in ("a", "b", "c"):
        with client.get(f"/static/vendor/htmx.min.js?v={version}", headers=accept) as response:
            bodies.add(response.get_data())
    with client.get("/static/vendor/nothing.js", headers=accept) as missing:
        assert missing.status_code == 404
    assert len(bodies) == 1
    assert list(compress.cache) == ["br;/static/vendor/htmx.min.js"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login", {"login": "01012345678", "password": PASSWORD}),
        ("/signup", {"name": "x", "email": "x@x.org", "password": PASSWORD}),
        ("/logout", {}),
        ("/language", {"locale": "en"}),
    ],
)
def test_posts_without_the_csrf_token_are_refused(client, path, data):
    response = client.post(path, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "انتهت صلاحية" in page or "Reload" in page


def test_htmx_requests_send_the_token_in_a_header(client):
    """htmx sends X-CSRFToken (from hx-headers on <body>) instead of a form field."""
    # One page: a token is signed with the second it was made in, so two pages a second
    # apart carry two different (both valid) tokens.
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in page
    response = client.post(
        "/language", data={"locale": "en", "next": "/"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 303


def test_session_cookie_flags(client, make_user):
    make_user(phone="+201012345678")
    response = client.submit("/login", {"login": "01012345678", "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("am_session"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development


def test_behind_https_cookies_are_secure_and_hsts_is_sent(make_app, make_user):
    """In production behind a proxy that says HTTPS: Secure cookies and HSTS."""
    app = make_app(APP_ENV="production", TRUSTED_PROXIES=1, SESSION_COOKIE_SECURE=True)
    app.test_client_class = Client
    with app.app_context():
        make_user(phone="+201012345678")
        client = app.test_client()
        # The proxy talks plain HTTP to the app and says the visitor used HTTPS.
        https = {"X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}
        page = client.get("/login", headers=https).get_data(as_text=True)
        token = Client._token.search(page).group(1)
        response = client.post(
            "/login",
            data={"csrf_token": token, "login": "01012345678", "password": PASSWORD},
            headers=https,
        )
        assert response.status_code == 303
        cookie = next(
            c for c in response.headers.getlist("Set-Cookie") if c.startswith("am_session")
        )
        assert "Secure" in cookie
        assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_private_pages_are_not_cached(client, login_as):
    login_as("buyer")
    assert client.get("/account").headers["Cache-Control"] == "private, no-store"


def test_too_large_a_request_gets_the_friendly_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    response = client.post("/signup", data={"name": "x" * 5000})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "الملف كبير" in page or "كبير" in page


@pytest.mark.parametrize("code", [403, 404, 413, 429, 500])
@pytest.mark.parametrize("locale", ["ar", "en"])
def test_error_pages_in_both_languages(make_app, code, locale):
    """Is each error page a whole page in the visitor's language, with a way home?"""
    from flask import abort

    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom/<int:status>")
    def boom(status):
        if status == 500:
            raise RuntimeError("a bug")
        abort(status)

    client = app.test_client()
    client.set_cookie("lang", locale)
    response = client.get(f"/boom/{code}")
    assert response.status_code == code
    page = response.get_data(as_text=True)
    assert f'<html lang="{locale}"' in page
    assert 'href="/"' in page
    if locale == "en":
        assert "Go to the home page" in page
    else:
        assert "الصفحة الرئيسية" in page
    assert "Traceback" not in page and "a bug" not in page
