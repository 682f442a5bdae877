"""Payments: one small interface (providers.py), cash on delivery and Stripe Checkout behind
it, and the one webhook route the providers call."""

from flask import Blueprint, Flask

bp = Blueprint("payments", __name__, url_prefix="/payments")


def init_app(app: Flask) -> None:
    from artisan_market.extensions import csrf
    from artisan_market.payments import jobs, views  # noqa: F401 (jobs: their tasks)

    # The only route without CSRF: providers sign their webhooks instead (views.webhook).
    csrf.exempt(views.webhook)
    app.register_blueprint(bp)
