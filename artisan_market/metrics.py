"""Metrics in Prometheus' text format at /metrics: off unless METRICS_TOKEN is set, and then
only for `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets the site's 404, as when
it is off (nothing says the page exists).

Two kinds of figures:

- Counted as requests are answered, in the process answering them (prometheus_client):
  requests by route (the URL rule, `/products/<id:product_id>`, never the path, so the
  number of series stays bounded), method and status; and their latency as a histogram by
  route and method. A dict look-up and two additions per request, and nothing at all while
  metrics are off. /metrics itself, /healthz, /readyz and /static are left out (probes and
  files would drown the pages). gunicorn runs several processes: with the environment
  variable PROMETHEUS_MULTIPROC_DIR (an empty directory, emptied at each start) each one
  writes its counts there and a scrape of any of them adds them all up (prometheus_client's
  multiprocess mode); without it a scrape sees only the process that answered it.
- Read when scraped, the same whichever process answers: jobs waiting in the queue and
  waiting for their time (retries), tasks failed (counted in the queue's own storage when
  they fail, so a worker on another host counts too), and orders in the database by payment
  method and status (one grouped count).
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, request
from huey.signals import SIGNAL_ERROR
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from artisan_market.config import MIN_SECRET_LENGTH, ConfigError
from artisan_market.extensions import db, limiter
from artisan_market.jobs import huey

log = logging.getLogger(__name__)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Endpoints whose requests are not counted.
NOT_COUNTED = frozenset({"metrics", "static", "main.healthz", "main.readyz"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"  # no route: a 404 for an unknown path, a redirect to add a slash
# Seconds: a page is 10-100 ms on a good day; a photo upload or a slow database, seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# No "_created" series beside every counter and histogram: twice the series, and no query of
# ours reads them.
disable_created_metrics()
# Not in prometheus_client's global registry: each scrape builds its own (see `_exposition`).
REQUESTS = Counter(
    "artisan_market_http_requests",
    "HTTP requests answered, by route (URL rule), method and status code.",
    ["route", "method", "status"],
    registry=None,
)
LATENCY = Histogram(
    "artisan_market_http_request_duration_seconds",
    "Time to answer a request (until the app returned its answer), by route and method.",
    ["route", "method"],
    buckets=BUCKETS,
    registry=None,
)

# The classic text format, which every Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Counters kept in the job queue's storage (Redis or the SQLite file), per task name.
_ERRORS_KEY = "metrics:job_errors:"
_FAILED_KEY = "metrics:jobs_failed:"


def multiprocess() -> bool:
    """prometheus_client's own test: the variable is there, even empty."""
    return MULTIPROC_DIR in os.environ


# --- requests ------------------------------------------------------------------------------


class RequestMetrics:
    """WSGI middleware: count and time each answer by the route Flask matched."""

    def __init__(self, wsgi_app: Callable) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        started = time.perf_counter()
        status = ["500"]  # unless the app answers: an exception that escaped it

        def start(status_line: str, headers: list, exc_info=None):
            status[0] = status_line[:3]
            return start_response(status_line, headers, exc_info)

        try:
            return self.wsgi_app(environ, start)
        finally:
            _observe(environ, status[0], time.perf_counter() - started)


_RULE = "artisan_market.url_rule"


def _remember_rule(exc: BaseException | None) -> None:
    """The rule Flask matched, for `_observe`: Flask has closed the request by then. (A
    teardown: it runs for every request, whatever happened in it.)"""
    request.environ[_RULE] = request.url_rule


def _observe(environ: dict, status: str, seconds: float) -> None:
    rule = environ.get(_RULE)
    if rule is None:
        route = UNMATCHED
    elif rule.endpoint in NOT_COUNTED:
        return
    else:
        route = rule.rule
    method = environ.get("REQUEST_METHOD", "")
    if method not in METHODS:  # anything a client cares to send: one label for all of it
        method = "other"
    REQUESTS.labels(route, method, status).inc()
    LATENCY.labels(route, method).observe(seconds)


# --- jobs ----------------------------------------------------------------------------------


@huey.signal(SIGNAL_ERROR)
def _count_failure(signal: str, task: Any, exc: BaseException | None = None) -> None:
    """Every failed try of a task, and those that were its last (no retry left)."""
    name = _task_name(task)
    huey.storage.incr(_ERRORS_KEY + name)
    if not task.retries:
        huey.storage.incr(_FAILED_KEY + name)


