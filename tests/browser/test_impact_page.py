"""/impact in real Chromium: an Arabic phone and an English laptop, no CSP complaint."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from artisan_market.accounts import services
from artisan_market.accounts.models import Organisation, Role
from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import Application, FunderKind, Purpose

pytestmark = pytest.mark.browser
_n = itertools.count(1)

# (governorate, craft, how many): Qena's 3 and Sohag's 2 go into "others together".
WOMEN = [
    ("ASN", "basketry", 9),
    ("FYM", "pottery", 7),
    ("SHG", "embroidery", 6),
    ("KN", "textiles", 3),
    ("SHG", "textiles", 2),
]


@pytest.fixture(scope="module")
def grants(live_app):
    with live_app.app_context():
        staff = services.register(
            name="منسقة", phone="+201000000001", email=None, role=Role.COORDINATOR, password=None
        )
        organisation = Organisation(name_ar="جمعية الأثر", name_en="Impact association")
        db.session.add_all([organisation])
        db.session.flush()
        programmes = []
        for ar, en in (
            ("منحة الأنوال", "Looms grant"),
            ("منحة الأفران والخامات", "Kilns and materials"),
        ):
            terms = rules.ProgrammeTerms(
                ar,
                en,
                "Fund",
                FunderKind.DONOR,
                50_000_000,
                2_000_000,
                date(2024, 1, 1),
                date(2030, 1, 1),
                [],
                [],
            )
            programmes.append(rules.create_programme(terms, by=staff))
        for governorate, craft, count in WOMEN:
            for _ in range(count):
                n = next(_n)
                user = services.register_artisan(
                    name=f"حرفية {n}",
                    phone=f"+2011{n:08d}",
                    email=None,
                    password=None,
                    details=services.ArtisanDetails(f"حرفية {n}", governorate, "قرية", craft, ""),
                )
                services.verify_artisan(
                    user.artisan_profile, coordinator=staff, organisation=organisation
                )
                programme = programmes[n % 2]
                application = rules.apply(
                    programme,
                    user.artisan_profile,
                    amount=300_000 + 25_000 * (n % 7),
                    purpose=Purpose.LOOM,
                    plan="نول",
                    by=user,
                )
                rules.approve(application, application.amount_asked, by=staff)
                db.session.execute(
                    sa.update(Application)
                    .where(Application.id == application.id)
                    .values(decided_at=datetime(2025, 3, 1 + n % 20, tzinfo=UTC))
                )
        db.session.commit()


@pytest.mark.parametrize("js", [True], ids=["js"], indirect=True)
def test_the_impact_page_on_a_phone_in_arabic_and_a_laptop_in_english(new_page, shot, grants):
    page = new_page()
    page.goto("/impact")
    assert page.locator("svg.chart").count() == 3
    assert page.locator("svg.chart-rtl").count() == 3
    shot(page, "ar-360")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    laptop = new_page(viewport={"width": 1280, "height": 800})
    laptop.goto("/impact?lang=en")
    assert laptop.locator("svg.chart-rtl").count() == 0
    shot(laptop, "en-1280")
    assert page.errors == [] and laptop.errors == []
