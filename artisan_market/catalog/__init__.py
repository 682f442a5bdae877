"""The catalogue: categories, listings (products) and their photos, the listing rules, and
the public shop window (shop, search, product and artisan pages, sitemap).
"""

from flask import Blueprint, Flask

bp = Blueprint("catalog", __name__)


def init_app(app: Flask) -> None:
    """Its pages (imported here, so its models and rules load without them)."""
    from artisan_market.catalog import search, views  # noqa: F401

    search.init_app(app)
    app.register_blueprint(bp)
