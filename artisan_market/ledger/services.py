"""Booking her money, and reading it back. No requests, no commits.

Booking is idempotent by source: an entry whose source key is booked already is not booked
again (the unique key settles two writers racing, and the loser's savepoint is undone).
Payouts are checked against what she is owed with her profile row locked (`FOR UPDATE` on
PostgreSQL; on SQLite a writing request holds the database's write lock from its first
statement), because a balance is a sum and no single row can be updated conditionally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from artisan_market.accounts.models import ArtisanProfile, User
from artisan_market.extensions import db
from artisan_market.ledger.models import (
    Account,
    EntryKind,
    LedgerEntry,
    PayMethod,
    Payout,
    PlatformFee,
)
from artisan_market.orders.models import OrderPart
from artisan_market.rules import RuleError

MAX_BASIS_POINTS = 5000  # the platform never takes more than half
# What a coordinator may correct here: a sale, its fee, a payout.
CORRECTABLE = frozenset({EntryKind.SALE, EntryKind.FEE, EntryKind.PAYOUT})


class LedgerError(RuleError):
    """A booking refused; the message is for the coordinator at the form."""


@dataclass(frozen=True)
class Balances:
    """Her accounts, each a sum of entries. `owed` is what the coalition owes her now."""

    earned: int  # sales less fees (and their corrections)
    paid: int  # payouts (and their corrections), as a positive number
    cash: int  # her buyers' cash the coalition holds for her
    grants: int  # grant money she received

    @property
    def owed(self) -> int:
        return self.earned - self.paid


def _booked(source: str) -> bool:
    found = db.session.scalar(sa.select(LedgerEntry.id).where(LedgerEntry.source == source))
    return found is not None


def book(
    artisan_id: int,
    account: Account,
    kind: EntryKind,
    amount: int,
    source: str,
    *,
    by: User | None = None,
    currency: str = "EGP",
    order_part_id: int | None = None,
    reverses_id: int | None = None,
    note: str = "",
) -> LedgerEntry | None:
    """Add one entry; None (nothing added) when `source` is booked already or amount is 0."""
    if amount == 0 or _booked(source):
        return None
    entry = LedgerEntry(
        artisan_id=artisan_id,
        account=account,
        kind=kind,
        amount=amount,
        source=source,
        currency=currency,
        order_part_id=order_part_id,
        reverses_id=reverses_id,
        note=note[:300],
        created_by_id=by.id if by is not None else None,
    )
    savepoint = db.session.begin_nested()
    db.session.add(entry)
    try:
        savepoint.commit()  # flushes: a source booked meanwhile by another writer is refused
    except sa.exc.IntegrityError:
        if savepoint.is_active:
            savepoint.rollback()
        return None
    return entry


def book_reversal(entry: LedgerEntry, *, by: User, reason: str) -> LedgerEntry | None:
    """The entry that undoes `entry`: the same amount with the other sign, on its account,
    once (its source is `reversal:<id>`); None when it is booked already. The checks of
    whether it may be undone are the caller's (`reverse`, a cancelled instalment)."""
    return book(
        entry.artisan_id,
        entry.account,
        EntryKind.REVERSAL,
        -entry.amount,
        f"reversal:{entry.id}",
        by=by,
        currency=entry.currency,
        order_part_id=entry.order_part_id,
        reverses_id=entry.id,
        note=reason,
    )


# --- the platform's fee ----------------------------------------------------------------------


def fee_basis_points() -> int:
    """The fee in force (hundredths of a percent); 0 until an admin sets one."""
    return (
        db.session.scalar(
            sa.select(PlatformFee.basis_points).order_by(PlatformFee.id.desc()).limit(1)
        )
        or 0
    )


def set_fee(basis_points: int, *, by: User) -> PlatformFee:
    if not 0 <= basis_points <= MAX_BASIS_POINTS:
        raise LedgerError(_l("The fee must be between 0 and 50 percent."), field="percent")
    before = fee_basis_points()
    fee = PlatformFee(basis_points=basis_points, set_by_id=by.id)
    db.session.add(fee)
    db.session.flush()
    from artisan_market.audit.services import record

    record(
        by,
        "ledger.fee_changed",
        "platform_fee",
        fee.id,
        before={"basis_points": before},
        after={"basis_points": basis_points},
    )
    return fee


