"""An artisan applies for a grant from her phone; a coordinator approves it and records an
instalment; she confirms it; a delivered order shows in her earnings and a payout is recorded;
axe-core checks every new page.

Real Chromium, 360x740, Arabic, JavaScript on and off. Screenshots are kept.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from artisan_market.accounts import services
from artisan_market.accounts.models import ArtisanProfile, Organisation, Role
from artisan_market.catalog import listings
from artisan_market.catalog.models import Category
from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import (
    Application,
    FunderKind,
    InstalmentStatus,
    Programme,
    Purpose,
)
from artisan_market.i18n import digits_to_ascii
from artisan_market.ledger import services as ledger
from artisan_market.ledger.models import PayMethod
from artisan_market.media.services import prepare_photo
from artisan_market.orders import rules as orders
from artisan_market.orders.models import OrderPart
from artisan_market.timeutil import today_in_egypt, utcnow
from tests.browser.conftest import PHONE_SCREEN, SCREENSHOTS
from tests.browser.test_order_journey import AXE, PASSWORD, _real_errors, log_in
from tests.conftest import small_jpeg

pytestmark = pytest.mark.browser

# Each run has its own people, so one run's grants never show in the other's pages.
PEOPLE = {"js": "0118880001", "nojs": "0118880002", "axe": "0118880003"}
SEEDED: dict[str, SimpleNamespace] = {}


def _seed(live_app, key: str) -> SimpleNamespace:
    """A coordinator, an artisan she verified with a delivered cash-on-delivery parcel, and an
    open programme."""
    if key in SEEDED:
        return SEEDED[key]
    prefix = PEOPLE[key]
    with live_app.app_context():
        organisation = Organisation(name_ar=f"جمعية المنح {key}", name_en=f"Grants {key}")
        db.session.add(organisation)
        coordinator = services.register(
            name="منى",
            phone=f"+2{prefix}0",
            email=None,
            password=PASSWORD,
            role=Role.COORDINATOR,
        )
        artisan = services.register_artisan(
            name="فاطمة",
            phone=f"+2{prefix}1",
            email=None,
            password=PASSWORD,
            details=services.ArtisanDetails(
                display_name=f"فاطمة {key}",
                governorate="ASN",
                village="غرب سهيل",
                craft="basketry",
                story="أصنع السلال.",
            ),
        )
        profile = artisan.artisan_profile
        services.verify_artisan(profile, coordinator=coordinator, organisation=organisation)
        today = today_in_egypt()
        programme = rules.create_programme(
            rules.ProgrammeTerms(
                f"منح الأنوال {key}",
                f"Looms {key}",
                "جمعية الخير",
                FunderKind.DONOR,
                5_000_000,
                500_000,
                today - timedelta(days=1),
                today + timedelta(days=30),
                [],
                [],
            ),
            by=coordinator,
        )
        _other_grantees(programme, coordinator, organisation, prefix)
        db.session.commit()
        seeded = SimpleNamespace(
            coordinator=f"{prefix}0",
            artisan=f"{prefix}1",
            profile=profile.id,
            display_name=profile.display_name,
            programme=programme.id,
            name=programme.name_ar,
        )
    SEEDED[key] = seeded
    return seeded


def _other_grantees(programme, coordinator, organisation, prefix: str) -> None:
    """Five other women with an award, so the public page has figures to show at all."""
    for n in range(2, 7):
        user = services.register_artisan(
            name=f"حرفية {n}",
            phone=f"+2{prefix}{n}",
            email=None,
            password=None,
            details=services.ArtisanDetails(
                display_name=f"حرفية {n}",
                governorate="ASN",
                village="دراو",
                craft="basketry",
                story="",
            ),
        )
        services.verify_artisan(
            user.artisan_profile, coordinator=coordinator, organisation=organisation
        )
        application = rules.apply(
            programme,
            user.artisan_profile,
            amount=100_000,
            purpose=Purpose.MATERIALS,
            plan="خامات",
            by=user,
        )
        rules.approve(application, 100_000, by=coordinator)


def _public_totals(page) -> tuple[int, int]:
    """Women and pounds paid out, as /impact shows them (in the page's digits)."""
    page.goto("/impact")
    figures = page.locator("main .impact-totals dd")
    women = int(digits_to_ascii(figures.nth(0).inner_text()).replace(",", ""))
    paid = re.sub(r"[^\d]", "", digits_to_ascii(figures.nth(2).inner_text()))
    return women, int(paid)


def _delivered_sale(live_app, profile_id: int, price: int = 45_000) -> None:
    """A buyer's order of one of her pieces, delivered (through the rules)."""
    with live_app.app_context():
        profile = db.session.get(ArtisanProfile, profile_id)
        user = profile.user
        coordinator = profile.verified_by
        product = listings.new_draft(profile)
        listings.add_photos(product, [prepare_photo(io.BytesIO(small_jpeg()))], editor=user)
        category = db.session.scalar(sa.select(Category).where(Category.slug == "basketry"))
        listings.update(
            product,
            listings.ListingWords("سلة خوص", "قطعة يدوية.", "خوص", category.id, "", None),
            listings.ListingTerms(price=price, made_to_order=False, stock=3, days_to_make=None),
            editor=user,
        )
        listings.submit(product, editor=user)
        listings.approve(product, coordinator=coordinator)
        order = orders.place(
            [orders.Wanted(product.id, 1, price)],
            orders.Delivery("سارة", "+201223456789", None, "ALX", "سموحة", "شارع النصر", ""),
            method="cod",
            online=False,
            buyer=None,
            locale="ar",
        )
        part = order.parts[0]
        orders.accept(part, by=user)
        orders.ship(part, by=user)
        orders.deliver(part, by=user)
        db.session.commit()


def _submit(page, form: str) -> None:
    page.click(f"{form} button[type=submit]")


def test_a_grant_from_application_to_her_money(new_page, shot, live_app, js, monkeypatch):
    people = _seed(live_app, "js" if js else "nojs")
    # The public figures stop at the start of this month (no figure moves by one woman from
    # one day to the next): look at the page as it will be next month.
    from artisan_market.impact import views as impact

    next_month = utcnow() + timedelta(days=32)
    monkeypatch.setattr(impact, "utcnow", lambda: next_month)
    public = new_page()
    women_before, paid_before = _public_totals(public)

    # She applies from her phone, in Arabic, typing Arabic-Indic digits.
    her = new_page()
    log_in(her, people.artisan)
    her.goto("/studio")
    her.click("a[href='/studio/grants']")
    expect(her.locator("main")).to_contain_text(people.name)
    shot(her, "1-grants")
    her.click(f"a[href='/studio/grants/apply/{people.programme}']")
    her.fill("#amount", "٣٬٥٠٠")
    her.check("input[name=purpose][value=loom]")
    her.fill("#plan", "أشتري نولًا أعرض لأنسج سلالًا أكبر.")
    shot(her, "2-apply")
    _submit(her, "main form")
    expect(her).to_have_url(re.compile(r"/studio/grants$"))
    expect(her.locator("main")).to_contain_text("٣٬٥٠٠")
    shot(her, "3-applied")

    # Her coordinator approves less than asked and records a first instalment.
    staff = new_page()
    log_in(staff, people.coordinator)
    staff.goto(f"/review/grants/{people.programme}")
    staff.click(f"main .order-list a:has-text('{people.display_name}')")
    staff.fill("#amount", "٣٠٠٠")
    _submit(staff, "form[action$='/approve']")
    expect(staff.locator("main")).to_contain_text("٣٬٠٠٠")
    staff.fill("form[action$='/instalments'] #amount", "١٥٠٠")
    staff.check("input[name=method][value=mobile_wallet]")
    staff.fill("#reference", "VC-٢٠٢٦")
    shot(staff, "4-approved")
    _submit(staff, "form[action$='/instalments']")
    expect(staff.locator("main")).to_contain_text("١٬٥٠٠")
    shot(staff, "5-instalment")

    # She confirms that the money reached her.
    her.goto("/studio/grants")
    _submit(her, "form[action$='/confirm']")
    expect(her.locator("main .instalment .status-confirmed")).to_have_count(1)
    shot(her, "6-confirmed")

    # A parcel of hers is delivered: her earnings show it; her coordinator pays her part of it.
    _delivered_sale(live_app, people.profile)
    her.goto("/studio/money")
    expect(her.locator("main .figure-main")).to_contain_text("٤٥٠")
    shot(her, "7-earned")
    staff.goto(f"/review/artisans/{people.profile}/money")
    staff.fill("#amount", "٣٠٠")
    staff.check("input[name=method][value=cash]")
    _submit(staff, "form[action$='/payouts']")
    expect(staff.locator("main .figure-main")).to_contain_text("١٥٠")
    shot(staff, "8-paid")
    her.goto("/studio/money")
    expect(her.locator("main .figure-main")).to_contain_text("١٥٠")
    shot(her, "9-owed")

    with live_app.app_context():
        application = db.session.scalar(
            sa.select(Application).where(Application.programme_id == people.programme)
        )
        assert application.amount_awarded == 300_000 and application.disbursed == 150_000
        assert application.instalments[0].status is InstalmentStatus.CONFIRMED
        figures = ledger.balances(people.profile)
        assert (figures.earned, figures.paid, figures.owed, figures.grants) == (
            45_000,
            30_000,
            15_000,
            150_000,
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OrderPart)
                .where(OrderPart.artisan_id == people.profile)
            )
            == 1
        )
    # The public page counts her, and the money that reached her.
    women_after, paid_after = _public_totals(public)
    assert (women_after, paid_after) == (women_before + 1, paid_before + 1_500)
    shot(public, "10-impact")
    assert _real_errors(her) == [] and _real_errors(staff) == []


