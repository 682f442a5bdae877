"""The studio: an artisan lists a product from her phone, photo first, and manages it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from artisan_market.catalog.models import Category, ListingStatus, Product, ProductPhoto
from artisan_market.extensions import db
from tests.accounts.test_profile_photo import FIXTURES
from tests.conftest import log_in, oversized_upload, small_jpeg


def _upload(*names_or_bytes):
    files = []
    for item in names_or_bytes:
        if isinstance(item, bytes):
            files.append((io.BytesIO(item), "photo.jpg"))
        else:
            files.append((io.BytesIO((FIXTURES / item).read_bytes()), item))
    return files


def _category_id(slug="basketry") -> int:
    return db.session.scalar(sa.select(Category.id).where(Category.slug == slug))


def _details(**changes):
    return {
        "title": "سلة خوص ملونة",
        "price": "١٢٥٫٥٠",
        "availability": "ready",
        "stock": "٣",
        "days_to_make": "",
        "category": str(_category_id()),
        "description": "سلة من خوص النخيل، ملونة بألوان طبيعية.",
        "materials": "خوص، صبغة طبيعية",
        "size": "٣٠ × ٢٠ سم",
        "weight": "",
        **changes,
    }


def _media_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(root.rglob("*.*")) if root.exists() else []


def test_artisan_lists_a_product_photo_first(client, login_as):
    """Photos make a draft; she fills in the words in Arabic; she sends it for review."""
    artisan = login_as("artisan", verified=True)
    response = client.submit(
        "/studio/products/new",
        {"photos": _upload("hopper_orientation_6.jpg", "flower.webp")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    edit_url = response.headers["Location"]
    product = db.session.scalar(sa.select(Product))
    assert product.status is ListingStatus.DRAFT and len(product.photos) == 2
    assert product.artisan_id == artisan.artisan_profile.id

    sent = client.submit(edit_url, {**_details(), "action": "send"}, page=edit_url)
    assert sent.status_code == 303
    db.session.refresh(product)
    assert product.status is ListingStatus.PENDING
    assert product.price == 12550 and product.stock == 3
    assert product.title == "سلة خوص ملونة"
    page = client.get("/studio").get_data(as_text=True)
    assert "في انتظار المراجعة" in page or "Waiting for review" in page


def test_sending_an_incomplete_listing_says_what_is_missing(client, login_as, make_product):
    artisan = login_as("artisan", verified=True)
    product = make_product(artisan=artisan)
    url = f"/studio/products/{product.id}"
    response = client.submit(url, {**_details(title="", price=""), "action": "send"}, page=url)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "أضيفي: اسمًا للقطعة وسعرًا" in page
    db.session.refresh(product)
    assert product.status is ListingStatus.DRAFT
    assert product.title == "سلة خوص"  # nothing half-saved


@pytest.mark.parametrize(
    ("typed", "piastres"),
    [
        ("250", 25000),
        ("٢٥٠", 25000),
        ("١٢٥٫٥٠", 12550),
        ("125.5", 12550),
        ("1,250", 125000),
        ("١٬٢٥٠", 125000),
        ("1,250.75", 125075),
        (" 300 ج.م", 30000),
        # a comma before one or two final digits is a decimal mark, Arabic comma too
        ("١٢٥،٥٠", 12550),
        ("125,50", 12550),
        ("12,5", 1250),
        ("٣٠٠ جنيه", 30000),
    ],
)
def test_prices_as_people_type_them(client, login_as, make_product, typed, piastres):
    artisan = login_as("artisan", verified=True)
    product = make_product(artisan=artisan)
    url = f"/studio/products/{product.id}"
    assert client.submit(url, {**_details(price=typed), "action": "save"}).status_code == 303
    db.session.refresh(product)
    assert product.price == piastres


@pytest.mark.parametrize(
    "typed",
    ["-5", "0", "0.5", "99999999", "abc", "1.234", "1,2345", "١٠٠٠٠٠٠", "1e3", "٢٥٠" * 30],
)
def test_absurd_or_unclear_prices_are_refused(client, login_as, make_product, typed):
    artisan = login_as("artisan", verified=True)
    product = make_product(artisan=artisan)
    url = f"/studio/products/{product.id}"
    response = client.submit(url, {**_details(price=typed), "action": "save"})
    assert response.status_code == 422
    assert 'id="price-error"' in response.get_data(as_text=True)
    db.session.refresh(product)
    assert product.price == 25000


def test_a_5000_character_title_is_refused_with_her_text_kept(client, login_as, make_product):
    artisan = login_as("artisan", verified=True)
    product = make_product(artisan=artisan)
    url = f"/studio/products/{product.id}"
    response = client.submit(url, {**_details(title="ب" * 5000), "action": "save"})
    assert response.status_code == 422
    assert "ب" * 5000 in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "upload",
    [
        ["truncated_jpeg.jpg"],
        ["ultrahdr.jpg"],
        ["decompression_bomb.gif"],
        [b"<html><body>not a photo</body></html>"],
        [b"<svg xmlns='http://www.w3.org/2000/svg'/>"],
        [b""],
    ],
)
def test_bad_photos_leave_no_product_and_no_file(client, app, login_as, upload):
    login_as("artisan", verified=True)
    response = client.submit(
        "/studio/products/new", {"photos": _upload(*upload)}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert 'id="photos-error"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0
    assert _media_files(app) == []


def test_nine_photos_are_refused_whole(client, app, login_as):
    login_as("artisan", verified=True)
    response = client.submit(
        "/studio/products/new",
        {"photos": _upload(*[small_jpeg()] * 9)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0
    assert _media_files(app) == []


def test_a_ninth_photo_on_an_existing_listing_is_refused(client, login_as, make_product):
    artisan = login_as("artisan", verified=True)
    product = make_product(artisan=artisan, photos=8)
    response = client.submit(
        f"/studio/products/{product.id}/photos",
        {"photos": _upload(small_jpeg())},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    db.session.refresh(product)
    assert len(product.photos) == 8


def test_photo_actions_with_and_without_htmx(client, login_as, make_product):
    """Reorder, cover, alt text, delete: a fragment for htmx, a redirect without it."""
    artisan = login_as("artisan", verified=True)
    product = make_product(artisan=artisan, photos=3)
    first, second, third = (p.id for p in product.photos)
    base = f"/studio/products/{product.id}/photos"

    plain = client.submit(f"{base}/{third}/cover")
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#photos")
    db.session.refresh(product)
    assert [p.id for p in product.photos] == [third, first, second]

    htmx = {"HX-Request": "true", "HX-Target": "photos"}
    fragment = client.submit(f"{base}/{first}/later", headers=htmx)
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="photos"') and "<html" not in html
    assert "HX-Request" in fragment.headers["Vary"]
    db.session.refresh(product)
    assert [p.id for p in product.photos] == [third, second, first]

    client.submit(f"{base}/{second}/alt", {"alt_text": "السلة من أعلى"})
    db.session.refresh(product)
    assert product.photos[1].alt_text == "السلة من أعلى"

    client.submit(f"{base}/{first}/delete")
    db.session.refresh(product)
    assert [p.id for p in product.photos] == [third, second]
    assert client.submit(f"{base}/{first}/delete").status_code == 404  # gone
    assert client.submit(f"{base}/{second}/explode").status_code == 404


def test_editing_words_of_a_live_listing_sends_it_back_but_price_does_not(
    client, login_as, make_product
):
    artisan = login_as("artisan", verified=True)
    product = make_product(artisan=artisan, status="live")
    url = f"/studio/products/{product.id}"
    same_words = {
        **_details(title=product.title, description=product.description),
        "materials": product.materials,
        "size": "",
    }
    client.submit(url, {**same_words, "price": "300", "stock": "7", "action": "save"})
    db.session.refresh(product)
    assert product.status is ListingStatus.LIVE and product.price == 30000
    client.submit(url, {**same_words, "title": "سلة أجمل", "action": "save"})
    db.session.refresh(product)
    assert product.status is ListingStatus.PENDING


def test_deleting_a_draft_removes_its_files(client, app, login_as, make_product):
    artisan = login_as("artisan", verified=True)
    product = make_product(artisan=artisan, photos=2)
    assert _media_files(app)
    url = f"/studio/products/{product.id}/delete"
    response = client.submit(url, page=url)
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductPhoto)) == 0
    assert _media_files(app) == []


@pytest.mark.parametrize("method_path", ["GET", "edit", "photos", "status", "photo"])
def test_another_artisans_product_is_404(client, login_as, make_product, method_path):
    """Can an artisan open or change another artisan's product by id? No: 404."""
    product = make_product(status="live", photos=1)
    login_as("artisan", verified=True)
    base = f"/studio/products/{product.id}"
    response = {
        "GET": lambda: client.get(base),
        "edit": lambda: client.submit(base, {**_details(), "action": "save"}),
        "photos": lambda: client.submit(f"{base}/photos", {}),
        "status": lambda: client.submit(f"{base}/status", {"move": "pause"}),
        "photo": lambda: client.submit(f"{base}/photos/{product.photos[0].id}/delete"),
    }[method_path]()
    assert response.status_code == 404
    db.session.refresh(product)
    assert product.status is ListingStatus.LIVE and len(product.photos) == 1


