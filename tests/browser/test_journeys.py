"""Journeys through the real site in real Chromium, on a 360x740 phone, with and without JS.

Each test runs twice: "js" (htmx boosts links and forms) and "nojs" (plain HTML forms and
links); both must work the same for the person using them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# One artisan per run, so the js and nojs journeys never share a phone number.
PHONES = {
    True: ("٠١٠١٢٣٤٥٦٧٨", "+20 10 1234 5678"),
    False: ("٠١٠٨٧٦٥٤٣٢١", "+20 10 8765 4321"),
}
NAME = "فاطمة حسن"
DISPLAY_NAME = "سلال فاطمة"
PASSWORD = "سلال من أسوان ٢٠٢٦"
STORY = "تعلمت صناعة السلال من جدتي في غرب سهيل، وأصنعها من سعف النخيل."

# From artisan_market/translations/ar/LC_MESSAGES/messages.po
AR = {
    "Sell your crafts": "بيعي مشغولاتك",
    "Log in": "تسجيل الدخول",
    "Log out": "تسجيل الخروج",
    "My account": "حسابي",
    "Please correct the marked fields.": "من فضلك صحّحي الخانات المُشار إليها.",
    "password length": "يجب أن يكون طول كلمة السر من ٨ إلى",
    "Waiting for a coordinator to verify": "في انتظار تحقق المنسقة",
    "You have logged out.": "تم تسجيل خروجك.",
}

INVALID_FORM = re.compile(
    r"console: Failed to load resource: the server responded with a status of 422 "
    r"\(UNPROCESSABLE ENTITY\) \[http://127\.0\.0\.1:\d+/signup/artisan\]"
)

# Report CSP violations on the console too (Chromium already logs them; this makes sure).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI);
});
"""


def header(page):
    return page.locator("header.site-header")


def expect_language(page, lang: str, direction: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", direction)


def test_artisan_signs_up_logs_in_and_switches_language(new_page, shot, js):
    phone, phone_typed_differently = PHONES[js]
    page = new_page()
    page.add_init_script(CSP_LISTENER)

    # The home page is in Arabic, right to left.
    page.goto("/")
    expect_language(page, "ar", "rtl")
    expect(page.locator("body")).to_have_attribute("hx-boost", "true")
    if js:
        assert page.evaluate("typeof htmx") == "object"
        assert page.evaluate("htmx.version").startswith("2.0.11")
        page.evaluate("window.__sameDocument = true")
    shot(page, "01-home")

    # The header link takes her to the artisan sign-up form.
    sell = header(page).locator('a[href="/signup/artisan"]')
    expect(sell).to_have_text(AR["Sell your crafts"])
    sell.click()
    expect(page).to_have_url(re.compile(r"/signup/artisan$"))
    expect(page.locator("form[action='/signup/artisan']")).to_be_visible()
    if js:
        # A boosted link swaps the body: the page (and its window) stays the same.
        assert page.evaluate("window.__sameDocument") is True
    shot(page, "02-signup-form")

    # First try: a password that is far too short.
    page.fill("#name", NAME)
    page.fill("#phone", phone)
    page.fill("#password", "١٢٣")
    page.fill("#display_name", DISPLAY_NAME)
    page.select_option("#governorate", "ASN")
    page.fill("#village", "غرب سهيل")
    page.select_option("#craft", "basketry")
    page.fill("#story", STORY)
    shot(page, "03-filled-bad-password")
    page.locator("form[action='/signup/artisan'] button[type=submit]").click()

    expect(page.locator(".form-errors")).to_contain_text(AR["Please correct the marked fields."])
    expect(page.locator("#password-error")).to_contain_text(AR["password length"])
    expect_language(page, "ar", "rtl")
    # What she typed is still there (except the password, which is never sent back).
    expect(page.locator("#name")).to_have_value(NAME)
    expect(page.locator("#phone")).to_have_value(phone)
    expect(page.locator("#governorate")).to_have_value("ASN")
    expect(page.locator("#village")).to_have_value("غرب سهيل")
    expect(page.locator("#craft")).to_have_value("basketry")
    expect(page.locator("#story")).to_have_value(STORY)
    shot(page, "04-password-error")
    # Chromium logs every 4xx response as a console error; the 422 is the invalid form
    # coming back on purpose, and must be the only one.
    assert len(page.errors) == 1 and INVALID_FORM.fullmatch(page.errors[0]), page.errors
    page.errors.clear()

    # She fixes the password and opens her shop.
    page.fill("#password", PASSWORD)
    page.locator("form[action='/signup/artisan'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    main = page.locator("main")
    expect(main).to_contain_text(DISPLAY_NAME)
    expect(main.locator(".status")).to_have_text(AR["Waiting for a coordinator to verify"])
    expect(main).to_contain_text("غرب سهيل")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "05-account-pending")

    # She logs out from the header.
    header(page).locator("form[action='/logout'] button").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".flashes")).to_contain_text(AR["You have logged out."])
    expect(header(page).locator('a[href="/login"]')).to_have_text(AR["Log in"])
    shot(page, "06-logged-out")

    # And logs in again, typing her number another way.
    header(page).locator('a[href="/login"]').click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.fill("#login", phone_typed_differently)
    page.fill("#password", PASSWORD)
    shot(page, "07-login-form")
    page.locator("form[action^='/login'] button[type=submit]").click()
    # An artisan lands in her studio, where her work is.
    expect(page).to_have_url(re.compile(r"/studio$"))
    expect(page.locator(".flashes")).to_contain_text(NAME)
    expect(header(page).locator('a[href="/account"]')).to_have_text(AR["My account"])
    expect(header(page).locator("form[action='/logout'] button")).to_have_text(AR["Log out"])
    expect_language(page, "ar", "rtl")
    assert _touch_target_problems(page) == []
    shot(page, "08-logged-in")

    # She switches to English with the header button; a reload keeps English.
    header(page).locator("form.lang button").click()
    expect_language(page, "en", "ltr")
    expect(header(page).locator('a[href="/account"]')).to_have_text("My account")
    expect(header(page).locator("form[action='/logout'] button")).to_have_text("Log out")
    assert _touch_target_problems(page) == []
    shot(page, "09-english")
    page.reload()
    expect_language(page, "en", "ltr")
    expect(header(page).locator("form[action='/logout'] button")).to_have_text("Log out")

    # Her account page shows her profile in English too.
    header(page).locator('a[href="/account"]').click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("main .status")).to_have_text("Waiting for a coordinator to verify")
    shot(page, "10-account-english")

    # Logging out brings back the "Log in" link, still in English.
    header(page).locator("form[action='/logout'] button").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(header(page).locator('a[href="/login"]')).to_have_text("Log in")
    expect(header(page).locator("form[action='/logout']")).to_have_count(0)
    expect_language(page, "en", "ltr")
    shot(page, "11-logged-out-english")

    assert page.errors == [], "console errors or CSP violations:\n" + "\n".join(page.errors)


