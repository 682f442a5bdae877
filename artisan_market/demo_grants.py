"""Demo microgrants for `flask demo`: three programmes, applications in every state, awards,
instalments (one disputed, one not answered for a week, one cancelled as a mistake), reports
and a payout.

Everything goes through the grant and ledger rules (budgets, counters, ledger entries and
audit entries are real); then the times of applications, decisions and instalments are moved
back, so the coordinators' "to look into" list and the impact figures have a history.
The ledger's own entries keep the time they were written: it is append-only.
"""

from __future__ import annotations

from datetime import timedelta

from artisan_market.accounts.models import Organisation, User
from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import FunderKind, Programme, Purpose
from artisan_market.ledger import services as ledger
from artisan_market.ledger.models import PayMethod
from artisan_market.timeutil import today_in_egypt, utcnow

POUND = 100


def _programme(coordinator: User, **terms) -> Programme:
    return rules.create_programme(rules.ProgrammeTerms(**terms), by=coordinator)


def load(users: dict[str, User], organisations: dict[str, Organisation]) -> None:
    coordinator = users["01000000001"]
    fatima, amina = users["01000000003"], users["01000000004"]
    today = today_in_egypt()
    now = utcnow()

    tools = _programme(
        coordinator,
        name_ar="منح الأنوال والأفران",
        name_en="Looms and kilns",
        funder=organisations["ASN"].name_ar,
        funder_kind=FunderKind.MEMBER,
        organisation_id=organisations["ASN"].id,
        budget=50_000 * POUND,
        largest_award=5_000 * POUND,
        opens_on=today - timedelta(days=120),
        closes_on=today + timedelta(days=45),
        governorates=[],
        crafts=[],
    )
    materials = _programme(
        coordinator,
        name_ar="صندوق الخامات",
        name_en="Materials fund",
        funder="صندوق دعم الحرف اليدوية",
        funder_kind=FunderKind.DONOR,
        budget=20_000 * POUND,
        largest_award=2_000 * POUND,
        opens_on=today - timedelta(days=150),
        closes_on=today + timedelta(days=1),
        governorates=["ASN", "MT", "FYM", "SHG"],
        crafts=[],
    )
    training = _programme(
        coordinator,
        name_ar="تدريب على التسويق",
        name_en="Marketing training",
        funder=organisations["MT"].name_ar,
        funder_kind=FunderKind.MEMBER,
        organisation_id=organisations["MT"].id,
        budget=10_000 * POUND,
        largest_award=1_000 * POUND,
        opens_on=today - timedelta(days=20),
        closes_on=today + timedelta(days=60),
        governorates=[],
        crafts=[],
    )

    # Fatima: a bigger loom, approved, paid in two instalments: one received, one disputed.
    loom = rules.apply(
        tools,
        fatima.artisan_profile,
        amount=4_500 * POUND,
        purpose=Purpose.LOOM,
        plan="نول أعرض لأنسج سلالًا وأطباقًا أكبر، وأعلّم ابنتي عليه.",
        by=fatima,
    )
    rules.approve(loom, 4_000 * POUND, by=coordinator)
    first = rules.record_instalment(
        loom,
        2_500 * POUND,
        paid_on=today - timedelta(days=80),
        method=PayMethod.MOBILE_WALLET,
        reference="VC-20260915-118",
        by=coordinator,
    )
    rules.confirm(first, by=fatima)
    second = rules.record_instalment(
        loom,
        1_500 * POUND,
        paid_on=today - timedelta(days=12),
        method=PayMethod.CASH,
        by=coordinator,
    )
    rules.dispute(second, "استلمت ألف جنيه فقط، لا ألفًا وخمسمئة.", by=fatima)
    rules.add_report(loom, "اشتريت النول وبدأت أول طبق كبير. بعت ثلاثة منها في السوق.", by=fatima)
    rules.add_report(
        loom,
        "زيارة: النول في البيت ويعمل، وتعمل عليه مع ابنتها ثلاث ساعات يوميًا.",
        by=coordinator,
    )

    # Amina: waiting for a decision on a sewing machine.
    rules.apply(
        tools,
        amina.artisan_profile,
        amount=3_000 * POUND,
        purpose=Purpose.SEWING_MACHINE,
        plan="ماكينة خياطة للأطراف، والتطريز يبقى باليد.",
        by=amina,
    )
    # Amina: materials, approved; one instalment she has not answered for a week.
    threads = rules.apply(
        materials,
        amina.artisan_profile,
        amount=2_000 * POUND,
        purpose=Purpose.MATERIALS,
        plan="خيوط حرير وخرز لفساتين العرس قبل الموسم.",
        by=amina,
    )
    rules.approve(threads, 1_500 * POUND, by=coordinator)
    unanswered = rules.record_instalment(
        threads,
        1_000 * POUND,
        paid_on=today - timedelta(days=8),
        method=PayMethod.INSTAPAY,
        reference="IP-7781",
        by=coordinator,
    )
    # The same instalment typed in twice: the second is cancelled, with the reason.
    twice = rules.record_instalment(
        threads,
        500 * POUND,
        paid_on=today - timedelta(days=8),
        method=PayMethod.INSTAPAY,
        reference="IP-7781",
        by=coordinator,
    )
    rules.cancel_instalment(twice, "سُجلت مرتين: هي نفس دفعة IP-7781.", by=coordinator)
    # Fatima: materials, declined with a reason she reads.
    declined = rules.apply(
        materials,
        fatima.artisan_profile,
        amount=2_000 * POUND,
        purpose=Purpose.OTHER,
        purpose_other="عربة لنقل السلال",
        plan="عربة صغيرة أنقل بها السلال إلى السوق.",
        by=fatima,
    )
    rules.decline(declined, "الصندوق للخامات فقط؛ قدّمي للعربة في برنامج الأدوات.", by=coordinator)
    # Fatima: a training she withdrew from.
    withdrawn = rules.apply(
        training,
        fatima.artisan_profile,
        amount=800 * POUND,
        purpose=Purpose.TRAINING,
        plan="دورة تصوير المنتجات بالهاتف.",
        by=fatima,
    )
    rules.withdraw(withdrawn, by=fatima)
    db.session.flush()

    # Back in time: applications and decisions months ago, instalments on their day.
    for application, applied, decided in (
        (loom, 100, 95),
        (threads, 70, 60),
        (declined, 65, 58),
        (withdrawn, 10, 5),
    ):
        application.created_at = now - timedelta(days=applied)
        if application.decided_at is not None:
            application.decided_at = now - timedelta(days=decided)
    first.created_at, first.answered_at = now - timedelta(days=80), now - timedelta(days=78)
    second.created_at, second.answered_at = now - timedelta(days=12), now - timedelta(days=10)
    unanswered.created_at = now - timedelta(days=8)

    # Her sales delivered so far are owed to her: half of it was paid to Fatima.
    owed = ledger.balances(fatima.artisan_profile.id).owed
    if owed > 0:
        ledger.pay_out(
            fatima.artisan_profile,
            owed // 2 // POUND * POUND or owed,
            method=PayMethod.MOBILE_WALLET,
            paid_on=today - timedelta(days=3),
            reference="VC-20261201-052",
            by=coordinator,
        )
    db.session.flush()
