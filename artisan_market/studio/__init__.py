"""The artisan's studio: her listings, adding and editing them from a phone, photo first."""

from flask import Blueprint, Flask

bp = Blueprint("studio", __name__, url_prefix="/studio")


def init_app(app: Flask) -> None:
    """Its pages (imported here, so its models and rules load without them)."""
    from artisan_market.studio import views  # noqa: F401

    app.register_blueprint(bp)