def _touch_target_problems(page) -> list[str]:
    problems = []
    targets = header(page).locator("a, button")
    for i in range(targets.count()):
        target = targets.nth(i)
        if not target.is_visible():
            continue
        box = target.bounding_box()
        if box["height"] < 44:
            label = " ".join(target.inner_text().split()) or target.get_attribute("href")
            problems.append(
                f"{page.url}: <{target.evaluate('e => e.tagName.toLowerCase()')}> "
                f"{label!r} is {box['width']:.0f}x{box['height']:.0f} px"
            )
    return problems


@pytest.mark.parametrize("screen", [320, 360])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_phone_layout_fits_and_has_touch_targets(new_page, shot, lang, screen):
    """At 320 and 360 px wide, nothing scrolls sideways and header targets are ≥ 44 px."""
    page = new_page(
        viewport={"width": screen, "height": 740}, cookies=[{"name": "lang", "value": lang}]
    )
    problems = []
    for step, path in [("home", "/"), ("signup", "/signup/artisan"), ("login", "/login")]:
        page.goto(path)
        expect_language(page, lang, "rtl" if lang == "ar" else "ltr")
        shot(page, f"{lang}-{screen}-{step}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > screen:
            problems.append(f"{path}: the page is {width} px wide on a {screen} px screen")
        problems += _touch_target_problems(page)
    assert problems == [], "\n".join(problems)


def test_desktop_english_screenshots(new_page, shot):
    page = new_page(
        viewport={"width": 1280, "height": 800}, cookies=[{"name": "lang", "value": "en"}]
    )
    for step, path in [("home", "/"), ("signup", "/signup/artisan")]:
        page.goto(path)
        expect_language(page, "en", "ltr")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"{path} is {width} px wide on a 1280 px screen"
        shot(page, f"1280-{step}")
    assert page.errors == [], "\n".join(page.errors)
