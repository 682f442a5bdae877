"""What the public may see, as queries: live listings of verified artisans, and filters.

A listing is public when it is live or sold out (buyers may still look at it) and its
artisan is verified. Everything else is a 404 to the public.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, selectinload

from artisan_market.accounts.models import ArtisanProfile, VerificationStatus
from artisan_market.catalog.models import Category, ListingStatus, Product
from artisan_market.egypt import GOVERNORATES
from artisan_market.i18n import digits_to_ascii

PUBLIC_STATUSES = (ListingStatus.LIVE, ListingStatus.SOLD_OUT)
SORTS = ("newest", "price_up", "price_down")
MAX_PAGE = 10_000


def public_products() -> sa.Select:
    """Public listings with their artisan and category loaded in the same query, photos next."""
    return (
        sa.select(Product)
        .join(Product.artisan)
        .join(Product.category)
        .where(
            Product.status.in_(PUBLIC_STATUSES),
            ArtisanProfile.verification == VerificationStatus.VERIFIED,
        )
        .options(
            contains_eager(Product.artisan),
            contains_eager(Product.category),
            selectinload(Product.photos),
        )
    )


def is_public(product: Product) -> bool:
    return product.status in PUBLIC_STATUSES and product.artisan.is_verified


@dataclass(frozen=True)
class ShopFilters:
    """The shop's filters, read leniently from the query string: anything unknown is ignored."""

    q: str = ""
    category: str = ""
    governorate: str = ""
    min_price: int | None = None  # piastres
    max_price: int | None = None
    availability: str = ""  # "", "ready", "order"
    sort: str = "newest"
    page: int = 1

    @classmethod
    def from_args(cls, args, category_slugs: set[str]) -> ShopFilters:
        low, high = _pounds(args.get("min")), _pounds(args.get("max"))
        if low is not None and high is not None and low > high:
            low, high = high, low  # upside down: she meant the other way round
        category = args.get("category", "")
        governorate = args.get("governorate", "")
        availability = args.get("availability", "")
        sort = args.get("sort", "newest")
        return cls(
            q=(args.get("q") or "")[:200],
            category=category if category in category_slugs else "",
            governorate=governorate if governorate in GOVERNORATES else "",
            min_price=low,
            max_price=high,
            availability=availability if availability in ("ready", "order") else "",
            sort=sort if sort in SORTS else "newest",
            page=_page(args.get("page")),
        )

    def apply(self, stmt: sa.Select) -> sa.Select:
        if self.category:
            stmt = stmt.where(Category.slug == self.category)
        if self.governorate:
            stmt = stmt.where(ArtisanProfile.governorate == self.governorate)
        if self.min_price is not None:
            stmt = stmt.where(Product.price >= self.min_price)
        if self.max_price is not None:
            stmt = stmt.where(Product.price <= self.max_price)
        if self.availability == "ready":
            stmt = stmt.where(Product.made_to_order.is_(False), Product.stock > 0)
        elif self.availability == "order":
            stmt = stmt.where(Product.made_to_order.is_(True))
        return stmt

    def order(self, stmt: sa.Select) -> sa.Select:
        if self.sort == "price_up":
            return stmt.order_by(Product.price.asc(), Product.id.desc())
        if self.sort == "price_down":
            return stmt.order_by(Product.price.desc(), Product.id.desc())
        return stmt.order_by(Product.created_at.desc(), Product.id.desc())

    def args(self, **changes) -> dict[str, str]:
        """The query string for these filters (with changes), without empty values."""
        values = {
            "q": self.q,
            "category": self.category,
            "governorate": self.governorate,
            "min": _pounds_text(self.min_price),
            "max": _pounds_text(self.max_price),
            "availability": self.availability,
            "sort": "" if self.sort == "newest" else self.sort,
            "page": "" if self.page == 1 else str(self.page),
        }
        values.update({k: ("" if v is None else str(v)) for k, v in changes.items()})
        if values.get("page") == "1":
            values["page"] = ""
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.args(page=""))


def _pounds(text: str | None) -> int | None:
    text = digits_to_ascii((text or "").strip()).replace("٫", ".")
    if not re.fullmatch(r"\d{1,7}(\.\d{1,2})?", text):
        return None
    whole, _dot, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _pounds_text(piastres: int | None) -> str:
    if piastres is None:
        return ""
    whole, rest = divmod(piastres, 100)
    return f"{whole}" if not rest else f"{whole}.{rest:02d}"


def _page(text: str | None) -> int:
    text = digits_to_ascii((text or "").strip())
    if not text.isdigit():
        return 1
    return min(max(int(text[:7]), 1), MAX_PAGE)


def slugify(text: str) -> str:
    """A readable slug that keeps Arabic: letters and digits, words joined by "-"."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    words = re.findall(r"[^\W_]+", text)
    slug = "-".join(words)[:60].strip("-")
    return slug or "item"
