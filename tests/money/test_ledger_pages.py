"""Her money through the pages: a delivered parcel is earned (less the fee), cash is held
for her, a coordinator pays her never more than owed, a mistake is corrected by reversal."""

from __future__ import annotations

import sqlalchemy as sa

from artisan_market.accounts.models import Role
from artisan_market.extensions import db
from artisan_market.ledger import services as ledger
from artisan_market.ledger.models import EntryKind, LedgerEntry, Payout
from artisan_market.orders.models import OrderPart
from tests.money.conftest import once_key
from tests.orders.conftest import add, place


def _delivered_part(client, as_user, artisan, coordinator, make_product, price=40_000):
    """A buyer orders two of her pieces cash on delivery; she accepts, ships, delivers."""
    product = make_product(artisan=artisan, status="live", price=price, stock=5)
    with client.session_transaction() as session:
        session.clear()
    add(client, product, 2)
    assert place(client).status_code == 303
    part = db.session.scalar(sa.select(OrderPart).order_by(OrderPart.id.desc()))
    as_user(artisan)
    for move in ("accept", "ship", "deliver"):
        answer = client.submit(f"/parts/{part.id}/{move}", page=f"/parts/{part.id}")
        assert answer.status_code == 303, move
    return part


def test_a_delivered_parcel_is_earned_and_paid_out_never_above_owed(
    client, as_user, artisan, coordinator, make_product, make_user
):
    admin = make_user(Role.ADMIN)
    as_user(admin)
    assert client.submit("/admin/fee", {"percent": "٢٫٥"}, page="/admin/fee").status_code == 303
    assert ledger.fee_basis_points() == 250

    part = _delivered_part(client, as_user, artisan, coordinator, make_product)
    profile = artisan.artisan_profile
    figures = ledger.balances(profile.id)
    assert figures.earned == 80_000 - 2_000  # two pieces at 400 EGP, less 2.5 %
    assert figures.owed == 78_000

    mine = client.get("/studio/money").get_data(as_text=True)
    assert "٧٨٠" in mine  # owed, in her digits
    assert "Platform fee" in mine or "عمولة" in mine

    # The courier's cash comes in: held for her.
    as_user(coordinator)
    assert client.submit(f"/parts/{part.id}/cash", page=f"/parts/{part.id}").status_code == 303
    assert ledger.balances(profile.id).cash == 78_000

    page_url = f"/review/artisans/{profile.id}/money"
    page = client.get(page_url).get_data(as_text=True)
    too_much = client.submit(
        f"/review/artisans/{profile.id}/payouts",
        {"amount": "٨٠٠", "paid_on": "2026-12-02", "method": "cash", "once": once_key(page)},
        page=page_url,
    )
    assert too_much.status_code == 422
    html = too_much.get_data(as_text=True)
    assert 'value="٨٠٠"' in html and 'class="errors"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 0

    payout = {
        "amount": "٥٠٠",
        "paid_on": "2026-12-02",
        "method": "mobile_wallet",
        "reference": "VC-123",
        "once": once_key(page),
    }
    for _ in range(2):  # the same form sent twice: one payout
        answer = client.submit(f"/review/artisans/{profile.id}/payouts", payout, page=page_url)
        assert answer.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 1
    figures = ledger.balances(profile.id)
    assert (figures.earned, figures.paid, figures.owed, figures.cash) == (
        78_000,
        50_000,
        28_000,
        28_000,
    )

    # The payout was a mistake: a reversal puts it right; the payout row stays.
    entry = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.kind == EntryKind.PAYOUT))
    assert (
        client.submit(
            f"/review/ledger/{entry.id}/reverse", {"reason": "سُجل مرتين"}, page=page_url
        ).status_code
        == 303
    )
    figures = ledger.balances(profile.id)
    assert (figures.paid, figures.owed, figures.cash) == (0, 78_000, 78_000)
    again = client.submit(f"/review/ledger/{entry.id}/reverse", {"reason": "x"}, page=page_url)
    assert again.status_code == 303
    assert ledger.balances(profile.id).owed == 78_000  # not twice

    # Every movement of her money left an audit entry, whoever made it.
    from artisan_market.audit.models import AuditEvent

    actions = list(db.session.scalars(sa.select(AuditEvent.action)))
    for action in ("ledger.fee_changed", "ledger.sale", "order.cash_collected", "ledger.payout"):
        assert action in actions, action
    assert actions.count("ledger.reversed") == 1

    total = db.session.scalar(
        sa.select(sa.func.sum(LedgerEntry.amount)).where(
            LedgerEntry.artisan_id == profile.id, LedgerEntry.account == "earnings"
        )
    )
    assert total == ledger.balances(profile.id).owed


def test_the_ledger_refuses_changes(app, artisan):
    from artisan_market.ledger.models import Account

    entry = ledger.book(artisan.artisan_profile.id, Account.EARNINGS, EntryKind.SALE, 100, "sale:x")
    assert (
        ledger.book(artisan.artisan_profile.id, Account.EARNINGS, EntryKind.SALE, 100, "sale:x")
        is None
    )
    db.session.commit()
    for statement in (
        sa.update(LedgerEntry).where(LedgerEntry.id == entry.id).values(amount=1),
        sa.delete(LedgerEntry).where(LedgerEntry.id == entry.id),
    ):
        try:
            db.session.execute(statement)
            db.session.flush()
        except sa.exc.DBAPIError as refused:
            assert "append-only" in str(refused)
            db.session.rollback()
        else:
            raise AssertionError(f"the ledger let {statement} through")
    assert db.session.get(LedgerEntry, entry.id).amount == 100


def test_a_fee_that_is_not_a_percentage_gets_the_form_back(client, as_user, make_user):
    as_user(make_user(Role.ADMIN))
    for typed in ("٦٠", "-1", "كثير", "2.555"):
        answer = client.submit("/admin/fee", {"percent": typed}, page="/admin/fee")
        assert answer.status_code == 422, typed
        assert f'value="{typed}"' in answer.get_data(as_text=True)
    assert ledger.fee_basis_points() == 0
