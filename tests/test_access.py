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
    # The shop window: "product" is waiting for review, so only its artisan and staff may
    # preview it (after a redirect to its right slug); the public gets a 404.
    ("catalog.shop", "GET"): ("/shop", (200,) * 6),
    ("catalog.product", "GET"): (
        lambda o: f"/products/{o['product'].id}",
        (404, 404, 301, 404, 301, 301),
    ),
    ("catalog.artisan", "GET"): (lambda o: f"/artisans/{o['profile'].id}", (301,) * 6),
    ("catalog.robots", "GET"): ("/robots.txt", (200,) * 6),
    ("catalog.sitemap", "GET"): ("/sitemap.xml", (200,) * 6),
    ("media.serve", "GET"): ("/media/0123456789abcdef0123-640.webp", (404,) * 6),
    ("main.healthz", "GET"): ("/healthz", (200,) * 6),
    ("main.readyz", "GET"): ("/readyz", (200,) * 6),
    # Prometheus' figures: off here (no METRICS_TOKEN); when on, only for its bearer token.
    ("metrics", "GET"): ("/metrics", (404,) * 6),
    ("main.set_language", "POST"): ("/language", (303,) * 6),
    ("accounts.login", "GET"): ("/login", (200, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.login", "POST"): ("/login", (BAD, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.logout", "POST"): ("/logout", (303,) * 6),
    ("accounts.signup", "GET"): ("/signup", (200, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.signup", "POST"): ("/signup", (BAD, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.signup_artisan", "GET"): ("/signup/artisan", (200, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.signup_artisan", "POST"): ("/signup/artisan", (BAD, HOME, HOME, HOME, HOME, HOME)),
    ("accounts.account", "GET"): ("/account", (LOGIN, 200, 200, 200, 200, 200)),
    ("accounts.messages_language", "POST"): (
        "/account/language",
        (LOGIN, 303, 303, 303, 303, 303),
    ),
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
        # a way into her account: only her coordinator (not this one, who did not verify
        # her) or an admin
        (LOGIN, 403, 403, 403, 404, 200),
    ),
    ("audit.index", "GET"): ("/audit", (LOGIN, 403, 403, 403, 200, 200)),
    ("audit.export", "GET"): ("/audit.csv", (LOGIN, 403, 403, 403, 200, 200)),
    ("notifications.index", "GET"): ("/notifications", (LOGIN, 200, 200, 200, 200, 200)),
    # Studio: "artisan" owns a verified profile and a listing waiting for review.
    ("studio.index", "GET"): ("/studio", (LOGIN, 403, 200, 200, 403, 403)),
    ("studio.artisan_studio", "GET"): (
        lambda o: f"/studio/artisans/{o['profile'].id}",
        # a coordinator who did not verify her: 404; admins reach every verified artisan
        (LOGIN, 403, 403, 403, 404, 200),
    ),
    ("studio.new", "GET"): ("/studio/products/new", (LOGIN, 403, 200, 200, 403, 403)),
    ("studio.new", "POST"): ("/studio/products/new", (LOGIN, 403, BAD, BAD, 403, 403)),
    ("studio.new_on_behalf", "GET"): (
        lambda o: f"/studio/artisans/{o['profile'].id}/products/new",
        (LOGIN, 403, 403, 403, 404, 200),
    ),
    ("studio.new_on_behalf", "POST"): (
        lambda o: f"/studio/artisans/{o['profile'].id}/products/new",
        (LOGIN, 403, 403, 403, 404, BAD),
    ),
    ("studio.edit", "GET"): (
        lambda o: f"/studio/products/{o['product'].id}",
        (LOGIN, 404, 200, 404, 404, 200),
    ),
    ("studio.edit", "POST"): (
        lambda o: f"/studio/products/{o['product'].id}",
        (LOGIN, 404, BAD, 404, 404, BAD),
    ),
    ("studio.add_photos", "POST"): (
        lambda o: f"/studio/products/{o['product'].id}/photos",
        (LOGIN, 404, BAD, 404, 404, BAD),
    ),
    ("studio.photo_action", "POST"): (
        lambda o: f"/studio/products/{o['product'].id}/photos/{o['product'].photos[0].id}/cover",
        (LOGIN, 404, 303, 404, 404, 303),
    ),
    ("studio.delete", "GET"): (
        lambda o: f"/studio/products/{o['product'].id}/delete",
        (LOGIN, 404, 200, 404, 404, 200),
    ),
    ("studio.delete", "POST"): (
        lambda o: f"/studio/products/{o['product'].id}/delete",
        # the product waits for review: only a draft can be deleted (flashed, back to it)
        (LOGIN, 404, 303, 404, 404, 303),
    ),
    ("studio.change_status", "POST"): (
        lambda o: f"/studio/products/{o['product'].id}/status",
        (LOGIN, 404, 400, 404, 404, 400),  # no move given: a bad request, for those allowed
    ),
    # Review: coordinators and admins only; decisions on an empty form redirect back.
    ("review.listings_queue", "GET"): ("/review", (LOGIN, 403, 403, 403, 200, 200)),
    ("review.artisans_queue", "GET"): ("/review/artisans", (LOGIN, 403, 403, 403, 200, 200)),
    ("review.approve", "POST"): (
        lambda o: f"/review/products/{o['product'].id}/approve",
        (LOGIN, 403, 403, 403, 303, 303),
    ),
    ("review.reject", "POST"): (
        lambda o: f"/review/products/{o['product'].id}/reject",
        (LOGIN, 403, 403, 403, 303, 303),
    ),
    ("review.verify", "POST"): (
        lambda o: f"/review/artisans/{o['profile'].id}/verify",
        (LOGIN, 403, 403, 403, 303, 303),
    ),
    ("review.decline", "POST"): (
        lambda o: f"/review/artisans/{o['profile'].id}/decline",
        (LOGIN, 403, 403, 403, 303, 303),
    ),
    ("notifications.mark_read", "POST"): ("/notifications/read", (LOGIN, 303, 303, 303, 303, 303)),
    # Cart and checkout: anyone. The cart is empty: checkout sends her back to it, and an
    # empty checkout form comes back with its errors.
    ("orders.show_cart", "GET"): ("/cart", (200,) * 6),
    ("orders.add_to_cart", "POST"): (lambda o: f"/cart/add/{o['product'].id}", (303,) * 6),
    ("orders.change_quantity", "POST"): ("/cart/1", (303,) * 6),
    ("orders.remove_from_cart", "POST"): ("/cart/1/remove", (303,) * 6),
    ("orders.checkout", "GET"): ("/checkout", (303,) * 6),
    ("orders.checkout", "POST"): ("/checkout", (BAD,) * 6),
    # "order" is a cash order with one part, the artisan's, new. Its token is its key.
    ("orders.track", "GET"): (lambda o: f"/orders/{o['order'].token}", (200,) * 6),
    ("orders.receipt", "GET"): (lambda o: f"/orders/{o['order'].token}/receipt", (200,) * 6),
    ("orders.pay", "GET"): (lambda o: f"/orders/{o['order'].token}/pay", (303,) * 6),
    ("orders.history", "GET"): ("/account/orders", (LOGIN, 200, 200, 200, 200, 200)),
    ("orders.studio_orders", "GET"): ("/studio/orders", (LOGIN, 403, 200, 200, 403, 403)),
    ("orders.staff_orders", "GET"): ("/review/orders", (LOGIN, 403, 403, 403, 200, 200)),
    # Her part: she and admins; a coordinator of another governorate does not see it.
    ("orders.part", "GET"): (
        lambda o: f"/parts/{o['part'].id}",
        (LOGIN, 404, 200, 404, 404, 200),
    ),
    ("orders.accept", "POST"): (
        lambda o: f"/parts/{o['part'].id}/accept",
        (LOGIN, 404, 303, 404, 404, 303),
    ),
    # Not accepted yet: shipping or delivering it is refused, with the page again.
    ("orders.ship", "POST"): (
        lambda o: f"/parts/{o['part'].id}/ship",
        (LOGIN, 404, BAD, 404, 404, BAD),
    ),
    ("orders.deliver", "POST"): (
        lambda o: f"/parts/{o['part'].id}/deliver",
        (LOGIN, 404, BAD, 404, 404, BAD),
    ),
    ("orders.cancel", "POST"): (
        lambda o: f"/parts/{o['part'].id}/cancel",
        (LOGIN, 404, BAD, 404, 404, BAD),  # no reason given
    ),
    ("orders.record_cash", "POST"): (
        lambda o: f"/parts/{o['part'].id}/cash",
        (LOGIN, 403, 403, 403, 404, BAD),  # not delivered yet
    ),
    ("orders.shipping", "GET"): ("/admin/shipping", (LOGIN, 403, 403, 403, 403, 200)),
    ("orders.shipping", "POST"): ("/admin/shipping", (LOGIN, 403, 403, 403, 403, BAD)),
    # Grants: "application" is hers, waiting; "award" is hers, approved, with an instalment
    # sent; "programme" is open and she has not applied to it. Her coordinator is not the
    # "coordinator" here: to that one, her grants and her money are not found.
    ("grants.mine", "GET"): ("/studio/grants", (LOGIN, 403, 200, 200, 403, 403)),
    ("grants.apply", "GET"): (
        lambda o: f"/studio/grants/apply/{o['programme'].id}",
        (LOGIN, 403, 200, 200, 403, 403),
    ),
    ("grants.apply", "POST"): (
        lambda o: f"/studio/grants/apply/{o['programme'].id}",
        (LOGIN, 403, BAD, BAD, 403, 403),
    ),
    ("grants.apply_for", "GET"): (
        lambda o: f"/review/artisans/{o['profile'].id}/grants/apply/{o['programme'].id}",
        (LOGIN, 403, 403, 403, 404, 200),
    ),
    ("grants.apply_for", "POST"): (
        lambda o: f"/review/artisans/{o['profile'].id}/grants/apply/{o['programme'].id}",
        (LOGIN, 403, 403, 403, 404, BAD),
    ),
    ("grants.withdraw", "POST"): (
        lambda o: f"/studio/grants/{o['application'].id}/withdraw",
        (LOGIN, 403, 303, 404, 403, 403),
    ),
    ("grants.confirm", "POST"): (
        lambda o: f"/studio/grants/instalments/{o['instalment'].id}/confirm",
        (LOGIN, 403, 303, 404, 403, 403),
    ),
    ("grants.dispute", "POST"): (
        lambda o: f"/studio/grants/instalments/{o['instalment'].id}/dispute",
        (LOGIN, 403, 303, 404, 403, 403),
    ),
    ("grants.report", "POST"): (
        lambda o: f"/grants/applications/{o['award'].id}/report",
        (LOGIN, 403, 303, 404, 404, 303),  # nothing written: back to the page, told why
    ),
    ("grants.programmes", "GET"): ("/review/grants", (LOGIN, 403, 403, 403, 200, 200)),
    ("grants.new_programme", "GET"): ("/review/grants/new", (LOGIN, 403, 403, 403, 200, 200)),
    ("grants.new_programme", "POST"): ("/review/grants/new", (LOGIN, 403, 403, 403, BAD, BAD)),
    ("grants.edit_programme", "GET"): (
        lambda o: f"/review/grants/{o['programme'].id}/edit",
        (LOGIN, 403, 403, 403, 200, 200),
    ),
    ("grants.edit_programme", "POST"): (
        lambda o: f"/review/grants/{o['programme'].id}/edit",
        (LOGIN, 403, 403, 403, BAD, BAD),
    ),
    ("grants.programme", "GET"): (
        lambda o: f"/review/grants/{o['programme'].id}",
        (LOGIN, 403, 403, 403, 200, 200),
    ),
    ("grants.application", "GET"): (
        lambda o: f"/review/grants/applications/{o['application'].id}",
        (LOGIN, 403, 403, 403, 404, 200),
    ),
    ("grants.approve", "POST"): (
        lambda o: f"/review/grants/applications/{o['application'].id}/approve",
        (LOGIN, 403, 403, 403, 404, BAD),
    ),
    ("grants.decline", "POST"): (
        lambda o: f"/review/grants/applications/{o['application'].id}/decline",
        (LOGIN, 403, 403, 403, 404, BAD),
    ),
    ("grants.cancel_instalment", "POST"): (
        lambda o: f"/review/grants/instalments/{o['instalment'].id}/cancel",
        (LOGIN, 403, 403, 403, 404, 303),  # no reason: back to the page, told why
    ),
    ("grants.instalment", "POST"): (
        lambda o: f"/review/grants/applications/{o['award'].id}/instalments",
        (LOGIN, 403, 403, 403, 404, BAD),
    ),
    # Her money: she sees it; whoever stands for her pays her and corrects it.
    ("ledger.mine", "GET"): ("/studio/money", (LOGIN, 403, 200, 200, 403, 403)),
    ("ledger.artisan", "GET"): (
        lambda o: f"/review/artisans/{o['profile'].id}/money",
        (LOGIN, 403, 403, 403, 404, 200),
    ),
    ("ledger.payout", "POST"): (
        lambda o: f"/review/artisans/{o['profile'].id}/payouts",
        (LOGIN, 403, 403, 403, 404, BAD),
    ),
    ("ledger.reverse", "POST"): (
        lambda o: f"/review/ledger/{o['entry'].id}/reverse",
        (LOGIN, 403, 403, 403, 404, 303),  # no reason: back to her page, told why
    ),
    ("ledger.fee", "GET"): ("/admin/fee", (LOGIN, 403, 403, 403, 403, 200)),
    ("ledger.fee", "POST"): ("/admin/fee", (LOGIN, 403, 403, 403, 403, BAD)),
    # Impact: the public page for everyone; the programmes' figures (with names) and their
    # CSV for staff only. "programme" has no grantee yet.
    ("impact.public", "GET"): ("/impact", (200,) * 6),
    ("impact.programmes", "GET"): ("/impact/programmes", (LOGIN, 403, 403, 403, 200, 200)),
    ("impact.programme", "GET"): (
        lambda o: f"/impact/programmes/{o['programme'].id}",
        (LOGIN, 403, 403, 403, 200, 200),
    ),
    ("impact.programme_csv", "GET"): (
        lambda o: f"/impact/programmes/{o['programme'].id}.csv",
        (LOGIN, 403, 403, 403, 200, 200),
    ),
    # Card payments are not set up in this app: no webhook to post to.
    ("payments.webhook", "POST"): ("/payments/stripe/webhook", (404,) * 6),
}


def test_every_route_has_a_row(tmp_path):
    """Is every route of the app (and every method) in the matrix, and nothing stale?"""
    app = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "INSTANCE_PATH": str(tmp_path)})
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


