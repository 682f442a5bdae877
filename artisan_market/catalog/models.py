"""Listings and what they are made of: categories, products, photos."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artisan_market.accounts.models import ArtisanProfile, User
from artisan_market.extensions import db, enum_column
from artisan_market.timeutil import UTCDateTime, utcnow

MAX_PHOTOS = 8
MIN_PRICE = 100  # 1 EGP, in piastres
MAX_PRICE = 20_000_000  # 200,000 EGP: more than any piece here; a typo guard
MAX_STOCK = 9_999
MAX_DAYS_TO_MAKE = 365


class ListingStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    LIVE = "live"
    REJECTED = "rejected"
    PAUSED = "paused"
    SOLD_OUT = "sold_out"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    ListingStatus.DRAFT: _l("Draft"),
    ListingStatus.PENDING: _l("Waiting for review"),
    ListingStatus.LIVE: _l("Live"),
    ListingStatus.REJECTED: _l("Needs changes"),
    ListingStatus.PAUSED: _l("Paused"),
    ListingStatus.SOLD_OUT: _l("Sold out"),
    ListingStatus.ARCHIVED: _l("Archived"),
}


class RejectionReason(enum.StrEnum):
    PHOTO = "photo"
    PRICE = "price"
    NOT_HANDMADE = "not_handmade"
    NOT_ALLOWED = "not_allowed"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(REJECTION_TEXT[self][0])

    @property
    def advice(self) -> str:
        """What she can do next, in plain words."""
        return str(REJECTION_TEXT[self][1])


REJECTION_TEXT = {
    RejectionReason.PHOTO: (
        _l("The photo is blurry or dark"),
        _l("Take the photo again in daylight, near a window or outside, and hold the phone still."),
    ),
    RejectionReason.PRICE: (
        _l("The price is not clear"),
        _l("Check the price: write the whole price in pounds for one piece."),
    ),
    RejectionReason.NOT_HANDMADE: (
        _l("It does not look handmade"),
        _l("Show your work: a photo of the piece being made, or of details only a hand makes."),
    ),
    RejectionReason.NOT_ALLOWED: (
        _l("This item cannot be sold here"),
        _l("Call your coordinator to know which products you can sell."),
    ),
    RejectionReason.OTHER: (
        _l("Something else needs changing"),
        _l("Read the coordinator's note, change the product, and send it again."),
    ),
}


class Category(db.Model):
    """A seeded taxonomy (pottery, embroidery, …) with Arabic and English names."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_ar: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)

    def name(self, locale: str) -> str:
        return self.name_ar if locale == "ar" else self.name_en


class Product(db.Model):
    """A listing. A draft may be incomplete; anything beyond a draft is complete (CHECK)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    artisan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("artisan_profiles.id", ondelete="RESTRICT")
    )  # indexed by ix_products_artisan_shop, which starts with it
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))
    title: Mapped[str] = mapped_column(sa.String(120), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    materials: Mapped[str] = mapped_column(sa.String(300), default="")
    # Integer piastres; never a float.
    price: Mapped[int | None]
    currency: Mapped[str] = mapped_column(sa.String(3), default="EGP")
    made_to_order: Mapped[bool] = mapped_column(default=False)
    stock: Mapped[int] = mapped_column(default=1)
    days_to_make: Mapped[int | None]
    size: Mapped[str] = mapped_column(sa.String(80), default="")
    # The words the listing is found by, normalised, in three parts that weigh differently
    # in the ranking: the title; the description and materials; the category, artisan,
    # governorate and craft names. Kept in step by catalog.search's before_flush listener;
    # the migrations index them.
    search_title: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    search_body: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    search_context: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    weight_grams: Mapped[int | None]
    status: Mapped[ListingStatus] = mapped_column(
        enum_column(ListingStatus), default=ListingStatus.DRAFT, index=True
    )
    rejection_reason: Mapped[RejectionReason | None] = mapped_column(enum_column(RejectionReason))
    rejection_note: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # The coordinator who added it on the artisan's behalf, if one did.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    artisan: Mapped[ArtisanProfile] = relationship()
    category: Mapped[Category | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    photos: Mapped[list[ProductPhoto]] = relationship(
        back_populates="product",
        order_by="(ProductPhoto.position, ProductPhoto.id)",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint(
            f"price IS NULL OR (price >= {MIN_PRICE} AND price <= {MAX_PRICE})",
            name="price_in_range",
        ),
        sa.CheckConstraint(
            f"days_to_make IS NULL OR (days_to_make >= 1 AND days_to_make <= {MAX_DAYS_TO_MAKE})",
            name="days_in_range",
        ),
        sa.CheckConstraint(
            "status = 'draft' OR (title <> '' AND price IS NOT NULL AND category_id IS NOT NULL"
            " AND (made_to_order = false OR days_to_make IS NOT NULL))",
            name="complete_unless_draft",
        ),
        sa.Index("ix_products_status_submitted", "status", "submitted_at"),
        # The shop's filters and orders: a category newest first, and by price; a category
        # by price (and a price range within a category) without walking other categories.
        sa.Index("ix_products_category_newest", "category_id", "id"),
        sa.Index("ix_products_price", "price", "id"),
        sa.Index("ix_products_category_price", "category_id", "price", "id"),
        # Her listings (her studio, "more from her"), and a governorate's listings in the
        # shop read from the index alone: every column the shop's filters check.
        sa.Index(
            "ix_products_artisan_shop",
            "artisan_id",
            "status",
            "category_id",
            "price",
            "made_to_order",
            "stock",
        ),
    )

    @property
    def cover(self) -> ProductPhoto | None:
        return self.photos[0] if self.photos else None

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.status}>"


class ProductPhoto(db.Model):
    """One photo of a listing: its re-encoded derivatives (never the upload) and alt text."""

    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    # Empty means "use the product's title".
    alt_text: Mapped[str] = mapped_column(sa.String(200), default="")
    derivatives: Mapped[list[dict]] = mapped_column(sa.JSON)
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product] = relationship(back_populates="photos")

    def alt(self) -> str:
        return self.alt_text or self.product.title
