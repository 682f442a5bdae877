"""Notifications on the site: written by rules, worded in her language, hers alone."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_login import login_user

from artisan_market.extensions import db
from artisan_market.notifications import services
from artisan_market.notifications.models import Notification
from artisan_market.notifications.services import in_every_language, message, notify

REASON = {"ar": "الصورة غير واضحة", "en": "The photo is blurry or dark"}
ADVICE = {"ar": "صوّري القطعة في ضوء النهار.", "en": "Take the photo again in daylight."}


def _unread(user) -> int:
    return services.unread_count(user)


def test_a_notification_reads_in_the_language_of_whoever_reads_it(app, make_artisan):
    """Stored as kind + parameters; worded when read, in the reader's current language."""
    artisan = make_artisan()
    note = notify(
        artisan,
        "listing_rejected",
        link="/studio/products/3",
        title="سلة خوص",
        reason=REASON,
        advice=ADVICE,
    )
    db.session.commit()
    with app.test_request_context():
        with force_locale("en"):
            # Her title is isolated (FSI … PDI): an Arabic title keeps its own direction in
            # an English sentence, and a title can never turn the sentence around.
            assert message(note) == (
                "Your product “\u2068سلة خوص\u2069” needs a change: The photo is blurry or "
                "dark. Take the photo again in daylight."
            )
        with force_locale("ar"):
            text = message(note)
            assert "سلة خوص" in text and REASON["ar"] in text and ADVICE["ar"] in text


def test_every_kind_has_words_in_both_languages(app):
    with app.test_request_context():
        for kind in services.MESSAGES:
            note = Notification(kind=kind, params={"title": "T", "reason": "R", "advice": "A"})
            with force_locale("en"):
                english = message(note)
            with force_locale("ar"):
                arabic = message(note)
            assert english and re.search("[\u0600-\u06ff]", arabic), kind


def test_a_coordinators_note_is_added_and_missing_parameters_read_as_empty(app):
    with app.test_request_context(), force_locale("en"):
        note = Notification(kind="artisan_declined", params={"note": "Call me on Sunday."})
        assert message(note) == (
            "Your account could not be verified: . "
            "Your coordinator wrote: \u2068Call me on Sunday.\u2069"
        ).replace(": .", ": ")
        assert message(Notification(kind="no_such_kind", params={})) == ""


def test_in_every_language_words_a_lazy_string_for_each_locale(app):
    from flask_babel import lazy_gettext as _l

    with app.test_request_context():
        assert in_every_language(_l("Log in")) == {"ar": "تسجيل الدخول", "en": "Log in"}


@pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/", "/\\evil", "x"])
def test_a_notification_links_only_inside_the_site(app, make_artisan, link):
    with pytest.raises(ValueError):
        notify(make_artisan(), "artisan_verified", link=link)


def test_an_unknown_kind_is_refused(app, make_artisan):
    with pytest.raises(ValueError):
        notify(make_artisan(), "artisan_promoted")


def test_the_header_count_comes_from_one_query(app, make_artisan):
    """The context processor: 0 for a visitor; her unread count (one COUNT) when logged in."""
    artisan = make_artisan()
    notify(artisan, "artisan_verified")
    notify(artisan, "listing_approved", title="إناء")
    db.session.commit()
    with app.test_request_context():
        assert services.badge_context()["unread_notifications"] == 0
    with app.test_request_context():
        login_user(artisan)
        statements = []

        def count(*args):
            statements.append(args[2])

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert services.badge_context()["unread_notifications"] == 2
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        assert len(statements) == 1 and "count(" in statements[0].lower()


def test_the_badge_says_the_count_in_digits_and_in_words(app, make_artisan):
    artisan = make_artisan()
    for n in range(3):
        notify(artisan, "listing_approved", title=f"قطعة {n}")
    db.session.commit()
    with app.test_request_context():
        login_user(artisan)
        with force_locale("ar"):
            badge = render_template("notifications/_badge.html")
            assert 'href="/notifications"' in badge and "#bell" in badge
            assert '<span class="badge-count" aria-hidden="true">٣</span>' in badge
            assert "٣ إشعارات غير مقروءة" in badge
        with force_locale("en"):
            assert "3 unread notifications" in render_template("notifications/_badge.html")
    with app.app_context(), app.test_request_context():  # a fresh `g`: nobody logged in
        badge = render_template("notifications/_badge.html")  # a visitor: no count
        assert "badge-count" not in badge


def test_the_header_shows_her_unread_count_on_the_next_page(client, login_as):
    """After a coordinator's decision, does the next page's header show one unread?"""
    artisan = login_as("artisan")
    assert "badge-count" not in client.get("/").get_data(as_text=True)
    notify(artisan, "artisan_verified")
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert '<span class="badge-count" aria-hidden="true">١</span>' in page
    assert "إشعار واحد غير مقروء" in page
    client.submit("/notifications/read", page="/notifications")
    assert "badge-count" not in client.get("/").get_data(as_text=True)


def test_her_page_lists_hers_newest_first_with_the_unread_marked(client, login_as):
    artisan = login_as("artisan")
    notify(artisan, "artisan_verified")
    notify(artisan, "listing_approved", title="سلة الجدة", link="/studio/products/7")
    db.session.commit()
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("سلة الجدة") < page.index("تم التحقق من حسابك")
    assert page.count("notification unread") == 2
    assert 'href="/studio/products/7"' in page
    assert 'action="/notifications/read"' in page  # the "mark all as read" button


def test_mark_all_read(client, login_as):
    artisan = login_as("artisan")
    notify(artisan, "artisan_verified")
    db.session.commit()
    response = client.submit("/notifications/read", page="/notifications")
    assert response.status_code == 303
    assert response.headers["Location"] == "/notifications"
    assert _unread(artisan) == 0
    page = client.get("/notifications").get_data(as_text=True)
    assert "notification unread" not in page and 'action="/notifications/read"' not in page


def test_mark_all_read_needs_the_csrf_token(client, login_as):
    artisan = login_as("artisan")
    notify(artisan, "artisan_verified")
    db.session.commit()
    assert client.post("/notifications/read").status_code == 400
    assert _unread(artisan) == 1


def test_someone_elses_notifications_are_never_shown_or_touched(client, make_artisan):
    """Can one artisan read, or mark read, another's notifications? (No.)"""
    from tests.conftest import log_in

    zeinab, nadia = make_artisan(), make_artisan()
    notify(zeinab, "listing_rejected", title="سر زينب", reason=REASON, advice=ADVICE)
    db.session.commit()
    log_in(client, nadia)
    page = client.get("/notifications").get_data(as_text=True)
    assert "سر زينب" not in page
    client.submit("/notifications/read", page="/notifications")
    assert _unread(zeinab) == 1


def test_a_visitor_is_asked_to_log_in(client):
    response = client.get("/notifications")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")


def test_thirty_a_page(client, login_as):
    artisan = login_as("artisan")
    for n in range(31):
        notify(artisan, "listing_approved", title=f"قطعة {n}")
    db.session.commit()
    first = client.get("/notifications").get_data(as_text=True)
    assert first.count('class="card notification') == 30
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert second.count('class="card notification') == 1
