"""Each artisan fulfils her own part; coordinators follow their governorates' orders."""

from __future__ import annotations

import sqlalchemy as sa

from artisan_market.audit.models import AuditEvent
from artisan_market.catalog import listings
from artisan_market.extensions import db
from artisan_market.orders.models import Order, OrderStatus, PartStatus
from artisan_market.payments.models import Payment, PaymentStatus
from artisan_market.timeutil import today_in_egypt
from tests.conftest import log_in


def _two_artisan_order(client, make_product, add_to_cart, place_order, **checkout):
    first = make_product(status="live", stock=3, title="سلة خوص")
    second = make_product(status="live", stock=2, title="كليم صوف")
    add_to_cart(first, 2)
    add_to_cart(second)
    assert place_order(**checkout).status_code == 303
    order = db.session.scalars(sa.select(Order)).one()
    parts = {part.artisan_id: part for part in order.parts}
    return order, (first, parts[first.artisan_id]), (second, parts[second.artisan_id])


def test_each_artisan_sees_only_her_part(client, make_product, add_to_cart, place_order):
    _order, (first, part), (_second, other_part) = _two_artisan_order(
        client, make_product, add_to_cart, place_order, notes="اتصلوا قبل الوصول"
    )
    log_in(client, first.artisan.user)

    listing = client.get("/studio/orders").get_data(as_text=True)
    assert '<span class="badge-count" aria-hidden="true">١</span>' in listing  # one new order
    page = client.get(f"/parts/{part.id}")

    assert f"/parts/{part.id}" in listing and f"/parts/{other_part.id}" not in listing
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "سلة خوص" in html and "كليم صوف" not in html  # only her pieces
    assert "١٢ شارع النصر" in html and "اتصلوا قبل الوصول" in html  # where to send it
    assert "٠١٢ ٢٣٤٥ ٦٧٨٩" in html  # the buyer's phone, to call her
    assert client.get(f"/parts/{other_part.id}").status_code == 404


def test_she_accepts_ships_and_delivers_and_the_buyer_sees_it(
    client, make_product, add_to_cart, place_order
):
    order, (first, part), (second, other_part) = _two_artisan_order(
        client, make_product, add_to_cart, place_order
    )
    tracking = f"/orders/{order.token}"
    log_in(client, first.artisan.user)

    refused = client.submit(f"/parts/{part.id}/ship", {}, page=f"/parts/{part.id}")
    assert refused.status_code == 422  # not accepted yet: a clear refusal, the page again
    assert "Reload the page" in refused.get_data(as_text=True) or "أعيدي" in refused.get_data(
        as_text=True
    )
    for step, data in (
        ("accept", {}),
        ("ship", {"courier": "بوسطة", "tracking_number": "BST-٤٥٦"}),
        ("deliver", {}),
    ):
        answer = client.submit(f"/parts/{part.id}/{step}", data, page=f"/parts/{part.id}")
        assert answer.status_code == 303, step
    # The same tap again changes nothing and says nothing is wrong.
    again = client.submit(f"/parts/{part.id}/deliver", {}, page=f"/parts/{part.id}")
    assert again.status_code == 303

    db.session.refresh(part)
    assert part.status is PartStatus.DELIVERED
    assert (part.courier, part.tracking_number) == ("بوسطة", "BST-٤٥٦")
    db.session.refresh(order)
    assert order.status is OrderStatus.PLACED  # the other part is still on its way
    page = client.get(tracking).get_data(as_text=True)
    assert "تم التسليم" in page

    log_in(client, second.artisan.user)
    client.submit(f"/parts/{other_part.id}/accept", {}, page=f"/parts/{other_part.id}")
    client.submit(f"/parts/{other_part.id}/ship", {}, page=f"/parts/{other_part.id}")
    client.submit(f"/parts/{other_part.id}/deliver", {}, page=f"/parts/{other_part.id}")
    db.session.refresh(order)
    assert order.status is OrderStatus.COMPLETED


def test_made_to_order_is_accepted_with_a_day(client, make_product, add_to_cart, place_order):
    product = make_product(status="live", stock=1)
    terms = listings.ListingTerms(price=product.price, made_to_order=True, stock=0, days_to_make=10)
    words = listings.ListingWords(
        product.title, product.description, product.materials, product.category_id, "", None
    )
    listings.update(product, words, terms, editor=product.artisan.user)
    db.session.commit()
    add_to_cart(product, 2)
    place_order()
    part = db.session.scalars(sa.select(Order)).one().parts[0]
    log_in(client, product.artisan.user)

    no_day = client.submit(f"/parts/{part.id}/accept", {}, page=f"/parts/{part.id}")
    past = client.submit(
        f"/parts/{part.id}/accept", {"ready_by": "2020-01-01"}, page=f"/parts/{part.id}"
    )
    good = client.submit(
        f"/parts/{part.id}/accept", {"ready_by": "2099-01-01"}, page=f"/parts/{part.id}"
    )

    assert (no_day.status_code, past.status_code) == (422, 422)
    assert "اكتبي اليوم" in no_day.get_data(as_text=True)
    assert good.status_code == 422  # more than a year ahead
    ok = client.submit(
        f"/parts/{part.id}/accept",
        {"ready_by": today_in_egypt().isoformat()},
        page=f"/parts/{part.id}",
    )
    assert ok.status_code == 303
    db.session.refresh(part)
    assert part.status is PartStatus.ACCEPTED and part.ready_by == today_in_egypt()
    db.session.refresh(product)
    assert product.stock == 0  # made for each order: no stock counted


