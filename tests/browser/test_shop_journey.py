"""A buyer finds a piece and learns who made it; axe-core checks the public pages.

Real Chromium, 360x740, Arabic, JavaScript on and off. Screenshots are kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from artisan_market.accounts import services
from artisan_market.accounts.models import Organisation, Role
from artisan_market.catalog import listings
from artisan_market.catalog.models import Category
from artisan_market.extensions import db
from artisan_market.media.services import prepare_photo

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"
SEEDED: dict[str, int] = {}


@pytest.fixture(scope="module")
def catalogue(live_app):
    """Two verified artisans in Aswan and Siwa with live pieces (once per module)."""
    if SEEDED:
        return SEEDED
    import io

    from tests.conftest import small_jpeg

    with live_app.app_context():
        organisation = Organisation(name_ar="جمعية المتجر", name_en="Shop association")
        db.session.add(organisation)
        coordinator = services.register(
            name="منى", phone="+201166600009", email=None, password=None, role=Role.COORDINATOR
        )
        basketry = db.session.scalar(sa_select_category("basketry"))
        embroidery = db.session.scalar(sa_select_category("embroidery"))
        for n, (name, governorate, phone, category, title) in enumerate(
            [
                ("فاطمة", "ASN", "+201166600001", basketry, "قُفّة خوص ملوّنة"),
                ("أمينة", "MT", "+201166600002", embroidery, "شال مطرّز من سيوة"),
            ]
        ):
            user = services.register_artisan(
                name=name,
                phone=phone,
                email=None,
                password=None,
                details=services.ArtisanDetails(
                    display_name=name,
                    governorate=governorate,
                    village="قرية",
                    craft=category.slug,
                    story="حكايتي مع الحرفة منذ الصغر.",
                ),
            )
            profile = user.artisan_profile
            services.verify_artisan(profile, coordinator=coordinator, organisation=organisation)
            product = listings.new_draft(profile)
            listings.add_photos(
                product,
                [prepare_photo(io.BytesIO(small_jpeg((150 + 40 * n, 90, 60))))],
                editor=user,
            )
            listings.update(
                product,
                listings.ListingWords(title, "قطعة يدوية.", "خوص", category.id, "", None),
                listings.ListingTerms(
                    price=35_000 + n * 40_000, made_to_order=False, stock=2, days_to_make=None
                ),
                editor=user,
            )
            listings.submit(product, editor=user)
            listings.approve(product, coordinator=coordinator)
            SEEDED[governorate] = product.id
            SEEDED[f"artisan-{governorate}"] = profile.id
        db.session.commit()
    return SEEDED


def sa_select_category(slug):
    import sqlalchemy as sa

    return sa.select(Category).where(Category.slug == slug)


def _whole_shop_page(page, titles: list[str] | None) -> None:
    """The page is the whole shop (header, filters, one results list), not a fragment."""
    expect(page.locator("header")).to_have_count(1)
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("form.shop-filters")).to_have_count(1)
    expect(page.locator("#results")).to_have_count(1)
    if titles is not None:
        expect(page.locator("#results .card-title")).to_have_text(titles)


def test_buyer_finds_a_piece_by_a_spelling_variant(new_page, shot, catalogue, js):
    page = new_page()
    page.goto("/")
    page.click("header a[href='/shop']")
    # typed without the damma and shadda and with ه for ة, as people type on a phone
    page.fill("#q", "قفه")
    if js:  # live search: results follow the typing, and the URL follows the results
        expect(page.locator("#results .card-title")).to_have_text(["قُفّة خوص ملوّنة"])
        expect(page).to_have_url(re.compile(r"[?&]q="))
    else:
        page.click("form.shop-filters button[type=submit]")
        expect(page.locator("#results .card-title")).to_have_text(["قُفّة خوص ملوّنة"])
    shot(page, "1-search")

    page.fill("#q", "")
    page.click("form.shop-filters summary")
    page.select_option("#governorate", "MT")
    if not js:
        page.click("form.shop-filters details button[type=submit]")
    expect(page.locator("#results .card-title")).to_have_text(["شال مطرّز من سيوة"])
    shot(page, "2-siwa")
    if js:
        # The address htmx pushed is the filters alone, and gives the whole, right page: on
        # reload, and back and forward.
        expect(page).to_have_url(re.compile(r"/shop\?governorate=MT$"))
        page.reload()
        _whole_shop_page(page, ["شال مطرّز من سيوة"])
        page.go_back()
        expect(page).to_have_url(re.compile(r"/shop\?q=%D9%82%D9%81%D9%87$"))
        _whole_shop_page(page, ["قُفّة خوص ملوّنة"])
        page.go_forward()
        expect(page).to_have_url(re.compile(r"/shop\?governorate=MT$"))
        _whole_shop_page(page, ["شال مطرّز من سيوة"])
        expect(page.locator("#governorate")).to_have_value("MT")

    page.click("#results .product-card a")
    expect(page.locator("h1")).to_have_text("شال مطرّز من سيوة")
    expect(page.locator(".artisan-card")).to_contain_text("أمينة")
    share = page.locator("a.share")
    expect(share).to_have_attribute("href", re.compile(r"^https://wa\.me/\?text="))
    shot(page, "3-product")
    page.click(".artisan-card a")
    expect(page.locator("h1")).to_have_text("أمينة")
    shot(page, "4-artisan")
    assert [e for e in page.errors if "favicon" not in e] == []


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_public_pages_have_no_serious_accessibility_problems(browser, catalogue, live_server, lang):
    """axe-core (it runs inside the page, so JavaScript is on) on the public pages."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="ar-EG", base_url=live_server
    )
    context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
    page = context.new_page()
    source = AXE.read_text()
    pages = [
        "/",
        "/shop",
        f"/products/{catalogue['MT']}",
        f"/artisans/{catalogue['artisan-MT']}",
        "/login",
        "/signup/artisan",
    ]
    problems = []
    for path in pages:
        page.goto(path)
        page.evaluate(source)  # runs through the DevTools protocol: our CSP does not apply
        assert page.evaluate("typeof axe.run") == "function"
        result = page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
            ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
            ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
        )
        problems += [f"{path} [{lang}] {item}" for item in result]
    context.close()
    assert problems == [], "\n".join(problems)
