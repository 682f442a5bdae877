"""Review pages for coordinators and admins. Decisions work inline with htmx and as plain
forms without JavaScript; a listing never sent for review, or an unknown artisan, is a 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from artisan_market import paging
from artisan_market.accounts import services as accounts
from artisan_market.accounts.models import ArtisanProfile, Organisation, VerificationStatus
from artisan_market.catalog import listings
from artisan_market.catalog.models import ListingStatus, Product, RejectionReason
from artisan_market.egypt import GOVERNORATES
from artisan_market.extensions import db
from artisan_market.i18n import current_locale
from artisan_market.policy import load_or_404
from artisan_market.responses import htmx_target, render
from artisan_market.review import bp
from artisan_market.review.forms import DeclineForm, RejectForm, VerifyForm
from artisan_market.security import staff_required
from artisan_market.transactions import attempt
from artisan_market.urls import known_args

PAGE_SIZE = 20
# The query parameters a queue knows; a decision goes back to the queue with these only.
QUEUE_ARGS = ("governorate", "page")


def _governorate_filter() -> str | None:
    code = request.args.get("governorate") or None
    return code if code in GOVERNORATES else None


def _queue_args() -> dict[str, str]:
    args = known_args(QUEUE_ARGS)
    if "governorate" in args and args["governorate"] not in GOVERNORATES:
        del args["governorate"]
    return args


def _decided(queue: str, card: str, message: str, error: str | None, **card_context):
    """After a decision: htmx asking for this card gets it back (decided, or with the error,
    and the queue's new count out of band); a plain form goes back to its queue, its filter
    and page kept, with the message or the error flashed."""
    if htmx_target() != card:
        flash(error or message, "error" if error else "success")
        return redirect(url_for(f"review.{queue}_queue", **_queue_args()), 303)
    return render(
        f"review/{queue}.html",
        fragments={card: f"review/_{queue.removesuffix('s')}.html"},
        status=422 if error else 200,
        error=error,
        queue_args=_queue_args(),
        **card_context,
    )


# --- Listings ------------------------------------------------------------------------------


def _pending_listings(governorate: str | None) -> sa.Select:
    query = sa.select(Product).join(Product.artisan).where(Product.status == ListingStatus.PENDING)
    if governorate:
        query = query.where(ArtisanProfile.governorate == governorate)
    return query


def _listings_waiting() -> int:
    """How many wait in the queue she is looking at (its governorate filter)."""
    query = _pending_listings(_governorate_filter())
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


@bp.get("")
@staff_required
def listings_queue():
    """Listings waiting for review, oldest first, optionally from one governorate."""
    governorate = _governorate_filter()
    query = (
        _pending_listings(governorate)
        .options(
            sa.orm.contains_eager(Product.artisan).joinedload(ArtisanProfile.user),
            sa.orm.selectinload(Product.photos),
            sa.orm.joinedload(Product.category),
        )
        .order_by(Product.submitted_at.asc(), Product.id.asc())
    )
    page = paging.paginate(query, PAGE_SIZE, args=_queue_args(), count=True)
    return render_template(
        "review/listings.html",
        page=page,
        governorate=governorate,
        reject_form=RejectForm(),
        queue_args=page.args,
        locale=current_locale(),
    )


def _listing_decided(product: Product, *, message: str, error: str | None = None, form=None):
    return _decided(
        "listings",
        f"listing-{product.id}",
        message,
        error,
        product=product,
        reject_form=form or RejectForm(),
        waiting=_listings_waiting(),
        locale=current_locale(),
    )


@bp.post("/products/<id:product_id>/approve")
@staff_required
def approve(product_id: int):
    """Approve a waiting listing; a second tap changes nothing. Refuses a listing decided
    otherwise, or of an artisan not verified yet (422 for htmx, flashed otherwise)."""
    product = load_or_404(Product, product_id, "review_listing")
    try:
        with attempt():
            listings.approve(product, coordinator=current_user._get_current_object())
    except listings.ListingError as error:
        return _listing_decided(product, message="", error=str(error.message))
    return _listing_decided(
        product, message=_("Approved: “%(title)s” is live.", title=product.title)
    )


@bp.post("/products/<id:product_id>/reject")
@staff_required
def reject(product_id: int):
    """Send a waiting listing back with a reason from the list ("other" needs a note)."""
    product = load_or_404(Product, product_id, "review_listing")
    form = RejectForm()
    if not form.validate_on_submit():
        return _listing_decided(product, message="", error=_("Choose a reason."), form=form)
    try:
        with attempt():
            listings.reject(
                product,
                coordinator=current_user._get_current_object(),
                reason=RejectionReason(form.reason.data),
                note=form.note.data or "",
            )
    except listings.ListingError as error:
        return _listing_decided(product, message="", error=str(error.message), form=form)
    return _listing_decided(product, message=_("Sent back to her with your reason."))


# --- Artisans ------------------------------------------------------------------------------


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name_en)))


def _verify_form(organisations: list[Organisation], profile: ArtisanProfile) -> VerifyForm:
    form = VerifyForm()
    form.set_organisations(organisations, current_locale(), governorate=profile.governorate)
    return form


def _artisans_waiting_query(governorate: str | None) -> sa.Select:
    query = (
        sa.select(ArtisanProfile)
        .join(ArtisanProfile.user)
        .where(ArtisanProfile.verification == VerificationStatus.PENDING)
    )
    if governorate:
        query = query.where(ArtisanProfile.governorate == governorate)
    return query


def _artisans_waiting() -> int:
    query = _artisans_waiting_query(_governorate_filter())
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _artisan_context(organisations: list[Organisation]) -> dict:
    return {
        "verify_form_for": lambda profile: _verify_form(organisations, profile),
        "decline_form": DeclineForm(),
        "has_organisations": bool(organisations),
    }


@bp.get("/artisans")
@staff_required
def artisans_queue():
    """Artisans waiting for verification (oldest first), with phone and WhatsApp link."""
    governorate = _governorate_filter()
    query = (
        _artisans_waiting_query(governorate)
        .options(sa.orm.contains_eager(ArtisanProfile.user))
        .order_by(ArtisanProfile.created_at.asc(), ArtisanProfile.id.asc())
    )
    page = paging.paginate(query, PAGE_SIZE, args=_queue_args(), count=True)
    return render_template(
        "review/artisans.html",
        page=page,
        governorate=governorate,
        queue_args=page.args,
        **_artisan_context(_organisations()),
    )


def _artisan_decided(profile: ArtisanProfile, *, message: str, error: str | None = None):
    return _decided(
        "artisans",
        f"artisan-{profile.id}",
        message,
        error,
        profile=profile,
        waiting=_artisans_waiting(),
        **_artisan_context(_organisations()),
    )


@bp.post("/artisans/<id:artisan_id>/verify")
@staff_required
def verify(artisan_id: int):
    """Verify her, recording which coalition member vouches for her."""
    profile = load_or_404(ArtisanProfile, artisan_id, "verify_artisan")
    form = _verify_form(_organisations(), profile)
    if not form.validate_on_submit():
        return _artisan_decided(
            profile, message="", error=_("Choose the organisation that vouches for her.")
        )
    try:
        with attempt():
            accounts.verify_artisan(
                profile,
                coordinator=current_user._get_current_object(),
                organisation=db.session.get(Organisation, int(form.organisation.data)),
            )
    except accounts.AccountError as error:
        return _artisan_decided(profile, message="", error=str(error.message))
    return _artisan_decided(profile, message=_("%(name)s is verified.", name=profile.display_name))


@bp.post("/artisans/<id:artisan_id>/decline")
@staff_required
def decline(artisan_id: int):
    """Decline a waiting artisan with a reason she will read."""
    profile = load_or_404(ArtisanProfile, artisan_id, "verify_artisan")
    form = DeclineForm()
    if not form.validate_on_submit():
        return _artisan_decided(
            profile, message="", error=_("Write the reason, so she knows what to do.")
        )
    try:
        with attempt():
            accounts.decline_artisan(
                profile, coordinator=current_user._get_current_object(), reason=form.reason.data
            )
    except accounts.AccountError as error:
        return _artisan_decided(profile, message="", error=str(error.message))
    return _artisan_decided(profile, message=_("Declined; she will see your reason."))
