"""The rules of a listing's life, from draft to live and beyond. No requests, no commits.

    draft ──submit──▶ pending ──approve──▶ live ⇄ paused, live ⇄ sold out
                        │  ▲                 │
                     reject │ (edit words or photos of a live, paused or sold-out listing)
                        ▼  │
                     rejected ──submit──▶ pending
    any but pending ──archive──▶ archived ──restore──▶ draft;  draft ──delete──▶ gone

Every change of status goes through LISTING_STATES (states.StateMachine): a move asked for
again where it has already been made changes nothing and returns False; a move the table does
not allow raises ListingError. Audit entries and notifications are written here, next to the
change they describe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import sqlalchemy as sa
from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from artisan_market.accounts.models import Role, User
from artisan_market.catalog.models import (
    MAX_PHOTOS,
    REJECTION_TEXT,
    ListingStatus,
    Product,
    ProductPhoto,
    RejectionReason,
)
from artisan_market.extensions import db
from artisan_market.media.pipeline import ProcessedPhoto
from artisan_market.media.services import discard_photo, save_photo
from artisan_market.rules import RuleError
from artisan_market.states import SYSTEM, Move, MoveRefused, StateMachine
from artisan_market.timeutil import utcnow

S = ListingStatus
# Who makes the artisan's own moves: she, or a coordinator or admin on her behalf.
_HERS = frozenset({Role.ARTISAN.value, Role.COORDINATOR.value, Role.ADMIN.value})
_REVIEWERS = frozenset({Role.COORDINATOR.value, Role.ADMIN.value})
_SYSTEM = frozenset({SYSTEM})
# Statuses a buyer could see, or that were seen: an edit of words or photos sends them back.
REVIEWED = frozenset({S.LIVE, S.PAUSED, S.SOLD_OUT})


def _move(name, sources, target, by, done_in=()) -> Move:
    return Move(name, frozenset(sources), target, by, frozenset(done_in))


LISTING_STATES = StateMachine(
    [
        _move("submit", {S.DRAFT, S.REJECTED}, S.PENDING, _HERS, {S.PENDING}),
        _move("approve", {S.PENDING}, S.LIVE, _REVIEWERS, {S.LIVE, S.SOLD_OUT}),
        _move("reject", {S.PENDING}, S.REJECTED, _REVIEWERS, {S.REJECTED}),
        _move("pause", {S.LIVE, S.SOLD_OUT}, S.PAUSED, _HERS, {S.PAUSED}),
        _move("resume", {S.PAUSED}, S.LIVE, _HERS, {S.LIVE, S.SOLD_OUT}),
        _move(
            "archive",
            {S.DRAFT, S.REJECTED, S.LIVE, S.PAUSED, S.SOLD_OUT},
            S.ARCHIVED,
            _HERS,
            {S.ARCHIVED},
        ),
        _move("restore", {S.ARCHIVED}, S.DRAFT, _HERS),
        _move("delete", {S.DRAFT}, None, _HERS),
        # What the site does by itself: words or photos of a reviewed listing changed, its
        # last piece sold, pieces back in stock.
        _move("send_back", REVIEWED, S.PENDING, _SYSTEM, {S.PENDING}),
        _move("sell_out", {S.LIVE}, S.SOLD_OUT, _SYSTEM, {S.SOLD_OUT}),
        _move("restock", {S.SOLD_OUT}, S.LIVE, _SYSTEM, {S.LIVE}),
    ]
)


class ListingError(RuleError):
    """A listing rule refused (a move not allowed now, an incomplete listing, …)."""


@dataclass(frozen=True)
class ListingWords:
    """What a buyer reads: changing any of it on a reviewed listing means a new review."""

    title: str
    description: str
    materials: str
    category_id: int | None
    size: str
    weight_grams: int | None


@dataclass(frozen=True)
class ListingTerms:
    """Price and stock: changing them never needs a review."""

    price: int | None
    made_to_order: bool
    stock: int
    days_to_make: int | None


@dataclass(frozen=True)
class ListingDraft:
    """A listing's words and terms as a form holds them, before they are saved."""

    words: ListingWords
    terms: ListingTerms


