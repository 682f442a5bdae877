"""The same calls against Stripe's own test mode, when a test key is given
(STRIPE_TEST_SECRET_KEY=sk_test_…); the local fake stands for Stripe everywhere else."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from artisan_market.extensions import db
from artisan_market.orders.models import Order
from artisan_market.payments import providers
from artisan_market.payments.models import Payment
from artisan_market.payments.providers import Outcome
from tests.orders.conftest import add, place

KEY = os.environ.get("STRIPE_TEST_SECRET_KEY", "")

pytestmark = pytest.mark.skipif(
    not KEY.startswith("sk_test_"), reason="STRIPE_TEST_SECRET_KEY (a test-mode key) is not set"
)


def test_a_checkout_session_in_stripe_test_mode(make_app, make_product):
    app = make_app(STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET="whsec_unused_here")
    from tests.conftest import Client

    app.test_client_class = Client
    with app.app_context():
        client = app.test_client()
        add(client, make_product(status="live", price=25_000))
        assert place(client, payment="stripe").status_code == 303
        order = db.session.scalars(sa.select(Order)).one()
        to_stripe = client.get(f"/orders/{order.token}/pay")
        assert to_stripe.headers["Location"].startswith("https://checkout.stripe.com/")
        payment = db.session.scalars(sa.select(Payment)).one()
        report = providers.get("stripe").stop(payment)
        assert report.outcome is Outcome.FAILED  # expired at Stripe: nothing was taken