def test_a_buyer_gets_nothing_under_studio(client, login_as, make_product):
    product = make_product()
    login_as("buyer")
    assert client.get("/studio").status_code == 403
    assert client.get(f"/studio/products/{product.id}").status_code == 404


def test_coordinator_lists_on_behalf_of_an_artisan_she_verified(
    client, app, login_as, make_artisan
):
    """Added by her coordinator: it shows in the artisan's studio, and in the audit log."""
    from artisan_market.audit.models import AuditEvent

    coordinator = login_as("coordinator")
    artisan = make_artisan(verified=True, verified_by=coordinator)
    profile_id = artisan.artisan_profile.id
    response = client.submit(
        f"/studio/artisans/{profile_id}/products/new",
        {"photos": _upload(small_jpeg())},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    product = db.session.scalar(sa.select(Product))
    assert product.created_by_id == coordinator.id
    url = f"/studio/products/{product.id}"
    assert client.submit(url, {**_details(), "action": "send"}).status_code == 303
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.subject_type == "product")
        .order_by(AuditEvent.id)
    ).all()
    assert actions[0] == "listing.created_on_behalf"
    assert "listing.edited_on_behalf" in actions

    from tests.conftest import Client

    app.test_client_class = Client
    her_phone = app.test_client()
    log_in(her_phone, artisan)
    page = her_phone.get("/studio").get_data(as_text=True)
    assert "أضافته منسقتك" in page


