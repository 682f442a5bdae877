"""An order, one part per artisan (her parcel), the pieces in each, and shipping fees.

Money is integer piastres. A piece's price and title are copied into the order when it is
placed: the listing may change later; what the buyer agreed to may not.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artisan_market.accounts.models import ArtisanProfile, User
from artisan_market.catalog.models import Product
from artisan_market.extensions import db, enum_column
from artisan_market.timeutil import UTCDateTime, utcnow

MAX_QUANTITY = 20  # of one piece in one order: more is a wholesale talk, not a cart
MAX_LINES = 30  # different pieces in one cart
DEFAULT_SHIPPING = "*"  # the shipping_rates row that applies to every governorate without its own


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"  # card: stock held until the payment page expires
    PLACED = "placed"  # artisans prepare their parts
    COMPLETED = "completed"  # every part delivered or cancelled
    CANCELLED = "cancelled"  # nothing will be sent

    @property
    def label(self) -> str:
        return str(ORDER_LABELS[self])


ORDER_LABELS = {
    OrderStatus.AWAITING_PAYMENT: _l("Waiting for payment"),
    OrderStatus.PLACED: _l("Placed"),
    OrderStatus.COMPLETED: _l("Completed"),
    OrderStatus.CANCELLED: _l("Cancelled"),
}


class PartStatus(enum.StrEnum):
    WAITING = "waiting"  # the order waits for its card payment
    NEW = "new"  # for her to accept
    ACCEPTED = "accepted"  # she is preparing (or making) it
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(PART_LABELS[self])


PART_LABELS = {
    PartStatus.WAITING: _l("Waiting for payment"),
    PartStatus.NEW: _l("New: waiting for the artisan"),
    PartStatus.ACCEPTED: _l("Being prepared"),
    PartStatus.SHIPPED: _l("On its way"),
    PartStatus.DELIVERED: _l("Delivered"),
    PartStatus.CANCELLED: _l("Cancelled"),
}


class CancelReason(enum.StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    CANNOT_MAKE = "cannot_make"
    BUYER_ASKED = "buyer_asked"
    NO_ANSWER = "no_answer"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(CANCEL_LABELS[self])


CANCEL_LABELS = {
    CancelReason.OUT_OF_STOCK: _l("The piece is no longer available"),
    CancelReason.CANNOT_MAKE: _l("It cannot be made in time"),
    CancelReason.BUYER_ASKED: _l("The buyer asked to cancel"),
    CancelReason.NO_ANSWER: _l("The buyer could not be reached"),
    CancelReason.OTHER: _l("Another reason"),
}


class Order(db.Model):
    """What a buyer ordered, and where to: read by its number on the phone, opened by its token."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Eight digits, said aloud as two groups of four ("1234 5678").
    number: Mapped[str] = mapped_column(sa.String(8), unique=True)
    # The secret of the tracking link (/orders/<token>): 128 random bits.
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    buyer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus))
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(20))  # E.164
    email: Mapped[str | None] = mapped_column(sa.String(254))
    governorate: Mapped[str] = mapped_column(sa.String(3))
    city: Mapped[str] = mapped_column(sa.String(120))
    address: Mapped[str] = mapped_column(sa.String(500))
    notes: Mapped[str] = mapped_column(sa.String(500), default="")
    locale: Mapped[str] = mapped_column(sa.String(5), default="ar")  # of her emails
    payment_method: Mapped[str] = mapped_column(sa.String(20))  # a payments provider's name
    currency: Mapped[str] = mapped_column(sa.String(3), default="EGP")
    items_total: Mapped[int]
    shipping_total: Mapped[int]
    total: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Card orders: when the stock held for an unpaid order goes back.
    pay_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    buyer: Mapped[User | None] = relationship()
    parts: Mapped[list[OrderPart]] = relationship(
        back_populates="order", order_by="OrderPart.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("total = items_total + shipping_total", name="total_adds_up"),
        sa.CheckConstraint("items_total > 0 AND shipping_total >= 0", name="amounts_positive"),
        # The expiry job's question: unpaid orders whose time ran out.
        sa.Index("ix_orders_status_pay_by", "status", "pay_by"),
    )

    @property
    def display_number(self) -> str:
        """Two groups of four, set apart left to right (LRI … PDI): in a right-to-left sentence
        the groups would otherwise swap places, and she would read the number out wrong."""
        return f"\u2066{self.number[:4]} {self.number[4:]}\u2069"

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status}>"


class OrderPart(db.Model):
    """One artisan's parcel of an order: she accepts, ships and delivers it on her own."""

    __tablename__ = "order_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"))
    artisan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("artisan_profiles.id", ondelete="RESTRICT")
    )
    status: Mapped[PartStatus] = mapped_column(enum_column(PartStatus))
    items_total: Mapped[int]
    shipping_fee: Mapped[int]
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Made to order: the day she said it will be ready.
    ready_by: Mapped[date | None] = mapped_column(sa.Date)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    courier: Mapped[str] = mapped_column(sa.String(80), default="")
    tracking_number: Mapped[str] = mapped_column(sa.String(80), default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[CancelReason | None] = mapped_column(enum_column(CancelReason))
    cancel_note: Mapped[str] = mapped_column(sa.String(500), default="")
    # Cash on delivery: when the courier's cash for this parcel reached the coalition.
    cash_collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cash_collected_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship(back_populates="parts")
    artisan: Mapped[ArtisanProfile] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="part", order_by="OrderItem.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("order_id", "artisan_id", name="one_part_per_artisan"),
        # Her orders, newest first, by status (the studio's list and its badge).
        sa.Index("ix_order_parts_artisan_status", "artisan_id", "status", "id"),
    )

    @property
    def total(self) -> int:
        return self.items_total + self.shipping_fee

    def __repr__(self) -> str:
        return f"<OrderPart {self.id} {self.status}>"


class OrderItem(db.Model):
    """A piece in a part, as it was when the order was placed."""

    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_parts.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(120))
    unit_price: Mapped[int]
    quantity: Mapped[int]
    made_to_order: Mapped[bool] = mapped_column(default=False)
    days_to_make: Mapped[int | None]

    part: Mapped[OrderPart] = relationship(back_populates="items")
    product: Mapped[Product | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(f"quantity >= 1 AND quantity <= {MAX_QUANTITY}", name="quantity_range"),
        sa.CheckConstraint("unit_price > 0", name="unit_price_positive"),
    )

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


class ShippingRate(db.Model):
    """The fee for one artisan's parcel to a governorate; the row "*" for all the others."""

    __tablename__ = "shipping_rates"

    governorate: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    fee: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint("fee >= 0", name="fee_not_negative"),)
