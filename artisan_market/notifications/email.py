"""Email: over SMTP when MAIL_SERVER is set, else written to the log (the one-machine default).

Every email goes out through the job queue (`email_later`, after the commit): a worker
sends it, and tries again while the mail server is down.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app
from huey.api import Task

from artisan_market.jobs import huey
from artisan_market.transactions import after_commit

SMTP_TIMEOUT = 10  # seconds: a stuck mail server must not hold a worker for long
# Tries after the first: 30 s, then each wait twice the last (1, 2, 4 … 64 min, 2.1 h,
# 4.3 h): a mail server down for a working day (8.5 h in all) delays mail and loses none.
RETRIES, RETRY_DELAY, RETRY_BACKOFF = 10, 30, 2


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
def send_email_job(to: str, subject: str, body: str, *, log_as: str, task: Task) -> None:
    """Send one email; a failure raises, and huey tries again later (RETRIES times).

    `log_as` names the recipient in the log ("user 12"), never by her address.
    """
    try:
        send_email(to, subject, body)
    except Exception:
        if not task.retries:  # the last try
            current_app.logger.exception("email to %s failed; no more tries", log_as)
        raise


def email_later(to: str, subject: str, body: str, *, log_as: str) -> None:
    """Queue an email once the current transaction commits (nothing if it rolls back).

    For anyone with an address, with or without an account (a guest's order). `log_as`
    names her in the log ("user 12", "order 7"), never by her address.
    """
    after_commit(lambda: _queue(to, subject, body, log_as))


def _queue(to: str, subject: str, body: str, log_as: str) -> None:
    try:
        send_email_job(to, subject, body, log_as=log_as)
    except Exception:  # the queue is down: the change is kept, this one email is not
        current_app.logger.exception("email to %s could not be queued", log_as)
