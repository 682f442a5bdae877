"""Notifications: what happened to her account and her products, on the site and by email."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("notifications", __name__)


def init_app(app: Flask) -> None:
    from artisan_market.notifications import views  # noqa: F401
    from artisan_market.notifications.services import badge_context

    app.register_blueprint(bp)
    app.context_processor(badge_context)