def fee_on(amount: int, basis_points: int) -> int:
    """The fee on `amount`, rounded half up to the piastre, in integers."""
    return (amount * basis_points + 5000) // 10000


# --- what orders book ------------------------------------------------------------------------


def book_sale(part: OrderPart, *, by: User | None = None) -> None:
    """A delivered parcel: her pieces are earned, less the platform's fee in force now.
    Shipping is the courier's, not hers. Booked once however often delivery is reported."""
    currency = part.order.currency
    sale = book(
        part.artisan_id,
        Account.EARNINGS,
        EntryKind.SALE,
        part.items_total,
        f"sale:part:{part.id}",
        by=by,
        currency=currency,
        order_part_id=part.id,
    )
    if sale is None:
        return
    fee = fee_on(part.items_total, fee_basis_points())
    if fee:
        book(
            part.artisan_id,
            Account.EARNINGS,
            EntryKind.FEE,
            -fee,
            f"fee:part:{part.id}",
            by=by,
            currency=currency,
            order_part_id=part.id,
        )
    from artisan_market.audit.services import record

    record(
        by,
        "ledger.sale",
        "artisan",
        part.artisan_id,
        after={"order_part": part.id, "amount": part.items_total, "fee": fee},
    )


def book_cash(part: OrderPart, *, by: User) -> None:
    """A delivered parcel's cash reached the coalition: her share of it (her pieces less the
    fee booked on them) is held for her until a payout passes it on."""
    share = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.order_part_id == part.id, LedgerEntry.account == Account.EARNINGS
        )
    )
    if share > 0:
        book(
            part.artisan_id,
            Account.CASH,
            EntryKind.CASH_COLLECTED,
            share,
            f"cash:part:{part.id}",
            by=by,
            currency=part.order.currency,
            order_part_id=part.id,
        )


# --- reading -------------------------------------------------------------------------------


def balances(artisan_id: int) -> Balances:
    """Her four figures, from one grouped query over her entries. A correction counts with
    the entry it corrects (a reversed payout is money not paid, not money earned)."""
    original = sa.orm.aliased(LedgerEntry)
    kind = sa.func.coalesce(original.kind, LedgerEntry.kind)
    rows = db.session.execute(
        sa.select(LedgerEntry.account, kind, sa.func.sum(LedgerEntry.amount))
        .outerjoin(original, LedgerEntry.reverses_id == original.id)
        .where(LedgerEntry.artisan_id == artisan_id)
        .group_by(LedgerEntry.account, kind)
    ).all()
    total: dict[tuple[Account, str], int] = {
        (account, str(entry_kind)): int(amount) for account, entry_kind, amount in rows
    }
    earnings = {k: v for (account, k), v in total.items() if account is Account.EARNINGS}
    paid = -earnings.pop(EntryKind.PAYOUT.value, 0)
    return Balances(
        earned=sum(earnings.values()),
        paid=paid,
        cash=sum(v for (account, _k), v in total.items() if account is Account.CASH),
        grants=sum(v for (account, _k), v in total.items() if account is Account.GRANTS),
    )


def account_total(artisan_id: int, account: Account) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.artisan_id == artisan_id, LedgerEntry.account == account
            )
        )
    )


def corrected_ids(artisan_id: int) -> set[int]:
    """Her entries that a correction has reversed already."""
    return set(
        db.session.scalars(
            sa.select(LedgerEntry.reverses_id).where(
                LedgerEntry.artisan_id == artisan_id, LedgerEntry.reverses_id.is_not(None)
            )
        )
    )


def history(artisan_id: int) -> sa.Select:
    """Her entries, newest first (paginate it)."""
    return (
        sa.select(LedgerEntry)
        .where(LedgerEntry.artisan_id == artisan_id)
        .order_by(LedgerEntry.id.desc())
    )