def test_a_coordinator_cannot_list_for_an_artisan_she_did_not_verify(
    client, login_as, make_artisan, make_product
):
    login_as("coordinator")
    artisan = make_artisan(verified=True)
    product = make_product(artisan=artisan)
    profile_id = artisan.artisan_profile.id
    assert client.get(f"/studio/artisans/{profile_id}/products/new").status_code == 404
    assert client.get(f"/studio/products/{product.id}").status_code == 404


def test_studio_counts_and_rejection_in_plain_words(client, login_as, make_product):
    artisan = login_as("artisan", verified=True)
    for status in ("draft", "pending", "live", "rejected", "paused", "sold_out", "archived"):
        make_product(artisan=artisan, status=status)
    page = client.get("/studio").get_data(as_text=True)
    assert len(re.findall(r'class="status status-', page)) >= 14  # counts + one per product
    assert "ضوء النهار" in page  # the advice after "blurry or dark photo"


def test_a_30_mb_upload_gets_the_friendly_413_and_leaves_nothing(client, app, login_as):
    """A 30 MB file (over MAX_CONTENT_LENGTH, 25 MiB): the 413 page in Arabic, no product."""
    login_as("artisan", verified=True)
    token = client.csrf_token("/studio/products/new")
    # The body written out by hand: the test client would spool 30 MB to a temporary file.
    body = oversized_upload(token, 30)
    response = client.post(
        "/studio/products/new", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code == 413
    assert "الملف كبير" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0
    assert _media_files(app) == []
