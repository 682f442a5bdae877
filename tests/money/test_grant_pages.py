"""An artisan applies from her phone, a coordinator approves and pays an instalment, she
confirms it; the bad input of issue 10 gets its message and the form back."""

from __future__ import annotations

import sqlalchemy as sa

from artisan_market.audit.models import AuditEvent
from artisan_market.extensions import db
from artisan_market.grants.models import (
    Application,
    ApplicationStatus,
    Instalment,
    InstalmentStatus,
    ReportKind,
)
from artisan_market.ledger import services as ledger
from tests.conftest import small_jpeg
from tests.money.conftest import once_key


def _apply(client, programme, **changes):
    page = client.get(f"/studio/grants/apply/{programme.id}")
    assert page.status_code == 200
    data = {
        "amount": "٢٬٥٠٠",
        "purpose": "loom",
        "purpose_other": "",
        "plan": "أشتري نولاً أكبر لأنسج كليمًا أعرض.",
        "once": once_key(page.get_data(as_text=True)),
        **changes,
    }
    return client.submit(f"/studio/grants/apply/{programme.id}", data, page="/studio/grants")


def test_she_applies_is_approved_paid_and_confirms(
    client, as_user, artisan, coordinator, make_programme
):
    programme = make_programme()
    as_user(artisan)
    listing = client.get("/studio/grants").get_data(as_text=True)
    assert "منح النول" in listing

    from io import BytesIO

    response = _apply(client, programme, photo=(BytesIO(small_jpeg()), "نول.jpg"))
    assert response.status_code == 303
    application = db.session.scalar(sa.select(Application))
    assert application.amount_asked == 250_000
    assert application.status is ApplicationStatus.SUBMITTED
    assert application.photo and application.filed_by_id is None

    as_user(coordinator)
    page = client.get(f"/review/grants/applications/{application.id}")
    assert page.status_code == 200 and "أشتري نولاً" in page.get_data(as_text=True)
    too_much = client.submit(
        f"/review/grants/applications/{application.id}/approve",
        {"amount": "٣٠٠٠"},
        page=f"/review/grants/applications/{application.id}",
    )
    assert too_much.status_code == 422
    assert "more than she asked" in too_much.get_data(as_text=True) or "طلبت" in (
        too_much.get_data(as_text=True)
    )
    approved = client.submit(
        f"/review/grants/applications/{application.id}/approve",
        {"amount": "٢٠٠٠"},
        page=f"/review/grants/applications/{application.id}",
    )
    assert approved.status_code == 303
    db.session.refresh(application)
    db.session.refresh(programme)
    assert application.amount_awarded == 200_000 and programme.awarded == 200_000

    page = client.get(f"/review/grants/applications/{application.id}").get_data(as_text=True)
    instalment = {
        "amount": "١٥٠٠",
        "paid_on": "2026-12-01",
        "method": "mobile_wallet",
        "reference": "VC-٧٧٨٨",
        "once": once_key(page),
    }
    url = f"/review/grants/applications/{application.id}/instalments"
    first = client.submit(url, instalment, page=f"/review/grants/applications/{application.id}")
    again = client.submit(url, instalment, page=f"/review/grants/applications/{application.id}")
    assert first.status_code == again.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instalment)) == 1
    over = client.submit(
        url,
        {**instalment, "amount": "٦٠٠", "once": once_key(page) + "x"},
        page=f"/review/grants/applications/{application.id}",
    )
    assert over.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instalment)) == 1

    as_user(artisan)
    mine = client.get("/studio/grants").get_data(as_text=True)
    assert "Did this money reach you?" in mine or "هل وصلك" in mine
    sent = db.session.scalar(sa.select(Instalment))
    assert (
        client.submit(
            f"/studio/grants/instalments/{sent.id}/confirm", page="/studio/grants"
        ).status_code
        == 303
    )
    db.session.refresh(sent)
    assert sent.status is InstalmentStatus.CONFIRMED
    assert ledger.balances(artisan.artisan_profile.id).grants == 150_000

    report = client.get("/studio/grants").get_data(as_text=True)
    assert (
        client.submit(
            f"/grants/applications/{application.id}/report",
            {"text": "اشتريت النول وبدأت أول كليم.", "once": once_key(report)},
            page="/studio/grants",
        ).status_code
        == 303
    )
    assert application.reports[0].kind is ReportKind.UPDATE

    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {
        "grant.applied",
        "grant.approved",
        "grant.instalment",
        "grant.instalment_confirmed",
    } <= (actions)


