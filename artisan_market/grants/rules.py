"""The rules of a microgrant: programmes, applications, awards, instalments and reports.
No requests, no commits.

An award is taken from a programme's budget by one conditional UPDATE (`awarded + x <=
budget`, the row count checked), as stock is taken from a listing: two coordinators approving
at the same moment can never take a programme over its budget. Instalments are taken from an
award the same way (`disbursed + x <= amount_awarded`, on an approved application only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from artisan_market.accounts.models import ArtisanProfile, Role, User
from artisan_market.extensions import db
from artisan_market.grants.models import (
    MAX_BUDGET,
    Application,
    ApplicationStatus,
    FunderKind,
    Instalment,
    InstalmentStatus,
    Programme,
    Purpose,
    Report,
    ReportKind,
)
from artisan_market.ledger import services as ledger
from artisan_market.ledger.models import Account, EntryKind, LedgerEntry, PayMethod
from artisan_market.money import format_money
from artisan_market.rules import RuleError
from artisan_market.states import Move, MoveRefused, StateMachine
from artisan_market.timeutil import today_in_egypt, utcnow
from artisan_market.transactions import attempt

# An instalment she has not confirmed after this long stands out for coordinators.
ANSWER_WITHIN = timedelta(days=5)

A, INS = ApplicationStatus, InstalmentStatus
_STAFF = frozenset({Role.COORDINATOR.value, Role.ADMIN.value})
_HER = frozenset({Role.ARTISAN.value}) | _STAFF

APPLICATION_STATES = StateMachine(
    [
        Move("approve", frozenset({A.SUBMITTED}), A.APPROVED, _STAFF, frozenset({A.APPROVED})),
        Move("decline", frozenset({A.SUBMITTED}), A.DECLINED, _STAFF, frozenset({A.DECLINED})),
        Move("withdraw", frozenset({A.SUBMITTED}), A.WITHDRAWN, _HER, frozenset({A.WITHDRAWN})),
    ]
)
# Only she answers for her money; a dispute settled (the money found) is confirmed later.
INSTALMENT_STATES = StateMachine(
    [
        Move(
            "confirm",
            frozenset({INS.SENT, INS.DISPUTED}),
            INS.CONFIRMED,
            frozenset({Role.ARTISAN.value}),
            frozenset({INS.CONFIRMED}),
        ),
        Move(
            "dispute",
            frozenset({INS.SENT}),
            INS.DISPUTED,
            frozenset({Role.ARTISAN.value}),
            frozenset({INS.DISPUTED}),
        ),
        # Recorded by mistake (a wrong amount, twice, the wrong woman): staff take it back
        # while she has not said she received it.
        Move(
            "cancel",
            frozenset({INS.SENT, INS.DISPUTED}),
            INS.CANCELLED,
            _STAFF,
            frozenset({INS.CANCELLED}),
        ),
    ]
)


class GrantError(RuleError):
    """A grant rule refused; the message is for the person at the form."""


def _go(machine: StateMachine, thing, name: str, by: User) -> bool:
    try:
        move = machine.check(thing.status, name, by.role.value)
    except MoveRefused as refused:
        raise GrantError(refused.message) from refused
    if move is None:
        return False
    thing.status = move.target
    return True


def _may(machine: StateMachine, thing, name: str, by: User) -> bool:
    """Whether the move is to be made (False: made already); the caller makes it with a
    conditional UPDATE, so of two people pressing at once only one moves it."""
    try:
        return machine.check(thing.status, name, by.role.value) is not None
    except MoveRefused as refused:
        raise GrantError(refused.message) from refused


def _audit(by: User, action: str, subject: str, ident: int, **after) -> None:
    from artisan_market.audit.services import record

    record(by, action, subject, ident, after=after or None)


# --- programmes ------------------------------------------------------------------------------


@dataclass
class ProgrammeTerms:
    """What a coordinator writes when she sets up (or changes) a programme."""

    name_ar: str
    name_en: str
    funder: str
    funder_kind: FunderKind
    budget: int
    largest_award: int
    opens_on: date
    closes_on: date
    governorates: list[str]
    crafts: list[str]
    currency: str = "EGP"
    organisation_id: int | None = None


def _check_terms(terms: ProgrammeTerms, awarded: int = 0) -> None:
    if terms.closes_on < terms.opens_on:
        raise GrantError(_l("The closing date is before the opening date."), field="closes_on")
    if terms.budget <= 0:
        raise GrantError(_l("Enter a budget above zero."), field="budget")
    if terms.budget > MAX_BUDGET:
        raise GrantError(
            _l("Write an amount up to %(max)s.", max=format_money(MAX_BUDGET, terms.currency)),
            field="budget",
        )
    if terms.largest_award <= 0:
        raise GrantError(_l("Enter an amount above zero."), field="largest_award")
    if terms.largest_award > terms.budget:
        raise GrantError(
            _l("The largest award cannot be more than the budget."), field="largest_award"
        )
    if terms.budget < awarded:
        raise GrantError(
            _l(
                "%(awarded)s has been awarded already: the budget cannot be less.",
                awarded=format_money(awarded, terms.currency),
            ),
            field="budget",
        )


def create_programme(terms: ProgrammeTerms, *, by: User) -> Programme:
    _check_terms(terms)
    programme = Programme(**vars(terms), created_by_id=by.id)
    db.session.add(programme)
    db.session.flush()
    _audit(by, "grant.programme_created", "programme", programme.id, budget=terms.budget)
    return programme


def change_programme(programme: Programme, terms: ProgrammeTerms, *, by: User) -> None:
    """Change its terms. The budget can shrink only to what is awarded already (checked again
    in the UPDATE, as an award may be made meanwhile); the currency never changes."""
    terms.currency = programme.currency
    _check_terms(terms, programme.awarded)
    values = {k: v for k, v in vars(terms).items() if k != "currency"}
    changed = db.session.execute(
        sa.update(Programme)
        .where(Programme.id == programme.id, Programme.awarded <= terms.budget)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(programme)
    if not changed:
        _check_terms(terms, programme.awarded)  # says by how much, now that we know
    _audit(by, "grant.programme_changed", "programme", programme.id, budget=terms.budget)


def open_programmes_for(profile: ArtisanProfile, today: date | None = None) -> list[Programme]:
    """Programmes she may apply to today (open, her governorate and craft), newest first."""
    today = today or today_in_egypt()
    programmes = db.session.scalars(
        sa.select(Programme)
        .where(Programme.opens_on <= today, Programme.closes_on >= today)
        .order_by(Programme.closes_on, Programme.id)
    ).all()
    return [programme for programme in programmes if programme.admits(profile)]


# --- applications ----------------------------------------------------------------------------


def apply(
    programme: Programme,
    profile: ArtisanProfile,
    *,
    amount: int,
    purpose: Purpose,
    purpose_other: str = "",
    plan: str,
    photo: list[dict] | None = None,
    by: User,
) -> Application:
    """She asks for `amount`; a coordinator may file it for her (logged as such)."""
    if not programme.is_open(today_in_egypt()):
        raise GrantError(_l("This programme is not taking applications now."))
    if not programme.admits(profile):
        raise GrantError(_l("This programme is for other governorates or crafts."))
    if not profile.is_verified:
        raise GrantError(_l("Grants are for verified artisans. Your coordinator can verify you."))
    if amount <= 0:
        raise GrantError(_l("Enter an amount above zero."), field="amount")
    if amount > programme.largest_award:
        raise GrantError(
            _l(
                "This programme gives at most %(most)s.",
                most=format_money(programme.largest_award, programme.currency),
            ),
            field="amount",
        )
    if purpose is Purpose.OTHER and not purpose_other.strip():
        raise GrantError(_l("Say in a few words what it is for."), field="purpose_other")
    if not plan.strip():
        raise GrantError(_l("Say in a few words how you will use it."), field="plan")
    exists = db.session.scalar(
        sa.select(Application.id).where(
            Application.programme_id == programme.id, Application.artisan_id == profile.id
        )
    )
    if exists:
        raise GrantError(_l("You have applied to this programme already."))
    application = Application(
        programme_id=programme.id,
        artisan_id=profile.id,
        status=ApplicationStatus.SUBMITTED,
        amount_asked=amount,
        purpose=purpose,
        purpose_other=purpose_other.strip() if purpose is Purpose.OTHER else "",
        plan=plan.strip(),
        photo=photo,
        filed_by_id=None if by.role is Role.ARTISAN else by.id,
    )
    db.session.add(application)
    db.session.flush()
    _audit(
        by,
        "grant.applied" if by.role is Role.ARTISAN else "grant.applied_on_behalf",
        "grant_application",
        application.id,
        amount=amount,
    )
    return application


def approve(application: Application, amount: int, *, by: User) -> bool:
    """Award `amount` (≤ what she asked, ≤ what is left of the budget): taken from the budget
    by one conditional UPDATE. False if it was approved already."""
    if application.status is ApplicationStatus.APPROVED:
        return False
    if amount <= 0:
        raise GrantError(_l("Enter an amount above zero."), field="amount")
    if amount > application.amount_asked:
        raise GrantError(_l("The award cannot be more than she asked for."), field="amount")
    if not _may(APPLICATION_STATES, application, "approve", by):
        return False
    programme = application.programme
    with attempt():
        # Of two approvals at once, one moves it; then the budget is taken, or nothing is.
        moved = db.session.execute(
            sa.update(Application)
            .where(
                Application.id == application.id,
                Application.status == ApplicationStatus.SUBMITTED,
            )
            .values(
                status=ApplicationStatus.APPROVED,
                amount_awarded=amount,
                decided_by_id=by.id,
                decided_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            raise GrantError(_l("This application was decided meanwhile. Reload the page."))
        taken = db.session.execute(
            sa.update(Programme)
            .where(Programme.id == programme.id, Programme.awarded + amount <= Programme.budget)
            .values(awarded=Programme.awarded + amount)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            db.session.refresh(programme)
            raise GrantError(
                _l(
                    "Only %(left)s is left in this programme.",
                    left=format_money(programme.left, programme.currency),
                ),
                field="amount",
            )
    db.session.refresh(programme)
    db.session.refresh(application)
    _audit(by, "grant.approved", "grant_application", application.id, amount=amount)
    return True


def decline(application: Application, reason: str, *, by: User) -> bool:
    reason = reason.strip()
    if not reason:
        raise GrantError(_l("Write the reason she will read."), field="reason")
    if not _may(APPLICATION_STATES, application, "decline", by):
        return False
    moved = db.session.execute(
        sa.update(Application)
        .where(Application.id == application.id, Application.status == ApplicationStatus.SUBMITTED)
        .values(
            status=ApplicationStatus.DECLINED,
            decline_reason=reason[:500],
            decided_by_id=by.id,
            decided_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        raise GrantError(_l("This application was decided meanwhile. Reload the page."))
    db.session.refresh(application)
    _audit(by, "grant.declined", "grant_application", application.id, reason=reason)
    return True


def withdraw(application: Application, *, by: User) -> bool:
    if not _go(APPLICATION_STATES, application, "withdraw", by):
        return False
    _audit(by, "grant.withdrawn", "grant_application", application.id)
    return True


# --- instalments ------------------------------------------------------------------------------


def record_instalment(
    application: Application,
    amount: int,
    *,
    paid_on: date,
    method: PayMethod,
    reference: str = "",
    receipt: list[dict] | None = None,
    by: User,
) -> Instalment:
    """Money of her award handed to her; the instalments never add up to more than the award."""
    if application.status is not ApplicationStatus.APPROVED:
        raise GrantError(_l("Instalments are paid on approved grants only."))
    if amount <= 0:
        raise GrantError(_l("Enter an amount above zero."), field="amount")
    if paid_on > today_in_egypt():
        raise GrantError(_l("This date is in the future."), field="paid_on")
    taken = db.session.execute(
        sa.update(Application)
        .where(
            Application.id == application.id,
            Application.status == ApplicationStatus.APPROVED,
            Application.disbursed + amount <= Application.amount_awarded,
        )
        .values(disbursed=Application.disbursed + amount)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(application)
    if not taken:
        raise GrantError(
            _l(
                "Only %(left)s of the award is left to pay.",
                left=format_money(application.left_to_disburse, application.programme.currency),
            ),
            field="amount",
        )
    instalment = Instalment(
        application_id=application.id,
        amount=amount,
        paid_on=paid_on,
        method=method,
        reference=reference.strip()[:80],
        receipt=receipt,
        recorded_by_id=by.id,
    )
    db.session.add(instalment)
    db.session.flush()
    ledger.book(
        application.artisan_id,
        Account.GRANTS,
        EntryKind.INSTALMENT,
        amount,
        f"instalment:{instalment.id}",
        by=by,
        currency=application.programme.currency,
    )
    _audit(
        by,
        "grant.instalment",
        "grant_application",
        application.id,
        amount=amount,
        method=method.value,
        reference=instalment.reference,
    )
    return instalment


def confirm(instalment: Instalment, *, by: User) -> bool:
    if not _go(INSTALMENT_STATES, instalment, "confirm", by):
        return False
    instalment.answered_at = utcnow()
    _audit(by, "grant.instalment_confirmed", "grant_instalment", instalment.id)
    return True


def dispute(instalment: Instalment, note: str, *, by: User) -> bool:
    if not _go(INSTALMENT_STATES, instalment, "dispute", by):
        return False
    instalment.answered_at = utcnow()
    instalment.dispute_note = note.strip()[:500]
    _audit(by, "grant.instalment_disputed", "grant_instalment", instalment.id, note=note)
    return True


def cancel_instalment(instalment: Instalment, reason: str, *, by: User) -> bool:
    """An instalment recorded by mistake: taken off the award (its `disbursed`), its ledger
    entry reversed, the row kept with the reason. Not once she confirmed she received it.
    False if it was cancelled already."""
    reason = reason.strip()
    if not reason:
        raise GrantError(_l("Say why this instalment is a mistake."), field="reason")
    if not _may(INSTALMENT_STATES, instalment, "cancel", by):
        return False
    application = instalment.application
    with attempt():
        moved = db.session.execute(
            sa.update(Instalment)
            .where(
                Instalment.id == instalment.id,
                Instalment.status.in_([InstalmentStatus.SENT, InstalmentStatus.DISPUTED]),
            )
            .values(
                status=InstalmentStatus.CANCELLED, cancelled_at=utcnow(), cancel_reason=reason[:300]
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            raise GrantError(_l("She answered meanwhile. Reload the page."))
        db.session.execute(
            sa.update(Application)
            .where(Application.id == application.id, Application.disbursed >= instalment.amount)
            .values(disbursed=Application.disbursed - instalment.amount)
            .execution_options(synchronize_session=False)
        )
        entry = db.session.scalar(
            sa.select(LedgerEntry).where(LedgerEntry.source == f"instalment:{instalment.id}")
        )
        ledger.book_reversal(entry, by=by, reason=reason)
    db.session.refresh(instalment)
    db.session.refresh(application)
    _audit(
        by,
        "grant.instalment_cancelled",
        "grant_application",
        application.id,
        amount=instalment.amount,
        reason=reason,
    )
    return True


def needing_attention(now=None) -> sa.Select:
    """Instalments disputed, or still unanswered after ANSWER_WITHIN: oldest first."""
    now = now or utcnow()
    return (
        sa.select(Instalment)
        .where(
            sa.or_(
                Instalment.status == InstalmentStatus.DISPUTED,
                sa.and_(
                    Instalment.status == InstalmentStatus.SENT,
                    Instalment.created_at < now - ANSWER_WITHIN,
                ),
            )
        )
        .order_by(Instalment.created_at)
    )


# --- reports ---------------------------------------------------------------------------------


def add_report(
    application: Application, text: str, *, photo: list[dict] | None = None, by: User
) -> Report:
    if application.status is not ApplicationStatus.APPROVED:
        raise GrantError(_l("Reports are written on approved grants."))
    text = text.strip()
    if not text:
        raise GrantError(_l("Write a few words."), field="text")
    kind = ReportKind.UPDATE if by.role is Role.ARTISAN else ReportKind.FIELD_VISIT
    report = Report(
        application_id=application.id, kind=kind, text=text[:1000], photo=photo, author_id=by.id
    )
    db.session.add(report)
    db.session.flush()
    return report
