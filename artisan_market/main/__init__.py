"""The front door: home page, language switch, health check."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from artisan_market.main import views  # noqa: E402, F401
