"""Command-line tools: `flask users create`, `flask demo`."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from artisan_market.accounts import services
from artisan_market.accounts.models import Role, User, VerificationStatus
from artisan_market.accounts.passwords import MIN_LENGTH, is_common
from artisan_market.accounts.phones import normalise_phone
from artisan_market.extensions import db

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="coordinator or admin, usually; artisans sign up or are added by a coordinator.",
)
@click.option("--name", required=True)
@click.option("--phone", default=None, help="Any common form: 01012345678, +20 10…, ٠١٠…")
@click.option("--email", default=None)
@click.password_option(help="Prompted (hidden, twice) when not given.")
def create_user(role: str, name: str, phone: str | None, email: str | None, password: str):
    """Create an account with a role, e.g. the first coordinator or admin."""
    e164 = None
    if phone:
        e164 = normalise_phone(phone)
        if e164 is None:
            raise click.BadParameter("not a valid phone number", param_hint="--phone")
    if not e164 and not email:
        raise click.UsageError("give --phone or --email (or both): it is how they log in")
    if len(password) < MIN_LENGTH or is_common(password):
        raise click.BadParameter(
            f"use {MIN_LENGTH} characters or more, not a common password", param_hint="password"
        )
    try:
        user = services.register(
            name=name, phone=e164, email=email, password=password, role=Role(role)
        )
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"created {user.role.value} #{user.id}: {user.name} ({user.phone or user.email})")


# Printed on purpose: demo accounts exist only outside production (`flask demo` refuses there).
DEMO_PASSWORD = "souq-demo-2026"  # noqa: S105
DEMO_PEOPLE = [
    # role, name, phone, email, artisan details or None
    (Role.ADMIN, "Admin Demo", None, "admin@demo.souq", None),
    (Role.COORDINATOR, "منى عبد الرحمن", "01000000001", "coordinator@demo.souq", None),
    (Role.BUYER, "Sara Buyer", "01000000002", "buyer@demo.souq", None),
    (
        Role.ARTISAN,
        "فاطمة حسن",
        "01000000003",
        None,
        services.ArtisanDetails(
            display_name="فاطمة من أسوان",
            governorate="ASN",
            village="غرب سهيل",
            craft="basketry",
            story="أصنع سلال الخوص منذ أن علمتني أمي، وأبيع لأعلّم بناتي.",
        ),
    ),
    (
        Role.ARTISAN,
        "أمينة عبد الله",
        "01000000004",
        None,
        services.ArtisanDetails(
            display_name="أمينة",
            governorate="MT",
            village="سيوة",
            craft="embroidery",
            story="تطريز سيوة بالألوان كما كانت جدتي تطرز فساتين العرس.",
        ),
    ),
    (
        Role.ARTISAN,
        "هدى محمود",
        "01000000005",
        None,
        services.ArtisanDetails(
            display_name="هدى",
            governorate="FYM",
            village="تونس",
            craft="pottery",
            story="فخار قرية تونس في الفيوم.",
        ),
    ),
]


@click.command("demo")
@with_appcontext
def demo():
    """Demo accounts for every role, on an empty database only (safe to run twice)."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("refusing to load demo data in production")
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        click.echo("The database already has accounts; demo data not loaded.")
    else:
        for role, name, phone, email, details in DEMO_PEOPLE:
            e164 = normalise_phone(phone) if phone else None
            if details is None:
                services.register(
                    name=name, phone=e164, email=email, password=DEMO_PASSWORD, role=role
                )
            else:
                user = services.register_artisan(
                    name=name, phone=e164, email=email, password=DEMO_PASSWORD, details=details
                )
                if details.governorate != "FYM":
                    user.artisan_profile.verification = VerificationStatus.VERIFIED
        db.session.commit()
        click.echo("Demo data loaded.")
    _print_demo_logins()


def _print_demo_logins() -> None:
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
    for role, _name, phone, email, details in DEMO_PEOPLE:
        note = ""
        if details is not None:
            note = " (verified)" if details.governorate != "FYM" else " (waiting for verification)"
        click.echo(f"  {role.value:<12} {phone or email}{note}")
    click.echo("")


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo)
