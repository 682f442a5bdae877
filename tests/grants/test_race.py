"""Races for money, in separate processes as separate servers would be: coordinators
approving more awards at once than a budget holds, and paying an artisan out at once more
than she is owed.

There are no grant or payout pages yet, so each process calls the rules the way a request
would: its own app, one transaction per action, committed when the rule says yes and rolled
back when it refuses. Outside a request every transaction is a writing one (see
`artisan_market.database`): on SQLite it begins IMMEDIATE, so the processes take turns at the
write lock (waiting up to its busy timeout) instead of failing with "database is locked";
on PostgreSQL they meet at the conditional UPDATE of the budget and at the lock on her
profile row.
"""

from __future__ import annotations

import multiprocessing
import traceback

import sqlalchemy as sa
from flask_babel import force_locale

from artisan_market.accounts.models import Role
from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import Application, ApplicationStatus, Programme, Purpose
from artisan_market.ledger import services as ledger
from artisan_market.ledger.models import Account, LedgerEntry, PayMethod, Payout
from artisan_market.orders import rules as orders
from artisan_market.rules import RuleError
from artisan_market.timeutil import today_in_egypt
from tests.conftest import TEST_SECRET
from tests.grants.conftest import shipped_part

COORDINATORS = 10
AWARD = 10_000
FITS = 4  # awards the budget holds
BUDGET = FITS * AWARD + AWARD // 2


def _app(url: str, instance: str):
    from artisan_market import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "INSTANCE_PATH": instance,
            "JOBS_IMMEDIATE": True,
        }
    )


def _child(name: str, *args) -> None:
    """A process's body (`name`, a function of this module); whatever goes wrong is put on the
    queue, so the test reads it instead of waiting for an answer that never comes."""
    answers = args[-1]
    try:
        globals()[name](*args)
    except BaseException:
        answers.put(("crashed", traceback.format_exc()))
        raise


def _act(app, barrier, answers, action) -> None:
    """What a request does: one transaction for the action, begun only once every process is
    ready (on SQLite a transaction holds the write lock from its first statement), committed
    when the rule says yes, rolled back when it refuses. The answer: ("done", result) or
    ("refused", the message in English)."""
    with app.app_context():
        barrier.wait(timeout=240)
        try:
            result = action()
        except RuleError as refusal:
            db.session.rollback()
            with force_locale("en"):
                answer = ("refused", str(refusal.message))
        else:
            db.session.commit()
            answer = ("done", result)
        finally:
            db.session.remove()
            db.engine.dispose()
        answers.put(answer)


def _approver(url, instance, coordinator_id, application_id, amount, barrier, answers) -> None:
    from artisan_market.accounts.models import User

    def approve():
        application = db.session.get(Application, application_id)
        return rules.approve(application, amount, by=db.session.get(User, coordinator_id))

    _act(_app(url, instance), barrier, answers, approve)


def _payer(url, instance, coordinator_id, profile_id, amount, barrier, answers) -> None:
    from artisan_market.accounts.models import ArtisanProfile, User

    def pay():
        payout = ledger.pay_out(
            db.session.get(ArtisanProfile, profile_id),
            amount,
            method=PayMethod.MOBILE_WALLET,
            paid_on=today_in_egypt(),
            by=db.session.get(User, coordinator_id),
        )
        return payout.amount

    _act(_app(url, instance), barrier, answers, pay)


def _corrector(url, instance, coordinator_id, entry_id, _amount, barrier, answers) -> None:
    from artisan_market.accounts.models import User

    def correct():
        entry = db.session.get(LedgerEntry, entry_id)
        reversal = ledger.reverse(entry, by=db.session.get(User, coordinator_id), reason="سُجّل خطأً")
        return reversal.amount

    _act(_app(url, instance), barrier, answers, correct)


