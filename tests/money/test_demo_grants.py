"""`flask demo` loads programmes with applications in every state, awards, instalments (one
disputed), reports, sales and a payout, all through the rules."""

from __future__ import annotations

import sqlalchemy as sa

from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import (
    Application,
    ApplicationStatus,
    Instalment,
    InstalmentStatus,
    Programme,
    Report,
    ReportKind,
)
from artisan_market.ledger import services as ledger
from artisan_market.ledger.models import EntryKind, LedgerEntry, Payout


def test_demo_grants(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "/review/grants" in result.output

    programmes = db.session.scalars(sa.select(Programme)).all()
    applications = db.session.scalars(sa.select(Application)).all()
    instalments = db.session.scalars(sa.select(Instalment)).all()
    assert len(programmes) >= 2
    assert {a.status for a in applications} == set(ApplicationStatus)
    assert {i.status for i in instalments} == set(InstalmentStatus)
    assert {r.kind for r in db.session.scalars(sa.select(Report))} == set(ReportKind)
    attention = db.session.scalars(rules.needing_attention()).all()
    assert {i.status for i in attention} == {InstalmentStatus.DISPUTED, InstalmentStatus.SENT}

    for programme in programmes:
        awarded = sum(a.amount_awarded or 0 for a in programme.applications)
        assert programme.awarded == awarded <= programme.budget
    for application in applications:
        assert application.disbursed == sum(
            i.amount for i in application.instalments if i.status is not InstalmentStatus.CANCELLED
        )

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 1
    kinds = set(db.session.scalars(sa.select(LedgerEntry.kind)))
    assert {EntryKind.SALE, EntryKind.PAYOUT, EntryKind.INSTALMENT} <= kinds
    payout = db.session.scalar(sa.select(Payout))
    figures = ledger.balances(payout.artisan_id)
    assert figures.paid == payout.amount and figures.owed > 0
