"""A guest orders from two artisans; each artisan accepts and ships her parcel; a card order
is paid on a local fake of Stripe's page; axe-core checks the cart, checkout and tracking pages.

Real Chromium, 360x740, Arabic, JavaScript on and off. Screenshots are kept.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from playwright.sync_api import expect

from artisan_market.accounts import services
from artisan_market.accounts.models import Organisation, Role
from artisan_market.catalog import listings
from artisan_market.catalog.models import Category
from artisan_market.extensions import db
from artisan_market.media.services import prepare_photo
from artisan_market.orders.models import Order, OrderStatus, PartStatus
from tests.browser.conftest import PHONE_SCREEN, SCREENSHOTS
from tests.fakes.stripe_server import FakeStripe

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"
PASSWORD = "كلمة سر طويلة ٢٠٢٦"
BUYER = {
    "name": "سارة محمود",
    "phone": "٠١٢٢٣٤٥٦٧٨٩",
    "governorate": "ALX",
    "city": "سموحة",
    "address": "١٢ شارع النصر، الدور الثالث، بجوار الصيدلية",
    "notes": "من فضلكم اتصلوا قبل الوصول",
}
# Each journey has its own artisans, so her order list holds only that journey's parcel.
SHOPS = {"js": "0117770001", "nojs": "0117770002", "card": "0117770003", "axe": "0117770004"}
SEEDED: dict[str, dict] = {}
TRACKING = re.compile(r"/orders/([A-Za-z0-9_-]{32})$")


def _category(slug: str) -> Category:
    return db.session.scalar(sa.select(Category).where(Category.slug == slug))


def _seed(live_app, key: str) -> dict:
    """Two verified artisans (Fayoum, Sohag: governorates the shop's tests do not filter
    by), each with a live piece."""
    if key in SEEDED:
        return SEEDED[key]
    from tests.conftest import small_jpeg

    prefix = SHOPS[key]
    shop: dict = {"artisans": []}
    with live_app.app_context():
        organisation = Organisation(name_ar=f"جمعية الطلبات {key}", name_en=f"Orders {key}")
        db.session.add(organisation)
        coordinator = services.register(
            name="منى", phone=f"+2{prefix}0", email=None, password=None, role=Role.COORDINATOR
        )
        pieces = [
            ("هدى", "FYM", "basketry", "سلة خوص بغطاء", 25_000),
            ("زينب", "SHG", "embroidery", "وشاح مطرّز بخيوط ملوّنة", 60_000),
        ]
        for n, (name, governorate, craft, title, price) in enumerate(pieces, start=1):
            phone = f"{prefix}{n}"
            user = services.register_artisan(
                name=name,
                phone=f"+2{phone}",
                email=None,
                password=PASSWORD,
                details=services.ArtisanDetails(
                    display_name=name,
                    governorate=governorate,
                    village="قرية",
                    craft=craft,
                    story="أصنع كل قطعة بيدي.",
                ),
            )
            profile = user.artisan_profile
            services.verify_artisan(profile, coordinator=coordinator, organisation=organisation)
            category = _category(craft)
            product = listings.new_draft(profile)
            listings.add_photos(
                product,
                [prepare_photo(io.BytesIO(small_jpeg((120 + 50 * n, 80, 50))))],
                editor=user,
            )
            listings.update(
                product,
                listings.ListingWords(title, "قطعة يدوية.", "خوص", category.id, "", None),
                listings.ListingTerms(
                    price=price, made_to_order=False, stock=50, days_to_make=None
                ),
                editor=user,
            )
            listings.submit(product, editor=user)
            listings.approve(product, coordinator=coordinator)
            shop["artisans"].append(
                {"phone": phone, "profile": profile.id, "product": product.id, "title": title}
            )
        db.session.commit()
    SEEDED[key] = shop
    return shop


def _label(live_app, value, locale: str = "ar") -> str:
    """A status's label as the site shows it in `locale` (whatever the translation is now)."""
    with live_app.test_request_context(), force_locale(locale):
        return value.label


