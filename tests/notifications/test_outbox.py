"""The outbox: an email is written with the change it tells of, and sent once, whatever
happens to the queue between (artisan_market/notifications/email.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from artisan_market.extensions import db
from artisan_market.jobs import huey
from artisan_market.notifications.email import (
    LEASE,
    email_later,
    queue_waiting_emails,
    send_email_job,
)
from artisan_market.notifications.models import OutgoingEmail
from artisan_market.timeutil import utcnow


@pytest.fixture
def mail_app(app, make_app, smtp):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp[1])
    with app.app_context():
        yield app


def _waiting() -> list[OutgoingEmail]:
    return db.session.scalars(sa.select(OutgoingEmail).order_by(OutgoingEmail.id)).all()


def _sweep() -> int:
    """What a worker's scheduler runs every minute."""
    return queue_waiting_emails.call_local()


def _time_passes(delta: timedelta) -> None:
    """Every waiting email's time comes `delta` sooner, as if that much time had passed."""
    for email in _waiting():
        if email.due_at is not None:
            email.due_at -= delta
    db.session.commit()


def test_an_email_is_written_with_its_change_and_marked_sent(mail_app, smtp):
    inbox, _port = smtp
    email_later("guest@example.org", "طلبك", "شكرًا.", log_as="order 7")
    db.session.commit()
    (email,) = _waiting()
    assert email.sent_at is not None and email.due_at is None
    assert inbox.recipients == [["guest@example.org"]]


def test_a_change_rolled_back_leaves_no_email(mail_app, smtp):
    inbox, _port = smtp
    email_later("guest@example.org", "طلبك", "شكرًا.", log_as="order 7")
    db.session.rollback()
    assert _waiting() == [] and inbox.messages == []


def test_an_email_the_queue_could_not_take_is_sent_once_it_is_back(
    make_app, mail_app, smtp, monkeypatch
):
    """Redis down at the commit: the email waits; once the queue answers and its time has
    come, the periodic job queues it, and it is sent once, however often the job runs."""
    inbox, _port = smtp

    def down(task):
        raise ConnectionError("the queue is down")

    with monkeypatch.context() as patch:
        patch.setattr(huey, "enqueue", down)
        email_later("guest@example.org", "طلبك", "شكرًا.", log_as="order 7")
        db.session.commit()  # does not raise
    assert inbox.messages == []
    assert _sweep() == 0  # not before its time
    _time_passes(LEASE + timedelta(seconds=1))
    assert _sweep() == 1
    assert _sweep() == 0
    _time_passes(LEASE * 3)
    assert _sweep() == 0
    assert inbox.recipients == [["guest@example.org"]]
    (email,) = _waiting()
    assert email.sent_at is not None


def test_a_worker_killed_while_sending_leaves_it_to_be_sent_again(mail_app, smtp):
    """The job was taken off the queue and its worker died (kill -9) before the email was
    marked sent: after the lease the periodic job queues it again."""
    inbox, _port = smtp
    email = OutgoingEmail(
        recipient="guest@example.org",
        subject="طلبك",
        body="شكرًا.",
        log_as="order 9",
        due_at=utcnow() + LEASE,  # as `_hold` leaves it while its try runs
    )
    db.session.add(email)
    db.session.commit()
    assert _sweep() == 0
    _time_passes(LEASE + timedelta(seconds=1))
    assert _sweep() == 1
    assert inbox.recipients == [["guest@example.org"]]


def test_a_job_run_twice_sends_once(mail_app, smtp):
    inbox, _port = smtp
    email_later("guest@example.org", "طلبك", "شكرًا.", log_as="order 7")
    db.session.commit()
    (email,) = _waiting()
    send_email_job(email.recipient, email.subject, email.body, log_as="order 7", email_id=email.id)
    assert len(inbox.messages) == 1


def test_while_a_retry_waits_it_is_not_queued_again(make_app, mail_server):
    """The mail server is down: the retry waits 30 s; the outbox leaves it to its retry."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_server.port)  # nobody listens
    with app.app_context():
        email_later("guest@example.org", "طلبك", "شكرًا.", log_as="order 7")
        db.session.commit()
        assert len(huey.scheduled()) == 1
        (email,) = _waiting()
        assert email.due_at >= utcnow() + LEASE  # its retry's wait and a lease
        _time_passes(LEASE)
        assert _sweep() == 0
        assert len(huey.scheduled()) == 1


def test_sent_emails_are_forgotten_after_a_week(mail_app, smtp):
    email_later("guest@example.org", "طلبك", "شكرًا.", log_as="order 7")
    db.session.commit()
    db.session.execute(sa.update(OutgoingEmail).values(sent_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    _sweep()
    assert _waiting() == []
