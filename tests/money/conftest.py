"""Grants and her money through the real pages: a programme, a coordinator, her artisans."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from artisan_market.accounts.models import Role
from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import FunderKind, Programme
from artisan_market.timeutil import today_in_egypt
from tests.conftest import log_in


def once_key(html: str) -> str:
    match = re.search(r'name="once" value="([^"]+)"', html)
    assert match, "no once key on the page"
    return match.group(1)


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR, name="منى المنسقة")


@pytest.fixture
def artisan(make_artisan, coordinator):
    """Verified by `coordinator`, in Aswan, a basket maker."""
    return make_artisan(verified=True, verified_by=coordinator, display_name="فاطمة")


@pytest.fixture
def make_programme(app, coordinator):
    def make(budget=1_000_000, largest=300_000, **terms) -> Programme:
        today = today_in_egypt()
        programme = rules.create_programme(
            rules.ProgrammeTerms(
                name_ar=terms.pop("name_ar", "منح النول"),
                name_en=terms.pop("name_en", "Loom grants"),
                funder=terms.pop("funder", "مؤسسة الخير"),
                funder_kind=FunderKind.DONOR,
                budget=budget,
                largest_award=largest,
                opens_on=terms.pop("opens_on", today - timedelta(days=1)),
                closes_on=terms.pop("closes_on", today + timedelta(days=30)),
                governorates=terms.pop("governorates", []),
                crafts=terms.pop("crafts", []),
            ),
            by=coordinator,
        )
        db.session.commit()
        return programme

    return make


@pytest.fixture
def make_application(artisan, make_programme):
    """Her application (100,000 piastres, waiting) to a new open programme."""

    def make(purpose, plan: str):
        application = rules.apply(
            make_programme(),
            artisan.artisan_profile,
            amount=100_000,
            purpose=purpose,
            plan=plan,
            by=artisan,
        )
        db.session.commit()
        return application

    return make


@pytest.fixture
def as_user(client):
    def switch(user):
        log_in(client, user)
        return client

    return switch
