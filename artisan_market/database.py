"""SQLite set up as docs/design.md says, and the helpers every write path relies on.

SQLite: WAL, foreign keys on, a busy timeout, synchronous=NORMAL, and every write
transaction begun with BEGIN IMMEDIATE. A deferred transaction that reads and then writes
fails at once with "database is locked" when another writer got there first, whatever the
timeout; an immediate one waits its turn (up to busy_timeout) instead.

Slow work (hashing, re-encoding) never runs inside a write transaction: see
`transactions.slow_work`.

Which transactions write? In a request, any method but GET/HEAD/OPTIONS; outside a request
(CLI commands, tests, background work) every transaction, unless `read_only()` says otherwise.
Read-only requests keep plain BEGIN, so readers never queue behind a writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar

from flask import Flask, has_request_context, request
from sqlalchemy import event

from artisan_market.extensions import db

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_write_intent: ContextVar[bool | None] = ContextVar("write_intent", default=None)


def dialect_name() -> str:
    """The database the session talks to: "sqlite" or "postgresql"."""
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


def _sqlite_on_connect(dbapi_connection, _connection_record) -> None:
    # Let the "begin" hook below decide how each transaction begins.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write() else "BEGIN")


def init_app(app: Flask) -> None:
    """Set up the app's SQLite engines (Flask-SQLAlchemy made them in its own init_app)."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
