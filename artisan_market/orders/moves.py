"""Every move an order, its parts and its payment can make, in one place.

    order:    awaiting_payment ──pay──▶ placed ──complete──▶ completed
                     └──────expire──▶ cancelled ◀──cancel──┘   (every part cancelled)
    part:     waiting ──open──▶ new ──accept──▶ accepted ──ship──▶ shipped ──deliver──▶ delivered
                 └──drop──▶ cancelled ◀──cancel── new, accepted
    payment:  pending ──pay──▶ paid;  pending ──fail──▶ failed

A cash-on-delivery order is placed at once and its parts start new; a card order waits for
its payment, its parts waiting with their stock held. Moves by SYSTEM are made by a webhook,
the expiry job or the order following its parts; the others by the artisan, or by a
coordinator or admin for her.
"""

from __future__ import annotations

from artisan_market.accounts.models import Role
from artisan_market.orders.models import OrderStatus, PartStatus
from artisan_market.payments.models import PaymentStatus
from artisan_market.states import SYSTEM, Move, StateMachine

OS, P, PAY = OrderStatus, PartStatus, PaymentStatus
_SYSTEM = frozenset({SYSTEM})
_HERS = frozenset({Role.ARTISAN.value, Role.COORDINATOR.value, Role.ADMIN.value})
# A delivery is also confirmed by staff when the courier tells them, not her.
_DELIVERERS = _HERS


def _move(name, sources, target, by, done_in=()) -> Move:
    return Move(name, frozenset(sources), target, by, frozenset(done_in))


ORDER_STATES = StateMachine(
    [
        _move("pay", {OS.AWAITING_PAYMENT}, OS.PLACED, _SYSTEM, {OS.PLACED, OS.COMPLETED}),
        _move("expire", {OS.AWAITING_PAYMENT}, OS.CANCELLED, _SYSTEM, {OS.CANCELLED}),
        _move("complete", {OS.PLACED}, OS.COMPLETED, _SYSTEM, {OS.COMPLETED}),
        _move("cancel", {OS.PLACED}, OS.CANCELLED, _SYSTEM, {OS.CANCELLED}),
    ]
)

PART_STATES = StateMachine(
    [
        _move("open", {P.WAITING}, P.NEW, _SYSTEM, {P.NEW, P.ACCEPTED, P.SHIPPED, P.DELIVERED}),
        _move("accept", {P.NEW}, P.ACCEPTED, _HERS, {P.ACCEPTED, P.SHIPPED, P.DELIVERED}),
        _move("ship", {P.ACCEPTED}, P.SHIPPED, _HERS, {P.SHIPPED, P.DELIVERED}),
        _move("deliver", {P.SHIPPED}, P.DELIVERED, _DELIVERERS, {P.DELIVERED}),
        _move("cancel", {P.NEW, P.ACCEPTED}, P.CANCELLED, _HERS, {P.CANCELLED}),
        _move("drop", {P.WAITING}, P.CANCELLED, _SYSTEM, {P.CANCELLED}),
    ]
)

PAYMENT_STATES = StateMachine(
    [
        _move("pay", {PAY.PENDING}, PAY.PAID, _SYSTEM, {PAY.PAID}),
        _move("fail", {PAY.PENDING}, PAY.FAILED, _SYSTEM, {PAY.FAILED}),
    ]
)

# Parts that are over: nothing more will happen to them.
FINISHED_PARTS = frozenset({P.DELIVERED, P.CANCELLED})
