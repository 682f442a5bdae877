"""What was asked of a payment provider and what it said: payments, refunds, webhook events.

The order does not know which provider it went through beyond the name: every provider's own
identifiers live here.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artisan_market.extensions import db, enum_column
from artisan_market.orders.models import Order, OrderPart
from artisan_market.timeutil import UTCDateTime, utcnow


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # card: not paid yet; cash: to be collected at the door
    PAID = "paid"
    FAILED = "failed"  # the card payment failed or its time ran out: nothing was taken

    @property
    def label(self) -> str:
        return str(PAYMENT_LABELS[self])


PAYMENT_LABELS = {
    PaymentStatus.PENDING: _l("Not paid yet"),
    PaymentStatus.PAID: _l("Paid"),
    PaymentStatus.FAILED: _l("Not paid"),
}


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # asked for; the job sends it to the provider
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider said no: staff must look


class Payment(db.Model):
    """An order's payment through one provider ("cod", "stripe", …)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    provider: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus), default=PaymentStatus.PENDING
    )
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3), default="EGP")
    # The provider's id for it (a Stripe Checkout Session), and where the buyer pays.
    reference: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    pay_url: Mapped[str | None] = mapped_column(sa.String(2000))
    # The provider's id of the money taken (a Stripe PaymentIntent): what refunds name.
    charge_reference: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds if r.status is not RefundStatus.FAILED)


class Refund(db.Model):
    """Money given back for one cancelled part of a paid order: at most one per part."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id", ondelete="CASCADE"))
    part_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_parts.id", ondelete="CASCADE"), unique=True
    )
    amount: Mapped[int]
    status: Mapped[RefundStatus] = mapped_column(
        enum_column(RefundStatus), default=RefundStatus.PENDING
    )
    reference: Mapped[str | None] = mapped_column(sa.String(255))
    error: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    part: Mapped[OrderPart] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_refunds_payment_id", "payment_id"),
    )


class PaymentEvent(db.Model):
    """A webhook event a provider sent, kept by its id so that it is acted on once."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(sa.String(80))
    reference: Mapped[str | None] = mapped_column(sa.String(255))
    # What it did: "paid", "cancelled", "ignored: …".
    outcome: Mapped[str] = mapped_column(sa.String(200), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("provider", "event_id", name="one_event_once"),)
