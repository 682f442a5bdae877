"""Fixtures for grants and the ledger: a coordinator, verified artisans, a programme, and a
parcel on its way to her (made directly: the orders tests cover how it got there)."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from datetime import timedelta

import pytest

from artisan_market.accounts.models import ArtisanProfile, Role, User
from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import FunderKind, Programme
from artisan_market.orders.models import Order, OrderPart, OrderStatus, PartStatus
from artisan_market.payments.models import Payment
from artisan_market.timeutil import today_in_egypt

_numbers = itertools.count(10_000_000)


@pytest.fixture
def coordinator(make_user) -> User:
    return make_user(Role.COORDINATOR)


@pytest.fixture
def make_profile(make_artisan, coordinator) -> Callable[..., ArtisanProfile]:
    """A verified artisan's profile (verified by `coordinator`, so no new user per artisan)."""
    return lambda **kw: make_artisan(verified=True, verified_by=coordinator, **kw).artisan_profile


def programme_terms(budget: int, largest_award: int) -> rules.ProgrammeTerms:
    today = today_in_egypt()
    return rules.ProgrammeTerms(
        name_ar="منحة الأدوات",
        name_en="Tools grant",
        funder="جمعية أسوان",
        funder_kind=FunderKind.MEMBER,
        budget=budget,
        largest_award=largest_award,
        opens_on=today - timedelta(days=1),
        closes_on=today + timedelta(days=30),
        governorates=[],
        crafts=[],
    )


@pytest.fixture
def make_programme(app, coordinator) -> Callable[..., Programme]:
    """An open programme for everyone, set up through the rule; not committed."""

    def make(budget: int = 100_000, largest_award: int | None = None) -> Programme:
        return rules.create_programme(
            programme_terms(budget, largest_award or budget), by=coordinator
        )

    return make


def shipped_part(profile: ArtisanProfile, items_total: int, shipping_fee: int = 5_000) -> OrderPart:
    """A cash-on-delivery order of one parcel of hers, on its way (`orders.rules.deliver` takes
    it on from there); not committed."""
    number = next(_numbers)
    order = Order(
        number=f"{number:08d}",
        token=secrets.token_hex(16),
        status=OrderStatus.PLACED,
        name="سارة محمود",
        phone="+201223456789",
        governorate="ALX",
        city="سموحة",
        address="١٢ شارع النصر",
        payment_method="cod",
        items_total=items_total,
        shipping_total=shipping_fee,
        total=items_total + shipping_fee,
    )
    part = OrderPart(
        artisan_id=profile.id,
        status=PartStatus.SHIPPED,
        items_total=items_total,
        shipping_fee=shipping_fee,
    )
    order.parts.append(part)
    db.session.add(order)
    db.session.add(Payment(order=order, provider="cod", amount=order.total, currency="EGP"))
    db.session.flush()
    return part
