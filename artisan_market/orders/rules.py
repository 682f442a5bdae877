"""The rules of an order's life: placing it, its payment arriving or failing, and each
artisan's part being accepted, shipped, delivered or cancelled. No requests, no commits.

Every change of status goes through the tables in `orders.moves`. A move asked for again
where it has been made already changes nothing and returns False; a move the table does not
allow raises OrderError with a message for the person who asked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from artisan_market.accounts.models import Role, User
from artisan_market.catalog import listings
from artisan_market.catalog.models import ListingStatus, Product
from artisan_market.extensions import db
from artisan_market.ledger import services as ledger
from artisan_market.orders.models import (
    DEFAULT_SHIPPING,
    CancelReason,
    Order,
    OrderItem,
    OrderPart,
    OrderStatus,
    PartStatus,
    ShippingRate,
)
from artisan_market.orders.moves import FINISHED_PARTS, ORDER_STATES, PART_STATES, PAYMENT_STATES
from artisan_market.payments.models import Payment, PaymentStatus, Refund
from artisan_market.rules import RuleError
from artisan_market.states import SYSTEM, MoveRefused, StateMachine
from artisan_market.timeutil import today_in_egypt, utcnow

# How long a card payment may take: the stock of an unpaid order is held this long.
PAY_WINDOW = timedelta(minutes=31)


class OrderError(RuleError):
    """An order rule refused."""


class Unavailable(OrderError):
    """Pieces that cannot be had as they are in the cart: (product, what is wrong) each."""

    def __init__(self, problems: list[tuple[Product, str]]):
        super().__init__(_l("Some pieces cannot be ordered as they are in your cart."))
        self.problems = problems


@dataclass(frozen=True)
class Delivery:
    """Where the parcels go, and who to call."""

    name: str
    phone: str  # E.164
    email: str | None
    governorate: str
    city: str
    address: str
    notes: str


@dataclass(frozen=True)
class Wanted:
    """A cart line as the order takes it: which piece, how many, at the price she was shown."""

    product_id: int
    quantity: int
    price: int


def _go(machine: StateMachine, thing, name: str, actor: str) -> bool:
    """Make the move on `thing` (its `status`); False when it was made already."""
    try:
        move = machine.check(thing.status, name, actor)
    except MoveRefused as refused:
        raise OrderError(refused.message) from refused
    if move is None:
        return False
    thing.status = move.target
    return True


def _actor(user: User) -> str:
    return user.role.value


# --- shipping --------------------------------------------------------------------------------


def shipping_fee(governorate: str) -> int:
    """The fee for one parcel to `governorate`: its own rate, else the rate for all (one query)."""
    fees = dict(
        db.session.execute(
            sa.select(ShippingRate.governorate, ShippingRate.fee).where(
                ShippingRate.governorate.in_([governorate, DEFAULT_SHIPPING])
            )
        ).all()
    )
    if governorate in fees:
        return fees[governorate]
    return fees.get(DEFAULT_SHIPPING, current_app.config["SHIPPING_FEE"])


def shipping_rates() -> dict[str, int]:
    """Every fee set: governorate code (or "*", the fee for all) → fee."""
    return dict(db.session.execute(sa.select(ShippingRate.governorate, ShippingRate.fee)).all())


def set_shipping_rates(rates: dict[str, int | None], *, by: User) -> None:
    """Set the fee for all ("*") and each governorate's own (None: it pays the fee for all)."""
    from artisan_market.audit.services import record

    before = shipping_rates()
    for code, fee in rates.items():
        rate = db.session.get(ShippingRate, code)
        if fee is None:
            if rate is not None:
                db.session.delete(rate)
        elif rate is None:
            db.session.add(ShippingRate(governorate=code, fee=fee))
        else:
            rate.fee = fee
    db.session.flush()
    after = shipping_rates()
    if after != before:
        record(by, "shipping.fees_changed", "shipping", 0, before=before, after=after)