# --- what coordinators book ------------------------------------------------------------------


def _lock(artisan_id: int) -> ArtisanProfile:
    """Her profile row, locked until the transaction ends: one payout or correction at a
    time for her (PostgreSQL; SQLite's write lock already makes writers take turns)."""
    return db.session.execute(
        sa.select(ArtisanProfile).where(ArtisanProfile.id == artisan_id).with_for_update()
    ).scalar_one()


def pay_out(
    profile: ArtisanProfile,
    amount: int,
    *,
    method: PayMethod,
    paid_on: date,
    reference: str = "",
    by: User,
) -> Payout:
    """Record money paid to her: never more than she is owed at this moment."""
    if amount <= 0:
        raise LedgerError(_l("Enter an amount above zero."), field="amount")
    _lock(profile.id)
    owed = account_total(profile.id, Account.EARNINGS)
    if amount > owed:
        from artisan_market.money import format_money

        raise LedgerError(
            _l("She is owed %(owed)s; a payout cannot be more.", owed=format_money(max(owed, 0))),
            field="amount",
        )
    payout = Payout(
        artisan_id=profile.id,
        amount=amount,
        method=method,
        reference=reference.strip()[:80],
        paid_on=paid_on,
        recorded_by_id=by.id,
    )
    db.session.add(payout)
    db.session.flush()
    book(profile.id, Account.EARNINGS, EntryKind.PAYOUT, -amount, f"payout:{payout.id}", by=by)
    # Cash held for her goes first: that is the money in the coordinators' hands.
    held = account_total(profile.id, Account.CASH)
    if held > 0:
        book(
            profile.id,
            Account.CASH,
            EntryKind.CASH_PASSED,
            -min(held, amount),
            f"payout:{payout.id}:cash",
            by=by,
        )
    from artisan_market.audit.services import record

    record(
        by,
        "ledger.payout",
        "artisan",
        profile.id,
        after={"amount": amount, "method": method.value, "reference": payout.reference},
    )
    return payout


def reverse(entry: LedgerEntry, *, by: User, reason: str) -> LedgerEntry:
    """Put a mistaken entry right: the same amount, the other sign, once. A correction that
    would leave an account below nothing is refused (pay-outs already made stand): her
    earnings paid out already, or her buyers' cash passed to her already, which the
    coalition would otherwise show as holding less than nothing for her."""
    reason = reason.strip()
    if not reason:
        raise LedgerError(_l("Say why this entry is wrong."), field="reason")
    if entry.kind is EntryKind.REVERSAL:
        raise LedgerError(_l("A correction cannot itself be corrected; book the entry again."))
    if entry.kind not in CORRECTABLE:
        # Grant instalments and cash follow their own records (an instalment's row, the
        # parcel's cash): an entry corrected alone would part from them.
        raise LedgerError(_l("This entry is put right where it was made, not here."))
    _lock(entry.artisan_id)
    if _booked(f"reversal:{entry.id}"):
        raise LedgerError(_l("This entry was corrected already."))
    if entry.amount > 0:
        left = account_total(entry.artisan_id, entry.account)
        if left - entry.amount < 0:
            raise LedgerError(
                _l("She has been paid this already: correcting it would leave her owing.")
            )
    reversal = book_reversal(entry, by=by, reason=reason)
    if reversal is None:
        raise LedgerError(_l("This entry was corrected already."))
    if entry.kind is EntryKind.PAYOUT:
        # A payout that did not happen passed no cash to her either.
        cash = db.session.scalar(
            sa.select(LedgerEntry).where(LedgerEntry.source == f"{entry.source}:cash")
        )
        if cash is not None:
            book_reversal(cash, by=by, reason=reason)
    from artisan_market.audit.services import record

    record(
        by,
        "ledger.reversed",
        "artisan",
        entry.artisan_id,
        before={"entry": entry.source, "amount": entry.amount},
        after={"reason": reason},
    )
    return reversal
