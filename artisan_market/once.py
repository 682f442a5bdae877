"""A form sent twice does its work once.

On a weak connection a second tap is common: the first upload seems stuck, she taps again,
the browser drops the first request (the server still finishes it) and sends a second. Every
form whose work must not happen twice (a new listing now; an order next) carries a random key,
made when the page was drawn (`form_key`, a hidden field named `once`). The first request to
claim the key does the work and records where it led; any later request with the same key is
sent there instead, without doing anything.

The claim is a row with the key as its primary key, written in the request's transaction: two
requests racing with one key cannot both insert it (SQLite serialises writers; PostgreSQL
makes the second wait for the first and then refuses it), and a request that rolls back
releases its claim.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask import request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from artisan_market.extensions import db
from artisan_market.timeutil import UTCDateTime, utcnow

FIELD = "once"
_KEY = re.compile(r"[A-Za-z0-9_-]{22,64}")


class SentForm(db.Model):
    """A form's key, claimed by the request that did its work, and where that led."""

    __tablename__ = "sent_forms"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # Where the first sending led (the draft it made): later sendings go there.
    result: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def form_key() -> str:
    """A new key for a form being drawn (a template global)."""
    return secrets.token_urlsafe(24)


def sent_key() -> str | None:
    """The key the posted form carries; None if it carries none (or not one of ours)."""
    key = request.form.get(FIELD, "")
    return key if _KEY.fullmatch(key) else None


def claim(key: str | None) -> str | None:
    """Claim `key` for this request: None when the work is this request's to do; else where
    the first request that sent the same form led ("" if it is not finished yet).

    A form without a key is always this request's to do.
    """
    if key is None:
        return None
    earlier = db.session.get(SentForm, key)
    if earlier is not None:
        return earlier.result
    try:
        with db.session.begin_nested():
            db.session.add(SentForm(key=key))
    except IntegrityError:  # claimed meanwhile (PostgreSQL): the other request did it
        return db.session.get(SentForm, key, populate_existing=True).result
    return None


def record(key: str | None, result: str) -> None:
    """Where this request's work led, for the same form sent again."""
    if key is not None:
        db.session.get(SentForm, key).result = result
