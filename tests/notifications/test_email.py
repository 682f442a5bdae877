"""Notification emails: in her language, over real SMTP when configured, else in the log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from artisan_market.accounts.models import User
from artisan_market.extensions import db
from artisan_market.jobs import huey
from artisan_market.notifications.email import email_later, send_email_job
from artisan_market.notifications.services import notify


@pytest.fixture
def mail_app(app, make_app, smtp):
    """An app that sends to `smtp`; its context is pushed above the plain `app`'s."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp[1], MAIL_FROM="سوق <souq@example.org>")
    with app.app_context():
        yield app


def test_she_gets_an_arabic_email_over_smtp(mail_app, smtp, make_user):
    """Does an artisan with an email and Arabic as her language get it in Arabic, UTF-8?"""
    inbox, _port = smtp
    artisan = make_user("artisan", name="منى", email="mona@example.org", locale="ar")
    with mail_app.test_request_context(base_url="https://souq.example"):
        notify(artisan, "listing_approved", link="/studio/products/5", title="سلة من الخوص")
        db.session.commit()

    assert inbox.recipients == [["mona@example.org"]]
    message = inbox.messages[0]
    assert message["Subject"] == "سوق الحرفيات: تمت الموافقة على منتجك"
    assert message["To"] == "mona@example.org"
    assert message["From"].addresses[0].addr_spec == "souq@example.org"
    assert message["Message-ID"].endswith("@example.org>")
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert "أهلًا منى،" in body
    assert "«\u2068سلة من الخوص\u2069»" in body  # her title set apart (FSI … PDI)
    assert "https://souq.example/studio/products/5" in body


def test_english_if_she_chose_english(mail_app, smtp, make_user):
    inbox, _port = smtp
    buyer = make_user("buyer", email="sara@example.org", locale="en")
    notify(buyer, "artisan_verified")
    db.session.commit()
    assert inbox.messages[0]["Subject"] == "Artisan Market: Your account is verified"


def test_no_email_when_the_decision_is_rolled_back(mail_app, smtp, make_user):
    """A notification rolled back with its transaction sends nothing."""
    inbox, _port = smtp
    artisan = make_user("artisan", email="mona@example.org", locale="ar")
    notify(artisan, "artisan_verified")
    db.session.rollback()
    db.session.commit()
    assert inbox.messages == []


def test_no_email_without_an_address(mail_app, smtp, make_artisan):
    inbox, _port = smtp
    notify(make_artisan(email=None), "artisan_verified")
    db.session.commit()
    assert inbox.messages == []


def test_a_mail_server_down_delays_her_email_and_loses_none(make_app, make_user, mail_server):
    """Her request still succeeds while the mail server is down, and the email waits for a
    retry in 30 s, which delivers it once the server is back."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_server.port)  # nobody listens yet
    with app.app_context():
        artisan_id = make_user("artisan", name="منى", email="mona@example.org").id
        started = datetime.now(UTC).replace(tzinfo=None)  # huey's times: UTC, naive
        note = notify(db.session.get(User, artisan_id), "artisan_verified")
        db.session.commit()  # does not raise
        assert note.id is not None
        (retry,) = huey.scheduled()
        assert retry.retries == 9
        assert 30 <= (retry.eta - started).total_seconds() < 35
        assert mail_server.inbox.messages == []
        db.session.commit()  # a worker is another process: the test holds no transaction

        mail_server.start()
        # What a worker does when the retry is due: its scheduler takes the task off the
        # schedule and one of its threads runs it.
        for task in huey.read_schedule(retry.eta):
            huey.execute(task, retry.eta)
    assert mail_server.inbox.recipients == [["mona@example.org"]]
    assert "أهلًا منى،" in mail_server.inbox.messages[0].get_content()
    assert huey.scheduled() == []


def test_the_last_failed_try_is_logged_by_her_id(make_app, mail_server, caplog):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_server.port)
    with app.app_context():
        send_email_job("mona@example.org", "subject", "body", log_as="user 12", retries=0)
    assert huey.scheduled() == []  # no tries left
    (record,) = [r for r in caplog.records if r.name == app.logger.name]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "email to user 12 failed; no more tries"


def test_a_guest_gets_an_email_after_the_commit(mail_app, smtp):
    """`email_later` is for people without an account too (a guest's order)."""
    inbox, _port = smtp
    email_later("guest@example.org", "Your order", "Thank you.", log_as="order 7")
    assert inbox.messages == []
    db.session.commit()
    assert inbox.recipients == [["guest@example.org"]]
    email_later("guest@example.org", "Your order", "Thank you.", log_as="order 8")
    db.session.rollback()
    assert len(inbox.messages) == 1


def test_without_smtp_the_email_goes_to_the_log(app, make_user, caplog):
    caplog.set_level(logging.INFO, logger=app.logger.name)
    artisan = make_user("artisan", email="mona@example.org", locale="ar")
    notify(artisan, "artisan_verified")
    db.session.commit()
    lines = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert len(lines) == 1
    assert lines[0].startswith(
        "email (no SMTP configured): to=mona@example.org subject=سوق الحرفيات: تم التحقق من حسابك\n"
    )