def test_a_disputed_instalment_stands_out(client, as_user, artisan, coordinator, make_application):
    from artisan_market.grants import rules
    from artisan_market.grants.models import Purpose
    from artisan_market.ledger.models import PayMethod
    from artisan_market.timeutil import today_in_egypt

    application = make_application(Purpose.KILN, "فرن")
    rules.approve(application, 100_000, by=coordinator)
    instalment = rules.record_instalment(
        application, 50_000, paid_on=today_in_egypt(), method=PayMethod.CASH, by=coordinator
    )
    db.session.commit()
    as_user(artisan)
    assert (
        client.submit(
            f"/studio/grants/instalments/{instalment.id}/dispute",
            {"note": "لم يصلني شيء"},
            page="/studio/grants",
        ).status_code
        == 303
    )
    as_user(coordinator)
    page = client.get("/review/grants").get_data(as_text=True)
    assert "لم يصلني شيء" in page


def test_bad_amounts_get_the_form_back_with_what_she_typed(
    client, as_user, artisan, make_programme
):
    programme = make_programme(largest=300_000)
    as_user(artisan)
    for amount in ("0", "-5", "12.345", "كثير", "٥٠٠٠"):
        response = _apply(client, programme, amount=amount)
        assert response.status_code == 422, amount
        html = response.get_data(as_text=True)
        assert 'class="errors"' in html
        assert f'value="{amount}"' in html
        assert "أشتري نولاً أكبر" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0


def test_upside_down_dates_and_a_budget_too_big_are_refused(client, as_user, coordinator):
    as_user(coordinator)
    page = client.get("/review/grants/new").get_data(as_text=True)
    too_big = client.submit(
        "/review/grants/new",
        {
            "name_ar": "منح كبيرة",
            "name_en": "Big grants",
            "funder": "جمعية",
            "funder_kind": "member",
            "budget": "٣٠٬٠٠٠٬٠٠٠",
            "largest_award": "٢٠٠٠",
            "opens_on": "2026-12-01",
            "closes_on": "2026-12-31",
            "once": once_key(page),
        },
        page="/review/grants/new",
    )
    assert too_big.status_code == 422
    assert 'value="٣٠٬٠٠٠٬٠٠٠"' in too_big.get_data(as_text=True)
    response = client.submit(
        "/review/grants/new",
        {
            "name_ar": "منح الفخار",
            "name_en": "Pottery grants",
            "funder": "جمعية",
            "funder_kind": "member",
            "budget": "١٠٠٠٠",
            "largest_award": "٢٠٠٠",
            "opens_on": "2026-12-31",
            "closes_on": "2026-12-01",
            "once": once_key(page),
        },
        page="/review/grants/new",
    )
    assert response.status_code == 422
    assert "منح الفخار" in response.get_data(as_text=True)


def test_a_declined_application_has_no_instalment(
    client, as_user, artisan, coordinator, make_application
):
    from artisan_market.grants.models import Purpose

    application = make_application(Purpose.TOOLS, "أدوات")
    db.session.commit()
    as_user(coordinator)
    url = f"/review/grants/applications/{application.id}"
    assert client.submit(f"{url}/decline", {"reason": ""}, page=url).status_code == 422
    assert (
        client.submit(
            f"{url}/decline", {"reason": "الميزانية لهذا العام للنول فقط"}, page=url
        ).status_code
        == 303
    )
    refused = client.submit(
        f"{url}/instalments",
        {"amount": "100", "paid_on": "2026-12-01", "method": "cash", "once": "k" * 30},
        page=url,
    )
    assert refused.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Instalment)) == 0
    as_user(artisan)
    assert "الميزانية لهذا العام للنول فقط" in client.get("/studio/grants").get_data(as_text=True)