def _axe(page) -> list[str]:
    page.evaluate(Path(AXE).read_text())
    return page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_grant_and_money_pages_have_no_serious_accessibility_problems(
    browser, live_app, live_server, lang, monkeypatch
):
    people = _seed(live_app, "axe")
    # /impact as it will be next month, with this month's awards in its charts.
    from artisan_market.impact import views as impact

    next_month = utcnow() + timedelta(days=32)
    monkeypatch.setattr(impact, "utcnow", lambda: next_month)
    with live_app.app_context():
        if not db.session.scalar(
            sa.select(Application.id).where(Application.programme_id == people.programme)
        ):
            profile = db.session.get(ArtisanProfile, people.profile)
            programme = db.session.get(Programme, people.programme)
            application = rules.apply(
                programme,
                profile,
                amount=200_000,
                purpose=Purpose.KILN,
                plan="فرن صغير",
                by=profile.user,
            )
            rules.approve(application, 150_000, by=profile.verified_by)
            rules.record_instalment(
                application,
                50_000,
                paid_on=today_in_egypt(),
                method=PayMethod.CASH,
                by=profile.verified_by,
            )
            db.session.commit()
            seed_sale = True
        else:
            seed_sale = False
        application_id = db.session.scalar(
            sa.select(Application.id).where(Application.programme_id == people.programme)
        )
    if seed_sale:
        _delivered_sale(live_app, people.profile, price=20_000)

    problems: list[str] = []
    for phone, paths in (
        (people.artisan, ["/studio/grants", "/studio/money"]),
        (
            people.coordinator,
            [
                "/review/grants",
                f"/review/grants/{people.programme}",
                f"/review/grants/applications/{application_id}",
                f"/review/artisans/{people.profile}/money",
                "/review/grants/new",
                "/impact/programmes",
                f"/impact/programmes/{people.programme}",
                "/impact",
            ],
        ),
    ):
        context = browser.new_context(viewport=PHONE_SCREEN, locale="ar-EG", base_url=live_server)
        context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
        context.set_default_timeout(10_000)
        page = context.new_page()
        log_in(page, phone)
        for path in paths:
            page.goto(path)
            name = re.sub(r"\W+", "-", path).strip("-")
            page.screenshot(
                path=str(SCREENSHOTS / f"test_grant_pages_axe-{lang}-{name}.png"), full_page=True
            )
            problems += [f"{path} [{lang}] {item}" for item in _axe(page)]
        if phone == people.coordinator:
            # A form sent empty comes back with its errors: those pages too.
            page.goto("/review/grants/new")
            _submit(page, "main form")
            expect(page.locator("main .form-errors")).to_be_visible()
            problems += [f"/review/grants/new (errors) [{lang}] {i}" for i in _axe(page)]
        context.close()
    assert problems == [], "\n".join(problems)
