"""Impact: programmes, awards on chosen days and delivered parcels, made directly."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from artisan_market.accounts.models import Role
from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import Application, FunderKind, Purpose
from artisan_market.orders.models import Order, OrderPart, OrderStatus, PartStatus

_n = itertools.count(1)


def at(day: str) -> datetime:
    """ "2025-03-01" or "2025-03-01 12:00" as a UTC moment."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR)


@pytest.fixture
def make_programme(coordinator):
    def make(name_ar="منحة الأنوال", name_en="Looms grant", budget=10_000_000):
        terms = rules.ProgrammeTerms(
            name_ar,
            name_en,
            "Fund",
            FunderKind.DONOR,
            budget,
            budget,
            date(2024, 1, 1),
            date(2030, 12, 31),
            [],
            [],
        )
        programme = rules.create_programme(terms, by=coordinator)
        db.session.commit()
        return programme

    return make


@pytest.fixture
def award(coordinator):
    """An approved grant of `amount` piastres, decided at `decided` (a UTC moment)."""

    def make(programme, artisan, amount, decided: datetime) -> Application:
        application = rules.apply(
            programme,
            artisan.artisan_profile,
            amount=amount,
            purpose=Purpose.LOOM,
            plan="نول جديد",
            by=artisan,
        )
        rules.approve(application, amount, by=coordinator)
        db.session.execute(
            sa.update(Application)
            .where(Application.id == application.id)
            .values(decided_at=decided)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return application

    return make


@pytest.fixture
def sale(app):
    """A parcel of hers worth `amount` piastres (pieces), delivered at `delivered`."""

    def make(artisan, amount, delivered: datetime, status=PartStatus.DELIVERED) -> OrderPart:
        n = next(_n)
        order = Order(
            number=f"{n:08d}",
            token=f"{n:032d}",
            status=OrderStatus.COMPLETED,
            name="سارة",
            phone="+201223456789",
            governorate="ALX",
            city="سموحة",
            address="شارع النصر",
            payment_method="cod",
            items_total=amount,
            shipping_total=6000,
            total=amount + 6000,
        )
        part = OrderPart(
            artisan_id=artisan.artisan_profile.id,
            status=status,
            items_total=amount,
            shipping_fee=6000,
            delivered_at=delivered if status is PartStatus.DELIVERED else None,
        )
        order.parts.append(part)
        db.session.add(order)
        db.session.commit()
        return part

    return make


@pytest.fixture
def grantees(make_artisan, award, make_programme):
    """Women with a grant each, decided in 2025: grantees([("ASN", "basketry"), …])."""

    def make(places, programme=None, amount=500_000, decided=None):
        decided = decided or at("2025-03-01 10:00")
        programme = programme or make_programme()
        women = []
        for i, (governorate, craft) in enumerate(places):
            woman = make_artisan(
                verified=True,
                governorate=governorate,
                craft=craft,
                display_name=f"حرفية رقم {next(_n)}",
            )
            award(programme, woman, amount + i * 1_300, decided)
            women.append(woman)
        return women

    return make
