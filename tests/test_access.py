"""Who may open what: every route, for every kind of visitor.

Add a route and this fails until the route has its row here. "artisan" owns the objects in
the URL; "other_artisan" is a second artisan asking for them (object-level access).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from artisan_market import create_app
from tests.conftest import TEST_SECRET, log_in

PERSONAS = ("anonymous", "buyer", "artisan", "other_artisan", "coordinator", "admin")
LOGIN = "login"  # 303 to the log-in page
HOME = "home"  # already logged in: 303 to the home page
BAD = 422  # the form again (the matrix posts empty forms)

Url = str | Callable[[dict], str]

# (endpoint, method): (url, answers in PERSONAS order)
MATRIX: dict[tuple[str, str], tuple[Url, tuple[int | str, ...]]] = {
    ("static", "GET"): ("/static/css/app.css", (200,) * 6),
    ("main.home", "GET"): ("/", (200,) * 6),
    ("media.serve", "GET"): ("/media/0123456789abcdef0123-640.webp", (404,) * 6),
    ("main.healthz", "GET"): ("/healthz", (200,) * 6),
    ("main.set_language", "POST"): ("/language", (303,) * 6),
    ("accounts.login", "GET"): ("/login", (200, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.login", "POST"): ("/login", (BAD, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.logout", "POST"): ("/logout", (303,) * 6),
    ("accounts.signup", "GET"): ("/signup", (200, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.signup", "POST"): ("/signup", (BAD, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.signup_artisan", "GET"): ("/signup/artisan", (200, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.signup_artisan", "POST"): ("/signup/artisan", (BAD, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.account", "GET"): ("/account", (LOGIN, 200, 200, 200, 200, 200)),
    ("accounts.change_password", "GET"): ("/account/password", (LOGIN, 200, 200, 200, 200, 200)),
    ("accounts.change_password", "POST"): ("/account/password", (LOGIN, BAD, BAD, BAD, BAD, BAD)),
    ("accounts.set_password", "GET"): ("/set-password/not-a-real-token", (404,) * 6),
    ("accounts.set_password", "POST"): ("/set-password/not-a-real-token", (404,) * 6),
    ("accounts.artisans", "GET"): ("/coordinator/artisans", (LOGIN, 403, 403, 403, 200, 200)),
    ("accounts.new_artisan", "GET"): (
        "/coordinator/artisans/new",
        (LOGIN, 403, 403, 403, 200, 200),
    ),
    ("accounts.new_artisan", "POST"): (
        "/coordinator/artisans/new",
        (LOGIN, 403, 403, 403, BAD, BAD),
    ),
    ("accounts.password_link", "POST"): (
        lambda o: f"/coordinator/artisans/{o['artisan'].id}/password-link",
        (LOGIN, 403, 403, 403, 200, 200),
    ),
}


def test_every_route_has_a_row():
    """Is every route of the app (and every method) in the matrix, and nothing stale?"""
    app = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET})
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert sorted(routes - MATRIX.keys()) == [], "routes without a row in MATRIX"
    assert sorted(MATRIX.keys() - routes) == [], "rows for routes that no longer exist"


CASES = [
    pytest.param(route, persona, id=f"{route[1]} {route[0]} as {persona}")
    for route in MATRIX
    for persona in PERSONAS
]


@pytest.mark.parametrize(("route", "persona"), CASES)
def test_access(client, make_user, make_artisan, route, persona):
    url, answers = MATRIX[route]
    objects = {"artisan": make_artisan()}
    if persona == "artisan":
        log_in(client, objects["artisan"])
    elif persona == "other_artisan":
        log_in(client, make_artisan())
    elif persona != "anonymous":
        log_in(client, make_user(persona))
    path = url(objects) if callable(url) else url
    _endpoint, method = route
    response = client.get(path) if method == "GET" else client.submit(path, {})
    expected = answers[PERSONAS.index(persona)]
    if expected == LOGIN:
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/login?next=")
    elif expected == HOME:
        assert response.status_code == 303
        assert response.headers["Location"] == "/"
    else:
        assert response.status_code == expected, f"{method} {path} as {persona}"
    response.close()
