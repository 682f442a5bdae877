"""Studio pages: thin views over catalog.listings. Someone else's listing is a 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from artisan_market import money, once
from artisan_market.accounts.models import ArtisanProfile, Role
from artisan_market.catalog import listings
from artisan_market.catalog.models import MAX_PHOTOS, Category, ListingStatus, Product
from artisan_market.extensions import db
from artisan_market.forms import EmptyForm, show_rule_error
from artisan_market.i18n import current_locale
from artisan_market.media.pipeline import PhotoRejected
from artisan_market.media.services import prepare_photo
from artisan_market.policy import load_or_404
from artisan_market.responses import htmx_target, render
from artisan_market.security import roles_required, staff_required
from artisan_market.studio import bp
from artisan_market.studio.forms import AltTextForm, ListingForm, PhotosForm
from artisan_market.transactions import attempt

STATUS_ORDER = [
    ListingStatus.REJECTED,
    ListingStatus.DRAFT,
    ListingStatus.PENDING,
    ListingStatus.LIVE,
    ListingStatus.SOLD_OUT,
    ListingStatus.PAUSED,
    ListingStatus.ARCHIVED,
]


def _own_profile() -> ArtisanProfile:
    profile = current_user.artisan_profile
    if profile is None:  # an artisan account always has one; be safe
        abort(404)
    return profile


def _managed_artisan(artisan_id: int) -> ArtisanProfile:
    """An artisan the coordinator may act for (policy "act_for_artisan"); else 404."""
    return load_or_404(ArtisanProfile, artisan_id, "act_for_artisan")


def _product_or_404(product_id: int) -> Product:
    """A listing the current person may manage (hers, or on her behalf); else 404."""
    return load_or_404(Product, product_id, "manage_listing")


def _products(profile: ArtisanProfile) -> list[Product]:
    return list(
        db.session.scalars(
            sa.select(Product)
            .where(Product.artisan_id == profile.id)
            .options(sa.orm.selectinload(Product.photos))
            .order_by(Product.updated_at.desc(), Product.id.desc())
        )
    )


def _studio(profile: ArtisanProfile):
    products = _products(profile)
    counts = {status: 0 for status in STATUS_ORDER}
    for product in products:
        counts[product.status] += 1
    products.sort(key=lambda p: STATUS_ORDER.index(p.status))
    return render_template("studio/index.html", profile=profile, products=products, counts=counts)


@bp.get("")
@roles_required(Role.ARTISAN)
def index():
    """Her listings with a status badge each, counts at the top, and the way to add one."""
    return _studio(_own_profile())


@bp.get("/artisans/<id:artisan_id>")
@staff_required
def artisan_studio(artisan_id: int):
    """A verified artisan's studio, for the coordinator who verified her (404 otherwise)."""
    return _studio(_managed_artisan(artisan_id))


def _prepare_uploads(form: PhotosForm) -> list | None:
    """Re-encode every chosen photo in memory; None (with the reason on the form) if one fails."""
    files = [f for f in (form.photos.data or []) if getattr(f, "filename", "")]
    if not files:
        form.photos.errors = [_("Choose at least one photo.")]
        return None
    if len(files) > MAX_PHOTOS:
        form.photos.errors = [_("Choose at most %(max)s photos.", max=MAX_PHOTOS)]
        return None
    prepared = []
    for upload in files:
        try:
            prepared.append(prepare_photo(upload.stream))
        except PhotoRejected as rejected:
            name = upload.filename.rsplit("/", 1)[-1][:80]
            form.photos.errors = [f"{name}: {rejected.message}"]
            return None
    return prepared


def _new(profile: ArtisanProfile, action: str):
    """Photos make a draft. The same form sent twice (a second tap while a slow upload goes
    on) makes one draft: the second is sent to the first one's page."""
    form = PhotosForm()
    if form.validate_on_submit():
        prepared = _prepare_uploads(form)
        if prepared is not None:
            key = once.sent_key()
            earlier = once.claim(key)
            if earlier is not None:
                return redirect(earlier or url_for("studio.index"), 303)
            editor = current_user._get_current_object()
            created_by = editor if editor.role is not Role.ARTISAN else None
            product = listings.new_draft(profile, created_by=created_by)
            listings.add_photos(product, prepared, editor=editor)
            page = url_for("studio.edit", product_id=product.id)
            once.record(key, page)
            flash(_("Photos saved. Now tell buyers about the piece."), "success")
            return redirect(page, 303)
    status = 422 if request.method == "POST" else 200
    return render_template("studio/new.html", form=form, profile=profile, action=action), status


