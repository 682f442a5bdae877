"""Coordinators verify artisans and review listings, inline with htmx or as plain forms."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from artisan_market.accounts.models import ArtisanProfile, VerificationStatus
from artisan_market.audit.models import AuditEvent
from artisan_market.catalog.models import ListingStatus, Product
from artisan_market.extensions import db
from artisan_market.notifications.models import Notification
from tests.conftest import Client, log_in

HTMX = {"HX-Request": "true"}


def _card(kind: str, obj_id: int) -> dict:
    return {**HTMX, "HX-Target": f"{kind}-{obj_id}"}


def test_queue_is_oldest_first_and_filters_by_governorate(
    client, login_as, make_artisan, make_product
):
    login_as("coordinator")
    aswan = make_artisan(verified=True, governorate="ASN")
    siwa = make_artisan(verified=True, governorate="MT")
    newer = make_product(artisan=aswan, status="pending", title="أحدث")
    older = make_product(artisan=siwa, status="pending", title="أقدم")
    older.submitted_at = newer.submitted_at - timedelta(days=2)
    make_product(artisan=aswan, status="live", title="معروض")
    db.session.commit()
    page = client.get("/review").get_data(as_text=True)
    assert page.index("أقدم") < page.index("أحدث")
    assert "معروض" not in page
    only_aswan = client.get("/review?governorate=ASN").get_data(as_text=True)
    assert "أحدث" in only_aswan and "أقدم" not in only_aswan
    # an unknown governorate is ignored, not an error
    assert client.get("/review?governorate=XX").status_code == 200


def test_approve_inline_with_htmx(client, login_as, make_product):
    coordinator = login_as("coordinator")
    product = make_product(status="pending")
    response = client.submit(
        f"/review/products/{product.id}/approve", headers=_card("listing", product.id)
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<article id="listing-{product.id}"')
    assert "<html" not in html
    db.session.refresh(product)
    assert product.status is ListingStatus.LIVE
    assert product.reviewed_by_id == coordinator.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "listing.approved"))
    assert event.actor_id == coordinator.id and event.after["status"] == "live"
    note = db.session.scalar(sa.select(Notification).where(Notification.kind == "listing_approved"))
    assert note.user_id == product.artisan.user_id


def test_reject_without_javascript_and_she_reads_why(client, app, login_as, make_product):
    """A plain form post: the artisan sees the reason and what to do next, in Arabic."""
    login_as("coordinator")
    product = make_product(status="pending")
    response = client.submit(
        f"/review/products/{product.id}/reject", {"reason": "photo", "note": "الصورة مظلمة"}
    )
    assert response.status_code == 303 and response.headers["Location"].startswith("/review")
    db.session.refresh(product)
    assert product.status is ListingStatus.REJECTED
    app.test_client_class = Client
    her = app.test_client()
    log_in(her, product.artisan.user)
    page = her.get(f"/studio/products/{product.id}").get_data(as_text=True)
    assert "الصورة مظلمة" in page and "ضوء النهار" in page
    badge = her.get("/").get_data(as_text=True)
    # two unread: her verification, and this decision
    assert re.search(r'class="badge-count"[^>]*>٢</span>', badge)


def test_other_needs_a_note(client, login_as, make_product):
    login_as("coordinator")
    product = make_product(status="pending")
    response = client.submit(
        f"/review/products/{product.id}/reject",
        {"reason": "other", "note": ""},
        headers=_card("listing", product.id),
    )
    assert response.status_code == 422
    db.session.refresh(product)
    assert product.status is ListingStatus.PENDING


def test_an_unverified_artisans_listing_cannot_go_live(
    client, login_as, make_artisan, make_product
):
    login_as("coordinator")
    product = make_product(artisan=make_artisan(verified=False), status="pending")
    response = client.submit(
        f"/review/products/{product.id}/approve", headers=_card("listing", product.id)
    )
    assert response.status_code == 422
    db.session.refresh(product)
    assert product.status is ListingStatus.PENDING


def test_deciding_twice_is_refused_kindly(client, login_as, make_product):
    login_as("coordinator")
    product = make_product(status="live")
    response = client.submit(
        f"/review/products/{product.id}/reject",
        {"reason": "price"},
        headers=_card("listing", product.id),
    )
    assert response.status_code == 422
    assert client.submit("/review/products/999999/approve").status_code == 404


def test_verify_an_artisan_with_the_vouching_organisation(
    client, login_as, make_artisan, make_organisation
):
    coordinator = login_as("coordinator")
    organisation = make_organisation()
    artisan = make_artisan(phone="+201012345678")
    profile = artisan.artisan_profile
    page = client.get("/review/artisans").get_data(as_text=True)
    assert "https://wa.me/201012345678" in page and "٠١٠ ١٢٣٤ ٥٦٧٨" in page
    response = client.submit(
        f"/review/artisans/{profile.id}/verify",
        {"organisation": str(organisation.id)},
        headers=_card("artisan", profile.id),
    )
    assert response.status_code == 200
    db.session.refresh(profile)
    assert profile.verification is VerificationStatus.VERIFIED
    assert profile.verified_by_id == coordinator.id and profile.organisation_id == organisation.id
    assert db.session.scalar(sa.select(AuditEvent.action)) == "artisan.verified"
    assert db.session.scalar(sa.select(Notification.kind)) == "artisan_verified"


def test_verifying_needs_an_organisation_and_declining_a_reason(
    client, login_as, make_artisan, make_organisation
):
    login_as("coordinator")
    make_organisation()
    profile = make_artisan().artisan_profile
    no_org = client.submit(
        f"/review/artisans/{profile.id}/verify", {}, headers=_card("artisan", profile.id)
    )
    assert no_org.status_code == 422
    no_reason = client.submit(
        f"/review/artisans/{profile.id}/decline",
        {"reason": "  "},
        headers=_card("artisan", profile.id),
    )
    assert no_reason.status_code == 422
    declined = client.submit(
        f"/review/artisans/{profile.id}/decline", {"reason": "لم نتمكن من الوصول إليها"}
    )
    assert declined.status_code == 303
    db.session.refresh(profile)
    assert profile.verification is VerificationStatus.DECLINED
    assert profile.decline_reason == "لم نتمكن من الوصول إليها"


def test_the_public_never_sees_review_pages(client, login_as):
    for role in ("buyer", "artisan"):
        login_as(role)
        assert client.get("/review").status_code == 403
        assert client.get("/review/artisans").status_code == 403


def test_review_page_queries_do_not_grow_with_the_queue(client, login_as, make_product):
    """No N+1: the number of SQL statements is the same for 2 and for 8 listings."""
    from tests.conftest import count_queries

    login_as("coordinator")
    for _ in range(2):
        make_product(status="pending", photos=2)
    with count_queries() as few:
        client.get("/review")
    for _ in range(6):
        make_product(status="pending", photos=2)
    with count_queries() as many:
        client.get("/review")
    assert len(many) == len(few)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 8
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ArtisanProfile)) == 8