# --- placing ---------------------------------------------------------------------------------


def _new_number() -> str:
    """Eight digits not yet used (there are ninety million; a clash is retried)."""
    while True:
        number = str(10_000_000 + secrets.randbelow(90_000_000))
        taken = db.session.scalar(sa.select(Order.id).where(Order.number == number))
        if taken is None:
            return number


def _why_not(product: Product | None, wanted: Wanted) -> str:
    if product is None or product.status not in (ListingStatus.LIVE, ListingStatus.SOLD_OUT):
        return "off_sale"
    if product.price != wanted.price:
        return "price"
    if not product.made_to_order and product.stock < wanted.quantity:
        return "sold_out" if product.stock <= 0 else "fewer"
    return "off_sale"  # a listing paused a moment ago


def _take(wanted: list[Wanted]) -> dict[int, Product]:
    """Take every piece's stock, in id order (two orders never wait on each other); refuses
    (Unavailable) if any cannot be had. The caller's savepoint undoes what was taken."""
    problems, products = [], {}
    for line in sorted(wanted, key=lambda w: w.product_id):
        taken = listings.take_stock(line.product_id, line.quantity, line.price)
        product = db.session.get(Product, line.product_id)
        if not taken:
            problems.append((product, _why_not(product, line)))
        else:
            products[line.product_id] = product
    if problems:
        raise Unavailable(problems)
    return products


def place(
    wanted: list[Wanted],
    delivery: Delivery,
    *,
    method: str,
    online: bool,
    buyer: User | None,
    locale: str,
) -> Order:
    """Place an order: stock taken, one part per artisan, prices as they are now.

    Refuses an empty cart (OrderError) and pieces that cannot be had (Unavailable, nothing
    taken when the caller's savepoint rolls back). A card order (`online`) waits for its
    payment with its stock held for PAY_WINDOW; a cash order is placed at once.
    """
    if not wanted:
        raise OrderError(_l("Your cart is empty."))
    products = _take(wanted)
    fee = shipping_fee(delivery.governorate)
    order = Order(
        number=_new_number(),
        token=secrets.token_urlsafe(24)[:32],
        buyer_id=buyer.id if buyer is not None else None,
        status=OrderStatus.AWAITING_PAYMENT if online else OrderStatus.PLACED,
        locale=locale,
        payment_method=method,
        pay_by=utcnow() + PAY_WINDOW if online else None,
        items_total=0,
        shipping_total=0,
        total=0,
        **vars(delivery),
    )
    parts: dict[int, OrderPart] = {}
    for line in wanted:
        product = products[line.product_id]
        part = parts.get(product.artisan_id)
        if part is None:
            part = OrderPart(
                artisan_id=product.artisan_id,
                status=PartStatus.WAITING if online else PartStatus.NEW,
                items_total=0,
                shipping_fee=fee,
            )
            parts[product.artisan_id] = part
            order.parts.append(part)
        part.items.append(
            OrderItem(
                product_id=product.id,
                title=product.title,
                unit_price=product.price,
                quantity=line.quantity,
                made_to_order=product.made_to_order,
                days_to_make=product.days_to_make if product.made_to_order else None,
            )
        )
        part.items_total += product.price * line.quantity
    order.items_total = sum(part.items_total for part in parts.values())
    order.shipping_total = sum(part.shipping_fee for part in parts.values())
    order.total = order.items_total + order.shipping_total
    db.session.add(order)
    db.session.add(Payment(order=order, provider=method, amount=order.total, currency="EGP"))
    db.session.flush()
    if not online:
        _placed(order)
    return order


def _placed(order: Order) -> None:
    """The order is on: each artisan hears of her part, the buyer gets her link."""
    from artisan_market.orders import messages

    for part in order.parts:
        messages.tell_artisan(part, "order_new")
    messages.tell_buyer(order, "placed")