def test_someone_elses_grant_is_not_found(
    client, as_user, artisan, coordinator, make_artisan, make_user, make_application
):
    from artisan_market.accounts.models import Role
    from artisan_market.grants.models import Purpose

    application = make_application(Purpose.TOOLS, "أدوات")
    db.session.commit()
    other_coordinator = make_user(Role.COORDINATOR)
    as_user(other_coordinator)
    url = f"/review/grants/applications/{application.id}"
    assert client.get(url).status_code == 404
    assert client.submit(f"{url}/approve", {"amount": "100"}).status_code == 404
    assert client.get(f"/review/artisans/{artisan.artisan_profile.id}/money").status_code == 404
    other = make_artisan(verified=True)
    as_user(other)
    assert (
        client.submit(f"/grants/applications/{application.id}/report", {"text": "x"}).status_code
        == 404
    )


def test_an_instalment_recorded_by_mistake_is_cancelled(
    client, as_user, artisan, coordinator, make_application
):
    from artisan_market.grants import rules
    from artisan_market.grants.models import Purpose
    from artisan_market.ledger.models import EntryKind, LedgerEntry, PayMethod
    from artisan_market.timeutil import today_in_egypt

    application = make_application(Purpose.KILN, "فرن")
    rules.approve(application, 100_000, by=coordinator)
    wrong = rules.record_instalment(
        application, 90_000, paid_on=today_in_egypt(), method=PayMethod.CASH, by=coordinator
    )
    db.session.commit()
    as_user(coordinator)
    page = f"/review/grants/applications/{application.id}"
    url = f"/review/grants/instalments/{wrong.id}/cancel"
    assert client.submit(url, {"reason": ""}, page=page).status_code == 303
    db.session.refresh(wrong)
    assert wrong.status is InstalmentStatus.SENT  # no reason, nothing done
    for _ in range(2):  # the second is a no-op
        assert client.submit(url, {"reason": "كُتب ٩٠٠ بدل ٤٠٠"}, page=page).status_code == 303
    db.session.refresh(wrong)
    db.session.refresh(application)
    assert wrong.status is InstalmentStatus.CANCELLED and wrong.cancel_reason
    assert application.disbursed == 0
    assert ledger.balances(artisan.artisan_profile.id).grants == 0
    reversal = db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.kind == EntryKind.REVERSAL)
    )
    assert reversal.amount == -90_000 and reversal.note == "كُتب ٩٠٠ بدل ٤٠٠"
    # The whole award can be paid again; a confirmed instalment cannot be cancelled.
    right = rules.record_instalment(
        application, 100_000, paid_on=today_in_egypt(), method=PayMethod.CASH, by=coordinator
    )
    rules.confirm(right, by=artisan)
    db.session.commit()
    assert (
        client.submit(
            f"/review/grants/instalments/{right.id}/cancel", {"reason": "خطأ"}, page=page
        ).status_code
        == 303
    )
    db.session.refresh(right)
    assert right.status is InstalmentStatus.CONFIRMED
    assert ledger.balances(artisan.artisan_profile.id).grants == 100_000
    as_user(artisan)
    assert "recorded by mistake" in client.get("/studio/grants").get_data(as_text=True) or (
        "سُجلت بالخطأ" in client.get("/studio/grants").get_data(as_text=True)
    )


def test_she_withdraws_while_no_one_has_decided(
    client, as_user, artisan, coordinator, make_application
):
    from artisan_market.grants.models import Purpose

    application = make_application(Purpose.TOOLS, "أدوات")
    db.session.commit()
    as_user(artisan)
    url = f"/studio/grants/{application.id}/withdraw"
    assert client.submit(url, page="/studio/grants").status_code == 303
    db.session.refresh(application)
    assert application.status is ApplicationStatus.WITHDRAWN
    # Withdrawn, it cannot be approved.
    as_user(coordinator)
    page = f"/review/grants/applications/{application.id}"
    assert client.submit(f"{page}/approve", {"amount": "100"}, page=page).status_code == 422
    db.session.refresh(application)
    assert application.status is ApplicationStatus.WITHDRAWN and application.programme.awarded == 0
