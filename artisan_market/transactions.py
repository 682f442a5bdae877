"""One commit point per request, and what has to wait for it (docs/design.md, section 4).

Views call rules; rules change models and flush, and never commit. Once the view has
answered, `_end_request` decides for the whole request:

- an answer below 400 (a page, a redirect after a POST) commits;
- anything else (a form sent back with its errors, a 404, an error page) rolls back,
  so a refusal never leaves half-saved data.

Around that one transaction:

- `after_commit(action)`: work outside the database that must only happen if the change is
  kept (an email). It runs after the commit, and never after a rollback.
- `on_rollback(action)`: undo what the request did outside the database (photo files written
  to storage). It runs if the transaction rolls back, and is forgotten once it commits.
- `attempt()`: a rule that refuses (RuleError) leaves nothing of what it changed, so the page
  that shows the refusal shows things as they were.
- `slow_work()`: no transaction is held while the CPU works for long (password hashing,
  photo re-encoding): on SQLite a POST's transaction holds the write lock from its first
  statement, and every other writer would wait. Slow code declares itself with it, so no
  view has to remember.

Command-line tools and tests commit at their own edge; the actions above follow their commits
the same way, because they hang on the session, not on the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, Response, has_request_context
from flask import session as cookie_session
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from artisan_market.extensions import db
from artisan_market.rules import RuleError

log = logging.getLogger(__name__)

_ACTIONS = "transaction_actions"
_WROTE = "wrote"
AFTER_COMMIT, ON_ROLLBACK = "after commit", "on rollback"


def _register(kind: str, action: Callable[[], None]) -> None:
    """Keep `action` with the innermost transaction now open (a savepoint, or the request's),
    so a savepoint that rolls back takes its own actions with it."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_ACTIONS, []).append((kind, transaction, action))


def after_commit(action: Callable[[], None]) -> None:
    """Run `action` once the current transaction commits; drop it if it rolls back (or if
    the savepoint it was registered in does).

    A failing action is logged, never raised: the change it follows is already kept.
    """
    _register(AFTER_COMMIT, action)


def on_rollback(action: Callable[[], None]) -> None:
    """Run `action` if the current transaction (or savepoint) rolls back: remove a file it
    wrote. Forgotten once the work is committed."""
    _register(ON_ROLLBACK, action)


@contextmanager
def attempt() -> Iterator[None]:
    """Rules that may refuse: on a RuleError, undo what they changed (a savepoint), re-raise.

    Objects they changed are expired, so the page showing the refusal reads them as stored.
    """
    savepoint = db.session.begin_nested()
    try:
        yield
    except RuleError:
        savepoint.rollback()
        raise
    else:
        savepoint.commit()


class SlowWorkInTransaction(RuntimeError):
    """Slow work was started while this transaction had unsaved writes: releasing the
    transaction would lose them, keeping it would hold the write lock. Do the slow work
    first (re-encode the photo, hash the password), then write."""


@contextmanager
def slow_work() -> Iterator[None]:
    """Hold no transaction (and so no SQLite write lock) while the block runs.

    In a request, what was read so far is read again when next used, in a new, short
    transaction; slow work after a write is a bug (SlowWorkInTransaction), found by the
    first test that takes that path. Outside a request (a command-line tool loading demo
    data) nothing waits on the lock, and the block runs in the transaction as it is.
    """
    if has_request_context():
        session = db.session()
        wrote = session.info.get(_WROTE) or session.new or session.dirty or session.deleted
        if wrote or session.in_nested_transaction():
            raise SlowWorkInTransaction(
                "slow work inside a write transaction: do it before the first write"
            )
        if session.in_transaction():
            session.rollback()
    yield


def _end_request(response: Response) -> Response:
    """The commit point: commit below 400, roll back otherwise."""
    session = db.session()
    if response.status_code >= 400:
        session.rollback()
        return response
    try:
        session.commit()
    except Exception:
        session.rollback()
        # The error page follows; a "Saved." waiting in the cookie would say otherwise.
        cookie_session.pop("_flashes", None)
        raise
    return response


# --- session hooks ---------------------------------------------------------------------------


def _mark_written(session: Session, _flush_context) -> None:
    session.info[_WROTE] = True


def _mark_bulk_write(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _run(actions: list, kind: str) -> None:
    for action_kind, _transaction, action in actions:
        if action_kind != kind:
            continue
        try:
            action()
        except Exception:  # the transaction is decided: one failure must not stop the rest
            log.exception("%s action failed", kind)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its actions now wait for the outer transaction
    session.info.pop(_WROTE, None)
    _run(session.info.pop(_ACTIONS, []), AFTER_COMMIT)


def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    """A savepoint rolled back: undo what was done outside the database inside it, and
    forget what was to follow its commit. (The whole transaction: see `_ended`.)"""
    if not previous.nested:
        return
    actions = session.info.get(_ACTIONS, [])
    undone = [item for item in actions if _within(item[1], previous)]
    session.info[_ACTIONS] = [item for item in actions if not _within(item[1], previous)]
    _run(undone, ON_ROLLBACK)


def _ended(session: Session, transaction: SessionTransaction) -> None:
    """Rolled back, or closed without a commit (a commit has emptied the list already)."""
    if transaction.parent is not None or transaction.nested:
        return  # a savepoint: the outer transaction decides
    session.info.pop(_WROTE, None)
    _run(session.info.pop(_ACTIONS, []), ON_ROLLBACK)


_HOOKS = (
    ("after_flush", _mark_written),
    ("do_orm_execute", _mark_bulk_write),
    ("after_commit", _committed),
    ("after_soft_rollback", _rolled_back),
    ("after_transaction_end", _ended),
)


def init_app(app: Flask) -> None:
    # The session class is shared by every app: hook it once.
    for name, hook in _HOOKS:
        if not event.contains(db.session, name, hook):
            event.listen(db.session, name, hook)
    app.after_request(_end_request)
