"""Whole pages kept for visitors who are nobody in particular, thrown away by the change itself.

The shop window (home, the shop and its searches, product pages) is the same page for every
visitor who has not logged in, has nothing in her cart and no message waiting: the same HTML
but for the CSRF token of her forms. For her, `@cached_page` answers from a copy kept in this
process's memory instead of asking the database for the page's data and rendering it again.

**What throws a copy away.** A copy is kept under the *catalogue version*, a number in the
database (`cache_versions`) that every transaction changing what a shop page shows adds one
to, in the same transaction. Every request reads the number first; a copy made under another
number is never served. So a change is seen by the next request on every instance (they share
the database), as soon as it commits, and never before:

- which transactions count: any that inserts, updates or deletes a row of a table that is not
  in `UNSHOWN` (`_note_flush`, `_note_statement` watch the session's flushes and its UPDATE,
  INSERT and DELETE statements, bulk ones included). A new table counts until it is listed;
  tests/catalog/test_page_cache.py checks that no cached page reads a table listed there;
- when: just before the commit (`_bump`), the last statement of the transaction, so the
  version's row is locked for the moment of the commit only, after every other row the
  transaction locks (a lock taken earlier could deadlock two orders on PostgreSQL);
- why a copy is never newer than its number says stale: the number is read first in the
  request's transaction, the page's data after it. On SQLite that is one snapshot; on
  PostgreSQL (read committed) later statements see the same or newer commits, so a copy can
  only be fresher than its number, never older.

**For whom.** GET requests of a visitor who is not logged in and whose session holds nothing
but a CSRF token (a cart, a flashed message or anything else: her own page, rendered). The copy
is kept by address (path and query), host, language, the htmx headers, and Egypt's date (a
page that says "today" is not served tomorrow), for at most `PAGE_CACHE_SECONDS`; only a 200
that set no cookie of its own, showed no flashed message and left the session as nobody's is
kept. Her CSRF token is put back in where the copy had the token of the visitor it was
rendered for.

Each process keeps its own copies (`PAGE_CACHE_BYTES`, least recently used first out): nothing
to share or to invalidate between hosts but the number. `PAGE_CACHE_SECONDS=0` turns it off.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app, make_response, request, session
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from artisan_market.extensions import db
from artisan_market.i18n import current_locale
from artisan_market.timeutil import today_in_egypt

CATALOG = "catalog"
_CHANGED = "catalog_changed"

# Tables no cached page reads: their changes keep the copies. Every other table's change
# throws them away (a table added later included, until someone lists it here).
UNSHOWN = frozenset(
    {
        "audit_events",
        "cache_versions",
        "grant_applications",
        "grant_instalments",
        "grant_reports",
        "ledger_entries",
        "notifications",
        "outgoing_emails",
        "order_items",
        "order_parts",
        "orders",
        "payment_events",
        "payments",
        "payouts",
        "platform_fees",
        "programmes",
        "refunds",
        "sent_forms",
        "set_password_links",
        "shipping_rates",
    }
)
# Session keys that do not make a page hers (Flask-Login marks an anonymous session not
# fresh: `_fresh`).
_ANONYMOUS_KEYS = frozenset({"csrf_token", "_fresh", "_permanent"})


class CacheVersion(db.Model):
    """A number that grows with every change to what the named pages show."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)


# --- the version -----------------------------------------------------------------------------


def current_version() -> int | None:
    """The catalogue's version, read in the request's transaction; None without its row."""
    return db.session.scalar(sa.select(CacheVersion.version).where(CacheVersion.name == CATALOG))


def _counts(table: sa.Table | None) -> bool:
    return table is not None and table.name not in UNSHOWN


def _note_flush(session: Session, _flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _counts(getattr(obj, "__table__", None)):
            session.info[_CHANGED] = True
            return


def _note_statement(state) -> None:
    writes = state.is_insert or state.is_update or state.is_delete
    if writes and _counts(getattr(state.statement, "table", None)):
        state.session.info[_CHANGED] = True


def _bump(session: Session) -> None:
    """Before the outermost commit: one more on the version, if the transaction changed what
    the pages show."""
    if session.in_nested_transaction():
        return
    session.flush()  # what is still pending counts too
    if session.info.pop(_CHANGED, False):
        session.execute(
            sa.update(CacheVersion)
            .where(CacheVersion.name == CATALOG)
            .values(version=CacheVersion.version + 1)
            .execution_options(synchronize_session=False)
        )


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_CHANGED, None)


