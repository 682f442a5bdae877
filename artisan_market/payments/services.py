"""Payments between orders and providers: starting a card payment, acting on webhooks once,
stopping unpaid orders whose time ran out, and sending refunds.

Network calls to a provider never run inside a write transaction (`transactions.slow_work`
in requests; the jobs commit before they call out).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from artisan_market.extensions import db
from artisan_market.orders import rules
from artisan_market.orders.models import Order, OrderStatus
from artisan_market.payments import providers
from artisan_market.payments.models import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from artisan_market.payments.providers import Outcome, ProviderError, Report
from artisan_market.rules import RuleError
from artisan_market.timeutil import utcnow
from artisan_market.transactions import after_commit, slow_work


def payment_of(order: Order) -> Payment:
    return db.session.scalars(sa.select(Payment).where(Payment.order_id == order.id)).one()


def pay_url(order: Order, *, return_url: str, cancel_url: str) -> str | None:
    """Where the buyer pays for an unpaid card order: the page already opened, or a new one
    (ProviderError if the provider cannot be reached). None once it is not waiting."""
    payment = payment_of(order)
    if (
        order.status is not OrderStatus.AWAITING_PAYMENT
        or payment.status is not PaymentStatus.PENDING
    ):
        return None
    if payment.pay_url:
        return payment.pay_url
    provider = providers.offered().get(payment.provider)
    if provider is None:  # its keys were removed since the order was placed
        raise ProviderError(_("Card payment is not available right now."))
    with slow_work():
        started = provider.start(payment, order, return_url=return_url, cancel_url=cancel_url)
    payment = db.session.get(Payment, payment.id, populate_existing=True)
    if payment.pay_url:  # another tap got there first: keep the page it opened
        return payment.pay_url
    payment.reference, payment.pay_url = started.reference, started.pay_url
    return started.pay_url


def apply(payment: Payment, report: Report) -> str:
    """Act on what the provider says of `payment`; returns what was done, for the record."""
    if report.outcome is Outcome.WAITING:
        return "waiting"
    try:
        if report.outcome is Outcome.PAID:
            if (report.amount, report.currency) != (payment.amount, payment.currency):
                current_app.logger.error(
                    "payment %s: paid %s %s, expected %s %s",
                    payment.id,
                    report.amount,
                    report.currency,
                    payment.amount,
                    payment.currency,
                )
                return "ignored: amount differs"
            done = rules.payment_received(payment, report.charge_reference)
            return "paid" if done else "already paid"
        done = rules.payment_failed(payment)
        return "cancelled" if done else "already cancelled"
    except RuleError:
        # Out of order: "expired" after "completed", or paid after it was cancelled.
        if report.outcome is Outcome.PAID:
            current_app.logger.error(
                "payment %s was made after its order was cancelled", payment.id
            )
        return f"ignored: payment is {payment.status.value}"


def receive_webhook(name: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Verify and act on one webhook, at most once per event id. Raises BadWebhook (and
    KeyError for a provider that is not ours)."""
    provider = providers.offered()[name]  # KeyError: not ours, or not set up here
    event = provider.verify_webhook(body, headers)
    reference = event.report.reference if event.report else None
    record = PaymentEvent(
        provider=name, event_id=event.event_id, kind=event.kind, reference=reference
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return "already received"
    if event.report is None:
        record.outcome = "ignored: not an event we act on"
    else:
        payment = db.session.scalars(
            sa.select(Payment).where(Payment.provider == name, Payment.reference == reference)
        ).first()
        record.outcome = (
            "ignored: unknown payment" if payment is None else apply(payment, event.report)
        )
    return record.outcome


def expire_unpaid(limit: int = 100) -> int:
    """Stop card orders whose time to pay ran out, even if no webhook came: ask the provider
    to close the payment page first (a payment made meanwhile is kept), then give the stock
    back. Commits each order on its own; returns how many were cancelled."""
    ids = db.session.scalars(
        rules.unpaid_orders_due().with_only_columns(Order.id).limit(limit)
    ).all()
    db.session.commit()
    cancelled = 0
    for order_id in ids:
        payment = db.session.scalars(sa.select(Payment).where(Payment.order_id == order_id)).one()
        db.session.commit()  # no transaction while the provider is asked
        try:
            report = providers.get(payment.provider).stop(payment)
        except ProviderError:
            current_app.logger.warning("could not stop payment %s: will try again", payment.id)
            continue
        payment = db.session.get(Payment, payment.id, populate_existing=True)
        if report.outcome is Outcome.WAITING:
            db.session.rollback()
            continue
        outcome = apply(payment, report)
        db.session.commit()
        cancelled += outcome == "cancelled"
    return cancelled


def send_refund_later(refund: Refund) -> None:
    """Send a refund to the provider once the cancellation is kept (a job, retried)."""
    from artisan_market.payments.jobs import send_refund

    refund_id = refund.id
    after_commit(lambda: send_refund(refund_id))


PENDING_FOR = timedelta(minutes=15)


def send_pending_refunds(now=None) -> int:
    """Send again every refund pending for longer than PENDING_FOR; the number sent. One
    the provider still cannot take stays pending, for the next round (and staff's eyes)."""
    now = now or utcnow()
    waiting = db.session.scalars(
        sa.select(Refund.id)
        .where(Refund.status == RefundStatus.PENDING, Refund.created_at < now - PENDING_FOR)
        .order_by(Refund.id)
    ).all()
    db.session.commit()
    sent = 0
    for refund_id in waiting:
        try:
            send_refund(refund_id)
        except ProviderError:
            db.session.rollback()
            current_app.logger.warning("refund %s still pending: will try again", refund_id)
            continue
        sent += 1
    return sent


def send_refund(refund_id: int) -> str:
    """Ask the provider for one pending refund; the key makes a retry refund once. Raises
    ProviderError when it could not (the job retries)."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status is not RefundStatus.PENDING:
        return "nothing to do"
    payment = refund.payment
    db.session.commit()
    reference = providers.get(payment.provider).refund(
        payment, refund.amount, f"refund-{refund.id}"
    )
    refund = db.session.get(Refund, refund_id, populate_existing=True)
    refund.status, refund.reference, refund.done_at = RefundStatus.SUCCEEDED, reference, utcnow()
    db.session.commit()
    return reference
