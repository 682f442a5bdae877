"""Coordinators' review: verifying new artisans and approving or rejecting listings."""

from flask import Blueprint, Flask

bp = Blueprint("review", __name__, url_prefix="/review")


def init_app(app: Flask) -> None:
    """Its pages (imported here, so its models and rules load without them)."""
    from artisan_market.review import views  # noqa: F401

    app.register_blueprint(bp)
