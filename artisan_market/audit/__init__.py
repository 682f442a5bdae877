"""The audit log: who did what, when, to which artisan, listing or account. Append-only."""

from __future__ import annotations

from flask import Blueprint, Flask

# No url_prefix: the export is /audit.csv, beside /audit, not under it.
bp = Blueprint("audit", __name__)


def init_app(app: Flask) -> None:
    from artisan_market.audit import models, views  # noqa: F401

    models.init_app(app)
    app.register_blueprint(bp)
