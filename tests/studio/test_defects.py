"""Defects an outside tester found in the studio (photos, prices, titles, deleting, sending),
kept as tests so they cannot come back; each failed on the code it was found in."""

from __future__ import annotations

import io
import logging

import pytest
import sqlalchemy as sa

from artisan_market.catalog.models import ListingStatus, Product
from artisan_market.extensions import db
from tests.conftest import small_jpeg
from tests.studio.test_studio import _details
from tests.test_defects_web import parse_html

PHOTO = small_jpeg(colour=(120, 60, 30))


def _new_draft(client, data: bytes = PHOTO) -> Product:
    """A draft made through the studio: its photo uploaded at /studio/products/new."""
    response = client.submit(
        "/studio/products/new",
        {"photos": [(io.BytesIO(data), "photo.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.status_code
    return db.session.scalar(sa.select(Product).order_by(Product.id.desc()))


def _keys(product: Product) -> list[str]:
    return [d["key"] for photo in product.photos for d in photo.derivatives]


def _status(client, url: str) -> int:
    response = client.get(url)
    try:
        return response.status_code
    finally:
        response.close()


# --- 1. The same photo on two drafts -------------------------------------------------------


def test_deleting_a_draft_keeps_the_files_another_draft_uses(client, login_as):
    """When the same photo was uploaded to drafts A and B, does deleting draft B leave every
    file of A served (200); and does deleting A, the last one using them, remove them (404)?"""
    login_as("artisan", verified=True)
    a = _new_draft(client)
    b = _new_draft(client)
    a_keys = _keys(a)
    # the same bytes, but each photo has files of its own
    assert a_keys and set(a_keys).isdisjoint(_keys(b))
    deleted = client.submit(f"/studio/products/{b.id}/delete", page=f"/studio/products/{b.id}")
    assert deleted.status_code == 303
    assert {key: _status(client, f"/media/{key}") for key in a_keys} == dict.fromkeys(a_keys, 200)

    client.submit(f"/studio/products/{a.id}/delete", page=f"/studio/products/{a.id}")
    assert {key: _status(client, f"/media/{key}") for key in a_keys} == dict.fromkeys(a_keys, 404)


def test_deleting_a_photo_keeps_the_files_another_draft_uses(client, login_as):
    """When the same photo was uploaded to drafts A and B, does deleting B's photo leave
    every file of A served (200); and does deleting A's photo, the last use, remove them?"""
    login_as("artisan", verified=True)
    a = _new_draft(client)
    b = _new_draft(client)
    a_keys = _keys(a)
    assert a_keys and set(a_keys).isdisjoint(_keys(b))
    b_photo, a_photo = b.photos[0].id, a.photos[0].id
    removed = client.submit(f"/studio/products/{b.id}/photos/{b_photo}/delete")
    assert removed.status_code == 303
    assert {key: _status(client, f"/media/{key}") for key in a_keys} == dict.fromkeys(a_keys, 200)

    client.submit(f"/studio/products/{a.id}/photos/{a_photo}/delete")
    assert {key: _status(client, f"/media/{key}") for key in a_keys} == dict.fromkeys(a_keys, 404)


# --- 9. Bidirectional controls in a title ----------------------------------------------------


def test_bidi_override_is_removed_from_a_title(client, login_as):
    """Is a right-to-left override in a listing's title removed when she saves it, so
    "حصيرة \\u202Egnp.exe" is stored as "حصيرة gnp.exe"?"""
    artisan = login_as("artisan", verified=True)
    product = _new_draft(client)
    url = f"/studio/products/{product.id}"
    response = client.submit(url, {**_details(title="حصيرة \u202egnp.exe"), "action": "save"})
    assert response.status_code == 303
    db.session.refresh(product)
    assert product.title == "حصيرة gnp.exe"
    assert artisan.artisan_profile.id == product.artisan_id


@pytest.mark.parametrize(
    "control",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_every_bidi_embedding_override_and_isolate_is_removed(client, login_as, control):
    """Is each embedding, override and isolate control (U+202A–U+202E, U+2066–U+2069)
    removed from the text of a listing form?"""
    login_as("artisan", verified=True)
    product = _new_draft(client)
    url = f"/studio/products/{product.id}"
    data = _details(title=f"سلة{control} خوص", materials=f"خوص{control}")
    assert client.submit(url, {**data, "action": "save"}).status_code == 303
    db.session.refresh(product)
    assert product.title == "سلة خوص"
    assert product.materials == "خوص"


# --- 10. A truncated photo ---------------------------------------------------------------


def test_a_truncated_photo_is_refused_without_a_traceback(client, login_as, caplog):
    """Is a JPEG cut in half refused (422, with a message) with at most one log line about
    it, and no traceback in the log?"""
    login_as("artisan", verified=True)
    token = client.csrf_token("/studio/products/new")
    truncated = PHOTO[: len(PHOTO) // 2]
    caplog.set_level(logging.INFO)
    caplog.clear()
    response = client.post(
        "/studio/products/new",
        data={"csrf_token": token, "photos": [(io.BytesIO(truncated), "cut.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    tree = parse_html(response.get_data(as_text=True))
    errors = tree.find(id="photos-error")
    assert errors is not None and "cut.jpg" in errors.text()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0
    assert [r for r in caplog.records if r.exc_info] == []
    assert "Traceback" not in caplog.text
    ours = [r for r in caplog.records if r.name.startswith("artisan_market")]
    assert len(ours) <= 1, [r.getMessage() for r in ours]
    assert all("\n" not in r.getMessage() for r in ours)


# --- 19a. Prices with a decimal comma ------------------------------------------------------


@pytest.mark.parametrize("typed", ["١٢٥،٥٠", "125,50"])
def test_a_price_with_a_decimal_comma(client, login_as, typed):
    """Is a price typed with a decimal comma (١٢٥،٥٠ with the Arabic comma, or 125,50) taken
    as 125.50 pounds, while 1,250 is still 1250 pounds?"""
    login_as("artisan", verified=True)
    product = _new_draft(client)
    url = f"/studio/products/{product.id}"
    assert client.submit(url, {**_details(price="1,250"), "action": "save"}).status_code == 303
    db.session.refresh(product)
    assert product.price == 125000
    response = client.submit(url, {**_details(price=typed), "action": "save"})
    assert response.status_code == 303
    db.session.refresh(product)
    assert product.price == 12550


@pytest.mark.parametrize(("locale", "example"), [("en", "125.50"), ("ar", "١٢٥٫٥٠")])
def test_a_bad_price_shows_an_example_with_piastres(client, login_as, locale, example):
    """Does the message for a price that is not one (abc) show an example with piastres
    (125.50 in English, ١٢٥٫٥٠ in Arabic)?"""
    artisan = login_as("artisan", verified=True)
    artisan.locale = locale
    db.session.commit()
    product = _new_draft(client)
    url = f"/studio/products/{product.id}"
    response = client.submit(url, {**_details(price="abc"), "action": "save"})
    assert response.status_code == 422
    errors = parse_html(response.get_data(as_text=True)).find(id="price-error")
    assert errors is not None
    assert example in errors.text()


# --- 19g. Deleting a draft asks first ------------------------------------------------------


def _posts_delete(form) -> bool:
    return any(
        element.attrs.get("name") == "move" and element.attrs.get("value") == "delete"
        for element in form.iter()
        if element.tag in ("button", "input")
    )


def test_deleting_a_draft_asks_for_confirmation(client, login_as):
    """Does the edit page of a draft offer no one-tap delete (no form posting move=delete),
    but a way to a confirmation page (GET, 200) whose form deletes it only when sent?"""
    login_as("artisan", verified=True)
    product = _new_draft(client)
    product_id = product.id
    edit_url = f"/studio/products/{product_id}"
    status_url = f"{edit_url}/status"
    tree = parse_html(client.get(edit_url).get_data(as_text=True))
    direct = [
        form
        for form in tree.find_all("form")
        if form.attrs.get("action") == status_url
        and form.attrs.get("method", "get").lower() == "post"
        and _posts_delete(form)
    ]
    assert direct == [], "the edit page deletes the draft in one tap"

    # Where the page's links and GET forms lead, under this listing's URL.
    candidates = [
        a.attrs["href"].split("#")[0]
        for a in tree.find_all("a")
        if a.attrs.get("href", "").startswith(edit_url + "/")
    ]
    for form in tree.find_all("form"):
        if form.attrs.get("method", "get").lower() == "get" and form.attrs.get(
            "action", ""
        ).startswith(edit_url):
            query = "&".join(
                f"{b.attrs['name']}={b.attrs.get('value', '')}"
                for b in form.iter()
                if b.tag in ("button", "input") and b.attrs.get("name")
            )
            candidates.append(form.attrs["action"] + ("?" + query if query else ""))
    confirmation = None
    for url in candidates:
        response = client.get(url)
        if response.status_code != 200:
            continue
        page = parse_html(response.get_data(as_text=True))
        forms = [
            f
            for f in page.find_all("form")
            if f.attrs.get("method", "get").lower() == "post" and _posts_delete(f)
        ]
        if forms:
            confirmation = forms[0]
            break
    assert confirmation is not None, f"no confirmation page among {candidates}"
    assert db.session.get(Product, product.id) is not None  # looking deletes nothing

    response = client.submit(confirmation.attrs.get("action") or status_url, {"move": "delete"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Product, product_id) is None


# --- 19i. After sending for review --------------------------------------------------------


def test_after_sending_the_status_box_says_waiting(client, login_as):
    """After "Send for review", does the next page show "Waiting for review" in its status
    box, and no "Before sending" hint?"""
    artisan = login_as("artisan", verified=True)
    artisan.locale = "en"
    db.session.commit()
    product = _new_draft(client)
    url = f"/studio/products/{product.id}"
    response = client.submit(url, {**_details(), "action": "send"}, page=url, follow_redirects=True)
    assert response.status_code == 200
    db.session.refresh(product)
    assert product.status is ListingStatus.PENDING
    html = response.get_data(as_text=True)
    tree = parse_html(html)
    box = tree.find("section", aria_labelledby="status-heading")
    assert box is not None, "no status box"
    assert "Waiting for review" in " ".join(box.text().split())
    assert "Before sending" not in html
