"""Arabic first, English second; every string the user sees has its Arabic."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from artisan_market.accounts.models import User
from artisan_market.extensions import db
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "artisan_market/translations/ar/LC_MESSAGES/messages.po"


def _source_messages() -> set[str]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_has_arabic():
    """Does each translatable string in the code and templates have an Arabic translation?

    Fails with the list of strings still missing (run `make extract-messages`, then translate).
    """
    with open(CATALOGUE, "rb") as po:
        catalogue = read_po(po)
    missing = sorted(
        message
        for message in _source_messages()
        if not (entry := catalogue.get(message)) or not entry.string or entry.fuzzy
    )
    assert missing == []


def test_the_scan_sees_templates_and_code():
    """Control for the test above: the scan finds strings in both templates and Python."""
    messages = _source_messages()
    assert "Log in" in messages  # templates
    assert "Enter your name." in messages  # forms.py


def test_arabic_is_the_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "سوق الحرفيات" in page


def test_switching_to_english_keeps_the_choice_in_a_cookie(client):
    """Does the switch give English (ltr) on this page and the next, with JavaScript off?"""
    response = client.submit("/language", {"locale": "en", "next": "/login"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    cookie = client.get_cookie("lang")
    assert cookie.value == "en" and cookie.http_only
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "Log in" in page


def test_the_switch_changes_her_pages_not_her_messages(client, login_as):
    """Does the header's switch leave the language of her notifications alone? (It changes
    this browser's pages only.)"""
    user = login_as("artisan", locale="ar")
    client.submit("/language", {"locale": "en", "next": "/"})
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)
    assert db.session.get(User, user.id).locale == "ar"


def test_her_messages_language_follows_her_to_another_phone(client, login_as, app):
    """Chosen on her account page, it is her messages' language and, on another phone with no
    choice of its own (no cookie), her pages' too."""
    user = login_as("artisan")
    response = client.submit("/account/language", {"locale": "en"}, page="/account")
    assert response.status_code == 303
    assert db.session.get(User, user.id).locale == "en"
    assert '<html lang="en"' in client.get("/account").get_data(as_text=True)
    phone = app.test_client()  # a second phone, no cookie: she logs in there
    phone.submit("/login", {"login": user.phone, "password": PASSWORD})
    assert '<html lang="en"' in phone.get("/").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["fr", "", "../../etc", "ar-EG"])
def test_unknown_languages_are_ignored(client, locale):
    response = client.submit("/language", {"locale": locale, "next": "/"})
    assert response.status_code == 303
    assert client.get_cookie("lang") is None


def test_money_and_numbers_follow_the_page_language(app):
    """Piastres as money: Arabic-Indic digits in Arabic, Latin in English; no floats."""
    from flask_babel import force_locale

    from artisan_market.i18n import format_number
    from artisan_market.money import format_money

    with app.test_request_context():
        with force_locale("ar"):
            assert format_money(125050) == "\u200f١٬٢٥٠٫٥٠\xa0ج.م.\u200f"
            assert format_number(27) == "٢٧"
        with force_locale("en"):
            assert format_money(125050) == "EGP\xa01,250.50"
            assert format_money(5) == "EGP\xa00.05"
            assert format_money(35_000) == "EGP\xa0350"
        with force_locale("ar"):
            assert format_money(35_000) == "\u200f٣٥٠\xa0ج.م.\u200f"
        with pytest.raises(TypeError):
            format_money(12.5)


def test_dates_follow_the_page_language(app):
    from datetime import UTC, datetime

    from flask_babel import force_locale

    from artisan_market.i18n import format_day

    moment = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # already the 30th in Cairo
    with app.test_request_context():
        with force_locale("en"):
            assert format_day(moment) == "November 30, 2026"
        with force_locale("ar"):
            assert format_day(moment) == "٣٠ نوفمبر ٢٠٢٦"
