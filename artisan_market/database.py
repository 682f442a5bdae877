"""SQLite set up as DESIGN.md says, and the helpers every write path relies on.

SQLite: WAL, foreign keys on, a busy timeout, synchronous=NORMAL, and every write
transaction begun with BEGIN IMMEDIATE. A deferred transaction that reads and then writes
fails at once with "database is locked" when another writer got there first, whatever the
timeout; an immediate one waits its turn (up to busy_timeout) instead.

Which transactions write? In a request, any method but GET/HEAD/OPTIONS; outside a request
(CLI commands, tests, background work) every transaction, unless `read_only()` says otherwise.
Read-only requests keep plain BEGIN, so readers never queue behind a writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_write_intent: ContextVar[bool | None] = ContextVar("write_intent", default=None)


def dialect_name() -> str:
    """The database the session talks to: "sqlite" or "postgresql"."""
    from artisan_market.extensions import db

    return db.session.get_bind().dialect.name


@contextmanager
def write_intent(intent: bool = True) -> Iterator[None]:
    """Force the next transactions in this context to begin IMMEDIATE (True) or deferred."""
    token = _write_intent.set(intent)
    try:
        yield
    finally:
        _write_intent.reset(token)


def read_only() -> AbstractContextManager[None]:
    """Begin the next transactions deferred: for work that only reads."""
    return write_intent(False)


def _wants_write() -> bool:
    explicit = _write_intent.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        return request.method not in _SAFE_METHODS
    return True


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below decide how each transaction begins.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write() else "BEGIN")


def end_transaction() -> None:
    """End the current transaction before slow work (password hashing, photo re-encoding).

    Nothing is written yet when this is called, so it rolls back nothing; it lets go of
    SQLite's write lock (and PostgreSQL's snapshot) while the CPU works. Objects loaded so
    far are read again when next used, in a new, short transaction.
    """
    from artisan_market.extensions import db

    db.session.rollback()
