"""A buyer orders pieces from two artisans, pays cash on delivery, and follows the order."""

from __future__ import annotations

import sqlalchemy as sa

from artisan_market.catalog.models import ListingStatus
from artisan_market.extensions import db
from artisan_market.orders.models import Order, OrderStatus, PartStatus
from artisan_market.payments.models import Payment, PaymentStatus


def test_a_guest_orders_from_two_artisans_cash_on_delivery(
    client, make_product, add_to_cart, place_order
):
    basket = make_product(status="live", price=25_000, stock=3, title="سلة خوص")
    rug = make_product(status="live", price=90_000, stock=1, title="كليم")
    add_to_cart(basket, 2)
    add_to_cart(rug)

    response = place_order()

    assert response.status_code == 303
    order = db.session.scalars(sa.select(Order)).one()
    assert response.headers["Location"] == f"/orders/{order.token}"
    assert order.status is OrderStatus.PLACED
    assert order.phone == "+201223456789"
    assert [p.status for p in order.parts] == [PartStatus.NEW, PartStatus.NEW]
    assert order.items_total == 2 * 25_000 + 90_000
    assert order.shipping_total == 2 * 6000
    assert order.total == order.items_total + order.shipping_total
    db.session.refresh(basket)
    db.session.refresh(rug)
    assert basket.stock == 1
    assert (rug.stock, rug.status) == (0, ListingStatus.SOLD_OUT)
    payment = db.session.scalars(sa.select(Payment)).one()
    assert (payment.provider, payment.status) == ("cod", PaymentStatus.PENDING)

    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "سلة خوص" in html and "كليم" in html
    assert client.get("/cart").get_data(as_text=True).count("cart-line") == 0


def test_pages_ask_the_same_few_queries_however_many_pieces(
    client, make_product, make_artisan, add_to_cart, place_order
):
    """No query per piece or per parcel: cart, checkout, tracking and her orders."""
    from tests.conftest import count_queries, log_in

    artisan = make_artisan(verified=True)
    products = [make_product(artisan=artisan, status="live", stock=5) for _ in range(2)]
    others = [make_product(status="live", stock=5) for _ in range(3)]
    counts = {}
    for label, batch in (("small", products[:1]), ("large", products[1:] + others)):
        for product in batch:
            add_to_cart(product)
        pages = {}
        for url in ("/cart", "/checkout"):
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            pages[url] = len(statements)
        place_order()
        order = db.session.scalars(sa.select(Order).order_by(Order.id.desc())).first()
        with count_queries() as statements:
            client.get(f"/orders/{order.token}")
        pages["track"] = len(statements)
        counts[label] = pages
    assert counts["small"] == counts["large"], counts
    log_in(client, artisan)
    with count_queries() as statements:
        client.get("/studio/orders")
    assert len(statements) <= 8, statements


def test_the_cart_survives_logging_in_and_her_orders_are_listed(
    client, make_user, make_product, add_to_cart, place_order
):
    from tests.conftest import PASSWORD

    buyer = make_user("buyer", name="منى", phone="+201001234567")
    product = make_product(status="live", stock=3, title="سلة خوص")
    add_to_cart(product, 2)

    logged_in = client.submit(
        "/login", {"login": "٠١٠٠١٢٣٤٥٦٧", "password": PASSWORD}, page="/login"
    )

    assert logged_in.status_code == 303
    assert 'value="٢"' in client.get("/cart").get_data(as_text=True)
    checkout = client.get("/checkout").get_data(as_text=True)
    assert 'value="منى"' in checkout  # her name, filled in for her
    assert place_order(name="منى").status_code == 303
    order = db.session.scalars(sa.select(Order)).one()
    assert order.buyer_id == buyer.id
    history = client.get("/account/orders").get_data(as_text=True)
    assert f"/orders/{order.token}" in history
