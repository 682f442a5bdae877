"""Orders: the cart, checkout, each artisan's part of an order, and following it."""

from flask import Blueprint, Flask

bp = Blueprint("orders", __name__)


def init_app(app: Flask) -> None:
    """Its pages, the header's cart count and the expiry job (imported here, so the models
    and rules load without them)."""
    from artisan_market.orders import cart, rules, views  # noqa: F401

    app.register_blueprint(bp)
    app.context_processor(
        lambda: {"cart_count": cart.count, "new_orders_count": rules.new_parts_count}
    )
