"""Microgrants: programmes, applications, awards, instalments and reports."""

from flask import Blueprint, Flask

bp = Blueprint("grants", __name__)


def init_app(app: Flask) -> None:
    from artisan_market.grants import models, views  # noqa: F401

    app.register_blueprint(bp)
