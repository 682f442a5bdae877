"""Notification emails: in her language, over real SMTP when configured, else in the log."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from artisan_market.accounts.models import User
from artisan_market.extensions import db
from artisan_market.notifications.services import notify


class Inbox:
    """An aiosmtpd handler that keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 for the length of the test."""
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


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


def test_a_broken_mail_server_is_logged_not_raised(make_app, make_user, caplog):
    """Her request still succeeds when the mail server is down; the failure is in the log."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())  # nothing listens there
    with app.app_context():
        artisan_id = make_user("artisan", email="mona@example.org").id
        note = notify(db.session.get(User, artisan_id), "artisan_verified")
        db.session.commit()  # does not raise
        assert note.id is not None
    assert any(
        r.levelno == logging.ERROR and f"email to user {artisan_id} failed" in r.getMessage()
        for r in caplog.records
    )


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
