"""Accounts: sign-up, log-in, roles, artisans' profiles and set-password links."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from artisan_market.accounts import views  # noqa: E402, F401
