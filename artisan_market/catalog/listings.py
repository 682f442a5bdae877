"""The rules of a listing's life, from draft to live and beyond. No requests, no commits.

    draft ──submit──▶ pending ──approve──▶ live ⇄ paused, live ⇄ sold out
                        │  ▲                 │
                     reject │ (edit words or photos of a live, paused or sold-out listing)
                        ▼  │
                     rejected ──submit──▶ pending
    any but pending ──archive──▶ archived ──restore──▶ draft;  draft ──delete──▶ gone

A rule that says no raises ListingError with a message for the person at the form.
Audit entries and notifications are written here, next to the change they describe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

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
from artisan_market.media.services import delete_photo, save_photo
from artisan_market.rules import RuleError
from artisan_market.timeutil import utcnow

S = ListingStatus

# Every move a person can make, by name: from which statuses, to which.
MOVES: dict[str, tuple[frozenset[ListingStatus], ListingStatus | None]] = {
    "submit": (frozenset({S.DRAFT, S.REJECTED}), S.PENDING),
    "approve": (frozenset({S.PENDING}), S.LIVE),
    "reject": (frozenset({S.PENDING}), S.REJECTED),
    "pause": (frozenset({S.LIVE, S.SOLD_OUT}), S.PAUSED),
    "resume": (frozenset({S.PAUSED}), S.LIVE),
    "archive": (frozenset({S.DRAFT, S.REJECTED, S.LIVE, S.PAUSED, S.SOLD_OUT}), S.ARCHIVED),
    "restore": (frozenset({S.ARCHIVED}), S.DRAFT),
    "delete": (frozenset({S.DRAFT}), None),
}
# Statuses a buyer could see, or that were seen: an edit of words or photos sends them back.
REVIEWED = frozenset({S.LIVE, S.PAUSED, S.SOLD_OUT})


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


def allowed_moves(product: Product) -> list[str]:
    return [name for name, (sources, _to) in MOVES.items() if product.status in sources]


def _check_move(product: Product, move: str) -> ListingStatus | None:
    sources, target = MOVES[move]
    if product.status not in sources:
        raise ListingError(_l("This cannot be done to the product now. Reload the page."))
    return target


def can_manage(user: User, product: Product) -> bool:
    """Her own listing; an admin; or the coordinator who verified her (on her behalf)."""
    if not user.is_authenticated:
        return False
    if user.role is Role.ARTISAN:
        return user.artisan_profile is not None and product.artisan_id == user.artisan_profile.id
    if user.role is Role.ADMIN:
        return True
    if user.role is Role.COORDINATOR:
        return product.artisan.verified_by_id == user.id
    return False


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


def _back_to_review(product: Product) -> None:
    if product.status in REVIEWED:
        product.status = S.PENDING
        product.submitted_at = utcnow()


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
    sent_back = words_changed and product.status in REVIEWED
    if sent_back:
        _back_to_review(product)
    else:
        _follow_stock(product)
    db.session.flush()
    _audit_on_behalf(editor, product, before)
    return sent_back


def _follow_stock(product: Product) -> None:
    """Live with nothing left is sold out; sold out with stock again is live."""
    available = product.made_to_order or product.stock > 0
    if product.status is S.LIVE and not available:
        product.status = S.SOLD_OUT
    elif product.status is S.SOLD_OUT and available:
        product.status = S.LIVE


def add_photos(product: Product, photos: Iterable[ProcessedPhoto], *, editor: User) -> bool:
    """Append photos (files written now); refuses more than MAX_PHOTOS in all.

    Returns True when the listing goes back to review. On a failed commit the caller
    removes the files with `discard_photo_files`.
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
    sent_back = product.status in REVIEWED
    _back_to_review(product)
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


def remove_photo(product: Product, photo_id: int, *, editor: User) -> tuple[bool, list[dict]]:
    """Remove one photo; returns (sent back to review, derivatives to delete after commit)."""
    photo = _photo(product, photo_id)
    before = snapshot(product)
    product.photos.remove(photo)
    return _photos_changed(product, before, editor), photo.derivatives


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


def missing_for_review(product: Product) -> list[str]:
    """What she must still give before sending it for review, in her words."""
    missing = []
    if not product.photos:
        missing.append(str(_l("at least one photo")))
    if not product.title:
        missing.append(str(_l("a title")))
    if product.price is None:
        missing.append(str(_l("a price")))
    if product.category_id is None:
        missing.append(str(_l("a category")))
    if product.made_to_order and not product.days_to_make:
        missing.append(str(_l("the days needed to make it")))
    return missing


def submit(product: Product, *, editor: User) -> None:
    """Draft or rejected → waiting for review. Refuses an incomplete listing."""
    target = _check_move(product, "submit")
    missing = missing_for_review(product)
    if missing:
        listed = format_list(missing, locale=get_locale())
        raise ListingError(_l("Before sending it, add: %(missing)s.", missing=listed))
    before = snapshot(product)
    product.status = target
    product.submitted_at = utcnow()
    product.rejection_reason = None
    db.session.flush()
    _audit_on_behalf(editor, product, before)


def approve(product: Product, *, coordinator: User) -> None:
    """Waiting → live (or sold out). Refuses while the artisan is not verified."""
    target = _check_move(product, "approve")
    if not product.artisan.is_verified:
        raise ListingError(
            _l("Verify the artisan first: only a verified artisan's products go live.")
        )
    before = snapshot(product)
    product.status = target
    _follow_stock(product)
    product.reviewed_at = utcnow()
    product.reviewed_by = coordinator
    product.rejection_reason = None
    product.rejection_note = ""
    db.session.flush()
    _audit(coordinator, "listing.approved", product, before=before, after=snapshot(product))
    _notify(product, "listing_approved", title=product.title)


def reject(product: Product, *, coordinator: User, reason: RejectionReason, note: str) -> None:
    """Waiting → needs changes, with a reason she understands. "Other" needs a note."""
    target = _check_move(product, "reject")
    if reason is RejectionReason.OTHER and not note.strip():
        raise ListingError(_l("Write what she should change."), "note")
    before = snapshot(product)
    product.status = target
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


def change_status(product: Product, move: str, *, editor: User) -> None:
    """pause, resume, archive, restore: the artisan's own switches."""
    if move not in {"pause", "resume", "archive", "restore"}:
        raise ValueError(move)
    target = _check_move(product, move)
    before = snapshot(product)
    product.status = target
    if move == "resume":
        _follow_stock(product)
    db.session.flush()
    _audit_on_behalf(editor, product, before)


def delete_draft(product: Product, *, editor: User) -> list[list[dict]]:
    """Delete a draft; returns the photo derivatives to remove after the commit."""
    _check_move(product, "delete")
    files = [photo.derivatives for photo in product.photos]
    before = snapshot(product)
    db.session.delete(product)
    db.session.flush()
    _audit_on_behalf(editor, product, before, action="listing.deleted_on_behalf")
    return files


def discard_photo_files(records: Iterable[list[dict]]) -> None:
    for record in records:
        delete_photo(record)


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
