"""The artisan's studio: her listings, adding and editing them from a phone, photo first."""

from flask import Blueprint

bp = Blueprint("studio", __name__, url_prefix="/studio")

from artisan_market.studio import views  # noqa: E402, F401
