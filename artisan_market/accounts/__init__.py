"""Accounts: sign-up, log-in, roles, artisans' profiles and set-password links."""

from flask import Blueprint, Flask

bp = Blueprint("accounts", __name__)


def init_app(app: Flask) -> None:
    """Its pages (imported here, so its models and rules load without them), and how
    Flask-Login finds the person of a session."""
    from artisan_market.accounts import views
    from artisan_market.extensions import login_manager

    login_manager.user_loader(views.load_user)
    login_manager.unauthorized_handler(views.ask_to_log_in)
    app.register_blueprint(bp)
