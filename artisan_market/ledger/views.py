"""Her money: what she earned, was paid and is owed (studio), and the coordinators' page to
pay her and put mistakes right. Someone else's ledger is a 404 (policy)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from artisan_market import money, once
from artisan_market.accounts.models import ArtisanProfile, Role
from artisan_market.extensions import db
from artisan_market.forms import show_rule_error
from artisan_market.ledger import bp, services
from artisan_market.ledger.forms import FeeForm, PayoutForm, ReverseForm
from artisan_market.ledger.models import Account, LedgerEntry, PayMethod
from artisan_market.paging import paginate
from artisan_market.policy import load_or_404
from artisan_market.security import roles_required, staff_required
from artisan_market.timeutil import today_in_egypt
from artisan_market.transactions import attempt

PER_PAGE = 30


def _history(profile: ArtisanProfile, *, with_cash: bool = True):
    """Her entries, newest first. Her own page leaves out the cash account: which cash the
    coordinators hold is theirs to track; what she is owed already counts it."""
    query = services.history(profile.id).options(joinedload(LedgerEntry.created_by))
    if not with_cash:
        query = query.where(LedgerEntry.account != Account.CASH)
    return paginate(query, per_page=PER_PAGE)


@bp.get("/studio/money")
@roles_required(Role.ARTISAN)
def mine():
    """Earned, paid, owed, cash the couriers brought in for her, grants: each a sum of her
    entries; then every entry, newest first."""
    profile = current_user.artisan_profile
    if profile is None:
        abort(404)
    return render_template(
        "ledger/mine.html",
        profile=profile,
        balances=services.balances(profile.id),
        page=_history(profile, with_cash=False),
    )


def _artisan_page(profile: ArtisanProfile, status: int = 200, **forms):
    forms.setdefault(
        "payout_form",
        PayoutForm(formdata=None, paid_on=today_in_egypt(), method=PayMethod.CASH.value),
    )
    forms.setdefault("reverse_form", ReverseForm(formdata=None))
    return render_template(
        "ledger/artisan.html",
        profile=profile,
        balances=services.balances(profile.id),
        page=_history(profile),
        corrected=services.corrected_ids(profile.id),
        **forms,
    ), status


def _artisan_or_404(artisan_id: int, action: str = "pay_artisan") -> ArtisanProfile:
    return load_or_404(ArtisanProfile, artisan_id, action)


@bp.get("/review/artisans/<int:artisan_id>/money")
@staff_required
def artisan(artisan_id: int):
    return _artisan_page(_artisan_or_404(artisan_id))


@bp.post("/review/artisans/<int:artisan_id>/payouts")
@staff_required
def payout(artisan_id: int):
    """Money paid to her, never more than she is owed. The same form sent twice pays once."""
    profile = _artisan_or_404(artisan_id)
    form = PayoutForm()
    if form.validate_on_submit():
        page = url_for("ledger.artisan", artisan_id=profile.id)
        key = once.sent_key()
        if once.claim(key) is not None:
            return redirect(page, 303)
        try:
            with attempt():
                services.pay_out(
                    profile,
                    form.amount.piastres,
                    method=PayMethod(form.method.data),
                    paid_on=form.paid_on.data,
                    reference=form.reference.data or "",
                    by=current_user._get_current_object(),
                )
        except services.LedgerError as refused:
            show_rule_error(form, refused)
        else:
            once.record(key, page)
            flash(_("Payout recorded."), "success")
            return redirect(page, 303)
    return _artisan_page(profile, 422, payout_form=form)


@bp.post("/review/ledger/<int:entry_id>/reverse")
@staff_required
def reverse(entry_id: int):
    """Put a mistaken entry right with a reversing entry, and say why."""
    entry = db.get_or_404(LedgerEntry, entry_id)
    profile = _artisan_or_404(entry.artisan_id)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            with attempt():
                services.reverse(
                    entry, by=current_user._get_current_object(), reason=form.reason.data
                )
        except services.LedgerError as refused:
            flash(str(refused.message), "error")
        else:
            flash(_("Correction booked."), "success")
    else:
        flash(_("Say why this entry is wrong."), "error")
    return redirect(url_for("ledger.artisan", artisan_id=profile.id), 303)


@bp.route("/admin/fee", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def fee():
    """The platform's share of each sale from now on (sales booked before keep theirs)."""
    current = services.fee_basis_points()
    form = FeeForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.percent.data = money.amount_text(current)
    if form.validate_on_submit():
        try:
            basis_points = money.parse(form.percent.data)
        except money.NotMoney as refused:
            form.percent.errors = [str(refused.message)]
        else:
            try:
                with attempt():
                    services.set_fee(basis_points, by=current_user._get_current_object())
            except services.LedgerError as refused:
                show_rule_error(form, refused)
            else:
                flash(_("Fee saved."), "success")
                return redirect(url_for("ledger.fee"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "ledger/fee.html", form=form, current_text=money.amount_text(current)
    ), status