def test_she_cancels_her_part_with_a_reason(client, make_product, add_to_cart, place_order):
    order, (first, part), (second, other_part) = _two_artisan_order(
        client, make_product, add_to_cart, place_order
    )
    log_in(client, first.artisan.user)

    no_reason = client.submit(f"/parts/{part.id}/cancel", {}, page=f"/parts/{part.id}")
    done = client.submit(
        f"/parts/{part.id}/cancel",
        {"reason": "out_of_stock", "note": "انكسرت القطعة"},
        page=f"/parts/{part.id}",
    )

    assert no_reason.status_code == 422
    assert done.status_code == 303
    db.session.refresh(part)
    db.session.refresh(first)
    assert part.status is PartStatus.CANCELLED and part.cancel_note == "انكسرت القطعة"
    assert first.stock == 3  # both pieces back
    tracking = client.get(f"/orders/{order.token}").get_data(as_text=True)
    assert "القطعة لم تعد متاحة" in tracking and "انكسرت القطعة" in tracking

    log_in(client, second.artisan.user)
    client.submit(
        f"/parts/{other_part.id}/cancel", {"reason": "no_answer"}, page=f"/parts/{other_part.id}"
    )
    db.session.refresh(order)
    assert order.status is OrderStatus.CANCELLED
    payment = db.session.scalars(sa.select(Payment)).one()
    assert payment.status is PaymentStatus.FAILED  # nothing will be collected


def test_coordinators_follow_their_governorates_and_act_for_whom_they_verified(
    client, make_user, make_artisan, make_product, add_to_cart, place_order
):
    verifier = make_user("coordinator")
    artisan = make_artisan(verified=True, verified_by=verifier, governorate="ASN")
    colleague = make_user("coordinator")
    make_artisan(verified=True, verified_by=colleague, governorate="ASN")  # same governorate
    stranger = make_user("coordinator")
    make_artisan(verified=True, verified_by=stranger, governorate="SHG")
    product = make_product(artisan=artisan, status="live", stock=2)
    add_to_cart(product)
    place_order()
    part = db.session.scalars(sa.select(Order)).one().parts[0]

    log_in(client, stranger)
    assert client.get(f"/parts/{part.id}").status_code == 404
    assert f"/parts/{part.id}" not in client.get("/review/orders").get_data(as_text=True)

    log_in(client, colleague)
    assert f"/parts/{part.id}" in client.get("/review/orders").get_data(as_text=True)
    page = client.get(f"/parts/{part.id}")
    assert page.status_code == 200
    assert f"/parts/{part.id}/accept" not in page.get_data(as_text=True)  # not hers to act for
    assert client.submit(f"/parts/{part.id}/accept", {}, page="/review/orders").status_code == 404

    log_in(client, verifier)
    assert client.submit(f"/parts/{part.id}/accept", {}, page="/review/orders").status_code == 303
    for step in ("ship", "deliver"):
        client.submit(f"/parts/{part.id}/{step}", {}, page="/review/orders")
    log_in(client, colleague)
    first = client.submit(f"/parts/{part.id}/cash", {}, page="/review/orders")
    second = client.submit(f"/parts/{part.id}/cash", {}, page="/review/orders")
    assert (first.status_code, second.status_code) == (303, 303)
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.subject_type == "order_part")
    ).all()
    assert sorted(actions) == [
        "order.accepted",
        "order.cash_collected",
        "order.delivered",
        "order.shipped",
    ]
    payment = db.session.scalars(sa.select(Payment)).one()
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.PAID  # every delivered parcel's cash is in


def test_a_tracking_token_of_another_order_is_not_found(client):
    assert client.get("/orders/" + "A" * 32).status_code == 404
    assert client.get("/orders/short").status_code == 404
    assert client.get("/orders/" + "A" * 32 + "/receipt").status_code == 404


def test_an_admin_sets_shipping_fees_by_governorate(client, make_user, make_product):
    admin = make_user("admin")
    log_in(client, admin)
    page = client.get("/admin/shipping").get_data(as_text=True)
    assert 'value="٦٠٫٠٠"' in page or 'value="٦٠"' in page  # the fee for all, to start

    bad = client.submit(
        "/admin/shipping", {"default": "ستون", "fee_ASN": "-5"}, page="/admin/shipping"
    )
    assert bad.status_code == 422
    assert 'value="ستون"' in bad.get_data(as_text=True)
    saved = client.submit(
        "/admin/shipping",
        {"default": "٥٠", "fee_ASN": "٨٥٫٥٠", "fee_C": ""},
        page="/admin/shipping",
    )
    assert saved.status_code == 303

    from artisan_market.orders import rules

    assert rules.shipping_fee("ASN") == 8550
    assert rules.shipping_fee("C") == 5000
    assert rules.shipping_fee("ALX") == 5000


def test_cash_recorded_before_the_other_part_is_cancelled_pays_what_was_collected(
    client, make_user, make_product, add_to_cart, place_order
):
    from artisan_market.orders import rules
    from artisan_market.orders.models import CancelReason

    order, (first, part), (second, other_part) = _two_artisan_order(
        client, make_product, add_to_cart, place_order
    )
    admin = make_user("admin")
    for move in (rules.accept, rules.ship, rules.deliver):
        move(part, by=first.artisan.user)
    rules.record_cash(part, by=admin)
    rules.cancel(other_part, by=admin, reason=CancelReason.NO_ANSWER)
    db.session.commit()

    payment = db.session.scalars(sa.select(Payment)).one()
    assert order.status is OrderStatus.COMPLETED
    assert (payment.status, payment.amount) == (PaymentStatus.PAID, part.total)
    # Cancelled for her by staff: she is told not to send it.
    from artisan_market.notifications.models import Notification

    kinds = db.session.scalars(
        sa.select(Notification.kind).where(Notification.user_id == second.artisan.user_id)
    ).all()
    assert "order_cancelled" in kinds
