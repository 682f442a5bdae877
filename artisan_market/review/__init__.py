"""Coordinators' review: verifying new artisans and approving or rejecting listings."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")

from artisan_market.review import views  # noqa: E402, F401