def _run_all(jobs: list[tuple], answers) -> list:
    """Start one process per (function, arguments…); their answers (read before joining them:
    a process does not end until what it put on the queue is taken)."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_child, args=(target.__name__, *args)) for target, *args in jobs
    ]
    for process in processes:
        process.start()
    results = [answers.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    crashes = [text for kind, text in results if kind == "crashed"]
    assert [p.exitcode for p in processes] == [0] * len(processes), crashes
    return results


def _url() -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_ten_coordinators_approve_at_once_within_the_budget(
    app, make_user, make_profile, make_programme, tmp_path
):
    programme = make_programme(budget=BUDGET, largest_award=AWARD)
    coordinators = [make_user(Role.COORDINATOR) for _ in range(COORDINATORS)]
    applications = [
        rules.apply(
            programme,
            make_profile(),
            amount=AWARD,
            purpose=Purpose.LOOM,
            plan="نول جديد",
            by=coordinators[0],
        )
        for _ in range(COORDINATORS)
    ]
    db.session.commit()
    context = multiprocessing.get_context("spawn")
    barrier, answers = context.Barrier(COORDINATORS), context.Queue()
    url, instance = _url(), str(tmp_path)
    jobs = [
        (_approver, url, instance, coordinator.id, application.id, AWARD, barrier, answers)
        for coordinator, application in zip(coordinators, applications, strict=True)
    ]
    db.session.commit()  # this process holds no transaction (on SQLite, no lock) meanwhile

    results = _run_all(jobs, answers)

    assert sorted(kind for kind, _ in results) == ["done"] * FITS + ["refused"] * (
        COORDINATORS - FITS
    ), results
    assert all(result is True for kind, result in results if kind == "done")
    for kind, message in results:
        if kind == "refused":
            assert message.startswith("Only ") and message.endswith(" is left in this programme.")
    db.session.expire_all()
    programme = db.session.get(Programme, programme.id)
    awards = db.session.scalars(
        sa.select(Application.amount_awarded).where(
            Application.programme_id == programme.id,
            Application.status == ApplicationStatus.APPROVED,
        )
    ).all()
    assert awards == [AWARD] * FITS
    assert programme.awarded == sum(awards) == FITS * AWARD <= programme.budget
    still_waiting = db.session.scalar(
        sa.select(sa.func.count()).where(Application.status == ApplicationStatus.SUBMITTED)
    )
    assert still_waiting == COORDINATORS - FITS  # a refused approval left it as it was


def test_coordinators_approving_the_same_application_award_it_once(
    app, make_user, make_profile, make_programme, tmp_path
):
    programme = make_programme(budget=BUDGET, largest_award=AWARD)
    coordinators = [make_user(Role.COORDINATOR) for _ in range(4)]
    application = rules.apply(
        programme,
        make_profile(),
        amount=AWARD,
        purpose=Purpose.KILN,
        plan="فرن",
        by=coordinators[0],
    )
    db.session.commit()
    context = multiprocessing.get_context("spawn")
    barrier, answers = context.Barrier(len(coordinators)), context.Queue()
    url, instance = _url(), str(tmp_path)
    jobs = [
        (_approver, url, instance, c.id, application.id, AWARD - n, barrier, answers)
        for n, c in enumerate(coordinators)
    ]
    db.session.commit()

    results = _run_all(jobs, answers)

    # One approves it; the others find it approved already (False), or decided meanwhile.
    assert [r for r in results if r == ("done", True)] == [("done", True)], results
    for kind, result in results:
        assert (kind, result) in {("done", True), ("done", False)} or result.startswith(
            "This application was decided meanwhile"
        ), result
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    programme = db.session.get(Programme, programme.id)
    assert application.status is ApplicationStatus.APPROVED
    assert programme.awarded == application.amount_awarded


PAYERS = 5
OWED = 100_000
PAYOUT = 30_000  # three fit in what she is owed, a fourth does not


def _owed_her(make_profile, coordinator):
    """An artisan owed OWED: a delivered parcel, no fee."""
    profile = make_profile()
    part = shipped_part(profile, OWED)
    orders.deliver(part, by=coordinator)
    db.session.commit()
    assert ledger.balances(profile.id).owed == OWED
    return profile


def test_coordinators_paying_her_at_once_never_pay_more_than_she_is_owed(
    app, make_user, make_profile, coordinator, tmp_path
):
    profile = _owed_her(make_profile, coordinator)
    payers = [make_user(Role.COORDINATOR) for _ in range(PAYERS)]
    context = multiprocessing.get_context("spawn")
    barrier, answers = context.Barrier(PAYERS), context.Queue()
    url, instance = _url(), str(tmp_path)
    jobs = [(_payer, url, instance, c.id, profile.id, PAYOUT, barrier, answers) for c in payers]
    db.session.commit()

    results = _run_all(jobs, answers)

    fits = OWED // PAYOUT
    assert sorted(kind for kind, _ in results) == ["done"] * fits + ["refused"] * (PAYERS - fits), (
        results
    )
    for kind, message in results:
        if kind == "refused":
            assert message.startswith("She is owed"), message
    db.session.expire_all()
    paid = db.session.scalars(sa.select(Payout.amount).where(Payout.artisan_id == profile.id))
    assert sum(paid) == fits * PAYOUT <= OWED
    balances = ledger.balances(profile.id)
    assert (balances.paid, balances.owed) == (fits * PAYOUT, OWED - fits * PAYOUT)
    assert balances.owed == ledger.account_total(profile.id, Account.EARNINGS) >= 0


def test_a_correction_racing_payouts_never_leaves_her_owing(
    app, make_user, make_profile, coordinator, tmp_path
):
    """Her sale corrected away while coordinators pay her for it: either the correction comes
    first and no payout is made, or a payout comes first and the correction is refused."""
    profile = _owed_her(make_profile, coordinator)
    sale = db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.artisan_id == profile.id)
    ).one()
    people = [make_user(Role.COORDINATOR) for _ in range(PAYERS)]
    context = multiprocessing.get_context("spawn")
    barrier, answers = context.Barrier(PAYERS), context.Queue()
    url, instance = _url(), str(tmp_path)
    jobs = [(_corrector, url, instance, people[0].id, sale.id, 0, barrier, answers)] + [
        (_payer, url, instance, c.id, profile.id, PAYOUT, barrier, answers) for c in people[1:]
    ]
    db.session.commit()

    results = _run_all(jobs, answers)

    done = sorted(result for kind, result in results if kind == "done")
    assert done in ([-OWED], [PAYOUT] * (OWED // PAYOUT)), results
    db.session.expire_all()
    balances = ledger.balances(profile.id)
    assert balances.owed >= 0
    assert balances.paid == sum(r for r in done if r > 0) <= balances.earned
