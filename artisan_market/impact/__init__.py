"""Impact: what the microgrants gave, and what the women who got them sold.

For coordinators, per programme and per grantee (with names, and a CSV); for funders and the
public, `/impact`: totals only, never a group small enough to point at one woman.
"""

from flask import Blueprint, Flask

bp = Blueprint("impact", __name__)


def init_app(app: Flask) -> None:
    from artisan_market.impact import views  # noqa: F401

    app.register_blueprint(bp)
