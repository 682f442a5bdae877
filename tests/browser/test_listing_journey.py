"""An artisan lists a product from her phone; a coordinator rejects it, then approves it.

Real Chromium, 360x740, Arabic, with JavaScript on (htmx, photos shrunk in the browser) and
off (plain forms). Screenshots are kept in tests/browser/screenshots/.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from artisan_market.accounts import services
from artisan_market.accounts.models import Organisation, Role
from artisan_market.extensions import db

pytestmark = pytest.mark.browser

PASSWORD = "كلمة سر طويلة ٢٠٢٦"
PEOPLE = {  # per run, so the js and nojs journeys never share an account
    True: ("01155500001", "01155500002"),
    False: ("01155500003", "01155500004"),
}


@pytest.fixture
def people(live_app, js):
    """A coordinator and an artisan she verified, in the live server's database."""
    coordinator_phone, artisan_phone = PEOPLE[js]
    with live_app.app_context():
        coordinator = services.register(
            name="منى",
            phone="+2" + coordinator_phone,
            email=None,
            password=PASSWORD,
            role=Role.COORDINATOR,
        )
        organisation = Organisation(name_ar=f"جمعية {artisan_phone}", name_en="Association")
        artisan = services.register_artisan(
            name="فاطمة",
            phone="+2" + artisan_phone,
            email=None,
            password=PASSWORD,
            details=services.ArtisanDetails(
                display_name="فاطمة", governorate="ASN", village="غرب سهيل", craft="basketry"
            ),
        )
        services.verify_artisan(
            artisan.artisan_profile, coordinator=coordinator, organisation=organisation
        )
        db.session.commit()
    return coordinator_phone, artisan_phone


@pytest.fixture
def phone_photo(tmp_path):
    """A 12-megapixel phone photo (4000x3000), the size the phone's camera gives."""
    path = tmp_path / "IMG_20261129_101500.jpg"
    image = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    path.write_bytes(out.getvalue())
    return path


def log_in(page, phone: str) -> None:
    page.goto("/login")
    page.fill("#login", phone)
    page.fill("#password", PASSWORD)
    page.click("form[action^='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()


def test_listing_from_phone_to_live(new_page, shot, people, phone_photo, js, live_app):
    coordinator_phone, artisan_phone = people
    her = new_page()
    log_in(her, artisan_phone)

    # Her studio, then "add a product": photo first.
    her.click("header a[href='/studio']")
    expect(her.locator("h1")).to_have_text("منتجاتي")
    her.click("main a[href='/studio/products/new']")
    her.set_input_files("#photos", str(phone_photo))
    if js:  # the browser shrinks the photo; the button comes back when it is done
        expect(her.locator("form.photo-upload button[type=submit]")).to_be_enabled()
    shot(her, "1-photo-chosen")
    her.click("form.photo-upload button[type=submit]")
    expect(her.locator("#photos .photo-item")).to_have_count(1)
    posts = [(m, p, n) for m, p, n in live_app.received if m == "POST" and "/products/new" in p]
    uploaded = posts[-1][2]
    original = phone_photo.stat().st_size
    if js:  # shrunk to 2048 px in the browser before it left the phone
        assert uploaded < original / 2, (uploaded, original)
    else:  # the original, as chosen; the server shrinks it
        assert uploaded > original, (uploaded, original)

    # The words, in Arabic, with Arabic-Indic digits.
    her.fill("#title", "سلة خوص ملونة")
    her.fill("#price", "٣٥٠")
    her.fill("#stock", "٢")
    her.select_option("#category", label="الخوص والسمار")
    her.fill("#description", "سلة من سعف النخيل، ملونة بألوان طبيعية.")
    shot(her, "2-details")
    her.click("button[name=action][value=send]")
    expect(her.locator(".page-head .status")).to_contain_text("في انتظار المراجعة")
    shot(her, "3-sent")

    # The coordinator sends it back: the photo is dark.
    coordinator = new_page()
    log_in(coordinator, coordinator_phone)
    coordinator.goto("/review")
    card = coordinator.locator("article.review-card", has_text="سلة خوص ملونة")
    card.locator("summary").click()
    card.locator("input[name=reason][value=photo]").check()
    card.locator("textarea[name=note]").fill("الصورة مظلمة قليلًا")
    shot(coordinator, "4-reject")
    card.locator("form[action$='/reject'] button[type=submit]").click()
    if js:  # swapped in place
        expect(card.locator(".status-rejected")).to_be_visible()
    else:  # back to the list, which is now empty
        expect(coordinator.locator("main")).not_to_contain_text("سلة خوص ملونة")
    shot(coordinator, "5-rejected")

    # She reads why, in plain words, changes it and sends it again.
    her.reload()
    expect(her.locator(".decision")).to_contain_text("الصورة مظلمة قليلًا")
    expect(her.locator(".decision")).to_contain_text("ضوء النهار")
    shot(her, "6-reason")
    her.fill("#title", "سلة خوص ملونة كبيرة")
    her.click("button[name=action][value=send]")
    expect(her.locator(".page-head .status")).to_contain_text("في انتظار المراجعة")

    # Approved; live in her studio.
    coordinator.goto("/review")
    card = coordinator.locator("article.review-card", has_text="سلة خوص ملونة كبيرة")
    card.locator("form[action$='/approve'] button[type=submit]").click()
    if js:
        expect(card.locator(".status-live")).to_be_visible()
    shot(coordinator, "7-approved")
    her.goto("/studio")
    expect(
        her.locator(".listing", has_text="سلة خوص ملونة كبيرة").locator(".status")
    ).to_contain_text("معروض")
    shot(her, "8-live")
    assert [e for e in her.errors + coordinator.errors if "status of 422" not in e] == []
