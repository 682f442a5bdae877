"""The audit log: who did what, when, to which artisan, listing or account. Append-only."""

from __future__ import annotations

from flask import Blueprint, Flask

# No url_prefix: the export is /audit.csv, beside /audit, not under it.
bp = Blueprint("audit", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


from artisan_market.audit import views  # noqa: E402, F401
