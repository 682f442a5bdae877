"""The front door: home page, language switch, health check."""

from flask import Blueprint, Flask

bp = Blueprint("main", __name__)


def init_app(app: Flask) -> None:
    """Its pages (imported here, so its models and rules load without them)."""
    from artisan_market.main import views  # noqa: F401

    app.register_blueprint(bp)