def _task_name(task: Any) -> str:
    return f"{type(task).__module__}.{type(task).__name__}"


def _task_names() -> list[str]:
    return sorted(huey._registry._registry)  # every task this code defines


# --- what a scrape reads -------------------------------------------------------------------


class LiveFigures:
    """Figures read at scrape time from the queue and the database."""

    def collect(self) -> Iterator[Metric]:
        yield from self._jobs()
        yield from self._orders()

    def _jobs(self) -> Iterator[Metric]:
        try:
            queued, scheduled = huey.pending_count(), huey.scheduled_count()
            names = _task_names()
            # Adding 0 reads a counter on every storage huey has.
            errors = [(name, huey.storage.incr(_ERRORS_KEY + name, 0)) for name in names]
            failed = [(name, huey.storage.incr(_FAILED_KEY + name, 0)) for name in names]
        except Exception:  # the queue is down: the other figures still go out
            log.exception("metrics: the job queue could not be read")
            return
        yield GaugeMetricFamily(
            "artisan_market_jobs_queued", "Jobs in the queue waiting for a worker.", queued
        )
        yield GaugeMetricFamily(
            "artisan_market_jobs_scheduled",
            "Jobs waiting for their time (retries after a failure, delayed tasks).",
            scheduled,
        )
        for metric_name, documentation, values in (
            (
                "artisan_market_job_errors",
                "Tries of a task that raised (each failed try, retried or not).",
                errors,
            ),
            (
                "artisan_market_jobs_failed",
                "Tasks that failed for good: their last try raised, no retry left.",
                failed,
            ),
        ):
            family = CounterMetricFamily(metric_name, documentation, labels=["task"])
            for name, value in values:
                family.add_metric([name], int(value))
            yield family

    def _orders(self) -> Iterator[Metric]:
        from artisan_market.orders.models import Order, OrderStatus

        try:
            rows = db.session.execute(
                sa.select(Order.payment_method, Order.status, sa.func.count()).group_by(
                    Order.payment_method, Order.status
                )
            ).all()
        except Exception:
            db.session.rollback()
            log.exception("metrics: orders could not be counted")
            return
        family = GaugeMetricFamily(
            "artisan_market_orders",
            "Orders placed, by payment method and where they are now (every order there is: "
            "its increase is the orders placed).",
            labels=["payment_method", "status"],
        )
        # Every way to pay offered, in every status, from 0: a series that appears only
        # with its first order would hide that order from increase().
        counts = {
            (method, str(status)): 0
            for method in current_app.config["PAYMENT_PROVIDERS"]
            for status in OrderStatus
        }
        counts.update({(method, str(status)): count for method, status, count in rows})
        for (method, status), count in sorted(counts.items()):
            family.add_metric([method, status], count)
        yield family


_warned_single_process = False


def _exposition() -> bytes:
    global _warned_single_process
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)  # every process's counts, from their files
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
        if request.environ.get("wsgi.multiprocess") and not _warned_single_process:
            _warned_single_process = True
            log.warning(
                "metrics: the server runs several processes and %s is not set: each scrape "
                "shows the requests of the one process that answered it",
                MULTIPROC_DIR,
            )
    registry.register(LiveFigures())
    return generate_latest(registry)


def _authorised(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@limiter.exempt
def metrics_page():
    """The figures, for Prometheus; 404 unless metrics are on and the token is right."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token or not _authorised(token):
        abort(404)
    response = Response(_exposition(), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """/metrics always exists (404 while off); requests are counted only while it is on."""
    app.add_url_rule("/metrics", "metrics", metrics_page)
    token = app.config.get("METRICS_TOKEN") or ""
    if not token:
        return
    if app.config["APP_ENV"] == "production" and len(token) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"METRICS_TOKEN must be at least {MIN_SECRET_LENGTH} random characters in "
            "production (python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    directory = os.environ.get(MULTIPROC_DIR)
    if directory is not None and not os.path.isdir(directory):
        raise ConfigError(
            f"{MULTIPROC_DIR}={directory!r} is not a directory: create it (empty), or unset "
            "the variable for one process."
        )
    app.teardown_request(_remember_rule)
    app.wsgi_app = RequestMetrics(app.wsgi_app)  # type: ignore[method-assign]