def allowed_moves(product: Product, editor: User) -> list[str]:
    """The moves `editor` may make on the listing now (the buttons her page shows)."""
    return LISTING_STATES.allowed(product.status, editor.role.value)


def _check(product: Product, name: str, actor: str):
    """The move of LISTING_STATES to make; None when it was made already.

    Refuses (ListingError) a move the table does not allow now, or not to `actor`.
    """
    try:
        return LISTING_STATES.check(product.status, name, actor)
    except MoveRefused as refused:
        raise ListingError(refused.message) from refused


def _go(product: Product, name: str, actor: str) -> bool:
    """Make the move; False when it was made already (nothing changes)."""
    move = _check(product, name, actor)
    if move is None:
        return False
    if move.target is not None:
        product.status = move.target
    return True


def snapshot(product: Product) -> dict:
    """The listing as the audit log keeps it (before/after)."""
    data = {
        "status": product.status.value,
        **{f.name: getattr(product, f.name) for f in fields(ListingWords)},
        **{f.name: getattr(product, f.name) for f in fields(ListingTerms)},
        "photos": [p.id for p in product.photos],
    }
    return data


def new_draft(artisan_profile, *, created_by: User | None = None) -> Product:
    """An empty draft for her; `created_by` is the coordinator adding it on her behalf."""
    product = Product(artisan=artisan_profile, created_by=created_by, status=S.DRAFT)
    db.session.add(product)
    db.session.flush()
    if created_by is not None:
        _audit(created_by, "listing.created_on_behalf", product, after=snapshot(product))
    return product


def _back_to_review(product: Product) -> bool:
    """A reviewed listing whose words or photos changed waits for review again."""
    if product.status not in REVIEWED:
        return False
    _go(product, "send_back", SYSTEM)
    product.submitted_at = utcnow()
    return True


def update(product: Product, words: ListingWords, terms: ListingTerms, *, editor: User) -> bool:
    """Change the listing; returns True when the change sends it back to review.

    Refuses (ListingError) edits of an archived listing.
    """
    if product.status is S.ARCHIVED:
        raise ListingError(_l("Restore this product before changing it."))
    before = snapshot(product)
    words_changed = any(getattr(product, f.name) != getattr(words, f.name) for f in fields(words))
    for item in (words, terms):
        for f in fields(item):
            setattr(product, f.name, getattr(item, f.name))
    sent_back = words_changed and _back_to_review(product)
    if not sent_back:
        _follow_stock(product)
    db.session.flush()
    _audit_on_behalf(editor, product, before)
    return sent_back


def _follow_stock(product: Product) -> None:
    """Live with nothing left is sold out; sold out with stock again is live."""
    available = product.made_to_order or product.stock > 0
    if product.status is S.LIVE and not available:
        _go(product, "sell_out", SYSTEM)
    elif product.status is S.SOLD_OUT and available:
        _go(product, "restock", SYSTEM)


def take_stock(product_id: int, quantity: int, price: int) -> bool:
    """Take `quantity` pieces of a live listing at `price` for an order; False when it is not
    on sale, not at that price, or has fewer pieces (the caller reads it to say which).

    One conditional UPDATE (`stock >= quantity`, its row count checked): two buyers racing
    for the last piece cannot both get it, on SQLite or PostgreSQL. A made-to-order piece is
    made for each order: its stock is not counted.
    """
    made_to_order = Product.made_to_order.is_(True)
    taken = db.session.execute(
        sa.update(Product)
        .where(
            Product.id == product_id,
            Product.status == S.LIVE,
            Product.price == price,
            sa.or_(made_to_order, Product.stock >= quantity),
        )
        .values(stock=sa.case((made_to_order, Product.stock), else_=Product.stock - quantity))
        .execution_options(synchronize_session=False)
    ).rowcount
    product = db.session.get(Product, product_id, populate_existing=True)
    if taken:
        _follow_stock(product)
    return bool(taken)


