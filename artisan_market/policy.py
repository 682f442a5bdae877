"""Who may do what to which thing: `can(user, action, thing)`, in one place.

Views load what a URL names through `load_or_404`, which answers 404 both for what does not
exist and for what this person may not touch (someone else's listing must not even be
confirmed to exist). Whole areas of another role are refused earlier, with 403, by
`security.roles_required`.

Who stands for an artisan: herself; an admin; and her coordinator, who is the one who
verified her, or, until someone verifies her, the one who created her account for her.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from artisan_market.accounts.models import STAFF, ArtisanProfile, Role, User, VerificationStatus
from artisan_market.catalog.models import Product
from artisan_market.extensions import db
from artisan_market.orders.models import OrderPart

__all__ = ["STAFF", "can", "load_or_404"]

T = TypeVar("T")


def is_her_coordinator(user: User, profile: ArtisanProfile) -> bool:
    """The coordinator who verified her; before anyone has, the one who made her account."""
    if user.role is not Role.COORDINATOR:
        return False
    if profile.verification is VerificationStatus.VERIFIED:
        return profile.verified_by_id == user.id
    return profile.created_by_id == user.id


def _act_for_artisan(user: User, profile: ArtisanProfile) -> bool:
    """Stand for her: hand her a set-password link, add or change listings for her."""
    return user.role is Role.ADMIN or is_her_coordinator(user, profile)


def _manage_listing(user: User, product: Product) -> bool:
    if user.role is Role.ARTISAN:
        return user.artisan_profile is not None and product.artisan_id == user.artisan_profile.id
    return _act_for_artisan(user, product.artisan)


def _review_listing(user: User, product: Product) -> bool:
    # Any coordinator reviews any listing that was sent for review (they cover for each
    # other); a draft never sent is hers alone.
    return user.role in STAFF and product.submitted_at is not None


def _preview_listing(user: User, product: Product) -> bool:
    return _manage_listing(user, product) or _review_listing(user, product)


def _verify_artisan(user: User, profile: ArtisanProfile) -> bool:
    return user.role in STAFF


def _read_audit(user: User, _thing: None) -> bool:
    return user.role in STAFF


def coordinated_governorates(user: User) -> sa.Select:
    """The governorates where a coordinator stands for an artisan (one she verified or, not
    yet verified, whose account she made): whose orders she follows."""
    return (
        sa.select(ArtisanProfile.governorate)
        .where(
            sa.or_(
                ArtisanProfile.verified_by_id == user.id,
                sa.and_(
                    ArtisanProfile.verification != VerificationStatus.VERIFIED,
                    ArtisanProfile.created_by_id == user.id,
                ),
            )
        )
        .distinct()
    )


def _see_order_part(user: User, part: OrderPart) -> bool:
    """Her own parcels; for a coordinator, those of her governorates' artisans; all for admins."""
    if user.role is Role.ARTISAN:
        return user.artisan_profile is not None and part.artisan_id == user.artisan_profile.id
    if user.role is Role.ADMIN:
        return True
    if user.role is Role.COORDINATOR:
        governorates = db.session.scalars(coordinated_governorates(user)).all()
        return part.artisan.governorate in governorates
    return False


def _fulfil_order_part(user: User, part: OrderPart) -> bool:
    """Accept, ship, deliver or cancel: she, or whoever may act for her."""
    if user.role is Role.ARTISAN:
        return _see_order_part(user, part)
    return _act_for_artisan(user, part.artisan)


def _collect_cash(user: User, part: OrderPart) -> bool:
    """Record the courier's cash: staff who follow her orders, never the artisan herself."""
    return user.role in STAFF and _see_order_part(user, part)


def _own_or_act_for(user: User, artisan: ArtisanProfile) -> bool:
    if user.role is Role.ARTISAN:
        return user.artisan_profile is not None and artisan.id == user.artisan_profile.id
    return _act_for_artisan(user, artisan)


def _see_grant(user: User, application) -> bool:
    """Her own application; for staff, one of an artisan they stand for (as for listings)."""
    return _own_or_act_for(user, application.artisan)


def _decide_grant(user: User, application) -> bool:
    """Approve, decline, pay instalments, write visit notes: whoever stands for her."""
    return user.role in STAFF and _act_for_artisan(user, application.artisan)


def _answer_instalment(user: User, instalment) -> bool:
    """Only she says whether the money reached her."""
    profile = user.artisan_profile if user.role is Role.ARTISAN else None
    return profile is not None and instalment.application.artisan_id == profile.id


def _run_programmes(user: User, _thing: None) -> bool:
    return user.role in STAFF


def _see_money(user: User, artisan: ArtisanProfile) -> bool:
    """Her ledger: she, and whoever stands for her."""
    return _own_or_act_for(user, artisan)


def _pay_artisan(user: User, artisan: ArtisanProfile) -> bool:
    """Payouts and corrections: staff who stand for her, never she herself."""
    return user.role in STAFF and _act_for_artisan(user, artisan)


RULES: dict[str, Callable[[User, Any], bool]] = {
    "act_for_artisan": _act_for_artisan,
    "manage_listing": _manage_listing,
    "review_listing": _review_listing,
    "preview_listing": _preview_listing,
    "verify_artisan": _verify_artisan,
    "read_audit": _read_audit,
    "see_order_part": _see_order_part,
    "fulfil_order_part": _fulfil_order_part,
    "collect_cash": _collect_cash,
    "see_grant": _see_grant,
    "decide_grant": _decide_grant,
    "answer_instalment": _answer_instalment,
    "run_programmes": _run_programmes,
    "see_money": _see_money,
    "pay_artisan": _pay_artisan,
}


def can(user: User | None, action: str, thing: Any = None) -> bool:
    """Whether `user` may do `action` to `thing`. Anonymous visitors may do none of these.

    Raises KeyError for an action that has no rule: a typo must not read as "no".
    """
    rule = RULES[action]
    if user is None or not user.is_authenticated:
        return False
    return rule(user, thing)


def load_or_404(model: type[T], ident: int, action: str, *, options=()) -> T:
    """The `model` row `ident`, if the current user may `action` it; else 404 either way."""
    thing = db.session.get(model, ident, options=options)
    if thing is None or not can(current_user, action, thing):
        abort(404)
    return thing
