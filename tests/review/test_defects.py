"""Defects an outside tester found in the review pages (redirects, pager, organisations,
counts), kept as tests so they cannot come back; each failed on the code it was found in."""

from __future__ import annotations

import pytest

from artisan_market.accounts.models import Organisation, VerificationStatus
from artisan_market.extensions import db
from artisan_market.review import views as review_views
from tests.test_defects_web import parse_html

HTMX = {"HX-Request": "true"}
KNOWN = "governorate=ASN&page=2"
BAD_PARAMS = ["_method=DELETE", "_scheme=https", "_external=1", "_scheme=https&_external=1"]
DECISIONS = ["approve", "reject", "verify", "decline"]


def _decision(kind: str, make_product, make_artisan, make_organisation) -> tuple[str, dict]:
    if kind in ("approve", "reject"):
        product = make_product(status="pending")
        data = {"reason": "photo", "note": ""} if kind == "reject" else {}
        return f"/review/products/{product.id}/{kind}", data
    profile = make_artisan().artisan_profile
    if kind == "verify":
        return f"/review/artisans/{profile.id}/verify", {
            "organisation": str(make_organisation().id)
        }
    return f"/review/artisans/{profile.id}/decline", {"reason": "لم نصل إليها"}


# --- 8. The query string of a decision never reaches url_for as it is ----------------------


@pytest.mark.parametrize("bad", BAD_PARAMS)
@pytest.mark.parametrize("kind", DECISIONS)
def test_decision_redirect_ignores_url_for_arguments(
    client, login_as, make_product, make_artisan, make_organisation, kind, bad
):
    """After a plain (non-htmx) decision with ?_method=, ?_scheme= or ?_external= in the
    address, is the answer a redirect to a relative /review address without them, keeping
    governorate and page (never a 500)?"""
    login_as("coordinator")
    url, data = _decision(kind, make_product, make_artisan, make_organisation)
    response = client.submit(f"{url}?{KNOWN}&{bad}", data)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/review"), location
    for word in ("_method", "_scheme", "_external", "https://", "http://"):
        assert word not in location, location
    assert "governorate=ASN" in location and "page=2" in location, location


@pytest.mark.parametrize("queue", ["/review", "/review/artisans"])
@pytest.mark.parametrize("page", [1, 2])
def test_review_pager_renders(
    client, login_as, make_product, make_artisan, monkeypatch, queue, page
):
    """(Found while writing these tests.) Does a queue of several pages render its pager,
    on the first page and on the last, with Previous and Next links? The pager's
    `{% set _ = … %}` hides gettext's `_`, so the page is a 500 today."""
    monkeypatch.setattr(review_views, "PAGE_SIZE", 1)
    login_as("coordinator")
    for _ in range(2):
        make_product(artisan=make_artisan(verified=True), status="pending")
        make_artisan()
    response = client.get(f"{queue}?page={page}&lang=en")
    assert response.status_code == 200
    nav = parse_html(response.get_data(as_text=True)).find("nav", class_="pager")
    assert nav is not None, "no pager"
    assert ("Next" if page == 1 else "Previous") in nav.text()


@pytest.mark.parametrize("queue", ["/review", "/review/artisans"])
def test_review_pager_ignores_url_for_arguments(
    client, login_as, make_product, make_artisan, monkeypatch, queue
):
    """On a queue of several pages opened with ?_external=1, are the pager's links relative
    /review addresses without "_external", keeping the governorate?"""
    monkeypatch.setattr(review_views, "PAGE_SIZE", 1)
    login_as("coordinator")
    for _ in range(2):
        make_product(artisan=make_artisan(verified=True), status="pending")
        make_artisan()
    response = client.get(f"{queue}?_external=1&governorate=ASN")
    assert response.status_code == 200
    nav = parse_html(response.get_data(as_text=True)).find("nav", class_="pager")
    assert nav is not None, "no pager"
    links = [a.attrs["href"] for a in nav.find_all("a")]
    assert links, "no link in the pager"
    for href in links:
        assert href.startswith(queue + "?"), href
        assert "_external" not in href and "governorate=ASN" in href, href


# --- 19d. The organisations offered are those of her governorate ---------------------------


