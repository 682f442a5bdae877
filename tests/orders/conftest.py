"""Orders: a buyer's cart and checkout through the real pages, and a local fake of Stripe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from artisan_market.extensions import db
from tests.conftest import Client
from tests.fakes.stripe_server import FakeStripe

CHECKOUT = {
    "name": "سارة محمود",
    "phone": "٠١٢٢٣٤٥٦٧٨٩",
    "governorate": "ALX",
    "city": "سموحة",
    "address": "١٢ شارع النصر، الدور الثالث",
    "notes": "",
    "email": "",
    "payment": "cod",
}


def form_key(html: str) -> str:
    match = re.search(r'name="once" value="([^"]+)"', html)
    assert match, "no once key on the page"
    return match.group(1)


def add(client, product, quantity=1):
    """Add pieces to the cart through the product page's form (no JavaScript)."""
    response = client.submit(f"/cart/add/{product.id}", {"quantity": str(quantity)}, page="/cart")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response


def place(client, **changes):
    """Fill in the checkout as a buyer would; the answer to the POST."""
    page = client.get("/checkout")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    data = {**CHECKOUT, **changes}
    data.setdefault("once", form_key(page.get_data(as_text=True)))
    return client.submit("/checkout", data, page="/checkout")


@pytest.fixture
def add_to_cart(client):
    return lambda product, quantity=1: add(client, product, quantity)


@pytest.fixture
def place_order(client):
    return lambda **changes: place(client, **changes)


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    """Stripe's API on 127.0.0.1; webhooks are delivered by the test (`deliver`)."""
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def card_app(app, make_app, stripe_fake) -> Iterator[Flask]:
    """The site with card payments on, talking to the fake; its context above the plain
    `app`'s (which other fixtures use), so `current_app` is this one."""
    app = make_app(
        STRIPE_SECRET_KEY=stripe_fake.api_key,
        STRIPE_WEBHOOK_SECRET=stripe_fake.webhook_secret,
        STRIPE_API_BASE=stripe_fake.url,
        STRIPE_CHECKOUT_ORIGIN=stripe_fake.url,
    )
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def card_client(card_app) -> Client:
    card_app.test_client_class = Client
    return card_app.test_client()


def deliver(client, fake: FakeStripe, payload: bytes, signature: str | None = None):
    """Post a webhook to the site as Stripe does: the raw body and its signature."""
    return client.post(
        "/payments/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": signature or fake.sign(payload)},
        content_type="application/json; charset=utf-8",
    )
