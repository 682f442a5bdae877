"""Notifications: write one, word it in the reader's language, count and clear the unread.

`notify` adds and flushes in the caller's transaction and never commits. Its email, in the
recipient's own language, is queued only after that transaction commits (a decision rolled
back sends nothing) and sent by a background job, which tries again while the mail server
is down; nothing about sending it can fail the caller.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import force_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from artisan_market.accounts.models import User
from artisan_market.extensions import db
from artisan_market.i18n import LOCALES, current_locale, format_number, isolate
from artisan_market.notifications.email import email_later
from artisan_market.notifications.models import Notification
from artisan_market.security import safe_next
from artisan_market.timeutil import utcnow

# kind → (the text on the site and in the email body, the email's subject).
MESSAGES = {
    "artisan_verified": (
        _l("Your account is verified. Buyers can now see your products once they are approved."),
        _l("Your account is verified"),
    ),
    "artisan_declined": (
        _l("Your account could not be verified: %(reason)s"),
        _l("Your account could not be verified"),
    ),
    "listing_approved": (
        _l("Your product “%(title)s” is approved. Buyers can see it now."),
        _l("Your product is approved"),
    ),
    "listing_rejected": (
        _l("Your product “%(title)s” needs a change: %(reason)s. %(advice)s"),
        _l("Your product needs a change"),
    ),
    "order_new": (
        _l("New order %(number)s: %(pieces)s for you to prepare. Accept it to tell the buyer."),
        _l("You have a new order"),
    ),
    "order_cancelled": (
        _l("Order %(number)s was cancelled: do not send your part."),
        _l("An order was cancelled"),
    ),
}
# Added after the message when the coordinator wrote a note (in her own words, as typed).
NOTE = _l("Your coordinator wrote: %(note)s")


class _Params(dict):
    """Parameters for a message: a missing one reads as empty rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return ""


def in_every_language(text) -> dict[str, str]:
    """A lazy_gettext string worded in each language, for a parameter of a notification.

    Parameters are stored; `message` picks the reader's language when she reads it:
    notify(user, "listing_rejected", reason=in_every_language(REASONS[r]), …).
    """
    words = {}
    for locale in LOCALES:
        with force_locale(locale):
            words[locale] = str(text)
    return words


def _worded(value: Any) -> Any:
    """A parameter as the reader reads it: our words in her language (a dict of them), or a
    person's words (a title, a note) set apart from our sentence (`isolate`)."""
    if isinstance(value, dict):
        return value.get(current_locale()) or next(iter(value.values()), "")
    return isolate(value) if isinstance(value, str) else value


def message(notification: Notification) -> str:
    """The notification's text in the current locale (kinds unknown to this version: "")."""
    template = MESSAGES.get(notification.kind)
    if template is None:
        return ""
    params = _Params({k: _worded(v) for k, v in (notification.params or {}).items()})
    text = str(template[0]) % params
    if params.get("note"):
        text = f"{text} {str(NOTE) % params}"
    return text


def absolute_url(link: str) -> str:
    """A path of this site as a full URL, for an email."""
    if has_request_context():
        return request.host_url.rstrip("/") + link
    server = current_app.config.get("SERVER_NAME")
    if server:
        return f"{current_app.config['PREFERRED_URL_SCHEME']}://{server}{link}"
    return link


def _email_for(notification: Notification, user: User) -> tuple[str, str]:
    """Subject and body in her own language (Arabic unless she chose English)."""
    locale = user.locale if user.locale in LOCALES else "ar"
    with force_locale(locale):
        subject = f"{gettext('Artisan Market')}: {MESSAGES[notification.kind][1]}"
        lines = [gettext("Hello %(name)s,", name=user.name), "", message(notification)]
        if notification.link:
            lines += [
                "",
                gettext("See it on the site: %(url)s", url=absolute_url(notification.link)),
            ]
        lines += ["", gettext("Artisan Market")]
    return subject, "\n".join(lines)


def notify(user: User, kind: str, *, link: str | None = None, **params: Any) -> Notification:
    """Tell `user` something: kept for the site (flushed, not committed) and emailed if she
    has an email, once the transaction commits.

    Refuses (ValueError) a kind without a message and a link that is not a path of this site.
    """
    if kind not in MESSAGES:
        raise ValueError(f"unknown notification kind: {kind!r}")
    if link is not None and (len(link) > 300 or safe_next(link, "") != link):
        raise ValueError(f"a notification links inside the site, not to {link!r}")
    notification = Notification(user_id=user.id, kind=kind, params=params, link=link)
    db.session.add(notification)
    db.session.flush()
    if user.email:
        subject, body = _email_for(notification, user)
        email_later(user.email, subject, body, log_as=f"user {user.id}")
    return notification


def unread_count(user: User) -> int:
    """How many of her notifications she has not read (one COUNT query)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def notifications_query(user: User) -> sa.Select:
    """Hers only, newest first."""
    return (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def mark_all_read(user: User) -> int:
    """Mark every unread notification of hers read; returns how many were."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount


def unread_label(count: int) -> str:
    """Say "3 unread notifications" (for screen readers) with the page's digits."""
    return ngettext(
        "%(count)s unread notification",
        "%(count)s unread notifications",
        count,
        count=format_number(count),
    )


def badge_context() -> dict[str, Any]:
    """For the header: her unread count (one query), 0 for anonymous visitors."""
    signed_in = has_request_context() and current_user.is_authenticated
    count = unread_count(current_user) if signed_in else 0
    return {"unread_notifications": count, "unread_notifications_label": unread_label}
