"""Microgrant programmes, the applications to them, their instalments and reports.

    application:  submitted ──approve──▶ approved      submitted ──decline──▶ declined
                  submitted ──withdraw──▶ withdrawn
    instalment:   sent ──confirm──▶ confirmed          sent ──dispute──▶ disputed ──confirm──▶ …

Two counters are kept as stock is, so that a conditional UPDATE can refuse what would go over
(two coordinators approving at the same moment): a programme's `awarded` against its budget
and an application's `disbursed` against its award. Both always equal the sum of the rows
they count, which the tests check after every random sequence of operations.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artisan_market.accounts.models import ArtisanProfile, User
from artisan_market.extensions import db, enum_column
from artisan_market.ledger.models import PayMethod
from artisan_market.timeutil import UTCDateTime, utcnow

# A programme's budget at most (20 million pounds): amounts are 32-bit integers of piastres.
MAX_BUDGET = 2_000_000_000


class FunderKind(enum.StrEnum):
    MEMBER = "member"  # a coalition member organisation
    DONOR = "donor"  # an outside donor

    @property
    def label(self) -> str:
        return str({FunderKind.MEMBER: _l("Coalition member"), FunderKind.DONOR: _l("Donor")}[self])


class Purpose(enum.StrEnum):
    MATERIALS = "materials"
    LOOM = "loom"
    KILN = "kiln"
    SEWING_MACHINE = "sewing_machine"
    TOOLS = "tools"
    WORKSPACE = "workspace"
    TRAINING = "training"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(PURPOSE_LABELS[self])


PURPOSE_LABELS = {
    Purpose.MATERIALS: _l("Materials (clay, yarn, beads…)"),
    Purpose.LOOM: _l("A loom"),
    Purpose.KILN: _l("A kiln"),
    Purpose.SEWING_MACHINE: _l("A sewing machine"),
    Purpose.TOOLS: _l("Tools"),
    Purpose.WORKSPACE: _l("A place to work"),
    Purpose.TRAINING: _l("Training"),
    Purpose.OTHER: _l("Something else"),
}


class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(APPLICATION_LABELS[self])


APPLICATION_LABELS = {
    ApplicationStatus.SUBMITTED: _l("Waiting for a decision"),
    ApplicationStatus.APPROVED: _l("Approved"),
    ApplicationStatus.DECLINED: _l("Declined"),
    ApplicationStatus.WITHDRAWN: _l("Withdrawn"),
}


class InstalmentStatus(enum.StrEnum):
    SENT = "sent"  # recorded by a coordinator; she has not answered yet
    CONFIRMED = "confirmed"  # she says she received it
    DISPUTED = "disputed"  # she says she did not
    CANCELLED = "cancelled"  # recorded by mistake: taken off the award, its entry reversed

    @property
    def label(self) -> str:
        return str(INSTALMENT_LABELS[self])


INSTALMENT_LABELS = {
    InstalmentStatus.SENT: _l("Waiting for her answer"),
    InstalmentStatus.CONFIRMED: _l("Received"),
    InstalmentStatus.DISPUTED: _l("Not received, she says"),
    InstalmentStatus.CANCELLED: _l("Cancelled: recorded by mistake"),
}


class ReportKind(enum.StrEnum):
    UPDATE = "update"  # the artisan: how the grant is being used
    FIELD_VISIT = "field_visit"  # a coordinator's notes from a visit


class Programme(db.Model):
    """A fund that gives small grants, from one funder, with its rules."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_ar: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    funder: Mapped[str] = mapped_column(sa.String(200))
    funder_kind: Mapped[FunderKind] = mapped_column(enum_column(FunderKind))
    # A coalition member funds it: which one.
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    currency: Mapped[str] = mapped_column(sa.String(3), default="EGP")
    budget: Mapped[int]
    largest_award: Mapped[int]
    opens_on: Mapped[date] = mapped_column(sa.Date)
    closes_on: Mapped[date] = mapped_column(sa.Date)
    # Who may apply; empty lists: everyone.
    governorates: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    crafts: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The sum of the awards made: raised only by a conditional UPDATE that keeps it in budget.
    awarded: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    applications: Mapped[list[Application]] = relationship(back_populates="programme")

    __table_args__ = (
        sa.CheckConstraint("budget > 0 AND largest_award > 0", name="amounts_positive"),
        sa.CheckConstraint("largest_award <= budget", name="award_within_budget"),
        sa.CheckConstraint("awarded >= 0 AND awarded <= budget", name="awarded_within_budget"),
        sa.CheckConstraint("opens_on <= closes_on", name="dates_in_order"),
    )

    def name(self, locale: str) -> str:
        return self.name_ar if locale == "ar" else self.name_en

    @property
    def left(self) -> int:
        return self.budget - self.awarded

    def is_open(self, today: date) -> bool:
        return self.opens_on <= today <= self.closes_on

    def admits(self, profile: ArtisanProfile) -> bool:
        return (not self.governorates or profile.governorate in self.governorates) and (
            not self.crafts or profile.craft in self.crafts
        )


