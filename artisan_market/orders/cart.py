"""The cart, kept in her session cookie: which pieces, how many, and the price she saw.

Only ids, quantities and the price shown when she added a piece are kept; every price, title
and stock figure on a page comes from the database. The price she saw is what tells her, at
checkout, that a price changed since. The session outlives logging in (see accounts), so the
cart does too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from itertools import groupby

import sqlalchemy as sa
from flask import session
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from artisan_market.accounts.models import ArtisanProfile
from artisan_market.catalog.models import ListingStatus, Product
from artisan_market.extensions import db
from artisan_market.orders.models import MAX_LINES, MAX_QUANTITY

KEY = "cart"


class Problem(enum.StrEnum):
    OFF_SALE = "off_sale"
    SOLD_OUT = "sold_out"
    FEWER = "fewer"
    PRICE = "price"


PROBLEM_TEXT = {
    Problem.OFF_SALE: _l("This piece is no longer for sale. Remove it to go on."),
    Problem.SOLD_OUT: _l("This piece sold out. Remove it to go on."),
    Problem.FEWER: _l("Only %(left)s left: lower the quantity to go on."),
    Problem.PRICE: _l("The price changed from %(old)s to %(new)s."),
}
# Problems that stop the order; a new price is only told.
BLOCKING = frozenset({Problem.OFF_SALE, Problem.SOLD_OUT, Problem.FEWER})


def _stored() -> dict[str, list[int]]:
    cart = session.get(KEY)
    return cart if isinstance(cart, dict) else {}


def quantities() -> dict[int, tuple[int, int]]:
    """product id → (quantity, the price she saw), as kept; bad entries are skipped."""
    lines = {}
    for key, value in _stored().items():
        try:
            product_id, (quantity, seen) = int(key), value
        except (TypeError, ValueError):
            continue
        if isinstance(quantity, int) and isinstance(seen, int) and 0 < quantity <= MAX_QUANTITY:
            lines[product_id] = (quantity, seen)
    return lines


def count() -> int:
    """Pieces in the cart, for the header (no query)."""
    return sum(quantity for quantity, _seen in quantities().values())


def _save(lines: dict[int, tuple[int, int]]) -> None:
    if lines:
        session[KEY] = {str(pid): [qty, seen] for pid, (qty, seen) in lines.items()}
    else:
        session.pop(KEY, None)


class CartFull(Exception):
    """Too many different pieces in one cart."""


def add(product: Product, quantity: int) -> int:
    """Add pieces of a product (its price now is the price she saw); returns the quantity in
    the cart, at most MAX_QUANTITY. Refuses (CartFull) a piece beyond MAX_LINES."""
    lines = quantities()
    if product.id not in lines and len(lines) >= MAX_LINES:
        raise CartFull
    before = lines.get(product.id, (0, 0))[0]
    total = min(before + quantity, MAX_QUANTITY)
    lines[product.id] = (total, product.price)
    _save(lines)
    return total


def set_quantity(product_id: int, quantity: int) -> None:
    """Change a line's quantity (0 removes it); its remembered price stays."""
    lines = quantities()
    if product_id not in lines:
        return
    if quantity <= 0:
        del lines[product_id]
    else:
        lines[product_id] = (min(quantity, MAX_QUANTITY), lines[product_id][1])
    _save(lines)


def remove(product_id: int) -> None:
    set_quantity(product_id, 0)


def clear() -> None:
    session.pop(KEY, None)


def accept_prices(prices: dict[int, int]) -> None:
    """She has been shown these prices: they are now the prices she saw."""
    lines = quantities()
    for product_id, price in prices.items():
        if product_id in lines:
            lines[product_id] = (lines[product_id][0], price)
    _save(lines)


@dataclass
class Line:
    product_id: int
    quantity: int
    seen_price: int
    product: Product
    problem: Problem | None = None

    @property
    def price(self) -> int:
        return self.product.price or self.seen_price

    @property
    def total(self) -> int:
        return self.price * self.quantity

    @property
    def left(self) -> int:
        return self.product.stock

    def problem_text(self, money) -> str:
        if self.problem is None:
            return ""
        return str(PROBLEM_TEXT[self.problem]) % {
            "left": self.left,
            "old": money(self.seen_price),
            "new": money(self.price),
        }


@dataclass
class Parcel:
    """One artisan's pieces: one parcel, one shipping fee."""

    artisan: ArtisanProfile
    lines: list[Line]
    shipping_fee: int = 0

    @property
    def items_total(self) -> int:
        return sum(line.total for line in self.lines if line.problem not in BLOCKING)


@dataclass
class Cart:
    lines: list[Line] = field(default_factory=list)
    parcels: list[Parcel] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(line.problem in BLOCKING for line in self.lines)

    @property
    def items_total(self) -> int:
        return sum(parcel.items_total for parcel in self.parcels)

    @property
    def shipping_total(self) -> int:
        return sum(parcel.shipping_fee for parcel in self.parcels if parcel.items_total)

    @property
    def total(self) -> int:
        return self.items_total + self.shipping_total

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)


def _problem(product: Product, quantity: int, seen: int) -> Problem | None:
    if product.status not in (ListingStatus.LIVE, ListingStatus.SOLD_OUT):
        return Problem.OFF_SALE
    if not product.made_to_order:
        if product.status is ListingStatus.SOLD_OUT or product.stock <= 0:
            return Problem.SOLD_OUT
        if product.stock < quantity:
            return Problem.FEWER
    if product.price != seen:
        return Problem.PRICE
    return None


def load(shipping_fee=None) -> Cart:
    """The cart with each piece as it is now (one query), grouped by artisan; with
    `shipping_fee` (a fee per parcel), each parcel's fee."""
    stored = quantities()
    if not stored:
        return Cart()
    products = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Product)
            .where(Product.id.in_(stored))
            .options(joinedload(Product.artisan), selectinload(Product.photos))
        )
    }
    if len(products) < len(stored):  # deleted since (only drafts are): nothing to show
        _save({pid: line for pid, line in stored.items() if pid in products})
    lines = [
        Line(pid, qty, seen, products[pid], _problem(products[pid], qty, seen))
        for pid, (qty, seen) in stored.items()
        if pid in products
    ]
    lines.sort(key=lambda line: (line.product.artisan_id, line.product_id))
    parcels = [
        Parcel(artisan=group[0].product.artisan, lines=group)
        for group in (list(g) for _a, g in groupby(lines, key=lambda ln: ln.product.artisan_id))
    ]
    if shipping_fee is not None:
        for parcel in parcels:
            parcel.shipping_fee = shipping_fee
    return Cart(lines=lines, parcels=parcels)
