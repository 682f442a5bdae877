"""Email: over SMTP when MAIL_SERVER is set, else written to the log (the one-machine default).

Every email goes out through the job queue (`email_later`, after the commit): a worker
sends it, and tries again while the mail server is down. It is first written to the outbox
(`OutgoingEmail`) in the transaction of the change it tells of, so neither a queue that is
down nor a worker killed in the middle loses it (`queue_waiting_emails`).
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app
from huey import crontab
from huey.api import Task

from artisan_market.extensions import db
from artisan_market.jobs import huey
from artisan_market.notifications.models import OutgoingEmail
from artisan_market.timeutil import utcnow
from artisan_market.transactions import after_commit

SMTP_TIMEOUT = 10  # seconds: a stuck mail server must not hold a worker for long
# Tries after the first: 30 s, then each wait twice the last (1, 2, 4 … 64 min, 2.1 h,
# 4.3 h): a mail server down for a working day (8.5 h in all) delays mail and loses none.
RETRIES, RETRY_DELAY, RETRY_BACKOFF = 10, 30, 2
# A queued email not sent (or held for its retry) within this is queued again.
LEASE = timedelta(minutes=5)
KEEP_SENT = timedelta(days=7)


def _message(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    sender = config.get("MAIL_FROM") or "Artisan Market <no-reply@localhost>"
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    # An explicit domain: make_msgid() would otherwise look up this host's name in DNS.
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body, charset="utf-8")
    return message


def send_email(to: str, subject: str, body: str) -> None:
    """Send one plain-text UTF-8 email. Raises what smtplib raises; callers decide.

    Without MAIL_SERVER the whole message goes to the app log at INFO instead.
    """
    config = current_app.config
    message = _message(to, subject, body)
    server = config.get("MAIL_SERVER")
    if not server:
        current_app.logger.info(
            "email (no SMTP configured): to=%s subject=%s\n%s", to, subject, body
        )
        return
    with smtplib.SMTP(server, int(config.get("MAIL_PORT") or 25), timeout=SMTP_TIMEOUT) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY, retry_backoff=RETRY_BACKOFF, context=True)
def send_email_job(
    to: str, subject: str, body: str, *, log_as: str, email_id: int | None = None, task: Task
) -> None:
    """Send one email; a failure raises, and huey tries again later (RETRIES times).

    `log_as` names the recipient in the log ("user 12"), never by her address. With
    `email_id` (its row in the outbox) it is safe to run twice: an email sent already is not
    sent again, and while a try waits for its retry the outbox does not queue it again.
    """
    if email_id is not None and not _hold(email_id, task):
        return  # sent already (a second run of a job that was queued twice)
    try:
        send_email(to, subject, body)
    except Exception:
        if not task.retries:  # the last try
            current_app.logger.exception("email to %s failed; no more tries", log_as)
            if email_id is not None:
                _settle(email_id, sent=False)
        raise
    if email_id is not None:
        _settle(email_id, sent=True)


def _hold(email_id: int, task: Task) -> bool:
    """Keep the outbox from queueing this email while this try and its retry are due; False
    when it was sent already (or given up)."""
    wait = timedelta(seconds=(task.retry_delay or 0) if task.retries else 0)
    held = db.session.execute(
        sa.update(OutgoingEmail)
        .where(OutgoingEmail.id == email_id, OutgoingEmail.due_at.is_not(None))
        .values(due_at=utcnow() + wait + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(held)


def _settle(email_id: int, *, sent: bool) -> None:
    db.session.execute(
        sa.update(OutgoingEmail)
        .where(OutgoingEmail.id == email_id)
        .values(due_at=None, sent_at=utcnow() if sent else None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def email_later(to: str, subject: str, body: str, *, log_as: str) -> None:
    """Send an email once the current transaction commits (nothing if it rolls back).

    For anyone with an address, with or without an account (a guest's order). `log_as`
    names her in the log ("user 12", "order 7"), never by her address. The email is written
    to the outbox in the same transaction, and queued after the commit; if the queue cannot
    be reached then, `queue_waiting_emails` queues it once the queue is back.
    """
    email = OutgoingEmail(
        recipient=to, subject=subject[:300], body=body, log_as=log_as[:40], due_at=utcnow() + LEASE
    )
    db.session.add(email)
    after_commit(lambda: _queue(email))


def _queue(email: OutgoingEmail) -> None:
    email_id = sa.inspect(email).identity[0]  # no query: the row is committed
    try:
        send_email_job(
            email.recipient, email.subject, email.body, log_as=email.log_as, email_id=email_id
        )
    except Exception:  # the queue is down: the outbox queues it again once it is back
        current_app.logger.exception(
            "email to %s could not be queued; it waits in the outbox", email.log_as
        )


@huey.periodic_task(crontab(minute="*"))
def queue_waiting_emails(batch: int = 200) -> int:
    """Every minute: queue again the emails whose time has passed unsent (the queue was down
    when they were written, or a worker died sending them), and forget those sent a week
    ago. Each is claimed first by a conditional UPDATE, so two workers never queue one twice."""
    now = utcnow()
    waiting = db.session.scalars(
        sa.select(OutgoingEmail.id)
        .where(OutgoingEmail.due_at <= now)
        .order_by(OutgoingEmail.due_at)
        .limit(batch)
    ).all()
    queued = 0
    for email_id in waiting:
        email = db.session.get(OutgoingEmail, email_id)
        claimed = db.session.execute(
            sa.update(OutgoingEmail)
            .where(OutgoingEmail.id == email_id, OutgoingEmail.due_at <= now)
            .values(due_at=now + LEASE)
            .execution_options(synchronize_session=False)
        ).rowcount
        message, log_as = (email.recipient, email.subject, email.body), email.log_as
        db.session.commit()  # the claim is kept, and no transaction is held while queueing
        if claimed:
            send_email_job(*message, log_as=log_as, email_id=email_id)
            queued += 1
    db.session.execute(sa.delete(OutgoingEmail).where(OutgoingEmail.sent_at < now - KEEP_SENT))
    db.session.commit()
    return queued
