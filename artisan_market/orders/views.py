"""Cart, checkout, tracking, and each artisan's part: thin views over orders.rules.

A tracking link's token is the only key to a guest's order; an order part is seen only by
its artisan, the coordinators of her governorate and admins (policy), anyone else gets 404.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from artisan_market import once
from artisan_market.accounts.models import Role
from artisan_market.catalog.models import ListingStatus, Product
from artisan_market.database import read_only
from artisan_market.egypt import GOVERNORATES
from artisan_market.extensions import db
from artisan_market.forms import EmptyForm, show_rule_error
from artisan_market.i18n import current_locale
from artisan_market.money import format_money
from artisan_market.orders import bp, cart, rules
from artisan_market.orders.forms import (
    AcceptForm,
    AddToCartForm,
    CancelForm,
    CheckoutForm,
    QuantityForm,
    ShipForm,
    ShippingForm,
)
from artisan_market.orders.models import (
    DEFAULT_SHIPPING,
    CancelReason,
    Order,
    OrderItem,
    OrderPart,
    OrderStatus,
    PartStatus,
)
from artisan_market.orders.moves import PART_STATES
from artisan_market.paging import paginate
from artisan_market.payments import providers, services
from artisan_market.payments.providers import ProviderError
from artisan_market.policy import can, coordinated_governorates, load_or_404
from artisan_market.responses import render
from artisan_market.security import roles_required, staff_required
from artisan_market.transactions import attempt

_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


# --- cart ------------------------------------------------------------------------------------


@bp.get("/cart")
def show_cart():
    """Her pieces, grouped by artisan, with what changed since she added them."""
    return render(
        "orders/cart.html",
        cart=cart.load(),
        money=format_money,
    )


@bp.post("/cart/add/<id:product_id>")
def add_to_cart(product_id: int):
    """Add from a product card or page: htmx gets the header's count back; without
    JavaScript, a redirect to the cart."""
    with read_only():  # the cart is in the cookie: no write lock for this POST (SQLite)
        product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    form = AddToCartForm()
    if product.status is not ListingStatus.LIVE:
        return _cart_refusal(product, _("This piece is not for sale right now."))
    if not form.validate():
        return _cart_refusal(product, form.quantity.errors[0] if form.quantity.errors else "")
    try:
        cart.add(product, form.quantity.number or 1)
    except cart.CartFull:
        return _cart_refusal(product, _("Your cart is full: place this order first."))
    if request.headers.get("HX-Request"):
        return render("orders/_added.html", product=product)
    flash(_("Added to your cart."), "success")
    return redirect(url_for("orders.show_cart"), 303)


def _cart_refusal(product: Product, message: str):
    if request.headers.get("HX-Request"):
        return render("orders/_added.html", product=product, refusal=message, status=422)
    flash(message, "error")
    return redirect(url_for("catalog.product", product_id=product.id), 303)


@bp.post("/cart/<id:product_id>")
def change_quantity(product_id: int):
    form = QuantityForm()
    if not form.validate():
        flash(form.quantity.errors[0], "error")
    else:
        cart.set_quantity(product_id, form.quantity.number)
    return redirect(url_for("orders.show_cart"), 303)


@bp.post("/cart/<id:product_id>/remove")
def remove_from_cart(product_id: int):
    if EmptyForm().validate():
        cart.remove(product_id)
    return redirect(url_for("orders.show_cart"), 303)


# --- checkout --------------------------------------------------------------------------------


def _payment_choices() -> list[tuple[str, str]]:
    return [(name, provider.label()) for name, provider in providers.offered().items()]


def _checkout_form() -> CheckoutForm:
    form = CheckoutForm()
    form.set_choices(_payment_choices())
    if request.method == "GET" and current_user.is_authenticated:
        form.name.data = form.name.data or current_user.name
        if current_user.phone and not form.phone.data:
            form.phone.data = current_user.phone
        form.email.data = form.email.data or current_user.email
    return form


def _wanted(loaded: cart.Cart) -> list[rules.Wanted]:
    return [rules.Wanted(line.product_id, line.quantity, line.seen_price) for line in loaded.lines]


def _delivery(form: CheckoutForm) -> rules.Delivery:
    return rules.Delivery(
        name=form.name.data,
        phone=form.phone.e164,
        email=form.email.data or None,
        governorate=form.governorate.data,
        city=form.city.data,
        address=form.address.data,
        notes=form.notes.data or "",
    )


@bp.route("/checkout", methods=["GET", "POST"])
def checkout():
    """Where to send it and how to pay; the order is placed in one transaction. The same
    form sent twice places one order (its `once` key)."""
    form = _checkout_form()
    # The fee for her governorate once chosen (htmx asks again when she picks one: ?governorate=),
    # else the fee for all.
    chosen = form.governorate.data if request.method == "POST" else request.args.get("governorate")
    governorate = chosen if chosen in GOVERNORATES else DEFAULT_SHIPPING
    loaded = cart.load(shipping_fee=rules.shipping_fee(governorate))
    if not loaded.lines and request.method == "GET":
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("orders.show_cart"), 303)
    unavailable = []
    if request.method == "POST" and form.validate():
        key = once.sent_key()
        earlier = once.claim(key)
        if earlier is not None:
            return redirect(earlier or url_for("orders.show_cart"), 303)
        provider = providers.offered().get(form.payment.data)
        try:
            if provider is None:
                raise rules.OrderError(_("Choose how to pay."), field="payment")
            if any(line.problem is cart.Problem.PRICE for line in loaded.lines):
                cart.accept_prices({line.product_id: line.price for line in loaded.lines})
                raise rules.OrderError(_("A price changed. Check the new total and send again."))
            with attempt():
                order = rules.place(
                    _wanted(loaded),
                    _delivery(form),
                    method=provider.name,
                    online=provider.online,
                    buyer=current_user if current_user.is_authenticated else None,
                    locale=current_locale(),
                )
        except rules.Unavailable as refused:
            unavailable = refused.problems
            show_rule_error(form, refused)
        except rules.OrderError as refused:
            show_rule_error(form, refused)
        else:
            cart.clear()
            page = url_for("orders.pay" if provider.online else "orders.track", token=order.token)
            once.record(key, page)
            return redirect(page, 303)
    status = 422 if request.method == "POST" else 200
    return render(
        "orders/checkout.html",
        fragments={"summary": "orders/_summary_fragment.html"},
        form=form,
        cart=loaded,
        unavailable=unavailable,
        money=format_money,
        typing_form=True,
        status=status,
    )


# --- following an order ----------------------------------------------------------------------


def _order_by_token(token: str) -> Order:
    if not _TOKEN.fullmatch(token):
        abort(404)
    order = db.session.scalars(
        sa.select(Order)
        .where(Order.token == token)
        .options(
            selectinload(Order.parts).joinedload(OrderPart.artisan),
            selectinload(Order.parts).selectinload(OrderPart.items),
        )
    ).first()
    if order is None:
        abort(404)
    return order


@bp.get("/orders/<token>")
def track(token: str):
    """The order's page for whoever has its link: each artisan's part and where it stands.
    While a card payment is being confirmed, htmx asks again every few seconds."""
    order = _order_by_token(token)
    payment = services.payment_of(order)
    response = render(
        "orders/track.html",
        fragments={"payment-status": "orders/_payment_status.html"},
        order=order,
        payment=payment,
        money=format_money,
    )
    polled = request.headers.get("HX-Target") == "payment-status"
    if polled and order.status is not OrderStatus.AWAITING_PAYMENT:
        response.headers["HX-Refresh"] = "true"  # the payment spoke: show the whole page
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


@bp.get("/orders/<token>/receipt")
def receipt(token: str):
    order = _order_by_token(token)
    response = render(
        "orders/receipt.html", order=order, payment=services.payment_of(order), money=format_money
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/orders/<token>/pay")
def pay(token: str):
    """To the provider's payment page (opened once; the same page again on a second visit)."""
    order = _order_by_token(token)
    track_url = url_for("orders.track", token=order.token, _external=True)
    try:
        target = services.pay_url(order, return_url=track_url, cancel_url=track_url)
    except ProviderError as error:
        flash(str(error), "error")
        return redirect(url_for("orders.track", token=order.token), 303)
    return redirect(target or url_for("orders.track", token=order.token), 303)