# --- payment ---------------------------------------------------------------------------------


def payment_received(payment: Payment, charge_reference: str | None) -> bool:
    """The provider took the money: the order is placed (False if it was already)."""
    if not _go(PAYMENT_STATES, payment, "pay", SYSTEM):
        return False
    payment.paid_at = utcnow()
    payment.charge_reference = charge_reference or payment.charge_reference
    order = payment.order
    if order.status is OrderStatus.AWAITING_PAYMENT:
        _go(ORDER_STATES, order, "pay", SYSTEM)
        order.paid_at = payment.paid_at
        for part in order.parts:
            _go(PART_STATES, part, "open", SYSTEM)
        db.session.flush()
        _placed(order)
    return True


def payment_failed(payment: Payment) -> bool:
    """Nothing was or will be taken: the order is cancelled and its stock goes back (False if
    that was done already). Refuses (OrderError) a payment that was made."""
    if not _go(PAYMENT_STATES, payment, "fail", SYSTEM):
        return False
    order = payment.order
    _go(ORDER_STATES, order, "expire", SYSTEM)
    order.closed_at = utcnow()
    for part in order.parts:
        if _go(PART_STATES, part, "drop", SYSTEM):
            part.cancelled_at = order.closed_at
            _give_back(part)
    return True


def unpaid_orders_due(now=None) -> sa.Select:
    """Card orders whose time to pay ran out."""
    return sa.select(Order).where(
        Order.status == OrderStatus.AWAITING_PAYMENT, Order.pay_by <= (now or utcnow())
    )


# --- fulfilment ------------------------------------------------------------------------------


def _give_back(part: OrderPart) -> None:
    for item in part.items:
        if item.product_id is not None and not item.made_to_order:
            listings.give_back_stock(item.product_id, item.quantity)


def _follow_parts(order: Order) -> None:
    """When every part is over, so is the order: completed if any was delivered."""
    if order.status is not OrderStatus.PLACED:
        return
    if not all(part.status in FINISHED_PARTS for part in order.parts):
        return
    delivered = any(part.status is PartStatus.DELIVERED for part in order.parts)
    _go(ORDER_STATES, order, "complete" if delivered else "cancel", SYSTEM)
    order.closed_at = utcnow()
    if order.payment_method == "cod":
        if delivered:
            _cash_all_in(order)
        else:
            _go(PAYMENT_STATES, _payment(order), "fail", SYSTEM)


def _cash_all_in(order: Order) -> None:
    """A completed cash order is paid once the cash of every delivered parcel is in: the
    payment is then what was collected (a cancelled parcel was never paid for)."""
    delivered = [p for p in order.parts if p.status is PartStatus.DELIVERED]
    if order.status is not OrderStatus.COMPLETED or not all(p.cash_collected_at for p in delivered):
        return
    payment = _payment(order)
    if _go(PAYMENT_STATES, payment, "pay", SYSTEM):
        payment.paid_at = utcnow()
        payment.amount = sum(p.total for p in delivered)


def _payment(order: Order) -> Payment:
    return db.session.scalars(sa.select(Payment).where(Payment.order_id == order.id)).one()


def _audit(by: User, part: OrderPart, action: str, before: PartStatus, **after) -> None:
    """Staff acting for her leave a trace; her own moves are the part's own history."""
    if by.role is Role.ARTISAN:
        return
    from artisan_market.audit.services import record

    record(
        by,
        f"order.{action}",
        "order_part",
        part.id,
        before={"status": before.value},
        after={"status": part.status.value, **after},
    )


def needs_date(part: OrderPart) -> bool:
    """A part with a made-to-order piece is accepted with the day it will be ready."""
    return any(item.made_to_order for item in part.items)


