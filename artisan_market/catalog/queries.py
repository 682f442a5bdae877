"""What the public may see, as queries: live listings of verified artisans, and filters.

A listing is public when it is live or sold out (buyers may still look at it) and its
artisan is verified. Everything else is a 404 to the public.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from artisan_market import money
from artisan_market.accounts.models import ArtisanProfile, VerificationStatus
from artisan_market.catalog.models import Category, ListingStatus, Product
from artisan_market.catalog.search import MAX_QUERY_CHARS, query_words
from artisan_market.database import dialect_name
from artisan_market.egypt import GOVERNORATES

PUBLIC_STATUSES = (ListingStatus.LIVE, ListingStatus.SOLD_OUT)
SORTS = ("newest", "price_up", "price_down")
# A price range holding fewer listings than this is narrow: its listings are found by the
# price index and sorted, instead of walking the catalogue newest first to find them.
NARROW_PRICE_RANGE = 2000


def verified_artisans() -> sa.Select:
    return sa.select(ArtisanProfile.id).where(
        ArtisanProfile.verification == VerificationStatus.VERIFIED
    )


def public_products() -> sa.Select:
    """Public listings, their artisan and category in the same query, photos in one more.

    Conditions are on `products` alone (subqueries for the artisan's side) and the related
    rows come by LEFT OUTER JOIN: the database then walks products in the order asked for
    (the primary key or an index) and stops after one page, instead of starting from the nine
    categories and sorting 100,000 rows.
    """
    return (
        sa.select(Product)
        .where(
            Product.status.in_(PUBLIC_STATUSES),
            # "+ 0": a lookup per verified artisan would win the planner over walking
            # products in order; as an expression, artisan_id is only checked, never searched.
            (Product.artisan_id + 0).in_(verified_artisans()),
        )
        .options(
            joinedload(Product.artisan),
            joinedload(Product.category),
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
    # Set by `probed`, not read from the query string: how to find the price range's listings.
    narrow_price: bool = False

    @classmethod
    def from_args(cls, args, category_slugs: set[str], page: int = 1) -> ShopFilters:
        """The filters in `args`; a search with no word to look for (a lone quote) is none."""
        low, high = _pounds(args.get("min")), _pounds(args.get("max"))
        if low is not None and high is not None and low > high:
            low, high = high, low  # upside down: she meant the other way round
        category = args.get("category", "")
        governorate = args.get("governorate", "")
        availability = args.get("availability", "")
        sort = args.get("sort", "newest")
        q = (args.get("q") or "")[:MAX_QUERY_CHARS]
        return cls(
            q=q if query_words(q) else "",
            category=category if category in category_slugs else "",
            governorate=governorate if governorate in GOVERNORATES else "",
            min_price=low,
            max_price=high,
            availability=availability if availability in ("ready", "order") else "",
            sort=sort if sort in SORTS else "newest",
            page=page,
        )

    def apply(self, stmt: sa.Select) -> sa.Select:
        if self.category:
            stmt = stmt.where(self._in_category())
        if self.governorate:
            # Her products by the artisan index: a governorate holds a few per cent of the
            # catalogue, and finding them first then sorting them is bounded, where walking
            # the whole catalogue in order for a rare combination is not.
            artisans = verified_artisans().where(ArtisanProfile.governorate == self.governorate)
            if dialect_name() == "postgresql":
                # PostgreSQL plans "IN (subquery)" as a hash join over a scan of every
                # listing (26 ms); over an array of her artisans' ids it reads the covering
                # index (3 ms).
                array = sa.func.array(artisans.scalar_subquery())
                stmt = stmt.where(Product.artisan_id == sa.any_(array))
            else:
                stmt = stmt.where(Product.artisan_id.in_(artisans))
        if self.narrow_price:
            # A narrow range (see `probed`): its few listings looked up by the price index.
            stmt = stmt.where(Product.id.in_(self._in_price_range()))
        else:
            # Sorted by price, the price index gives the order. Newest first, walking the
            # catalogue by id and checking the price finds a page soon in a wide range. With
            # a governorate, her listings are found first and only checked.
            by_price = self.sort != "newest" and not self.governorate
            stmt = stmt.where(*self._in_price(Product.price if by_price else Product.price + 0))
        if self.availability == "ready":
            stmt = stmt.where(Product.made_to_order.is_(False), Product.stock > 0)
        elif self.availability == "order":
            stmt = stmt.where(Product.made_to_order.is_(True))
        return stmt

    def order(self, stmt: sa.Select) -> sa.Select:
        # Newest first by id: ids are handed out in creation order, and the primary key (or
        # an index ending in it) gives that order without sorting 100,000 rows. A
        # governorate's listings are sorted instead ("+ 0": the planner must not walk the
        # whole catalogue in order to find a governorate that has few, or none).
        price, newest = Product.price, Product.id
        if self.governorate:
            price, newest = Product.price + 0, Product.id + 0
        if self.sort == "price_up":
            return stmt.order_by(price.asc(), newest.asc())
        if self.sort == "price_down":
            return stmt.order_by(price.desc(), newest.desc())
        return stmt.order_by(newest.desc())

    def _in_category(self) -> sa.ColumnElement[bool]:
        category = sa.select(Category.id).where(Category.slug == self.category)
        return Product.category_id == category.scalar_subquery()

    def _in_price(self, price: sa.ColumnElement) -> list[sa.ColumnElement[bool]]:
        """The price range's conditions on `price` (the column, or "+ 0" to keep its index
        out of the plan)."""
        conditions = []
        if self.min_price is not None:
            conditions.append(price >= self.min_price)
        if self.max_price is not None:
            conditions.append(price <= self.max_price)
        return conditions

    def _in_price_range(self) -> sa.Select:
        """The ids of listings in the price range (and the category), from the price index
        (or the category's): a select only those indexes can answer, whatever the planner's
        statistics say."""
        in_range = sa.select(Product.id).where(*self._in_price(Product.price))
        return in_range.where(self._in_category()) if self.category else in_range

    def probed(self, session) -> ShopFilters:
        """These filters, knowing whether the price range is narrow (newest first only).

        One cheap statement: the range's first NARROW_PRICE_RANGE entries in the price index
        (with the category's, when one is chosen), counted. SQLite's planner cannot tell a
        range of a few listings from one of thousands; walking 100,000 listings for a
        range that holds none takes 100 ms, looking up a few hundred well under 5.
        """
        if self.sort != "newest" or (self.min_price is None and self.max_price is None):
            return self
        found = session.scalar(
            sa.select(sa.func.count()).select_from(
                self._in_price_range().limit(NARROW_PRICE_RANGE).subquery()
            )
        )
        return replace(self, narrow_price=found < NARROW_PRICE_RANGE)

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
    """A price from the query string; anything that is not an amount is no filter."""
    try:
        return money.parse((text or "")[:40])
    except money.NotMoney:
        return None


def _pounds_text(piastres: int | None) -> str:
    return "" if piastres is None else money.plain_text(piastres)


def slugify(text: str) -> str:
    """A readable slug that keeps Arabic: letters and digits, words joined by "-"."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    words = re.findall(r"[^\W_]+", text)
    slug = "-".join(words)[:60].strip("-")
    return slug or "item"


def fetch_products(stmt: sa.Select, limit: int, offset: int) -> list[Product]:
    """One page of listings (a `paging.Fetch`): their ids first (a narrow sort), then those
    listings with what a card shows.

    Sorting thousands of search matches by relevance costs half as much when the rows
    sorted are ids, not whole listings with their artisan and category.
    """
    from artisan_market.extensions import db

    ids_stmt = stmt.with_only_columns(Product.id).options(sa.orm.lazyload("*"))
    ids = list(db.session.scalars(ids_stmt.limit(limit).offset(offset)))
    if not ids:
        return []
    found = {
        product.id: product
        for product in db.session.scalars(
            sa.select(Product)
            .where(Product.id.in_(ids))
            .options(
                joinedload(Product.artisan),
                joinedload(Product.category),
                selectinload(Product.photos),
            )
        )
    }
    return [found[i] for i in ids if i in found]
