"""Card payments through Stripe Checkout, against a local fake of Stripe's API, with the real
SDK over HTTP: the order waits with its stock held; only signed webhooks (or the expiry job
asking Stripe) decide it."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from artisan_market.catalog.models import ListingStatus
from artisan_market.extensions import db
from artisan_market.notifications.models import Notification
from artisan_market.orders import rules
from artisan_market.orders.models import CancelReason, Order, OrderStatus, PartStatus
from artisan_market.payments import services
from artisan_market.payments.models import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from artisan_market.timeutil import utcnow
from tests.orders.conftest import add, deliver, place


def _order_notifications() -> list[str]:
    return db.session.scalars(
        sa.select(Notification.kind).where(Notification.kind.startswith("order_"))
    ).all()


def _card_order(client, fake, make_product, **product):
    """A card order for two pieces from two artisans, its payment page opened."""
    first = make_product(status="live", price=25_000, stock=2, title="سلة", **product)
    second = make_product(status="live", price=40_000, stock=1, title="كليم")
    add(client, first)
    add(client, second)
    response = place(client, payment="stripe")
    assert response.status_code == 303
    order = db.session.scalars(sa.select(Order)).one()
    assert response.headers["Location"] == f"/orders/{order.token}/pay"
    to_stripe = client.get(response.headers["Location"])
    assert to_stripe.status_code == 303
    payment = db.session.scalars(sa.select(Payment)).one()
    assert to_stripe.headers["Location"] == f"{fake.url}/pay/{payment.reference}"
    return order, payment, first, second


def test_a_card_order_waits_with_its_stock_held(card_client, stripe_fake, make_product):
    order, payment, _first, second = _card_order(card_client, stripe_fake, make_product)

    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert {part.status for part in order.parts} == {PartStatus.WAITING}
    db.session.refresh(second)
    assert (second.stock, second.status) == (0, ListingStatus.SOLD_OUT)
    session = stripe_fake.sessions[payment.reference]
    assert session["amount_total"] == order.total  # EGP: piastres are Stripe's minor unit
    assert session["client_reference_id"] == order.number
    assert session["expires_at"] >= time.time() + 30 * 60
    # Nobody hears of the order before it is paid.
    assert _order_notifications() == []
    page = card_client.get(f"/orders/{order.token}").get_data(as_text=True)
    assert "Confirming your payment" in page or "جارٍ تأكيد" in page or 'id="payment-status"' in page
    # The second visit to "pay" is the same Stripe page, not a new session.
    again = card_client.get(f"/orders/{order.token}/pay")
    assert again.headers["Location"].endswith(payment.reference)
    assert len(stripe_fake.sessions) == 1


def test_the_return_page_waits_for_the_webhook(card_client, stripe_fake, make_product):
    """Coming back from Stripe proves nothing: the page says "confirming" until the signed
    webhook arrives, then htmx is told to refresh."""
    order, payment, *_ = _card_order(card_client, stripe_fake, make_product)
    stripe_fake.pay(payment.reference)  # no webhook delivered yet

    poll = card_client.get(
        f"/orders/{order.token}", headers={"HX-Request": "true", "HX-Target": "payment-status"}
    )
    assert 'id="payment-status"' in poll.get_data(as_text=True)
    assert "HX-Refresh" not in poll.headers
    db.session.refresh(order)
    assert order.status is OrderStatus.AWAITING_PAYMENT

    completed = stripe_fake.event("checkout.session.completed", payment.reference)
    assert deliver(card_client, stripe_fake, completed).status_code == 200
    poll = card_client.get(
        f"/orders/{order.token}", headers={"HX-Request": "true", "HX-Target": "payment-status"}
    )
    assert poll.headers["HX-Refresh"] == "true"


def test_completed_marks_it_paid_once_however_often_it_comes(
    card_client, stripe_fake, make_product
):
    order, payment, *_ = _card_order(card_client, stripe_fake, make_product)
    stripe_fake.pay(payment.reference)
    event = stripe_fake.event("checkout.session.completed", payment.reference)

    answers = [deliver(card_client, stripe_fake, event) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json["received"] for a in answers] == ["paid", "already received", "already received"]
    db.session.refresh(order)
    db.session.refresh(payment)
    assert order.status is OrderStatus.PLACED
    assert payment.status is PaymentStatus.PAID
    assert payment.charge_reference.startswith("pi_")
    assert {part.status for part in order.parts} == {PartStatus.NEW}
    # Each artisan is told once.
    assert _order_notifications() == ["order_new", "order_new"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 1


def test_a_bad_or_old_signature_changes_nothing(card_client, stripe_fake, make_product):
    order, payment, *_ = _card_order(card_client, stripe_fake, make_product)
    stripe_fake.pay(payment.reference)
    event = stripe_fake.event("checkout.session.completed", payment.reference)

    wrong_secret = stripe_fake.sign(event, secret="whsec_someone_else")
    old = stripe_fake.sign(event, timestamp=int(time.time()) - 3600)
    tampered = event.replace(b'"paid"', b'"paid" ')
    answers = [
        deliver(card_client, stripe_fake, event, wrong_secret),
        deliver(card_client, stripe_fake, event, old),
        deliver(card_client, stripe_fake, tampered, stripe_fake.sign(event)),
        deliver(card_client, stripe_fake, event, "garbage"),
        card_client.post("/payments/stripe/webhook", data=event, content_type="application/json"),
        deliver(card_client, stripe_fake, b"\xff\xfe not json"),
    ]

    assert [a.status_code for a in answers] == [400] * 6
    db.session.refresh(order)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 0


def test_unknown_events_and_payments_are_received_and_ignored(
    card_client, stripe_fake, make_product
):
    order, payment, *_ = _card_order(card_client, stripe_fake, make_product)
    unknown_type = json.dumps(
        {"id": "evt_1", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    ).encode()
    other = json.loads(stripe_fake.event("checkout.session.expired", payment.reference))
    other["id"], other["data"]["object"]["id"] = "evt_2", "cs_test_not_ours"
    unknown_session = json.dumps(other).encode()

    first = deliver(card_client, stripe_fake, unknown_type)
    second = deliver(card_client, stripe_fake, unknown_session)

    assert (first.status_code, first.json["received"]) == (200, "ignored: not an event we act on")
    assert (second.status_code, second.json["received"]) == (200, "ignored: unknown payment")
    db.session.refresh(order)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert deliver(card_client, stripe_fake, b"{}").status_code == 400  # signed, not an event
    assert card_client.post("/payments/paypal/webhook", data=b"{}").status_code == 404


def test_expired_cancels_and_gives_the_stock_back(card_client, stripe_fake, make_product):
    order, payment, first, second = _card_order(card_client, stripe_fake, make_product)
    stripe_fake.expire(payment.reference)

    answer = deliver(
        card_client, stripe_fake, stripe_fake.event("checkout.session.expired", payment.reference)
    )

    assert answer.json["received"] == "cancelled"
    db.session.refresh(order)
    assert order.status is OrderStatus.CANCELLED
    assert {part.status for part in order.parts} == {PartStatus.CANCELLED}
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.stock, second.stock, second.status) == (2, 1, ListingStatus.LIVE)
    html = card_client.get(f"/orders/{order.token}").get_data(as_text=True)
    assert 'id="payment-status"' not in html


def test_expired_after_completed_changes_nothing(card_client, stripe_fake, make_product):
    """Events come in any order: a late "expired" cannot undo a payment."""
    order, payment, *_ = _card_order(card_client, stripe_fake, make_product)
    stripe_fake.pay(payment.reference)
    completed = stripe_fake.event("checkout.session.completed", payment.reference)
    # Forged by the test as Stripe would word it, for a session that is in fact complete.
    expired = json.loads(completed)
    expired.update(id="evt_late", type="checkout.session.expired")
    expired["data"]["object"]["status"] = "expired"

    assert deliver(card_client, stripe_fake, completed).json["received"] == "paid"
    late = deliver(card_client, stripe_fake, json.dumps(expired).encode())

    assert late.status_code == 200
    assert late.json["received"] == "ignored: payment is paid"
    db.session.refresh(order)
    assert order.status is OrderStatus.PLACED


def test_a_delayed_payment_waits_then_succeeds_or_fails(card_client, stripe_fake, make_product):
    order, payment, first, _second = _card_order(card_client, stripe_fake, make_product)
    stripe_fake.pay(payment.reference, delayed=True)
    completed = stripe_fake.event("checkout.session.completed", payment.reference)
    assert deliver(card_client, stripe_fake, completed).json["received"] == "waiting"
    db.session.refresh(order)
    assert order.status is OrderStatus.AWAITING_PAYMENT

    stripe_fake.settle(payment.reference, succeeded=False)
    failed = stripe_fake.event("checkout.session.async_payment_failed", payment.reference)
    assert deliver(card_client, stripe_fake, failed).json["received"] == "cancelled"
    db.session.refresh(order)
    db.session.refresh(first)
    assert order.status is OrderStatus.CANCELLED
    assert first.stock == 2


def test_a_delayed_payment_that_succeeds_places_the_order(card_client, stripe_fake, make_product):
    order, payment, *_ = _card_order(card_client, stripe_fake, make_product)
    stripe_fake.pay(payment.reference, delayed=True)
    stripe_fake.settle(payment.reference, succeeded=True)
    # The success comes before the "completed" that announced the transfer.
    succeeded = stripe_fake.event("checkout.session.async_payment_succeeded", payment.reference)
    assert deliver(card_client, stripe_fake, succeeded).json["received"] == "paid"
    completed = stripe_fake.event("checkout.session.completed", payment.reference)
    assert deliver(card_client, stripe_fake, completed).json["received"] == "already paid"
    db.session.refresh(order)
    assert order.status is OrderStatus.PLACED


def _run_out_of_time(order):
    order.pay_by = utcnow() - timedelta(minutes=1)
    db.session.commit()


def test_the_expiry_job_cancels_without_a_webhook(card_client, stripe_fake, make_product):
    order, payment, _first, second = _card_order(card_client, stripe_fake, make_product)
    _run_out_of_time(order)

    assert services.expire_unpaid() == 1

    assert stripe_fake.sessions[payment.reference]["status"] == "expired"  # closed at Stripe first
    db.session.refresh(order)
    db.session.refresh(second)
    assert order.status is OrderStatus.CANCELLED
    assert (second.stock, second.status) == (1, ListingStatus.LIVE)
    assert services.expire_unpaid() == 0


def test_the_expiry_job_keeps_a_payment_whose_webhook_was_lost(
    card_client, stripe_fake, make_product
):
    order, payment, *_ = _card_order(card_client, stripe_fake, make_product)
    stripe_fake.pay(payment.reference)  # paid at Stripe; the webhook never arrives
    _run_out_of_time(order)

    assert services.expire_unpaid() == 0

    db.session.refresh(order)
    assert order.status is OrderStatus.PLACED


def test_the_expiry_job_tries_again_when_stripe_is_down(card_client, stripe_fake, make_product):
    order, *_ = _card_order(card_client, stripe_fake, make_product)
    _run_out_of_time(order)
    stripe_fake.fail_next(10)

    assert services.expire_unpaid() == 0
    db.session.refresh(order)
    assert order.status is OrderStatus.AWAITING_PAYMENT

    stripe_fake.recover()
    assert services.expire_unpaid() == 1


def _paid_order(client, fake, make_product):
    order, payment, first, second = _card_order(client, fake, make_product)
    fake.pay(payment.reference)
    deliver(client, fake, fake.event("checkout.session.completed", payment.reference))
    db.session.refresh(order)
    return order, payment, first, second


def test_cancelling_a_paid_part_refunds_it_through_stripe(card_client, stripe_fake, make_product):
    order, payment, first, _second = _paid_order(card_client, stripe_fake, make_product)
    part = next(p for p in order.parts if p.artisan_id == first.artisan_id)
    artisan = first.artisan.user

    rules.cancel(part, by=artisan, reason=CancelReason.CANNOT_MAKE, note="")
    db.session.commit()  # the refund job runs once the cancellation is kept

    refund = db.session.scalars(sa.select(Refund)).one()
    assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, part.total)
    assert stripe_fake.refunds[0]["amount"] == part.total
    assert stripe_fake.refunds[0]["payment_intent"] == payment.charge_reference
    assert refund.reference == stripe_fake.refunds[0]["id"]
    db.session.refresh(first)
    assert first.stock == 2


def test_a_refund_stripe_refuses_for_now_is_sent_again(card_client, stripe_fake, make_product):
    order, payment, first, _second = _paid_order(card_client, stripe_fake, make_product)
    part = next(p for p in order.parts if p.artisan_id == first.artisan_id)
    refund = Refund(payment=payment, part=part, amount=part.total)
    db.session.add(refund)
    db.session.commit()
    stripe_fake.fail_next(10)

    with pytest.raises(services.ProviderError):
        services.send_refund(refund.id)
    db.session.refresh(refund)
    assert refund.status is RefundStatus.PENDING

    stripe_fake.recover()
    services.send_refund(refund.id)
    services.send_refund(refund.id)  # a retry after success does nothing
    db.session.refresh(refund)
    assert refund.status is RefundStatus.SUCCEEDED
    assert len(stripe_fake.refunds) == 1


def test_a_refund_whose_job_was_lost_is_sent_by_the_periodic_round(
    card_client, stripe_fake, make_product
):
    """Its job lost (Redis down when it was queued, a worker killed while it ran): the refund
    stays pending, and the round every ten minutes sends it, once, after a quarter of an
    hour; a provider still down leaves it pending for the next round."""
    order, payment, first, _second = _paid_order(card_client, stripe_fake, make_product)
    part = next(p for p in order.parts if p.artisan_id == first.artisan_id)
    refund = Refund(payment=payment, part=part, amount=part.total)  # no job was queued
    db.session.add(refund)
    db.session.commit()
    assert services.send_pending_refunds() == 0  # too soon: its own job may still run
    later = utcnow() + services.PENDING_FOR + timedelta(minutes=1)
    stripe_fake.fail_next(10)
    assert services.send_pending_refunds(now=later) == 0
    db.session.refresh(refund)
    assert refund.status is RefundStatus.PENDING
    stripe_fake.recover()
    assert services.send_pending_refunds(now=later) == 1
    assert services.send_pending_refunds(now=later) == 0
    db.session.refresh(refund)
    assert refund.status is RefundStatus.SUCCEEDED
    assert len(stripe_fake.refunds) == 1


def test_card_is_offered_only_with_both_keys(client, make_product):
    product = make_product(status="live")
    add(client, product)
    page = client.get("/checkout").get_data(as_text=True)
    assert 'value="cod"' in page
    assert 'value="stripe"' not in page

    refused = place(client, payment="stripe")

    assert refused.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