@bp.get("/account/orders")
@login_required
def history():
    """Her orders, newest first."""
    query = (
        sa.select(Order)
        .where(Order.buyer_id == current_user.id)
        .options(selectinload(Order.parts).joinedload(OrderPart.artisan))
        .order_by(Order.id.desc())
    )
    page = paginate(query, 20)
    return render("orders/history.html", page=page, money=format_money)


# --- fulfilment ---------------------------------------------------------------------------

# Parts she was told of: not those still waiting for a card payment, nor those dropped when
# the payment never came (cancelled without a reason: nobody cancelled them).
_HER_BUSINESS = sa.and_(
    OrderPart.status != PartStatus.WAITING,
    sa.or_(OrderPart.status != PartStatus.CANCELLED, OrderPart.cancel_reason.is_not(None)),
)


def _parts_page(query: sa.Select, title: str):
    query = query.options(
        joinedload(OrderPart.order), joinedload(OrderPart.artisan), selectinload(OrderPart.items)
    ).order_by(OrderPart.id.desc())
    page = paginate(query, 20)
    return render("orders/parts.html", page=page, title=title, money=format_money)


@bp.get("/studio/orders")
@roles_required(Role.ARTISAN)
def studio_orders():
    """Her parcels to prepare, newest first."""
    profile = current_user.artisan_profile
    query = sa.select(OrderPart).where(OrderPart.artisan_id == profile.id, _HER_BUSINESS)
    return _parts_page(query, _("My orders"))


@bp.get("/review/orders")
@staff_required
def staff_orders():
    """Parcels of the artisans a coordinator follows (every parcel, for an admin)."""
    query = sa.select(OrderPart).join(OrderPart.artisan).where(_HER_BUSINESS)
    if current_user.role is Role.COORDINATOR:
        from artisan_market.accounts.models import ArtisanProfile

        query = query.where(ArtisanProfile.governorate.in_(coordinated_governorates(current_user)))
    return _parts_page(query, _("Orders"))


