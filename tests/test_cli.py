"""Command-line tools: creating staff accounts and loading demo data."""

import sqlalchemy as sa

from artisan_market.accounts.models import ArtisanProfile, Role, User
from artisan_market.extensions import db


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_users_create_coordinator(runner):
    result = runner.invoke(
        args=[
            "users", "create", "--role", "coordinator", "--name", "منى",
            "--phone", "٠١٠٠٠٠٠٠٠٠٩", "--password", "a strong password",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.phone == "+201000000009"))
    assert user.role is Role.COORDINATOR


def test_users_create_refuses_bad_input(runner):
    for args in (
        ["--role", "admin", "--name", "x", "--password", "a strong password"],  # no login
        ["--role", "admin", "--name", "x", "--phone", "123", "--password", "a strong password"],
        ["--role", "admin", "--name", "x", "--email", "a@b.org", "--password", "password"],
        ["--role", "king", "--name", "x", "--email", "a@b.org", "--password", "a strong one"],
    ):
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code != 0
    assert _count(User) == 0


def test_users_create_refuses_a_taken_email(runner, make_user):
    make_user(email="admin@example.org")
    result = runner.invoke(
        args=["users", "create", "--role", "admin", "--name", "x",
              "--email", "admin@example.org", "--password", "a strong password"]
    )  # fmt: skip
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_demo_loads_every_role_once(runner):
    """Is `flask demo` safe to run twice, with an account for every role?"""
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    counts = (_count(User), _count(ArtisanProfile))
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert (_count(User), _count(ArtisanProfile)) == counts
    roles = set(db.session.scalars(sa.select(User.role)))
    assert roles == set(Role)
    # listings in every status, each with a photo made by the real pipeline
    from artisan_market.accounts.models import VerificationStatus
    from artisan_market.catalog.models import ListingStatus, Product

    products = db.session.scalars(sa.select(Product)).all()
    assert {p.status for p in products} == set(ListingStatus)
    assert all(p.photos and p.photos[0].derivatives for p in products)
    verification = set(db.session.scalars(sa.select(ArtisanProfile.verification)))
    assert verification == {VerificationStatus.VERIFIED, VerificationStatus.PENDING}
    governorates = set(db.session.scalars(sa.select(ArtisanProfile.governorate)))
    assert len(governorates) >= 3
    assert "souq-demo-2026" in second.output  # the logins are printed each time


def test_demo_refuses_production(make_app):
    app = make_app(APP_ENV="production", SECRET_KEY="x" * 40)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "production" in result.output


def test_organisations_add(runner):
    from artisan_market.accounts.models import Organisation

    ok = runner.invoke(args=["organisations", "add", "جمعية الأمل", "Hope Association"])
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(args=["organisations", "add", "جمعية الأمل", "Hope Association"])
    assert again.exit_code != 0
    bad = runner.invoke(args=["organisations", "add", "x", "y", "--governorate", "ZZ"])
    assert bad.exit_code != 0
    assert _count(Organisation) == 1