@bp.route("/products/new", methods=["GET", "POST"])
@roles_required(Role.ARTISAN)
def new():
    """Photo first: the photos make a draft, then she fills in the words on the next page."""
    return _new(_own_profile(), url_for("studio.new"))


@bp.route("/artisans/<id:artisan_id>/products/new", methods=["GET", "POST"])
@staff_required
def new_on_behalf(artisan_id: int):
    """A coordinator adds a listing for an artisan she verified (404 otherwise)."""
    profile = _managed_artisan(artisan_id)
    return _new(profile, url_for("studio.new_on_behalf", artisan_id=artisan_id))


def _listing_form(product: Product) -> ListingForm:
    categories = db.session.scalars(sa.select(Category).order_by(Category.position)).all()
    if request.method == "POST":
        form = ListingForm()
    else:
        form = ListingForm(
            title=product.title,
            availability="order" if product.made_to_order else "ready",
            category=str(product.category_id or ""),
            description=product.description,
            materials=product.materials,
            size=product.size,
        )
        form.price.data = money.amount_text(product.price, product.currency)
        form.stock.process_data(product.stock)
        form.days_to_make.process_data(product.days_to_make)
        form.weight.process_data(product.weight_grams)
    form.set_categories(categories, current_locale())
    return form


def _edit_page(product: Product, form: ListingForm, status: int = 200):
    return render(
        "studio/edit.html",
        status=status,
        product=product,
        form=form,
        photos_form=PhotosForm(),
        alt_form=AltTextForm(),
        moves=listings.allowed_moves(product, current_user),
        missing=listings.missing_for_review(product, _form_terms(form, product)),
        max_photos=MAX_PHOTOS,
    )


def _form_terms(form: ListingForm, product: Product) -> listings.ListingDraft:
    """What the form says now (what she typed, or what is stored on a first look)."""
    made_to_order = form.availability.data == "order"
    return listings.ListingDraft(
        words=listings.ListingWords(
            title=form.title.data or "",
            description=form.description.data or "",
            materials=form.materials.data or "",
            category_id=int(form.category.data) if form.category.data else None,
            size=form.size.data or "",
            weight_grams=form.weight.number,
        ),
        terms=listings.ListingTerms(
            price=form.price.piastres if request.method == "POST" else product.price,
            made_to_order=made_to_order,
            stock=0 if made_to_order else (form.stock.number or 0),
            days_to_make=form.days_to_make.number if made_to_order else None,
        ),
    )


@bp.route("/products/<id:product_id>", methods=["GET", "POST"])
@login_required
def edit(product_id: int):
    """Edit a listing; "send" also sends it for review. Words or photos of a live listing
    send it back to review; price and stock do not. 404 for someone else's listing; the form
    again with the reason (422), nothing saved, when a rule refuses."""
    product = _product_or_404(product_id)
    form = _listing_form(product)
    if request.method == "GET":
        return _edit_page(product, form)
    if not form.validate_on_submit():
        return _edit_page(product, form, 422)
    editor = current_user._get_current_object()
    draft = _form_terms(form, product)
    try:
        with attempt():
            sent_back = listings.update(product, draft.words, draft.terms, editor=editor)
            if request.form.get("action") == "send":
                listings.submit(product, editor=editor)
    except listings.ListingError as error:
        show_rule_error(form, error)
        return _edit_page(product, form, 422)
    if request.form.get("action") == "send":
        message = _("Sent. A coordinator will look at it soon.")
    elif sent_back:
        message = _("Saved. Because the words changed, a coordinator will look at it again.")
    else:
        message = _("Saved.")
    flash(message, "success")
    return redirect(url_for("studio.edit", product_id=product.id), 303)