def _part_or_404(part_id: int) -> OrderPart:
    return load_or_404(
        OrderPart,
        part_id,
        "see_order_part",
        options=[
            joinedload(OrderPart.order),
            selectinload(OrderPart.items).joinedload(OrderItem.product),
        ],
    )


def _part_page(part: OrderPart, status: int = 200, refusal: str = "", **forms):
    actor = current_user.role.value
    may_fulfil = can(current_user, "fulfil_order_part", part)
    moves = PART_STATES.allowed(part.status, actor) if may_fulfil else []
    context = {
        "accept_form": AcceptForm(formdata=None),
        "ship_form": ShipForm(formdata=None),
        "cancel_form": CancelForm(formdata=None),
        "cash_form": EmptyForm(formdata=None),
        **forms,
    }
    return render(
        "orders/part.html",
        part=part,
        order=part.order,
        moves=moves,
        needs_date=rules.needs_date(part),
        refusal=refusal,
        may_collect=can(current_user, "collect_cash", part) and part.order.payment_method == "cod",
        money=format_money,
        status=status,
        **context,
    )


@bp.get("/parts/<id:part_id>")
@login_required
def part(part_id: int):
    """One artisan's parcel: the pieces, where to send them, and what to do next."""
    return _part_page(_part_or_404(part_id))


def _fulfil(part_id: int, form_name: str, form, action):
    """Check the form, make the move, say what happened; a refusal shows the page again."""
    part = _part_or_404(part_id)
    if not can(current_user, "fulfil_order_part", part):
        abort(404)
    if form.validate():
        try:
            with attempt():
                done = action(part, form)
        except rules.OrderError as refused:
            show_rule_error(form, refused)
        else:
            flash(done, "success")
            return redirect(url_for("orders.part", part_id=part.id), 303)
    # A move refused as a whole ("not now") is said at the top: its form may not be shown.
    refusal = " ".join(form.form_errors)
    return _part_page(part, status=422, refusal=refusal, **{form_name: form})


@bp.post("/parts/<id:part_id>/accept")
@login_required
def accept(part_id: int):
    def action(part, form):
        rules.accept(part, by=current_user, ready_by=form.ready_by.data)
        return _("Accepted. The buyer is told you are preparing it.")

    return _fulfil(part_id, "accept_form", AcceptForm(), action)


@bp.post("/parts/<id:part_id>/ship")
@login_required
def ship(part_id: int):
    def action(part, form):
        rules.ship(
            part,
            by=current_user,
            courier=form.courier.data or "",
            tracking_number=form.tracking_number.data or "",
        )
        return _("Marked as sent. The buyer is told.")

    return _fulfil(part_id, "ship_form", ShipForm(), action)


@bp.post("/parts/<id:part_id>/deliver")
@login_required
def deliver(part_id: int):
    def action(part, form):
        rules.deliver(part, by=current_user)
        return _("Marked as delivered.")

    return _fulfil(part_id, "deliver_form", EmptyForm(), action)


@bp.post("/parts/<id:part_id>/cancel")
@login_required
def cancel(part_id: int):
    def action(part, form):
        rules.cancel(
            part, by=current_user, reason=CancelReason(form.reason.data), note=form.note.data or ""
        )
        return _("Cancelled. The pieces are for sale again and the buyer is told.")

    return _fulfil(part_id, "cancel_form", CancelForm(), action)


@bp.post("/parts/<id:part_id>/cash")
@staff_required
def record_cash(part_id: int):
    """A coordinator records that the courier's cash for this parcel arrived (once)."""
    part = _part_or_404(part_id)
    if not can(current_user, "collect_cash", part):
        abort(404)
    form = EmptyForm()
    if form.validate():
        try:
            with attempt():
                recorded = rules.record_cash(part, by=current_user)
        except rules.OrderError as refused:
            return _part_page(part, status=422, refusal=str(refused.message))
        if recorded:
            flash(_("Cash recorded."), "success")
        else:
            flash(_("This cash was recorded already."), "info")
    return redirect(url_for("orders.part", part_id=part.id), 303)


# --- shipping fees ---------------------------------------------------------------------------


@bp.route("/admin/shipping", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def shipping():
    """One fee for every governorate, and a fee of its own where a governorate differs.
    An empty box means "the fee for all"."""
    rates = rules.shipping_rates()
    data = {f"fee_{code}": fee for code, fee in rates.items() if code != DEFAULT_SHIPPING}
    form = ShippingForm(data={"default": rules.shipping_fee(DEFAULT_SHIPPING), **data})
    if form.validate_on_submit():
        rules.set_shipping_rates(form.rates(), by=current_user)
        flash(_("Shipping fees saved."), "success")
        return redirect(url_for("orders.shipping"), 303)
    status = 422 if request.method == "POST" else 200
    return render("orders/shipping.html", form=form, typing_form=True, status=status)
