"""What a cart and a checkout do with what nobody should send: a clear answer, the form back
with what she typed, never a 500 and never half an order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from artisan_market.catalog import listings
from artisan_market.extensions import db
from artisan_market.jobs import huey
from artisan_market.orders.models import Order, OrderItem, OrderPart
from artisan_market.payments.models import Payment
from tests.conftest import Client
from tests.orders.conftest import CHECKOUT, add, form_key, place


def _cart(client) -> str:
    return client.get("/cart").get_data(as_text=True)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("quantity", ["0", "-1", "1000000000", "ثلاثة", "2.5", "²"])
def test_quantities_that_are_not_a_number_of_pieces(client, make_product, quantity):
    product = make_product(status="live", stock=5)
    answer = client.submit(f"/cart/add/{product.id}", {"quantity": quantity}, page="/cart")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(f"/products/{product.id}")
    assert "cart-line" not in _cart(client)
    htmx = client.submit(
        f"/cart/add/{product.id}",
        {"quantity": quantity},
        page="/cart",
        headers={"HX-Request": "true", "HX-Target": "cart-count"},
    )
    assert htmx.status_code == 422
    assert "flash-error" in htmx.get_data(as_text=True)


def test_arabic_indic_digits_are_a_quantity(client, make_product):
    product = make_product(status="live", stock=5)
    client.submit(f"/cart/add/{product.id}", {"quantity": "٣"}, page="/cart")
    assert 'value="٣"' in _cart(client)
    client.submit(f"/cart/{product.id}", {"quantity": "٠"}, page="/cart")  # 0 takes it out
    assert "cart-line" not in _cart(client)


def test_a_piece_that_is_not_live_cannot_be_added(client, make_product):
    for status in ("pending", "draft", "paused", "sold_out", "archived"):
        product = make_product(status=status)
        answer = client.submit(f"/cart/add/{product.id}", {"quantity": "1"}, page="/cart")
        assert answer.status_code == 303
    assert "cart-line" not in _cart(client)
    assert client.submit("/cart/add/999999", {"quantity": "1"}, page="/cart").status_code == 404


def test_the_header_count_changes_with_htmx(client, make_product):
    product = make_product(status="live", stock=5)
    answer = client.submit(
        f"/cart/add/{product.id}",
        {"quantity": "2"},
        page="/cart",
        headers={"HX-Request": "true", "HX-Target": "cart-count"},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert html.lstrip().startswith('<a id="cart-count"') or 'id="cart-count"' in html
    assert '<span class="badge-count" aria-hidden="true">٢</span>' in html
    assert 'hx-swap-oob="true"' in html and len(html.encode()) < 10_000


def test_prices_totals_and_artisans_posted_by_the_browser_are_ignored(
    client, make_product, make_artisan
):
    product = make_product(status="live", stock=5, price=25_000)
    other = make_artisan(verified=True)
    add(client, product)
    answer = place(
        client,
        price="1",
        total="1",
        unit_price="1",
        items_total="1",
        artisan_id=str(other.artisan_profile.id),
        shipping_fee="0",
    )
    assert answer.status_code == 303
    order = db.session.scalars(sa.select(Order)).one()
    assert order.items_total == 25_000 and order.shipping_total == 6000
    assert order.parts[0].artisan_id == product.artisan_id


def test_an_empty_cart_has_no_checkout(client):
    assert client.get("/checkout").headers["Location"] == "/cart"
    answer = client.submit("/checkout", {**CHECKOUT, "once": "x" * 32}, page="/cart")
    assert answer.status_code == 422
    assert "سلتك فارغة" in answer.get_data(as_text=True)
    assert _count(Order) == 0


@pytest.mark.parametrize("phone", ["123", "٠١٢٣", "not a phone", "+1 555", "٠١٢٢٣٤٥٦٧٨٩٠١٢٣"])
def test_a_phone_that_is_not_one_gets_the_form_back(client, make_product, phone):
    add(client, make_product(status="live"))
    answer = place(client, phone=phone)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "رقم هاتف" in html  # "This does not look like a phone number" in Arabic
    assert "سارة محمود" in html and "١٢ شارع النصر، الدور الثالث" in html  # what she typed
    assert _count(Order) == 0


def test_missing_fields_are_named(client, make_product):
    add(client, make_product(status="live"))
    answer = place(client, name="", governorate="XX", city="", address="")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    for message in ("اكتبي الاسم", "اختاري المحافظة", "اكتبي المدينة", "اكتبي العنوان"):
        assert message in html
    assert _count(Order) == 0


def test_the_same_checkout_sent_twice_makes_one_order(client, make_product):
    product = make_product(status="live", stock=5)
    add(client, product)
    page = client.get("/checkout").get_data(as_text=True)
    data = {**CHECKOUT, "once": form_key(page)}

    first = client.submit("/checkout", data, page="/cart")
    add(client, product)  # she put it in the cart again meanwhile: the resend is still one order
    second = client.submit("/checkout", data, page="/cart")

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(Order) == 1
    db.session.refresh(product)
    assert product.stock == 4


def test_the_last_piece_sold_meanwhile_saves_nothing_and_says_so(client, make_product, app):
    basket = make_product(status="live", stock=3, title="سلة")
    rug = make_product(status="live", stock=2, title="كليم")
    add(client, basket)
    add(client, rug, 2)
    # Someone else bought one rug since.
    other = Client(app)
    add(other, rug)
    assert place(other).status_code == 303

    answer = place(client)

    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "كليم" in html and "بقيت قطعة واحدة فقط" in html
    assert _count(Order) == 1  # only the other buyer's
    db.session.refresh(basket)
    assert basket.stock == 3  # her basket was not taken either


def test_a_price_changed_since_is_told_before_she_pays(client, make_product):
    product = make_product(status="live", stock=3, price=25_000)
    add(client, product)
    words = listings.ListingWords(
        product.title, product.description, product.materials, product.category_id, "", None
    )
    terms = listings.ListingTerms(price=30_000, made_to_order=False, stock=3, days_to_make=None)
    listings.update(product, words, terms, editor=product.artisan.user)
    db.session.commit()
    assert "تغيّر السعر من" in _cart(client)

    refused = place(client)
    assert refused.status_code == 422
    assert "تغيّر سعر" in refused.get_data(as_text=True)
    assert _count(Order) == 0

    accepted = place(client)  # she has seen the new total
    assert accepted.status_code == 303
    assert db.session.scalars(sa.select(OrderItem.unit_price)).one() == 30_000


def test_a_failure_half_way_leaves_nothing(client, make_product, monkeypatch):
    product = make_product(status="live", stock=3)
    add(client, product)
    from artisan_market.orders import rules

    def broken(order):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(rules, "_placed", broken)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    answer = place(client)

    assert answer.status_code == 500
    assert (_count(Order), _count(OrderPart), _count(OrderItem), _count(Payment)) == (0, 0, 0, 0)
    db.session.refresh(product)
    assert product.stock == 3


def test_the_mail_server_down_when_an_order_is_placed(make_app, make_product, mail_server):
    """The order stands; her email waits for a retry, and goes when the server is back."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_server.port)
    app.test_client_class = Client
    with app.app_context():
        client = app.test_client()
        add(client, make_product(status="live"))
        started = datetime.now(UTC).replace(tzinfo=None)
        answer = place(client, email="sara@example.org")
        assert answer.status_code == 303
        assert _count(Order) == 1
        (retry,) = huey.scheduled()
        assert (retry.eta - started).total_seconds() >= 29
        db.session.commit()  # a worker is another process: the test holds no transaction
        mail_server.start()
        for task in huey.read_schedule(retry.eta):
            huey.execute(task, retry.eta)
    assert mail_server.inbox.recipients == [["sara@example.org"]]
    body = mail_server.inbox.messages[0].get_content()
    assert "/orders/" in body and "سارة محمود" in body


def test_adding_to_the_cart_takes_no_write_lock(client, make_product):
    """The cart is in her cookie: a POST that adds a piece begins no write transaction, so
    a busy checkout never makes it wait (SQLite's BEGIN IMMEDIATE)."""
    product_id = make_product(status="live", stock=5).id
    token = client.csrf_token("/cart")
    db.session.commit()
    begun: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            begun.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        answer = client.post(f"/cart/add/{product_id}", data={"quantity": "1", "csrf_token": token})
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert answer.status_code == 303
    assert "BEGIN IMMEDIATE" not in begun, begun
