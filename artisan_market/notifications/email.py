"""Email: over SMTP when MAIL_SERVER is set, else written to the log (the one-machine default)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app

SMTP_TIMEOUT = 10  # seconds: a stuck mail server must not hold a coordinator's page for long


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
