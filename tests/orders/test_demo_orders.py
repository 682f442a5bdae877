"""`flask demo` places orders in every state, paid both ways, through the order rules."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from artisan_market import demo
from artisan_market.accounts.models import User
from artisan_market.audit.models import AuditEvent
from artisan_market.catalog.models import ListingStatus, Product
from artisan_market.extensions import db
from artisan_market.notifications.models import Notification
from artisan_market.orders.models import Order, OrderItem, OrderPart, OrderStatus, PartStatus
from artisan_market.payments.models import Payment, PaymentStatus
from artisan_market.timeutil import today_in_egypt, utcnow

COUNTED = (Order, OrderPart, OrderItem, Payment, Notification, AuditEvent, Product)


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in COUNTED
    }


def _load(runner) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output


def test_demo_orders(runner):
    """One load (each takes seconds), three questions."""
    _load(runner)
    _every_state()
    _stock_kept_right()
    _times_in_the_last_weeks_in_order()


def _every_state():
    orders = db.session.scalars(sa.select(Order)).all()
    parts = db.session.scalars(sa.select(OrderPart)).all()
    payments = {p.order_id: p for p in db.session.scalars(sa.select(Payment))}

    assert {o.status for o in orders} == set(OrderStatus)
    assert {p.status for p in parts} == set(PartStatus)
    assert {o.payment_method for o in orders} == {"cod", "stripe"}
    paid = Counter((o.payment_method, payments[o.id].status) for o in orders)
    assert paid["stripe", PaymentStatus.PAID] >= 1
    assert paid["stripe", PaymentStatus.FAILED] >= 1  # its time to pay ran out
    assert paid["stripe", PaymentStatus.PENDING] >= 1
    assert paid["cod", PaymentStatus.PAID] >= 1
    assert all(
        payments[o.id].charge_reference.startswith("pi_demo_")
        for o in orders
        if payments[o.id].status is PaymentStatus.PAID and o.payment_method == "stripe"
    )
    waiting = [o for o in orders if o.status is OrderStatus.AWAITING_PAYMENT]
    assert waiting and all(o.pay_by > utcnow() for o in waiting)

    # the cash of a delivered parcel, recorded by the demo coordinator
    coordinator = db.session.scalar(sa.select(User).where(User.phone == "+201000000001"))
    collected = [p for p in parts if p.cash_collected_at is not None]
    assert collected and all(p.cash_collected_by_id == coordinator.id for p in collected)
    assert all(p.status is PartStatus.DELIVERED for p in collected)
    # shipped with a courier and a tracking number; a made-to-order part with its day
    assert any(p.courier == "بوسطة" and p.tracking_number for p in parts)
    made = [p for p in parts if any(i.made_to_order for i in p.items)]
    assert any(p.status is PartStatus.ACCEPTED and p.ready_by >= today_in_egypt() for p in made)
    # an artisan cancelled her part with a reason while the other part was delivered
    assert any(
        {p.status for p in o.parts} == {PartStatus.CANCELLED, PartStatus.DELIVERED}
        and all(p.cancel_reason for p in o.parts if p.status is PartStatus.CANCELLED)
        for o in orders
    )
    assert any(len(o.parts) >= 2 for o in orders)
    # guests with Egyptian numbers, and the demo buyer's own history
    buyer = db.session.scalar(sa.select(User).where(User.phone == "+201000000002"))
    assert sum(o.buyer_id is None for o in orders) >= 3
    assert sum(o.buyer_id == buyer.id for o in orders) >= 2
    assert all(o.phone.startswith("+201") for o in orders)
    assert len({o.governorate for o in orders}) >= 5
    # staff moves are in the audit log; each artisan heard of her new parts
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"order.delivered", "order.cash_collected"} <= actions
    heard = db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(Notification.kind == "order_new")
    )
    # every part but those of card orders never paid
    unpaid = [p for p in parts if p.order.payment_method == "stripe" and p.order.paid_at is None]
    assert heard == len(parts) - len(unpaid)


def _stock_kept_right():
    """Stock never below zero; what is left is the listed stock less what live orders took,
    so cancelled and expired orders gave theirs back; live listings are still for sale."""
    taken = Counter()
    for item in db.session.scalars(
        sa.select(OrderItem).join(OrderItem.part).where(OrderPart.status != PartStatus.CANCELLED)
    ):
        taken[item.product_id] += item.quantity
    products = db.session.scalars(sa.select(Product)).all()
    assert all(p.stock >= 0 for p in products)
    for product in products:
        if product.made_to_order:
            assert product.status is ListingStatus.LIVE
        elif product.title in demo.STOCK:
            assert product.stock == demo.STOCK[product.title] - taken[product.id] > 0
            assert product.status is ListingStatus.LIVE
        else:
            assert not taken[product.id]


def _times_in_the_last_weeks_in_order():
    now = utcnow()
    orders = db.session.scalars(sa.select(Order).order_by(Order.id)).all()
    created = [o.created_at for o in orders]
    assert created == sorted(created)  # numbers run with dates
    assert now - timedelta(weeks=5) < created[0] and created[-1] <= now
    for order in orders:
        for part in order.parts:
            steps = [
                order.created_at,
                order.paid_at,
                part.accepted_at,
                part.shipped_at,
                part.delivered_at,
                part.cash_collected_at,
            ]
            steps = [t for t in steps if t is not None]
            assert steps == sorted(steps), part
            assert all(t <= now for t in steps)
            if part.cancelled_at:
                assert order.created_at <= part.cancelled_at <= now
        if order.closed_at:
            assert order.created_at <= order.closed_at <= now


def test_demo_loads_orders_once(runner):
    """A second `flask demo` finds accounts and changes nothing: no order twice."""
    _load(runner)
    counts = _counts()
    assert counts["Order"] == len(demo.ORDERS)
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "demo data not loaded" in again.output
    assert _counts() == counts