def give_back_stock(product_id: int, quantity: int) -> None:
    """Pieces of a cancelled order are for sale again (a sold-out listing is live again)."""
    db.session.execute(
        sa.update(Product)
        .where(Product.id == product_id, Product.made_to_order.is_(False))
        .values(stock=Product.stock + quantity)
        .execution_options(synchronize_session=False)
    )
    product = db.session.get(Product, product_id, populate_existing=True)
    if product is not None:
        _follow_stock(product)


def add_photos(product: Product, photos: Iterable[ProcessedPhoto], *, editor: User) -> bool:
    """Append photos (files written now); refuses more than MAX_PHOTOS in all.

    Returns True when the listing goes back to review. The files go again if the
    transaction rolls back.
    """
    photos = list(photos)
    if len(product.photos) + len(photos) > MAX_PHOTOS:
        raise ListingError(
            _l("A product can have at most %(max)s photos.", max=MAX_PHOTOS), "photos"
        )
    before = snapshot(product)
    start = max((p.position for p in product.photos), default=-1) + 1
    for offset, photo in enumerate(photos):
        largest = photo.largest("webp")
        product.photos.append(
            ProductPhoto(
                position=start + offset,
                derivatives=save_photo(photo),
                width=largest.width,
                height=largest.height,
            )
        )
    return _photos_changed(product, before, editor)


def _photos_changed(product: Product, before: dict, editor: User) -> bool:
    sent_back = _back_to_review(product)
    _renumber(product)
    db.session.flush()
    _audit_on_behalf(editor, product, before)
    return sent_back


def _renumber(product: Product) -> None:
    for position, photo in enumerate(product.photos):
        photo.position = position


def _photo(product: Product, photo_id: int) -> ProductPhoto:
    for photo in product.photos:
        if photo.id == photo_id:
            return photo
    raise LookupError(photo_id)  # the view turns this into a 404


def remove_photo(product: Product, photo_id: int, *, editor: User) -> bool:
    """Remove one photo (its files once the change is committed); True when the listing
    goes back to review."""
    photo = _photo(product, photo_id)
    before = snapshot(product)
    product.photos.remove(photo)
    discard_photo(photo.derivatives)
    return _photos_changed(product, before, editor)


def move_photo(product: Product, photo_id: int, offset: int, *, editor: User) -> bool:
    """Move a photo earlier (-1) or later (+1); position 0 is the cover."""
    photo = _photo(product, photo_id)
    photos = list(product.photos)
    index = photos.index(photo)
    target = min(max(index + offset, 0), len(photos) - 1)
    if target == index:
        return False
    before = snapshot(product)
    photos.insert(target, photos.pop(index))
    _set_order(product, photos)
    return _photos_changed(product, before, editor)


def make_cover(product: Product, photo_id: int, *, editor: User) -> bool:
    photo = _photo(product, photo_id)
    photos = list(product.photos)
    if photos[0] is photo:
        return False
    before = snapshot(product)
    photos.remove(photo)
    _set_order(product, [photo, *photos])
    return _photos_changed(product, before, editor)


def _set_order(product: Product, photos: list[ProductPhoto]) -> None:
    for position, photo in enumerate(photos):
        photo.position = position
    product.photos.sort(key=lambda p: p.position)


def set_alt_text(product: Product, photo_id: int, text: str, *, editor: User) -> bool:
    photo = _photo(product, photo_id)
    if photo.alt_text == text:
        return False
    before = snapshot(product)
    photo.alt_text = text
    return _photos_changed(product, before, editor)


def missing_for_review(product: Product, draft: ListingDraft | None = None) -> list[str]:
    """What she must still give before sending it for review, in her words: from `draft`
    (what her form says now) when given, else from the listing as stored."""
    words = draft.words if draft else product
    terms = draft.terms if draft else product
    missing = []
    if not product.photos:
        missing.append(str(_l("at least one photo")))
    if not words.title:
        missing.append(str(_l("a title")))
    if terms.price is None:
        missing.append(str(_l("a price")))
    if words.category_id is None:
        missing.append(str(_l("a category")))
    if terms.made_to_order and not terms.days_to_make:
        missing.append(str(_l("the days needed to make it")))
    return missing


