"""Artisans' money: the append-only ledger, payouts and the platform's fee."""

from flask import Blueprint, Flask

bp = Blueprint("ledger", __name__)


def init_app(app: Flask) -> None:
    from artisan_market.ledger import models, views  # noqa: F401

    app.register_blueprint(bp)