def accept(part: OrderPart, *, by: User, ready_by: date | None = None) -> bool:
    before = part.status
    if needs_date(part) and part.status is PartStatus.NEW:
        if ready_by is None:
            raise OrderError(_l("Say on which day it will be ready."), field="ready_by")
        today = today_in_egypt()
        if ready_by < today or ready_by > today + timedelta(days=365):
            raise OrderError(_l("Choose a day within the next year."), field="ready_by")
    if not _go(PART_STATES, part, "accept", _actor(by)):
        return False
    part.accepted_at = utcnow()
    part.ready_by = ready_by if needs_date(part) else None
    from artisan_market.orders import messages

    messages.tell_buyer(part.order, "accepted", part=part)
    _audit(by, part, "accepted", before)
    return True


def ship(part: OrderPart, *, by: User, courier: str = "", tracking_number: str = "") -> bool:
    before = part.status
    if not _go(PART_STATES, part, "ship", _actor(by)):
        return False
    part.shipped_at = utcnow()
    part.courier, part.tracking_number = courier, tracking_number
    from artisan_market.orders import messages

    messages.tell_buyer(part.order, "shipped", part=part)
    _audit(by, part, "shipped", before)
    return True


def deliver(part: OrderPart, *, by: User) -> bool:
    before = part.status
    if not _go(PART_STATES, part, "deliver", _actor(by)):
        return False
    part.delivered_at = utcnow()
    _audit(by, part, "delivered", before)
    ledger.book_sale(part, by=by)
    _follow_parts(part.order)
    return True


def cancel(part: OrderPart, *, by: User, reason: CancelReason, note: str = "") -> bool:
    """Her part will not be sent: stock back, the buyer told, a card payment refunded."""
    before = part.status
    if not _go(PART_STATES, part, "cancel", _actor(by)):
        return False
    part.cancelled_at = utcnow()
    part.cancel_reason, part.cancel_note = reason, note
    _give_back(part)
    refund = _refund(part)
    from artisan_market.orders import messages

    messages.tell_buyer(part.order, "cancelled", part=part)
    if by.role is not Role.ARTISAN:  # done for her: she must not send it
        messages.tell_artisan(part, "order_cancelled")
    _audit(by, part, "cancelled", before, reason=reason.value)
    _follow_parts(part.order)
    if refund is not None:
        from artisan_market.payments import services

        services.send_refund_later(refund)
    return True


def _refund(part: OrderPart) -> Refund | None:
    """A refund of the part's price and shipping, when it was paid online."""
    payment = _payment(part.order)
    if payment.status is not PaymentStatus.PAID or payment.provider == "cod":
        return None
    refund = Refund(payment=payment, part=part, amount=part.total)
    db.session.add(refund)
    db.session.flush()
    return refund


def record_cash(part: OrderPart, *, by: User) -> bool:
    """The courier's cash for a delivered parcel reached the coalition: recorded once, even
    when two coordinators press at the same moment (a conditional UPDATE). False if it was
    recorded already."""
    if part.order.payment_method != "cod":
        raise OrderError(_l("This order was paid by card."))
    if part.status is not PartStatus.DELIVERED:
        raise OrderError(_l("Record the cash once the parcel is delivered."))
    recorded = db.session.execute(
        sa.update(OrderPart)
        .where(OrderPart.id == part.id, OrderPart.cash_collected_at.is_(None))
        .values(cash_collected_at=utcnow(), cash_collected_by_id=by.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(part)
    if not recorded:
        return False
    from artisan_market.audit.services import record

    record(by, "order.cash_collected", "order_part", part.id, after={"amount": part.total})
    ledger.book_cash(part, by=by)
    _cash_all_in(part.order)
    return True


def new_parts_count() -> int:
    """Her parcels waiting for her to accept them (the header's badge; one COUNT query)."""
    from flask_login import current_user

    profile = current_user.artisan_profile if current_user.is_authenticated else None
    if profile is None:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OrderPart)
        .where(OrderPart.artisan_id == profile.id, OrderPart.status == PartStatus.NEW)
    )