class Application(db.Model):
    """An artisan asks a programme for an amount, for a purpose; a coordinator decides.

    An approved application is her award (`amount_awarded`)."""

    __tablename__ = "grant_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id", ondelete="RESTRICT"))
    artisan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("artisan_profiles.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[ApplicationStatus] = mapped_column(enum_column(ApplicationStatus))
    amount_asked: Mapped[int]
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose))
    purpose_other: Mapped[str] = mapped_column(sa.String(120), default="")
    plan: Mapped[str] = mapped_column(sa.String(1000))
    photo: Mapped[list[dict] | None] = mapped_column(sa.JSON)
    # A coordinator who filled it in for her (None: she did herself).
    filed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    amount_awarded: Mapped[int | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    # The sum of its instalments (not those cancelled): raised only by a conditional UPDATE
    # that keeps it ≤ award.
    disbursed: Mapped[int] = mapped_column(default=0)

    programme: Mapped[Programme] = relationship(back_populates="applications")
    artisan: Mapped[ArtisanProfile] = relationship()
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="application", order_by="Instalment.id"
    )
    reports: Mapped[list[Report]] = relationship(back_populates="application", order_by="Report.id")

    __table_args__ = (
        sa.UniqueConstraint("programme_id", "artisan_id", name="one_application_per_programme"),
        sa.CheckConstraint("amount_asked > 0", name="amount_asked_positive"),
        sa.CheckConstraint(
            "amount_awarded IS NULL OR (amount_awarded > 0 AND amount_awarded <= amount_asked)",
            name="award_within_ask",
        ),
        sa.CheckConstraint(
            "disbursed >= 0 AND disbursed <= COALESCE(amount_awarded, 0)",
            name="disbursed_within_award",
        ),
        sa.Index("ix_grant_applications_programme_status", "programme_id", "status"),
    )

    @property
    def left_to_disburse(self) -> int:
        return (self.amount_awarded or 0) - self.disbursed


class Instalment(db.Model):
    """Part (or all) of an award, handed to her; she says whether it reached her."""

    __tablename__ = "grant_instalments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grant_applications.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[int]
    paid_on: Mapped[date] = mapped_column(sa.Date)
    method: Mapped[PayMethod] = mapped_column(enum_column(PayMethod))
    reference: Mapped[str] = mapped_column(sa.String(80), default="")
    receipt: Mapped[list[dict] | None] = mapped_column(sa.JSON)
    status: Mapped[InstalmentStatus] = mapped_column(
        enum_column(InstalmentStatus), default=InstalmentStatus.SENT
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispute_note: Mapped[str] = mapped_column(sa.String(500), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="instalments")
    recorded_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        # What coordinators must look at: instalments not confirmed after a few days.
        sa.Index("ix_grant_instalments_status_created", "status", "created_at"),
    )


class Report(db.Model):
    """How a grant is being used: her short update, or a coordinator's field-visit notes."""

    __tablename__ = "grant_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grant_applications.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[ReportKind] = mapped_column(enum_column(ReportKind))
    text: Mapped[str] = mapped_column(sa.String(1000))
    photo: Mapped[list[dict] | None] = mapped_column(sa.JSON)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="reports")
    author: Mapped[User | None] = relationship()
