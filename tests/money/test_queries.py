"""Grant and money pages ask the same few queries however many applications, instalments or
entries there are (no query per row)."""

from __future__ import annotations

from datetime import timedelta

from artisan_market.extensions import db
from artisan_market.grants import rules
from artisan_market.grants.models import Purpose
from artisan_market.ledger import services as ledger
from artisan_market.ledger.models import Account, EntryKind, PayMethod
from artisan_market.timeutil import today_in_egypt
from tests.conftest import count_queries


def _grow(artisan, coordinator, make_programme, n: int) -> None:
    """n more programmes she was awarded, each with two instalments and a report, and n
    sales in her ledger."""
    profile = artisan.artisan_profile
    for _ in range(n):
        programme = make_programme()
        application = rules.apply(
            programme, profile, amount=100_000, purpose=Purpose.TOOLS, plan="أدوات", by=artisan
        )
        rules.approve(application, 100_000, by=coordinator)
        for amount in (30_000, 20_000):
            rules.record_instalment(
                application,
                amount,
                paid_on=today_in_egypt() - timedelta(days=1),
                method=PayMethod.CASH,
                by=coordinator,
            )
        rules.add_report(application, "تقدم", by=artisan)
        ledger.book(
            profile.id, Account.EARNINGS, EntryKind.SALE, 5_000, f"sale:test:{application.id}"
        )
    db.session.commit()


def _counts(client, paths) -> list[int]:
    counts = []
    for path in paths:
        with count_queries() as statements:
            assert client.get(path).status_code == 200, path
        counts.append(len(statements))
    return counts


def test_pages_ask_the_same_queries_for_one_or_many(
    client, as_user, artisan, coordinator, make_programme
):
    profile_id = artisan.artisan_profile.id
    her_pages = ["/studio/grants", "/studio/money"]
    staff_pages = ["/review/grants", f"/review/artisans/{profile_id}/money"]

    _grow(artisan, coordinator, make_programme, 1)
    as_user(artisan)
    her_few = _counts(client, her_pages)
    as_user(coordinator)
    staff_few = _counts(client, staff_pages)

    _grow(artisan, coordinator, make_programme, 5)
    as_user(artisan)
    her_many = _counts(client, her_pages)
    as_user(coordinator)
    staff_many = _counts(client, staff_pages)

    assert her_many == her_few, (her_few, her_many)
    assert staff_many == staff_few, (staff_few, staff_many)
    assert max(her_few + staff_few) <= 12, (her_few, staff_few)