def test_verify_form_offers_the_organisations_of_her_governorate(
    client, login_as, make_artisan, make_organisation
):
    """For an artisan from Aswan, does the verify form list Aswan's organisation and not
    Cairo's?"""
    login_as("coordinator")
    aswan = make_organisation(name_ar="جمعية أسوان")
    cairo = Organisation(name_ar="جمعية القاهرة", name_en="Cairo association", governorate="C")
    db.session.add(cairo)
    db.session.commit()
    profile = make_artisan(governorate="ASN").artisan_profile
    response = client.get("/review/artisans")
    tree = parse_html(response.get_data(as_text=True))
    card = tree.find("article", id=f"artisan-{profile.id}")
    select = card.find("select", name="organisation")
    assert select is not None
    options = {o.attrs.get("value"): " ".join(o.text().split()) for o in select.find_all("option")}
    assert str(aswan.id) in options and aswan.name_ar in options[str(aswan.id)]
    assert str(cairo.id) not in options, options
    assert "جمعية القاهرة" not in " ".join(options.values())


# --- 19f. No approve button while the artisan is not verified ------------------------------


def test_no_approve_button_for_an_unverified_artisan(client, login_as, make_artisan, make_product):
    """For a listing waiting whose artisan is not verified, does the review queue offer no
    Approve button, and say she must be verified first?"""
    login_as("coordinator")
    artisan = make_artisan(verified=True)
    product = make_product(artisan=artisan, status="pending")
    artisan.artisan_profile.verification = VerificationStatus.PENDING
    db.session.commit()
    response = client.get("/review?lang=en")
    tree = parse_html(response.get_data(as_text=True))
    card = tree.find("article", id=f"listing-{product.id}")
    assert card is not None
    approve = f"/review/products/{product.id}/approve"
    forms = [
        f
        for f in card.find_all("form")
        if approve in (f.attrs.get("action", ""), f.attrs.get("hx-post", ""))
    ]
    assert forms == [], "an Approve button that can only be refused"
    assert "verified" in card.text().lower()


# --- 19h. The counts follow an htmx decision ----------------------------------------------


def _oob_targets(html: str) -> dict[str, str]:
    """{id the out-of-band swap replaces: its text} in an htmx answer."""
    targets = {}
    for element in parse_html(html).iter():
        swap = element.attrs.get("hx-swap-oob")
        if swap is None:
            continue
        selector = swap.split(":", 1)[1] if ":" in swap else ""
        target = selector[1:] if selector.startswith("#") else element.attrs.get("id", "")
        targets[target] = " ".join(element.text().split())
    return targets


def test_htmx_approval_updates_the_pending_count(client, login_as, make_product):
    """With two listings waiting, does an htmx approval also swap out of band the element
    showing the queue's count, so it says ١ (one left)?"""
    login_as("coordinator")
    first = make_product(status="pending")
    make_product(status="pending")
    queue = parse_html(client.get("/review").get_data(as_text=True))
    response = client.submit(
        f"/review/products/{first.id}/approve",
        headers={**HTMX, "HX-Target": f"listing-{first.id}"},
        page="/review",
    )
    assert response.status_code == 200
    targets = _oob_targets(response.get_data(as_text=True))
    assert targets, "no out-of-band swap in the answer"
    counts = {t: text for t, text in targets.items() if t and queue.find(id=t) is not None}
    assert counts, f"no swap aims at an element of the queue page: {targets}"
    assert any("٢" in " ".join(queue.find(id=t).text().split()) for t in counts)
    assert any("١" in text for text in counts.values()), counts


def test_htmx_verification_updates_the_pending_count(
    client, login_as, make_artisan, make_organisation
):
    """With two artisans waiting, does an htmx verification also swap out of band the
    element showing the queue's count, so it says ١ (one left)?"""
    login_as("coordinator")
    organisation = make_organisation()
    first = make_artisan().artisan_profile
    make_artisan()
    queue = parse_html(client.get("/review/artisans").get_data(as_text=True))
    response = client.submit(
        f"/review/artisans/{first.id}/verify",
        {"organisation": str(organisation.id)},
        headers={**HTMX, "HX-Target": f"artisan-{first.id}"},
        page="/review/artisans",
    )
    assert response.status_code == 200
    targets = _oob_targets(response.get_data(as_text=True))
    assert targets, "no out-of-band swap in the answer"
    counts = {t: text for t, text in targets.items() if t and queue.find(id=t) is not None}
    assert counts, f"no swap aims at an element of the queue page: {targets}"
    assert any("١" in text for text in counts.values()), counts
