"""The money invariants of grants and the ledger, over random sequences of operations.

A state machine (hypothesis.stateful) applies, approves, declines and withdraws applications,
pays instalments, delivers parcels and records their cash, pays artisans out, corrects
entries, books a source again, changes the platform's fee and tries to edit the ledger, with
amounts that are often wrong (zero, too large, more than is left or owed). A plain Python
model says what each operation must do: succeed (and book exactly these entries), change
nothing (a repeat), or be refused with GrantError/LedgerError leaving nothing changed.

After every step, read back from the database:
- a programme's `awarded` is the sum of its approved awards, within its budget;
- an application's `disbursed` is the sum of its instalments, within its award;
- the ledger holds exactly the entries the model booked: each source once, nothing more;
- every balance is the plain sum of its entries, and what she is owed is never below zero
  (payouts never exceed it);
- every correction nets to zero with the entry it corrects.

Each example gets its own programme, coordinator and artisans on the test's one database, so
examples never see each other's money.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import ClassVar

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from artisan_market.accounts.models import Role
from artisan_market.audit.models import AuditEvent
from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import (
    Application,
    ApplicationStatus,
    Instalment,
    InstalmentStatus,
    Programme,
    Purpose,
)
from artisan_market.grants.rules import GrantError
from artisan_market.ledger import services as ledger
from artisan_market.ledger.models import Account, EntryKind, LedgerEntry, PayMethod, Payout
from artisan_market.ledger.services import Balances, LedgerError
from artisan_market.orders import rules as orders
from artisan_market.orders.models import OrderPart, PartStatus
from artisan_market.timeutil import today_in_egypt
from tests.grants.conftest import programme_terms, shipped_part

ARTISANS = 3
A = ApplicationStatus


def around(limit: int) -> st.SearchStrategy[int]:
    """Amounts an operation is asked for, around `limit` (what is left, owed, asked for…):
    often within it, often exactly it or one piastre over, sometimes zero, negative or far
    over."""
    return st.one_of(
        st.integers(1, max(limit, 1)),
        st.sampled_from([limit, limit + 1, 0, -1]),
        st.integers(-10, 3 * max(limit, 1) + 10),
    )


def fee_on(amount: int, basis_points: int) -> int:
    """The platform's fee, worked out here apart from the code: hundredths of a percent,
    rounded half up to the piastre."""
    whole, rest = divmod(amount * basis_points, 10_000)
    return whole + (1 if 2 * rest >= 10_000 else 0)


def refused(call, error: type[Exception]) -> Exception:
    """`call` refuses with `error` and leaves the database as it was; then, as a request
    that shows a refusal does, roll back."""
    before = snapshot()
    with pytest.raises(error) as caught:
        call()
    assert snapshot() == before, "a refusal changed something"
    db.session.rollback()
    return caught.value


def unchanged(call) -> None:
    """`call` is a repeat: it answers False and changes nothing."""
    before = snapshot()
    assert call() is False
    assert snapshot() == before
    db.session.commit()


def snapshot() -> tuple:
    """Everything money-related in the database (pending changes flushed first)."""

    def rows(*columns) -> list:
        return db.session.execute(sa.select(*columns).order_by(columns[0])).all()

    return (
        rows(Programme.id, Programme.awarded, Programme.budget),
        rows(
            Application.id,
            Application.status,
            Application.amount_awarded,
            Application.disbursed,
            Application.decline_reason,
        ),
        rows(Instalment.id, Instalment.amount, Instalment.status),
        rows(LedgerEntry.id, LedgerEntry.source, LedgerEntry.amount, LedgerEntry.reverses_id),
        rows(Payout.id, Payout.amount),
        rows(OrderPart.id, OrderPart.status, OrderPart.cash_collected_at),
        db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
        ledger.fee_basis_points(),
    )


class Money(RuleBasedStateMachine):
    """One programme, one coordinator and ARTISANS artisans, and a model of their money."""

    fixtures: ClassVar[SimpleNamespace]  # the test's make_user and make_artisan

    def __init__(self) -> None:
        super().__init__()
        db.session.rollback()
        self.coordinator = self.fixtures.make_user(Role.COORDINATOR)
        self.users = [
            self.fixtures.make_artisan(verified=True, verified_by=self.coordinator)
            for _ in range(ARTISANS)
        ]
        self.profiles = [user.artisan_profile for user in self.users]
        self.profile_ids = [profile.id for profile in self.profiles]
        self.programme: Programme | None = None
        self.applications: dict[int, Application] = {}  # by artisan (index)
        self.parts: list[OrderPart] = []  # delivered
        # The model: the ledger entries of these artisans by source, the applications' state.
        # source → (artisan_id, account, kind, amount, order_part_id)
        self.entries: dict[str, tuple[int, Account, EntryKind, int, int | None]] = {}
        self.state: dict[int, dict] = {}  # application id → status, asked, awarded, disbursed
        # instalment id → (application id, amount, cancelled)
        self.instalments: dict[int, list] = {}
        self.awarded = 0
        # The fee is the whole platform's: each example starts from none, as the first did.
        ledger.set_fee(0, by=self.coordinator)
        db.session.commit()
        self.fee = 0

    def teardown(self) -> None:
        db.session.rollback()

    # --- the model's sums ----------------------------------------------------------------

    def total(self, artisan_id: int, account: Account) -> int:
        return sum(
            amount
            for who, entry_account, _kind, amount, _part in self.entries.values()
            if who == artisan_id and entry_account is account
        )

    def book(self, source, artisan_id, account, kind, amount, part_id=None) -> None:
        assert source not in self.entries
        self.entries[source] = (artisan_id, account, kind, amount, part_id)

    def our_entries(self) -> list[LedgerEntry]:
        return db.session.scalars(
            sa.select(LedgerEntry)
            .where(LedgerEntry.artisan_id.in_(self.profile_ids))
            .order_by(LedgerEntry.id)
        ).all()

    # --- a programme ---------------------------------------------------------------------

    @initialize(
        budget=st.integers(1, 300_000),
        largest=st.integers(1, 300_000),
        items=st.lists(st.integers(1, 200_000), min_size=ARTISANS, max_size=ARTISANS),
        data=st.data(),
    )
    def set_up(self, budget: int, largest: int, items: list[int], data) -> None:
        """A programme; two of the artisans have applied to it (the third may, later), and a
        parcel of each was delivered (its cash recorded, or not yet): so that most examples
        get to award, to pay instalments, to pay her out and to pass her cash on."""
        largest = min(largest, budget)
        self.programme = rules.create_programme(
            programme_terms(budget, largest), by=self.coordinator
        )
        db.session.commit()
        for who in (0, 1):
            self.apply(who, data, data.draw(st.integers(1, largest), label="asked"))
        # The first is awarded, and a first instalment paid: without them, random steps
        # rarely reached instalments at all (one example in fifty).
        first = self.applications[0]
        state = self.state[first.id]
        award = data.draw(st.integers(1, state["asked"]), label="first award")
        assert rules.approve(first, award, by=self.coordinator) is True
        db.session.commit()
        state.update(status=A.APPROVED, awarded=award)
        self.awarded += award
        paid = data.draw(st.integers(1, award), label="first instalment")
        instalment = rules.record_instalment(
            first, paid, paid_on=today_in_egypt(), method=PayMethod.CASH, by=self.coordinator
        )
        db.session.commit()
        state["disbursed"] += paid
        self.instalments[instalment.id] = [first.id, paid, False]
        self.book(
            f"instalment:{instalment.id}",
            first.artisan_id,
            Account.GRANTS,
            EntryKind.INSTALMENT,
            paid,
        )
        for who, items_total in enumerate(items):
            self.deliver(who, items_total)
            if data.draw(st.booleans(), label="its cash recorded"):
                self.record_cash(data, self.parts[-1])

    # --- applications --------------------------------------------------------------------

    @rule(who=st.integers(0, ARTISANS - 1), data=st.data())
    def apply(self, who: int, data, amount: int | None = None) -> None:
        largest = self.programme.largest_award
        if amount is None:
            amount = data.draw(around(largest), label="amount")

        def call():
            return rules.apply(
                self.programme,
                self.profiles[who],
                amount=amount,
                purpose=Purpose.TOOLS,
                plan="نول جديد",
                by=self.users[who],
            )

        if who in self.applications or not 0 < amount <= largest:
            refused(call, GrantError)
            return
        application = call()
        db.session.commit()
        self.applications[who] = application
        self.state[application.id] = {
            "status": A.SUBMITTED,
            "asked": amount,
            "awarded": None,
            "disbursed": 0,
        }

    def pick(self, data) -> tuple[Application, dict]:
        who = data.draw(st.sampled_from(sorted(self.applications)), label="application of")
        application = self.applications[who]
        return application, self.state[application.id]

    @precondition(lambda self: self.applications)
    @rule(data=st.data())
    def approve(self, data) -> None:
        application, state = self.pick(data)
        left = self.programme.budget - self.awarded
        amount = data.draw(
            st.one_of(around(state["asked"]), around(left)),
            label="award",
        )

        def call():
            return rules.approve(application, amount, by=self.coordinator)

        if state["status"] is A.APPROVED:
            unchanged(call)
        elif state["status"] is not A.SUBMITTED or not 0 < amount <= state["asked"]:
            refused(call, GrantError)
        elif amount > left:
            error = refused(call, GrantError)
            with force_locale("en"):
                assert str(error.message).startswith("Only "), str(error.message)
                assert "is left" in str(error.message)
        else:
            assert call() is True
            db.session.commit()
            state.update(status=A.APPROVED, awarded=amount)
            self.awarded += amount

    @rule(data=st.data())
    def change_budget(self, data) -> None:
        """A smaller (or larger) budget: never below what is awarded already."""
        budget = data.draw(around(self.awarded), label="budget")
        largest = min(self.programme.largest_award, max(budget, 1))
        terms = programme_terms(budget, largest)

        def call():
            return rules.change_programme(self.programme, terms, by=self.coordinator)

        if budget <= 0 or budget < self.awarded:
            refused(call, GrantError)
            return
        call()
        db.session.commit()

    @precondition(lambda self: self.applications)
    @rule(data=st.data(), reason=st.sampled_from(["الميزانية لا تكفي", "  "]))
    def decline(self, data, reason: str) -> None:
        application, state = self.pick(data)

        def call():
            return rules.decline(application, reason, by=self.coordinator)

        if not reason.strip() or state["status"] in (A.APPROVED, A.WITHDRAWN):
            refused(call, GrantError)
        elif state["status"] is A.DECLINED:
            unchanged(call)
        else:
            assert call() is True
            db.session.commit()
            state["status"] = A.DECLINED

    @precondition(lambda self: self.applications)
    @rule(data=st.data())
    def withdraw(self, data) -> None:
        application, state = self.pick(data)
        her = self.users[self.profile_ids.index(application.artisan_id)]

        def call():
            return rules.withdraw(application, by=her)

        if state["status"] is A.WITHDRAWN:
            unchanged(call)
        elif state["status"] is not A.SUBMITTED:
            refused(call, GrantError)
        else:
            assert call() is True
            db.session.commit()
            state["status"] = A.WITHDRAWN

    @precondition(lambda self: self.applications)
    @rule(data=st.data(), future=st.sampled_from([False, False, False, True]))
    def instalment(self, data, future: bool) -> None:
        approved = sorted(w for w, a in self.applications.items() if self.state[a.id]["awarded"])
        if approved and data.draw(st.booleans(), label="on an award"):
            application = self.applications[data.draw(st.sampled_from(approved), label="of")]
            state = self.state[application.id]
        else:
            application, state = self.pick(data)
        left = (state["awarded"] or 0) - state["disbursed"]
        amount = data.draw(around(left), label="instalment")
        paid_on = today_in_egypt()
        if future:
            paid_on = paid_on.replace(year=paid_on.year + 1)

        def call():
            return rules.record_instalment(
                application,
                amount,
                paid_on=paid_on,
                method=PayMethod.MOBILE_WALLET,
                by=self.coordinator,
            )

        if state["status"] is not A.APPROVED or amount <= 0 or future or amount > left:
            refused(call, GrantError)
            return
        instalment = call()
        db.session.commit()
        state["disbursed"] += amount
        self.instalments[instalment.id] = [application.id, amount, False]
        self.book(
            f"instalment:{instalment.id}",
            application.artisan_id,
            Account.GRANTS,
            EntryKind.INSTALMENT,
            amount,
        )

    @precondition(lambda self: self.instalments)
    @rule(data=st.data(), reason=st.sampled_from(["سُجلت مرتين", "سُجلت مرتين", "  "]))
    def cancel_instalment(self, data, reason: str) -> None:
        """An instalment recorded by mistake goes back off the award, its entry reversed."""
        ident = data.draw(st.sampled_from(sorted(self.instalments)), label="instalment")
        application_id, amount, cancelled = self.instalments[ident]
        instalment = db.session.get(Instalment, ident)

        def call():
            return rules.cancel_instalment(instalment, reason, by=self.coordinator)

        if not reason.strip():
            refused(call, GrantError)
            return
        if cancelled:
            unchanged(call)
            return
        assert call() is True
        db.session.commit()
        self.instalments[ident][2] = True
        self.state[application_id]["disbursed"] -= amount
        entry = db.session.scalar(
            sa.select(LedgerEntry).where(LedgerEntry.source == f"instalment:{ident}")
        )
        self.book(
            f"reversal:{entry.id}", entry.artisan_id, Account.GRANTS, EntryKind.REVERSAL, -amount
        )

    # --- the ledger ----------------------------------------------------------------------

    @rule(who=st.integers(0, ARTISANS - 1), items_total=st.integers(1, 200_000))
    def deliver(self, who: int, items_total: int) -> None:
        """A parcel of hers delivered: her pieces, less the fee in force now."""
        part = shipped_part(self.profiles[who], items_total)
        db.session.commit()
        assert orders.deliver(part, by=self.coordinator) is True
        db.session.commit()
        self.parts.append(part)
        artisan_id = self.profile_ids[who]
        self.book(
            f"sale:part:{part.id}",
            artisan_id,
            Account.EARNINGS,
            EntryKind.SALE,
            items_total,
            part.id,
        )
        fee = fee_on(items_total, self.fee)
        if fee:
            self.book(
                f"fee:part:{part.id}", artisan_id, Account.EARNINGS, EntryKind.FEE, -fee, part.id
            )

    @precondition(lambda self: self.parts)
    @rule(data=st.data())
    def deliver_again(self, data) -> None:
        part = data.draw(st.sampled_from(self.parts), label="part")
        unchanged(lambda: orders.deliver(part, by=self.coordinator))

    @precondition(lambda self: self.parts)
    @rule(data=st.data())
    def record_cash(self, data, part: OrderPart | None = None) -> None:
        """The parcel's cash reached the coalition: her share of it is held for her, once."""
        if part is None:
            part = data.draw(st.sampled_from(self.parts), label="part")
        source = f"cash:part:{part.id}"

        def call():
            return orders.record_cash(part, by=self.coordinator)

        if part.cash_collected_at is not None:
            unchanged(call)
            return
        share = sum(
            amount
            for _who, account, _kind, amount, part_id in self.entries.values()
            if part_id == part.id and account is Account.EARNINGS
        )
        assert call() is True
        db.session.commit()
        if share > 0:
            self.book(
                source, part.artisan_id, Account.CASH, EntryKind.CASH_COLLECTED, share, part.id
            )

    @rule(who=st.integers(0, ARTISANS - 1), data=st.data())
    def pay_out(self, who: int, data) -> None:
        profile, artisan_id = self.profiles[who], self.profile_ids[who]
        owed = self.total(artisan_id, Account.EARNINGS)
        held = self.total(artisan_id, Account.CASH)
        amount = data.draw(around(owed), label="payout")

        def call():
            return ledger.pay_out(
                profile,
                amount,
                method=PayMethod.INSTAPAY,
                paid_on=today_in_egypt(),
                by=self.coordinator,
            )

        if not 0 < amount <= owed:
            refused(call, LedgerError)
            return
        payout = call()
        db.session.commit()
        self.book(f"payout:{payout.id}", artisan_id, Account.EARNINGS, EntryKind.PAYOUT, -amount)
        if held > 0:
            self.book(
                f"payout:{payout.id}:cash",
                artisan_id,
                Account.CASH,
                EntryKind.CASH_PASSED,
                -min(held, amount),
            )

    @precondition(lambda self: self.entries)
    @rule(data=st.data(), reason=st.sampled_from(["مبلغ خاطئ", "مبلغ خاطئ", "مبلغ خاطئ", " "]))
    def reverse(self, data, reason: str) -> None:
        entry = data.draw(st.sampled_from(self.our_entries()), label="entry")
        source = f"reversal:{entry.id}"

        def call():
            return ledger.reverse(entry, by=self.coordinator, reason=reason)

        if (
            not reason.strip()
            or entry.kind is EntryKind.REVERSAL
            or entry.kind not in ledger.CORRECTABLE
            or source in self.entries
            or (entry.amount > 0 and self.total(entry.artisan_id, entry.account) < entry.amount)
        ):
            refused(call, LedgerError)
            return
        reversal = call()
        db.session.commit()
        assert reversal.source == source
        self.book(
            source,
            entry.artisan_id,
            entry.account,
            EntryKind.REVERSAL,
            -entry.amount,
            entry.order_part_id,
        )
        if entry.kind is EntryKind.PAYOUT and f"{entry.source}:cash" in self.entries:
            # A payout that did not happen passed no cash to her either.
            cash = db.session.scalar(
                sa.select(LedgerEntry).where(LedgerEntry.source == f"{entry.source}:cash")
            )
            self.book(
                f"reversal:{cash.id}",
                cash.artisan_id,
                Account.CASH,
                EntryKind.REVERSAL,
                -cash.amount,
            )

    @rule(basis_points=st.one_of(st.integers(-20, 5_020), st.sampled_from([0, 5_000, 5_001, -1])))
    def change_fee(self, basis_points: int) -> None:

        def call():
            return ledger.set_fee(basis_points, by=self.coordinator)

        if not 0 <= basis_points <= 5_000:
            refused(call, LedgerError)
            return
        call()
        db.session.commit()
        self.fee = basis_points

    @precondition(lambda self: self.entries)
    @rule(data=st.data(), amount=st.integers(1, 100_000))
    def book_again(self, data, amount: int) -> None:
        """A source booked already is not booked again, whatever the amount."""
        entry = data.draw(st.sampled_from(self.our_entries()), label="entry")
        before = snapshot()
        again = ledger.book(
            entry.artisan_id, entry.account, entry.kind, amount, entry.source, by=self.coordinator
        )
        assert again is None
        assert snapshot() == before
        db.session.commit()

    @precondition(lambda self: self.entries)
    @rule(data=st.data())
    def tamper(self, data) -> None:
        """The database itself refuses to change or remove an entry."""
        entry = data.draw(st.sampled_from(self.our_entries()), label="entry")
        before = snapshot()
        for statement in (
            sa.update(LedgerEntry)
            .where(LedgerEntry.id == entry.id)
            .values(amount=LedgerEntry.amount + 1),
            sa.delete(LedgerEntry).where(LedgerEntry.id == entry.id),
        ):
            with (
                pytest.raises(sa.exc.DatabaseError, match="append-only"),
                db.session.begin_nested(),  # undone when the database refuses
            ):
                db.session.execute(statement.execution_options(synchronize_session=False))
        assert snapshot() == before
        db.session.commit()

    # --- what must hold after every step -------------------------------------------------

    @invariant()
    def awards_within_budget(self) -> None:
        if self.programme is None:
            return
        programme = db.session.get(Programme, self.programme.id)
        applications = db.session.scalars(
            sa.select(Application).where(Application.programme_id == programme.id)
        ).all()
        approved = sum(a.amount_awarded for a in applications if a.status is A.APPROVED)
        assert programme.awarded == approved == self.awarded
        assert 0 <= programme.awarded <= programme.budget
        for application in applications:
            state = self.state[application.id]
            assert application.status is state["status"]
            assert application.amount_awarded == state["awarded"]
            assert (application.amount_awarded is not None) == (application.status is A.APPROVED)
            paid = db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Instalment.amount), 0)).where(
                    Instalment.application_id == application.id,
                    Instalment.status != InstalmentStatus.CANCELLED,
                )
            )
            assert application.disbursed == paid == state["disbursed"]
            assert application.disbursed <= (application.amount_awarded or 0)

    @invariant()
    def ledger_adds_up(self) -> None:
        entries = self.our_entries()
        # Exactly what the model booked: every source once, nothing more, nothing missing.
        assert {
            e.source: (e.artisan_id, e.account, e.kind, e.amount, e.order_part_id) for e in entries
        } == self.entries
        by_id = {e.id: e for e in entries}
        for entry in entries:
            if entry.reverses_id is None:
                assert entry.kind is not EntryKind.REVERSAL
                continue
            original = by_id[entry.reverses_id]
            assert entry.kind is EntryKind.REVERSAL
            assert entry.source == f"reversal:{original.id}"
            assert (entry.artisan_id, entry.account) == (original.artisan_id, original.account)
            assert entry.amount + original.amount == 0

        def kind(entry: LedgerEntry) -> EntryKind:  # a correction counts as what it corrects
            return by_id[entry.reverses_id].kind if entry.reverses_id else entry.kind

        for artisan_id in self.profile_ids:
            hers = [e for e in entries if e.artisan_id == artisan_id]
            earnings = [e for e in hers if e.account is Account.EARNINGS]
            summed = Balances(
                earned=sum(e.amount for e in earnings if kind(e) is not EntryKind.PAYOUT),
                paid=-sum(e.amount for e in earnings if kind(e) is EntryKind.PAYOUT),
                cash=sum(e.amount for e in hers if e.account is Account.CASH),
                grants=sum(e.amount for e in hers if e.account is Account.GRANTS),
            )
            balances = ledger.balances(artisan_id)
            assert balances == summed
            assert balances.owed == ledger.account_total(artisan_id, Account.EARNINGS)
            # Paid out never more than she earned.
            assert balances.owed >= 0
            assert balances.paid <= balances.earned
            # The coalition never holds less than nothing of her buyers' cash.
            assert balances.cash >= 0
            # Every payout row is booked once, for its amount (a correction aside).
            payouts = db.session.scalars(sa.select(Payout).where(Payout.artisan_id == artisan_id))
            for payout in payouts:
                booked = [e for e in hers if e.source == f"payout:{payout.id}"]
                assert [(e.kind, e.amount) for e in booked] == [(EntryKind.PAYOUT, -payout.amount)]

    @invariant()
    def parts_delivered(self) -> None:
        for part in self.parts:
            assert part.status is PartStatus.DELIVERED