def submit(product: Product, *, editor: User) -> bool:
    """Draft or rejected → waiting for review; False when it is waiting already.

    Refuses (ListingError) an incomplete listing, or one that cannot be sent from where it is.
    """
    move = _check(product, "submit", editor.role.value)
    if move is None:
        return False
    missing = missing_for_review(product)
    if missing:
        listed = format_list(missing, locale=get_locale())
        raise ListingError(_l("Before sending it, add: %(missing)s.", missing=listed))
    before = snapshot(product)
    product.status = move.target
    product.submitted_at = utcnow()
    product.rejection_reason = None
    db.session.flush()
    _audit_on_behalf(editor, product, before)
    return True


def approve(product: Product, *, coordinator: User) -> bool:
    """Waiting → live (or sold out); False when it was approved already.

    Refuses (ListingError) while the artisan is not verified, and a decided listing.
    """
    move = _check(product, "approve", coordinator.role.value)
    if move is None:
        return False
    if not product.artisan.is_verified:
        raise ListingError(
            _l("Verify the artisan first: only a verified artisan's products go live.")
        )
    before = snapshot(product)
    product.status = move.target
    _follow_stock(product)
    product.reviewed_at = utcnow()
    product.reviewed_by = coordinator
    product.rejection_reason = None
    product.rejection_note = ""
    db.session.flush()
    _audit(coordinator, "listing.approved", product, before=before, after=snapshot(product))
    _notify(product, "listing_approved", title=product.title)
    return True


def reject(product: Product, *, coordinator: User, reason: RejectionReason, note: str) -> bool:
    """Waiting → needs changes, with a reason she understands; False when it was sent back
    already. "Other" needs a note (ListingError on "note")."""
    move = _check(product, "reject", coordinator.role.value)
    if move is None:
        return False
    if reason is RejectionReason.OTHER and not note.strip():
        raise ListingError(_l("Write what she should change."), "note")
    before = snapshot(product)
    product.status = move.target
    product.rejection_reason = reason
    product.rejection_note = note.strip()
    product.reviewed_at = utcnow()
    product.reviewed_by = coordinator
    db.session.flush()
    after = {**snapshot(product), "reason": reason.value, "note": product.rejection_note}
    _audit(coordinator, "listing.rejected", product, before=before, after=after)
    from artisan_market.notifications.services import in_every_language

    _notify(
        product,
        "listing_rejected",
        title=product.title,
        reason=in_every_language(REJECTION_TEXT[reason][0]),
        advice=in_every_language(REJECTION_TEXT[reason][1]),
        note=product.rejection_note,
    )
    return True


# The artisan's own switches (change_status); "delete" has a rule of its own.
SWITCHES = ("pause", "resume", "archive", "restore")


def change_status(product: Product, move: str, *, editor: User) -> bool:
    """pause, resume, archive, restore; False when the switch was made already."""
    if move not in SWITCHES:
        raise ValueError(move)
    before = snapshot(product)
    if not _go(product, move, editor.role.value):
        return False
    if move == "resume":
        _follow_stock(product)
    db.session.flush()
    _audit_on_behalf(editor, product, before)
    return True


def delete_draft(product: Product, *, editor: User) -> None:
    """Delete a draft, and its photos' files once that is committed."""
    _check(product, "delete", editor.role.value)
    before = snapshot(product)
    for photo in product.photos:
        discard_photo(photo.derivatives)
    db.session.delete(product)
    db.session.flush()
    _audit_on_behalf(editor, product, before, action="listing.deleted_on_behalf")


def _audit_on_behalf(editor: User, product: Product, before: dict, action: str = "") -> None:
    """Every change a coordinator makes to an artisan's listing is in the audit log."""
    if editor.role is Role.ARTISAN:
        return
    after = None if action else snapshot(product)
    _audit(editor, action or "listing.edited_on_behalf", product, before=before, after=after)


def _audit(actor: User, action: str, product: Product, *, before=None, after=None) -> None:
    from artisan_market.audit.services import record

    record(actor, action, "product", product.id, before=before, after=after)


def _notify(product: Product, kind: str, **params) -> None:
    from artisan_market.notifications.services import notify

    notify(product.artisan.user, kind, link=f"/studio/products/{product.id}", **params)
