"""Command-line tools: `flask users create`, `flask demo`, `flask backup` and `flask restore`
(artisan_market/backup.py), and `flask db check` made to answer its question on a database
that is not migrated yet."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
import flask_migrate
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from artisan_market import backup
from artisan_market.accounts import services
from artisan_market.accounts.models import Organisation, Role
from artisan_market.accounts.passwords import MAX_LENGTH, MIN_LENGTH, is_common
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
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH or is_common(password):
        raise click.BadParameter(
            f"use {MIN_LENGTH} to {MAX_LENGTH} characters, not a common password",
            param_hint="password",
        )
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError as error:
            raise click.BadParameter(str(error), param_hint="--email") from error
    try:
        user = services.register(
            name=name, phone=e164, email=email, password=password, role=Role(role)
        )
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"created {user.role.value} #{user.id}: {user.name} ({user.phone or user.email})")


organisations_cli = AppGroup("organisations", help="Coalition member organisations.")


@organisations_cli.command("add")
@click.argument("name_ar")
@click.argument("name_en")
@click.option("--governorate", default=None, help="ISO 3166-2:EG code without EG-, e.g. ASN")
def add_organisation(name_ar: str, name_en: str, governorate: str | None):
    """Add a coalition member organisation (coordinators record which one vouches for an
    artisan when they verify her)."""
    from artisan_market.egypt import GOVERNORATES

    if governorate and governorate not in GOVERNORATES:
        raise click.BadParameter("unknown governorate code", param_hint="--governorate")
    if db.session.scalar(sa.select(Organisation.id).where(Organisation.name_ar == name_ar)):
        raise click.ClickException("an organisation with this Arabic name exists already")
    organisation = Organisation(name_ar=name_ar, name_en=name_en, governorate=governorate)
    db.session.add(organisation)
    db.session.commit()
    click.echo(f"added organisation #{organisation.id}: {name_en}")


@click.command("demo")
@click.option(
    "--scale",
    type=click.IntRange(min=0, max=1_000_000),
    default=0,
    help="Also bulk-load this many live listings (e.g. 100000) for measuring.",
)
@click.option("--artisans", type=click.IntRange(min=1), default=5000, show_default=True)
@with_appcontext
def demo(scale: int, artisans: int):
    """Demo data for every role and every listing status, on an empty database only
    (safe to run twice); prints the demo logins."""
    import time

    from artisan_market import demo as demo_data

    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("refusing to load demo data in production")
    if demo_data.load():
        db.session.commit()
        click.echo("Demo data loaded.")
    else:
        click.echo("The database already has accounts; demo data not loaded.")
    if scale:
        started = time.perf_counter()
        if demo_data.load_scale(scale, min(artisans, scale), echo=click.echo):
            db.session.commit()
            demo_data.analyse()
            took = time.perf_counter() - started
            click.echo(f"{scale} products from {min(artisans, scale)} artisans in {took:.1f} s")
        else:
            click.echo("The scale data is loaded already.")
    click.echo("\n" + "\n".join(demo_data.logins()) + "\n")


@click.command("check")
@click.option("-d", "--directory", default=None, help="Migration script directory.")
@with_appcontext
def check_migrations(directory: str | None) -> None:
    """Check that the migrations build exactly the models.

    Flask-Migrate's check compares the models with the database, and refuses a database
    that is not at the latest revision: a fresh checkout's (which has none) or one behind
    the latest pull. That database is left alone and the check runs on a scratch SQLite
    database upgraded to the latest revision, which is the question asked.
    """
    from artisan_market import create_app

    directory = directory or current_app.extensions["migrate"].directory
    if _at_latest_revision(directory):
        flask_migrate.check(directory)
        return
    click.echo(
        "This database is not at the latest revision (`flask db upgrade` takes it there):"
        " checking the migrations against the models on a scratch database.",
        err=True,
    )
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'check.sqlite3'}"
        scratch_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": scratch})
        with scratch_app.app_context():
            flask_migrate.upgrade(directory)
            flask_migrate.check(directory)  # exits 1 when they differ
            db.engine.dispose()


def _at_latest_revision(directory: str) -> bool:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return False  # asking would create an empty file
    config = current_app.extensions["migrate"].migrate.get_config(directory)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == heads


def init_app(app: Flask) -> None:
    # Flask-Migrate's `db` group comes from its entry point, ahead of app.cli: its own
    # `check` is replaced there (once; the same command for every app).
    flask_migrate.cli.db.add_command(check_migrations)
    app.cli.add_command(users_cli)
    app.cli.add_command(organisations_cli)
    app.cli.add_command(demo)
    app.cli.add_command(backup.backup_command)
    app.cli.add_command(backup.restore_command)
