"""Every pound that is hers, in one append-only table.

An entry is a signed amount in piastres on one of her accounts:

    earnings   what the coalition owes her: + a delivered parcel's pieces, − the platform's
               fee on them, − a payout
    cash       her buyers' cash that the couriers brought in and that has not been passed to
               her yet: + when a parcel's cash is recorded, − as payouts pass it on
    grants     microgrant money she received: + an instalment

A balance is the sum of its entries, never a stored number. Each entry names its source with
a key that is unique ("sale:part:12", "payout:5"), so nothing is booked twice however often
the event that books it is repeated. A mistake is put right by a reversing entry (the same
amount, the other sign, pointing at the entry it reverses), never by editing or deleting:
the database refuses both.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artisan_market.accounts.models import ArtisanProfile, User
from artisan_market.extensions import db, enum_column
from artisan_market.timeutil import UTCDateTime, utcnow


class Account(enum.StrEnum):
    EARNINGS = "earnings"
    CASH = "cash"
    GRANTS = "grants"


class EntryKind(enum.StrEnum):
    SALE = "sale"  # a delivered parcel's pieces
    FEE = "fee"  # the platform's share of them
    PAYOUT = "payout"  # paid to her
    CASH_COLLECTED = "cash_collected"  # a parcel's cash reached the coalition
    CASH_PASSED = "cash_passed"  # that cash went to her with a payout
    INSTALMENT = "instalment"  # a grant instalment given to her
    REVERSAL = "reversal"  # puts a mistaken entry right

    @property
    def label(self) -> str:
        return str(ENTRY_LABELS[self])


ENTRY_LABELS = {
    EntryKind.SALE: _l("Sale delivered"),
    EntryKind.FEE: _l("Platform fee"),
    EntryKind.PAYOUT: _l("Payout"),
    EntryKind.CASH_COLLECTED: _l("Cash collected by the courier"),
    EntryKind.CASH_PASSED: _l("Cash passed on with a payout"),
    EntryKind.INSTALMENT: _l("Grant instalment"),
    EntryKind.REVERSAL: _l("Correction"),
}


class PayMethod(enum.StrEnum):
    """How money reaches her: payouts and grant instalments alike."""

    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    MOBILE_WALLET = "mobile_wallet"  # Vodafone Cash, Orange Cash, Etisalat Cash…
    INSTAPAY = "instapay"

    @property
    def label(self) -> str:
        return str(METHOD_LABELS[self])


METHOD_LABELS = {
    PayMethod.CASH: _l("Cash in hand"),
    PayMethod.BANK_TRANSFER: _l("Bank transfer"),
    PayMethod.MOBILE_WALLET: _l("Mobile wallet (Vodafone Cash…)"),
    PayMethod.INSTAPAY: _l("InstaPay"),
}


class LedgerEntry(db.Model):
    """One movement of her money. Inserted, never updated or deleted (triggers refuse it)."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    artisan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("artisan_profiles.id", ondelete="RESTRICT")
    )
    account: Mapped[Account] = mapped_column(enum_column(Account))
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    amount: Mapped[int]  # piastres, signed: + to her, − from her
    currency: Mapped[str] = mapped_column(sa.String(3), default="EGP")
    # Where it came from, once: "sale:part:12", "fee:part:12", "payout:5", "reversal:40"…
    source: Mapped[str] = mapped_column(sa.String(80), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_entries.id", ondelete="RESTRICT"), unique=True
    )
    order_part_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("order_parts.id", ondelete="RESTRICT"), index=True
    )
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    artisan: Mapped[ArtisanProfile] = relationship()
    created_by: Mapped[User | None] = relationship()
    reverses: Mapped[LedgerEntry | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        # Her history and her balances: every entry of one artisan, by account.
        sa.Index("ix_ledger_entries_artisan_account", "artisan_id", "account", "id"),
    )

    def __repr__(self) -> str:
        return f"<LedgerEntry {self.source} {self.amount}>"


class Payout(db.Model):
    """Money a coordinator paid her, against what she is owed: booked in the ledger."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    artisan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("artisan_profiles.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3), default="EGP")
    method: Mapped[PayMethod] = mapped_column(enum_column(PayMethod))
    reference: Mapped[str] = mapped_column(sa.String(80), default="")
    paid_on: Mapped[date] = mapped_column(sa.Date)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    artisan: Mapped[ArtisanProfile] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)


class PlatformFee(db.Model):
    """The platform's share of each sale, in hundredths of a percent; the newest row holds.

    Rows are kept: the fee of an old sale can always be explained. No row: 0 %.
    """

    __tablename__ = "platform_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    basis_points: Mapped[int]  # 250 = 2.5 %
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("basis_points >= 0 AND basis_points <= 5000", name="basis_points_range"),
    )
