"""Log lines and request ids: every line the site writes says which request (or job) it
belongs to.

Each request gets an id: the `X-Request-ID` it came with when that is a short safe token
(a proxy's, so its log and ours share it), else a new one. The answer carries it back in its
own `X-Request-ID`, and every log line written while the request runs names it, whichever
logger wrote it: the id is a context variable, and every log record takes it when it is made
(a LogRecord factory; lines outside any request say "-").

A job queued during a request carries the request's id with it, in a hidden keyword of the
task (`JOB_KWARG`), so its retries keep it; the worker's lines for that task, huey's own
and the task's, say it again (`jobs.py` calls `tag_job`, `running_job` and `job_request_id`).
A job queued outside any request (a command, a periodic task each time it is due) gets an id
of its own when queued.

`configure_logging` writes lines as
`2025-01-31T09:15:02.123Z INFO artisan_market.orders [3f0c…] message`: the time in UTC.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask

HEADER = "X-Request-ID"
NONE = "-"  # a line written outside any request or job
# The id a task was queued with: a keyword huey stores with the task's own, taken off
# before the task's function is called.
JOB_KWARG = "_request_id"
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_request_id: ContextVar[str] = ContextVar("request_id", default=NONE)


def current_request_id() -> str:
    """The id of the request (or job) running now; "-" outside one."""
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str | None:
    """`value` if it is a safe id to log and send back (≤ 64 letters, digits, ".", "_", "-"):
    nothing in it can break a log line or a header. None otherwise."""
    if value and _SAFE_ID.fullmatch(value):
        return value
    return None


@contextmanager
def request_id(value: str) -> Iterator[str]:
    """Lines written inside the block carry `value`; the previous id comes back after."""
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


class RequestIds:
    """WSGI middleware: the request's id, for its log lines and in the answer's header.

    Outside Flask, so the lines of every hook and error handler carry it, and the header is
    on every answer, error pages included.
    """

    def __init__(self, wsgi_app: Callable) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        rid = accepted_request_id(environ.get("HTTP_X_REQUEST_ID")) or new_request_id()

        def start(status: str, headers: list, exc_info=None):
            return start_response(status, [*headers, (HEADER, rid)], exc_info)

        # The app has answered, run its teardown and closed its contexts when this returns;
        # a body streamed by a generator afterwards would log with "-".
        with request_id(rid):
            return self.wsgi_app(environ, start)


# --- jobs ----------------------------------------------------------------------------------


def tag_job(task: Any) -> None:
    """Give a task being queued the current request's id (a new one outside any request).
    A retry, queued again, keeps the id it has."""
    kwargs = getattr(task, "kwargs", None)  # a group or chord has none: huey queues its tasks
    if isinstance(kwargs, dict) and JOB_KWARG not in kwargs:
        rid = current_request_id()
        kwargs[JOB_KWARG] = rid if rid != NONE else new_request_id()


def job_id_of(task: Any) -> str:
    kwargs = getattr(task, "kwargs", None)
    return (kwargs.get(JOB_KWARG) if isinstance(kwargs, dict) else None) or NONE


@contextmanager
def running_job(task: Any) -> Iterator[None]:
    """huey's own lines about running `task` (started, failed, retried) carry its id."""
    with request_id(job_id_of(task)):
        yield


def job_request_id(kwargs: dict) -> str:
    """Take the hidden id off a task's keywords, before its function is called (a task
    queued by an older version has none: it gets a new one)."""
    return accepted_request_id(kwargs.pop(JOB_KWARG, None)) or new_request_id()


def set_request_id(value: str) -> None:
    """For a task's own context (a fresh one, thrown away when the task ends)."""
    _request_id.set(value)


# --- log lines -----------------------------------------------------------------------------


def _install_record_factory() -> None:
    """Every log record, from any logger, takes the current id when it is made."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get()
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class Formatter(logging.Formatter):
    """Time in UTC, ISO 8601 with milliseconds; level, logger, request id, message."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):  # made without the factory (makeLogRecord)
            record.request_id = NONE
        return super().format(record)


def configure_logging(level: int = logging.INFO) -> None:
    """One handler on the root logger, to stderr, in our format; once per process, and
    not at all when something else (a test runner, a logging config) has set one up."""
    _install_record_factory()
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Formatter())
    root.addHandler(handler)
    root.setLevel(level)
    # Flask gives the app's logger a handler of its own when nothing above it had one: its
    # lines would be written twice, the second time without the id.
    from flask.logging import default_handler

    logging.getLogger("artisan_market").removeHandler(default_handler)


def init_app(app: Flask) -> None:
    _install_record_factory()
    app.wsgi_app = RequestIds(app.wsgi_app)  # type: ignore[method-assign]
    if not app.testing:  # tests read records through pytest's caplog
        configure_logging()