_HOOKS = (
    ("after_flush", _note_flush),
    ("do_orm_execute", _note_statement),
    ("before_commit", _bump),
    ("after_transaction_end", _forget),
)


# --- the copies ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Copy:
    parts: tuple[bytes, ...]  # the body, cut where the CSRF token was
    status: int
    headers: tuple[tuple[str, str], ...]
    made: float
    size: int


class _Store:
    """Copies by key, least recently used out first once they pass `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.copies: OrderedDict[tuple, _Copy] = OrderedDict()
        self.lock = threading.Lock()  # gthread workers serve several requests at once

    def get(self, key: tuple, newer_than: float) -> _Copy | None:
        with self.lock:
            copy = self.copies.get(key)
            if copy is None:
                return None
            if copy.made < newer_than:
                self._drop(key)
                return None
            self.copies.move_to_end(key)
            return copy

    def put(self, key: tuple, copy: _Copy) -> None:
        if copy.size > self.limit // 8:
            return
        with self.lock:
            if key in self.copies:
                self._drop(key)
            self.copies[key] = copy
            self.size += copy.size
            while self.size > self.limit:
                self._drop(next(iter(self.copies)))

    def _drop(self, key: tuple) -> None:
        self.size -= self.copies.pop(key).size


def _store() -> _Store:
    return current_app.extensions["page_cache"]


def _visitor_key() -> tuple | None:
    """What the page depends on for this visitor; None when the page is hers alone."""
    if request.method != "GET" or current_user.is_authenticated:
        return None
    if not _ANONYMOUS_KEYS.issuperset(session.keys()):
        return None
    htmx = tuple(sorted((k, v) for k, v in request.headers.items() if k.startswith("Hx-")))
    return (
        request.endpoint,
        request.host_url,
        request.full_path,
        current_locale(),
        htmx,
        today_in_egypt(),
    )


def _kept_headers(response) -> tuple[tuple[str, str], ...]:
    # The length is the body's own: her token need not be as long as the first visitor's.
    return tuple((k, v) for k, v in response.headers.items() if k != "Content-Length")


def _nobodys(response) -> bool:
    """The page the view made is still nobody's in particular: it set no cookie of its own,
    showed no flashed message (one flashed during this very request), and left nothing of
    hers in the session."""
    shown = request_ctx.flashes  # what get_flashed_messages() took out of the session
    return (
        "Set-Cookie" not in response.headers
        and not shown
        and _ANONYMOUS_KEYS.issuperset(session.keys())
    )


def cached_page(view: Callable) -> Callable:
    """Serve the view's page from a copy for visitors who are nobody in particular."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        seconds = current_app.config["PAGE_CACHE_SECONDS"]
        key = _visitor_key() if seconds else None
        version = current_version() if key is not None else None
        if version is None:
            return view(*args, **kwargs)
        key = (version, *key)
        store = _store()
        copy = store.get(key, newer_than=time.monotonic() - seconds)
        if copy is not None:
            token = generate_csrf().encode() if len(copy.parts) > 1 else b""
            return current_app.response_class(
                token.join(copy.parts), status=copy.status, headers=list(copy.headers)
            )
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and _nobodys(response):
            body = response.get_data()
            token = session.get("csrf_token") and generate_csrf().encode()
            parts = tuple(body.split(token)) if token else (body,)
            store.put(
                key,
                _Copy(parts, 200, _kept_headers(response), time.monotonic(), len(body)),
            )
        return response

    return wrapper


def init_app(app: Flask) -> None:
    app.extensions["page_cache"] = _Store(app.config["PAGE_CACHE_BYTES"])
    # The session class is shared by every app: hook it once.
    for name, hook in _HOOKS:
        if not event.contains(db.session, name, hook):
            event.listen(db.session, name, hook)