def _order(product):
    from artisan_market.extensions import db
    from artisan_market.orders import rules

    delivery = rules.Delivery("سارة", "+201223456789", None, "ALX", "سموحة", "شارع النصر", "")
    wanted = [rules.Wanted(product.id, 1, product.price)]
    order = rules.place(wanted, delivery, method="cod", online=False, buyer=None, locale="ar")
    db.session.commit()
    return order


def _grants(artisan, product):
    """An open programme she has not applied to; one she applied to (waiting); one that
    awarded her, with an instalment sent; and an entry in her ledger."""
    from datetime import timedelta

    from artisan_market.extensions import db
    from artisan_market.grants import rules
    from artisan_market.grants.models import FunderKind, Purpose
    from artisan_market.ledger import services as ledger
    from artisan_market.ledger.models import Account, EntryKind, PayMethod
    from artisan_market.timeutil import today_in_egypt

    today = today_in_egypt()
    coordinator = artisan.artisan_profile.verified_by

    def programme(name):
        return rules.create_programme(
            rules.ProgrammeTerms(
                name,
                name,
                "جمعية",
                FunderKind.MEMBER,
                1_000_000,
                500_000,
                today - timedelta(days=1),
                today + timedelta(days=9),
                [],
                [],
            ),
            by=coordinator,
        )

    profile = artisan.artisan_profile
    open_one, waiting, awarding = programme("أ"), programme("ب"), programme("ج")
    application = rules.apply(
        waiting, profile, amount=100_000, purpose=Purpose.LOOM, plan="نول", by=artisan
    )
    award = rules.apply(
        awarding, profile, amount=100_000, purpose=Purpose.KILN, plan="فرن", by=artisan
    )
    rules.approve(award, 100_000, by=coordinator)
    instalment = rules.record_instalment(
        award, 40_000, paid_on=today, method=PayMethod.CASH, by=coordinator
    )
    entry = ledger.book(profile.id, Account.EARNINGS, EntryKind.SALE, 5_000, "sale:test")
    db.session.commit()
    return {
        "programme": open_one,
        "application": application,
        "award": award,
        "instalment": instalment,
        "entry": entry,
    }