def test_money_invariants_hold_over_random_operations(app, make_user, make_artisan):
    Money.fixtures = SimpleNamespace(make_user=make_user, make_artisan=make_artisan)
    run_state_machine_as_test(
        Money,
        settings=settings(
            max_examples=50,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# --- the same guarantees, one example each ---------------------------------------------------


def test_the_ledger_refuses_update_and_delete(app, make_profile):
    profile = make_profile()
    ledger.book(profile.id, Account.EARNINGS, EntryKind.SALE, 10_000, "sale:test")
    db.session.commit()
    entry = db.session.scalars(sa.select(LedgerEntry)).one()
    entry.amount = 1
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(entry)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.execute(sa.select(LedgerEntry.source, LedgerEntry.amount)).all() == [
        ("sale:test", 10_000)
    ]


def test_a_source_is_booked_once(app, make_profile):
    profile = make_profile()
    first = ledger.book(profile.id, Account.EARNINGS, EntryKind.SALE, 10_000, "sale:once")
    again = ledger.book(profile.id, Account.EARNINGS, EntryKind.SALE, 99_999, "sale:once")
    db.session.commit()
    assert first is not None and again is None
    assert ledger.balances(profile.id) == Balances(earned=10_000, paid=0, cash=0, grants=0)


def test_a_payout_is_never_more_than_she_is_owed(app, make_profile, coordinator):
    profile = make_profile()
    part = shipped_part(profile, 30_000)
    orders.deliver(part, by=coordinator)
    db.session.commit()

    def pay(amount: int):
        return ledger.pay_out(
            profile, amount, method=PayMethod.CASH, paid_on=today_in_egypt(), by=coordinator
        )

    pay(20_000)
    db.session.commit()
    error = refused(lambda: pay(10_001), LedgerError)
    with force_locale("en"):
        assert "She is owed" in str(error.message)
    pay(10_000)
    db.session.commit()
    assert ledger.balances(profile.id) == Balances(earned=30_000, paid=30_000, cash=0, grants=0)


def test_cash_passed_to_her_cannot_be_corrected_away(app, make_profile, coordinator):
    """Her buyers' cash, recorded and then passed to her with a payout, is no longer held:
    a correction of the recording would leave the coalition holding less than nothing."""
    profile = make_profile()
    part = shipped_part(profile, 10_000)
    orders.deliver(part, by=coordinator)
    orders.record_cash(part, by=coordinator)
    ledger.pay_out(profile, 10_000, method=PayMethod.CASH, paid_on=today_in_egypt(), by=coordinator)
    db.session.commit()
    assert ledger.balances(profile.id) == Balances(earned=10_000, paid=10_000, cash=0, grants=0)
    collected = db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.source == f"cash:part:{part.id}")
    ).one()

    refused(lambda: ledger.reverse(collected, by=coordinator, reason="لم يصل"), LedgerError)

    assert ledger.balances(profile.id).cash == 0
