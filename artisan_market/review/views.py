"""Review pages for coordinators and admins. Decisions work inline with htmx and as plain
forms without JavaScript; an unknown listing or artisan is a 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from artisan_market.accounts import services as accounts
from artisan_market.accounts.models import (
    ArtisanProfile,
    Organisation,
    Role,
    VerificationStatus,
)
from artisan_market.accounts.phones import display_phone, whatsapp_url
from artisan_market.catalog import listings
from artisan_market.catalog.models import ListingStatus, Product, RejectionReason
from artisan_market.egypt import GOVERNORATES
from artisan_market.extensions import db, htmx
from artisan_market.i18n import current_locale
from artisan_market.review import bp
from artisan_market.review.forms import DeclineForm, RejectForm, VerifyForm
from artisan_market.security import roles_required

STAFF = (Role.COORDINATOR, Role.ADMIN)
PAGE_SIZE = 20


def _governorate_filter() -> str | None:
    code = request.args.get("governorate") or None
    return code if code in GOVERNORATES else None


# --- Listings ------------------------------------------------------------------------------


@bp.get("")
@roles_required(*STAFF)
def listings_queue():
    """Listings waiting for review, oldest first, optionally from one governorate."""
    governorate = _governorate_filter()
    query = (
        sa.select(Product)
        .join(Product.artisan)
        .where(Product.status == ListingStatus.PENDING)
        .options(
            sa.orm.contains_eager(Product.artisan).joinedload(ArtisanProfile.user),
            sa.orm.selectinload(Product.photos),
            sa.orm.joinedload(Product.category),
        )
        .order_by(Product.submitted_at.asc(), Product.id.asc())
    )
    if governorate:
        query = query.where(ArtisanProfile.governorate == governorate)
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "review/listings.html",
        page=page,
        governorate=governorate,
        reject_form=RejectForm(),
        locale=current_locale(),
    )


def _pending_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or product.status is ListingStatus.DRAFT:
        abort(404)
    return product


def _decided(card_id: str, queue: str, error: str | None, status: int, render):
    """After a decision: htmx asking for this card gets the card (with the error, if any);
    a plain form goes back to its queue (303), the error flashed."""
    if htmx and htmx.target == card_id:
        return render(), status, {"Vary": "HX-Request"}
    if error:
        flash(error, "error")
    return redirect(url_for(queue, **request.args), 303)


def _listing_card(product: Product, *, form=None, error: str | None = None, status: int = 200):
    return _decided(
        f"listing-{product.id}",
        "review.listings_queue",
        error,
        status,
        lambda: render_template(
            "review/_listing.html",
            product=product,
            reject_form=form or RejectForm(),
            error=error,
            locale=current_locale(),
        ),
    )


@bp.post("/products/<id:product_id>/approve")
@roles_required(*STAFF)
def approve(product_id: int):
    """Approve a waiting listing. Refuses one already decided or of an unverified artisan."""
    product = _pending_product(product_id)
    try:
        listings.approve(product, coordinator=current_user._get_current_object())
    except listings.ListingError as error:
        db.session.rollback()
        return _listing_card(product, error=str(error.message), status=422)
    db.session.commit()
    if not htmx:
        flash(_("Approved: “%(title)s” is live.", title=product.title), "success")
    return _listing_card(product)


@bp.post("/products/<id:product_id>/reject")
@roles_required(*STAFF)
def reject(product_id: int):
    """Send a waiting listing back with a reason from the list ("other" needs a note)."""
    product = _pending_product(product_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _listing_card(product, form=form, error=_("Choose a reason."), status=422)
    try:
        listings.reject(
            product,
            coordinator=current_user._get_current_object(),
            reason=RejectionReason(form.reason.data),
            note=form.note.data or "",
        )
    except listings.ListingError as error:
        db.session.rollback()
        return _listing_card(product, form=form, error=str(error.message), status=422)
    db.session.commit()
    if not htmx:
        flash(_("Sent back to her with your reason."), "success")
    return _listing_card(product)


# --- Artisans ------------------------------------------------------------------------------


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name_en)))


def _verify_form(organisations) -> VerifyForm:
    form = VerifyForm()
    form.set_organisations(organisations, current_locale())
    return form


@bp.get("/artisans")
@roles_required(*STAFF)
def artisans_queue():
    """Artisans waiting for verification (oldest first), with phone and WhatsApp link."""
    governorate = _governorate_filter()
    query = (
        sa.select(ArtisanProfile)
        .join(ArtisanProfile.user)
        .where(ArtisanProfile.verification == VerificationStatus.PENDING)
        .options(sa.orm.contains_eager(ArtisanProfile.user))
        .order_by(ArtisanProfile.created_at.asc(), ArtisanProfile.id.asc())
    )
    if governorate:
        query = query.where(ArtisanProfile.governorate == governorate)
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    organisations = _organisations()
    return render_template(
        "review/artisans.html",
        page=page,
        governorate=governorate,
        verify_form=_verify_form(organisations),
        decline_form=DeclineForm(),
        has_organisations=bool(organisations),
        display_phone=display_phone,
        whatsapp_url=whatsapp_url,
    )


def _artisan_or_404(artisan_id: int) -> ArtisanProfile:
    profile = db.session.get(ArtisanProfile, artisan_id)
    if profile is None:
        abort(404)
    return profile


def _artisan_card(profile: ArtisanProfile, *, error: str | None = None, status: int = 200):
    def render():
        organisations = _organisations()
        return render_template(
            "review/_artisan.html",
            profile=profile,
            error=error,
            verify_form=_verify_form(organisations),
            decline_form=DeclineForm(),
            has_organisations=bool(organisations),
            display_phone=display_phone,
            whatsapp_url=whatsapp_url,
        )

    return _decided(f"artisan-{profile.id}", "review.artisans_queue", error, status, render)


@bp.post("/artisans/<id:artisan_id>/verify")
@roles_required(*STAFF)
def verify(artisan_id: int):
    """Verify her, recording which coalition member vouches for her."""
    profile = _artisan_or_404(artisan_id)
    form = _verify_form(_organisations())
    if not form.validate_on_submit():
        return _artisan_card(
            profile, error=_("Choose the organisation that vouches for her."), status=422
        )
    try:
        accounts.verify_artisan(
            profile,
            coordinator=current_user._get_current_object(),
            organisation=db.session.get(Organisation, int(form.organisation.data)),
        )
    except accounts.AccountError as error:
        db.session.rollback()
        return _artisan_card(profile, error=str(error.message), status=422)
    db.session.commit()
    if not htmx:
        flash(_("%(name)s is verified.", name=profile.display_name), "success")
    return _artisan_card(profile)


@bp.post("/artisans/<id:artisan_id>/decline")
@roles_required(*STAFF)
def decline(artisan_id: int):
    """Decline a waiting artisan with a reason she will read."""
    profile = _artisan_or_404(artisan_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _artisan_card(
            profile, error=_("Write the reason, so she knows what to do."), status=422
        )
    try:
        accounts.decline_artisan(
            profile, coordinator=current_user._get_current_object(), reason=form.reason.data
        )
    except accounts.AccountError as error:
        db.session.rollback()
        return _artisan_card(profile, error=str(error.message), status=422)
    db.session.commit()
    if not htmx:
        flash(_("Declined; she will see your reason."), "info")
    return _artisan_card(profile)