@bp.post("/products/<id:product_id>/photos")
@login_required
def add_photos(product_id: int):
    """More photos for a listing (8 in all at most); the reason with the photos again (422)
    when one is refused. The same form sent twice adds its photos once."""
    product = _product_or_404(product_id)
    form = PhotosForm()
    if form.validate_on_submit():
        prepared = _prepare_uploads(form)
        if prepared is not None:
            key = once.sent_key()
            if once.claim(key) is not None:  # sent before: those photos are there already
                return _photos_response(product)
            once.record(key, url_for("studio.edit", product_id=product.id))
            try:
                with attempt():
                    sent_back = listings.add_photos(
                        product, prepared, editor=current_user._get_current_object()
                    )
            except listings.ListingError as error:
                form.photos.errors = [str(error.message)]
            else:
                _photos_flash(sent_back)
                return _photos_response(product)
    return _photos_response(product, photos_form=form, status=422)


PHOTO_ACTIONS = {"delete", "earlier", "later", "cover", "alt"}


@bp.post("/products/<id:product_id>/photos/<id:photo_id>/<action>")
@login_required
def photo_action(product_id: int, photo_id: int, action: str):
    """Delete, move, make cover, or describe one photo. Unknown photo or action: 404."""
    product = _product_or_404(product_id)
    if action not in PHOTO_ACTIONS:
        abort(404)
    editor = current_user._get_current_object()
    try:
        if action == "delete":
            sent_back = listings.remove_photo(product, photo_id, editor=editor)
        elif action in ("earlier", "later"):
            offset = -1 if action == "earlier" else 1
            sent_back = listings.move_photo(product, photo_id, offset, editor=editor)
        elif action == "cover":
            sent_back = listings.make_cover(product, photo_id, editor=editor)
        else:
            form = AltTextForm()
            if not form.validate_on_submit():
                return _photos_response(product, alt_form=form, status=422)
            sent_back = listings.set_alt_text(
                product, photo_id, form.alt_text.data or "", editor=editor
            )
    except LookupError:
        abort(404)
    _photos_flash(sent_back)
    return _photos_response(product)


def _photos_flash(sent_back: bool) -> None:
    if sent_back:
        flash(_("Photos changed: a coordinator will look at the product again."), "info")


def _photos_response(product: Product, *, photos_form=None, alt_form=None, status: int = 200):
    """The photo list for htmx (swapped in place); else the edit page again with the errors
    (422), or back to it (303)."""
    if htmx_target() != "photos" and status == 200:
        return redirect(url_for("studio.edit", product_id=product.id) + "#photos", 303)
    form = _listing_form(product)
    return render(
        "studio/edit.html",
        fragments={"photos": "studio/_photos.html"},
        status=status,
        product=product,
        form=form,
        photos_form=photos_form or PhotosForm(),
        alt_form=alt_form or AltTextForm(),
        moves=listings.allowed_moves(product, current_user),
        missing=listings.missing_for_review(product, _form_terms(form, product)),
        max_photos=MAX_PHOTOS,
    )


MOVE_MESSAGES = {
    "pause": _l("Paused: buyers do not see it until you resume it."),
    "resume": _l("It is back in the shop."),
    "archive": _l("Archived."),
    "restore": _l("Restored as a draft."),
}


@bp.post("/products/<id:product_id>/status")
@login_required
def change_status(product_id: int):
    """pause, resume, archive, restore. An unknown move is a 400; a refused one is flashed."""
    product = _product_or_404(product_id)
    move = request.form.get("move", "")
    if move not in MOVE_MESSAGES:
        abort(400)
    try:
        with attempt():
            listings.change_status(product, move, editor=current_user._get_current_object())
    except listings.ListingError as error:
        flash(str(error.message), "error")
    else:
        flash(str(MOVE_MESSAGES[move]), "success")
    return redirect(url_for("studio.edit", product_id=product.id), 303)


@bp.route("/products/<id:product_id>/delete", methods=["GET", "POST"])
@login_required
def delete(product_id: int):
    """Delete a draft, after she confirms on a page of its own (with JavaScript or without).

    A listing that is no longer a draft gets the reason flashed on its page.
    """
    product = _product_or_404(product_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render("studio/delete.html", status=status, product=product, form=form)
    editor = current_user._get_current_object()
    try:
        with attempt():
            listings.delete_draft(product, editor=editor)
    except listings.ListingError as error:
        flash(str(error.message), "error")
        return redirect(url_for("studio.edit", product_id=product.id), 303)
    flash(_("Draft deleted."), "info")
    if editor.role is Role.ARTISAN:
        return redirect(url_for("studio.index"), 303)
    return redirect(url_for("studio.artisan_studio", artisan_id=product.artisan_id), 303)