def _add_to_cart(page, product_id: int, count: int, js: bool) -> None:
    """Open the piece's page and tap "Add to cart": htmx changes the header's count in place;
    without JavaScript the form posts and she lands on her cart."""
    page.goto(f"/products/{product_id}")
    button = page.locator(f"main form.add-to-cart[action='/cart/add/{product_id}'] button")
    if js:
        page.evaluate("window.__sameDocument = true")
        button.click()
        expect(page.locator("#cart-count .badge-count")).to_have_text(
            re.compile(rf"^\s*[{count}{chr(0x660 + count)}]\s*$")
        )
        expect(page).to_have_url(re.compile(rf"/products/{product_id}(?:/[^/?]*)?$"))
        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        expect(page.locator("#messages .flash-success")).to_be_visible()
    else:
        button.click()
        expect(page).to_have_url(re.compile(r"/cart$"))
        expect(page.locator("#cart-count .badge-count")).to_have_text(
            re.compile(rf"^\s*[{count}{chr(0x660 + count)}]\s*$")
        )


def _fill_checkout(page, payment: str) -> None:
    page.fill("#name", BUYER["name"])
    page.fill("#phone", BUYER["phone"])
    page.select_option("#governorate", BUYER["governorate"])
    page.fill("#city", BUYER["city"])
    page.fill("#address", BUYER["address"])
    page.fill("#notes", BUYER["notes"])
    page.check(f"input[name=payment][value={payment}]")


def _place(page) -> None:
    page.click("form[action='/checkout'] button[type=submit]")