def _programme(coordinator):
    from datetime import date

    from artisan_market.extensions import db
    from artisan_market.grants import rules
    from artisan_market.grants.models import FunderKind

    terms = rules.ProgrammeTerms(
        "منحة الأنوال",
        "Looms grant",
        "Fund",
        FunderKind.DONOR,
        1_000_000,
        100_000,
        date(2025, 1, 1),
        date(2030, 1, 1),
        [],
        [],
    )
    programme = rules.create_programme(terms, by=coordinator)
    db.session.commit()
    return programme


@pytest.mark.parametrize(("route", "persona"), CASES)
def test_access(client, make_user, make_artisan, make_product, route, persona):
    url, answers = MATRIX[route]
    artisan = make_artisan(verified=True)
    objects = {
        "artisan": artisan,
        "profile": artisan.artisan_profile,
        "product": make_product(artisan=artisan, status="pending"),
    }
    if route[0].startswith("orders."):
        objects["order"] = _order(make_product(artisan=artisan, status="live"))
        objects["part"] = objects["order"].parts[0]
    if route[0].startswith(("grants.", "ledger.")):
        objects.update(_grants(artisan, objects["product"]))
    if route[0].startswith("impact."):
        objects["programme"] = _programme(make_user("coordinator"))
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
        # After logging in she comes back to this page; a button's address is no page, and
        # the form it was on is unknown here (no Referer): no `next` then.
        assert response.status_code == 303
        location = response.headers["Location"]
        assert location.startswith("/login?next=") if method == "GET" else location == "/login"
    elif expected == HOME:
        assert response.status_code == 303
        assert response.headers["Location"] == "/"
    else:
        assert response.status_code == expected, f"{method} {path} as {persona}"
    response.close()