def log_in(page, phone: str) -> None:
    page.goto("/login")
    page.fill("#login", phone)
    page.fill("#password", PASSWORD)
    page.click("form[action^='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()


def _real_errors(page) -> list[str]:
    return [e for e in page.errors if "favicon" not in e]


def test_a_guest_orders_from_two_artisans_who_ship_cash_on_delivery(new_page, shot, live_app, js):
    shop = _seed(live_app, "js" if js else "nojs")
    first, second = shop["artisans"]
    buyer = new_page()

    _add_to_cart(buyer, first["product"], 1, js)
    _add_to_cart(buyer, second["product"], 2, js)

    buyer.click("#cart-count")
    expect(buyer).to_have_url(re.compile(r"/cart$"))
    expect(buyer.locator("main .cart-line")).to_have_count(2)
    expect(buyer.locator("main section.parcel")).to_have_count(2)
    shot(buyer, "1-cart")

    buyer.click("main a[href='/checkout']")
    expect(buyer).to_have_url(re.compile(r"/checkout$"))
    _fill_checkout(buyer, "cod")
    shot(buyer, "2-checkout")
    _place(buyer)

    # She lands on her order's page (with htmx too: the boosted form follows the redirect).
    expect(buyer, "after placing the order she is on its tracking page").to_have_url(TRACKING)
    token = TRACKING.search(buyer.url).group(1)
    expect(buyer.locator("main section.parcel")).to_have_count(2)
    expect(buyer.locator(".order-status")).to_have_class(re.compile(r"\bstatus-placed\b"))
    new = _label(live_app, PartStatus.NEW)
    expect(buyer.locator("main section.parcel .status")).to_have_text([new, new])
    expect(buyer.locator("main")).to_contain_text(first["title"])
    expect(buyer.locator("main")).to_contain_text(second["title"])
    expect(buyer.locator("#cart-count .badge-count")).to_have_count(0)
    shot(buyer, "3-tracking")

    with live_app.app_context():
        order = db.session.scalars(sa.select(Order).where(Order.token == token)).one()
        assert order.status is OrderStatus.PLACED
        assert order.payment_method == "cod"
        assert (order.name, order.phone, order.governorate) == (
            BUYER["name"],
            "+201223456789",
            "ALX",
        )
        assert (order.city, order.address, order.notes) == (
            BUYER["city"],
            BUYER["address"],
            BUYER["notes"],
        )
        parts = {part.artisan_id: part.id for part in order.parts}
        db.session.remove()

    # Each artisan, on her own phone, accepts her parcel and sends it.
    for n, artisan in enumerate([first, second], start=1):
        her = new_page()
        log_in(her, artisan["phone"])
        part_id = parts[artisan["profile"]]
        her.goto("/studio/orders")
        expect(her.locator("main .order-list li")).to_have_count(1)
        if n == 1:
            shot(her, "4-artisan-orders")
        her.click(f"main a[href='/parts/{part_id}']")
        expect(her).to_have_url(re.compile(rf"/parts/{part_id}$"))
        expect(her.locator("main")).to_contain_text(BUYER["name"])
        expect(her.locator("main")).to_contain_text(BUYER["address"])
        expect(her.locator("main")).to_contain_text(artisan["title"])
        if n == 1:
            shot(her, "5-artisan-order")
        her.click(f"form[action='/parts/{part_id}/accept'] button[type=submit]")
        expect(her.locator("main > .status")).to_have_class(re.compile(r"\bstatus-accepted\b"))
        her.fill("#courier", "بوسطة")
        her.fill("#tracking_number", f"EG{part_id:09d}")
        if n == 1:
            shot(her, "6-artisan-accepted")
        her.click(f"form[action='/parts/{part_id}/ship'] button[type=submit]")
        expect(her.locator("main > .status")).to_have_class(re.compile(r"\bstatus-shipped\b"))
        expect(her.locator("main")).to_contain_text(f"EG{part_id:09d}")
        if n == 1:
            shot(her, "7-artisan-shipped")
        assert _real_errors(her) == []

    buyer.reload()
    shipped = _label(live_app, PartStatus.SHIPPED)
    expect(buyer.locator("main section.parcel .status")).to_have_text([shipped, shipped])
    for status in buyer.locator("main section.parcel .status").all():
        expect(status).to_have_class(re.compile(r"\bstatus-shipped\b"))
    expect(buyer.locator("main section.parcel")).to_contain_text(["بوسطة", "بوسطة"])
    shot(buyer, "8-tracking-shipped")
    assert _real_errors(buyer) == []


@pytest.fixture
def stripe(live_app, live_server, monkeypatch) -> Iterator[FakeStripe]:
    """Card payments on, for this test, against a local fake of Stripe whose webhooks go to
    the live server (delivered before its payment page answers)."""
    with FakeStripe(webhook_url=f"{live_server}/payments/stripe/webhook") as fake:
        for key, value in {
            "STRIPE_SECRET_KEY": fake.api_key,
            "STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
            "STRIPE_API_BASE": fake.url,
            # Where the payment page is (production: https://checkout.stripe.com): the CSP's
            # form-action names it, as it names Stripe's own origin in production.
            "STRIPE_CHECKOUT_ORIGIN": fake.url,
        }.items():
            monkeypatch.setitem(live_app.config, key, value)
        yield fake


def _pay_on_the_fake_page(buyer, fake: FakeStripe, live_server: str) -> str:
    """On the provider's page: tap Pay; back on the order's page; its token."""
    expect(buyer).to_have_url(re.compile(rf"^{re.escape(fake.url)}/pay/cs_test_\w+$"))
    buyer.click("form[action^='/pay/'] button[type=submit]")
    expect(buyer).to_have_url(re.compile(rf"^{re.escape(live_server)}/orders/[\w-]{{32}}$"))
    return TRACKING.search(buyer.url).group(1)


def test_a_guest_pays_by_card_on_the_payment_page(
    new_page, shot, live_app, live_server, stripe, js
):
    piece = _seed(live_app, "card")["artisans"][0]
    buyer = new_page()
    _add_to_cart(buyer, piece["product"], 1, js)
    buyer.goto("/checkout")
    _fill_checkout(buyer, "stripe")
    shot(buyer, "1-checkout-card")
    _place(buyer)

    # Our checkout sends her to the provider's page (through /orders/<token>/pay), with
    # JavaScript too (a boosted form whose answer redirects to another origin).
    payment_page = re.compile(rf"^{re.escape(stripe.url)}/pay/cs_test_\w+$")
    expect(buyer, "the checkout sends her to the payment page").to_have_url(payment_page)
    shot(buyer, "2-payment-page")
    token = _pay_on_the_fake_page(buyer, stripe, live_server)

    # The webhook came before the redirect: placed at once (or after one htmx poll).
    expect(buyer.locator("#payment-status")).to_have_count(0, timeout=10_000)
    expect(buyer.locator(".order-status")).to_have_class(re.compile(r"\bstatus-placed\b"))
    expect(buyer.locator(".order-status")).to_have_text(_label(live_app, OrderStatus.PLACED))
    expect(buyer.locator("main section.parcel")).to_have_count(1)
    shot(buyer, "3-tracking-paid")

    assert [e["type"] for e in stripe.events] == ["checkout.session.completed"]
    assert [e["webhook_status"] for e in stripe.events] == [200]
    with live_app.app_context():
        order = db.session.scalars(sa.select(Order).where(Order.token == token)).one()
        assert (order.status, order.payment_method) == (OrderStatus.PLACED, "stripe")
        assert order.paid_at is not None
        db.session.remove()
    assert _real_errors(buyer) == []


def test_the_order_page_follows_a_card_payment_confirmed_late(
    new_page, shot, live_app, live_server, stripe, js
):
    """Back from the payment page before the webhook: "confirming", then placed once the
    webhook comes (htmx asks every 3 s; without JavaScript, "Check again")."""
    piece = _seed(live_app, "card")["artisans"][1]
    token = _order_placed_without_javascript(live_app, piece["product"], payment="stripe")
    held: list[bytes] = []
    stripe.webhook_sender = lambda payload, headers: held.append(payload) or 0

    buyer = new_page()
    buyer.goto(f"/orders/{token}")
    expect(buyer.locator("#payment-status")).to_be_visible()
    buyer.click(f"#payment-status a[href='/orders/{token}/pay']")
    assert _pay_on_the_fake_page(buyer, stripe, live_server) == token
    expect(buyer.locator("#payment-status")).to_be_visible()
    expect(buyer.locator(".order-status")).to_have_class(re.compile(r"\bstatus-awaiting_payment\b"))
    shot(buyer, "1-confirming")

    stripe.webhook_sender = None
    assert [stripe.deliver(payload) for payload in held] == [200]
    if not js:
        buyer.click(f"#payment-status a[href='/orders/{token}']")
    expect(buyer.locator("#payment-status")).to_have_count(0, timeout=10_000)
    expect(buyer.locator(".order-status")).to_have_class(re.compile(r"\bstatus-placed\b"))
    expect(buyer).to_have_url(re.compile(rf"/orders/{token}$"))
    shot(buyer, "2-placed")
    assert _real_errors(buyer) == []


def _axe(page) -> list[str]:
    page.evaluate(AXE.read_text())  # through the DevTools protocol: our CSP does not apply
    assert page.evaluate("typeof axe.run") == "function"
    return page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )


def _order_placed_without_javascript(live_app, product_id: int, payment: str = "cod") -> str:
    """An order for one piece, placed through the site's forms by a test client (not the
    browser); its tracking token."""
    from tests.conftest import Client
    from tests.orders.conftest import add, place

    client = Client(live_app, live_app.response_class, use_cookies=True)
    add(client, SimpleNamespace(id=product_id))
    response = place(client, **BUYER, payment=payment)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return re.search(r"/orders/([\w-]{32})", response.headers["Location"]).group(1)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_order_pages_have_no_serious_accessibility_problems(browser, live_app, live_server, lang):
    """axe-core (it runs inside the page, so JavaScript is on) on the cart, the checkout
    (empty, then sent empty and showing its errors) and a tracking page."""
    shop = _seed(live_app, "axe")
    piece = shop["artisans"][1]
    context = browser.new_context(viewport=PHONE_SCREEN, locale="ar-EG", base_url=live_server)
    context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
    context.set_default_timeout(10_000)
    page = context.new_page()
    SCREENSHOTS.mkdir(exist_ok=True)

    def look(step: str) -> list[str]:
        page.screenshot(
            path=str(SCREENSHOTS / f"test_order_pages_axe-{lang}-{step}.png"),
            full_page=True,
            caret="initial",
        )
        return [f"{page.url} ({step}) [{lang}] {item}" for item in _axe(page)]

    problems = []
    _add_to_cart(page, piece["product"], 1, js=True)
    page.goto("/cart")
    expect(page.locator("main .cart-line")).to_have_count(1)
    problems += look("cart")

    page.goto("/checkout")
    problems += look("checkout")
    _place(page)
    expect(page.locator("main #name-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/checkout$"))
    problems += look("checkout-errors")

    # The tracking page of an order placed without JavaScript (the journeys above place
    # theirs through the browser).
    page.goto(f"/orders/{_order_placed_without_javascript(live_app, piece['product'])}")
    expect(page.locator("main section.parcel")).to_have_count(1)
    problems += look("tracking")
    context.close()
    assert problems == [], "\n".join(problems)
