"""Seeing it run: a request id on every log line (and on its jobs' lines), and /metrics for
Prometheus, off unless METRICS_TOKEN is set and then only for that token."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, current_app
from huey.storage import RedisStorage
from prometheus_client.parser import text_string_to_metric_families

from artisan_market import create_app, logs
from artisan_market.config import ConfigError
from artisan_market.extensions import db
from artisan_market.jobs import huey
from artisan_market.notifications.email import send_email_job
from artisan_market.payments.jobs import expire_unpaid_orders
from tests.conftest import TEST_SECRET, Client
from tests.orders.conftest import add, place
from tests.test_jobs import _stop, _wait_for, needs_redis, redis_queue, start_worker

__all__ = ["redis_queue", "start_worker"]  # fixtures, shared with tests/test_jobs.py

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "metrics-token-0123456789abcdef0123456789"
GENERATED = re.compile(r"[0-9a-f]{32}")

tries: list[str] = []


@huey.task(retries=1)
def fails_once(name: str) -> None:
    """Raises on its first try, logs on each."""
    tries.append(logs.current_request_id())
    current_app.logger.info("try %d of %s", len(tries), name)
    if len(tries) == 1:
        raise RuntimeError("first try fails")


@huey.task()
def always_fails() -> None:
    raise RuntimeError("this task always fails")


@huey.task()
def say(word: str) -> None:
    current_app.logger.info("job says %s", word)


def _lines(caplog, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


# --- request ids ---------------------------------------------------------------------------


@pytest.fixture
def logging_app(make_app) -> Flask:
    """An app with a page that writes log lines through two loggers and queues a job."""
    app = make_app()

    @app.get("/_log")
    def write_lines():
        current_app.logger.info("from the app's logger")
        logging.getLogger("artisan_market.somewhere").warning("from a module's logger")
        say("hello")
        return "ok"

    return app


def test_every_line_of_a_request_carries_its_id_and_the_answer_says_it(logging_app, caplog):
    caplog.set_level(logging.INFO)
    response = logging_app.test_client().get("/_log")
    rid = response.headers["X-Request-ID"]
    assert GENERATED.fullmatch(rid)
    lines = _lines(caplog, "from the app's logger") + _lines(caplog, "from a module's logger")
    assert [r.request_id for r in lines] == [rid, rid]
    # The job it queued (run at once in tests) logs with the same id, and so does huey.
    (job_line,) = _lines(caplog, "job says hello")
    assert job_line.request_id == rid
    assert all(r.request_id == rid for r in caplog.records if r.name.startswith("huey"))

    second = logging_app.test_client().get("/_log").headers["X-Request-ID"]
    assert second != rid


def test_a_safe_incoming_id_is_kept(logging_app, caplog):
    caplog.set_level(logging.INFO)
    incoming = "edge-7f3a.1_B"
    response = logging_app.test_client().get("/_log", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] == incoming
    assert {r.request_id for r in _lines(caplog, "from")} == {incoming}


@pytest.mark.parametrize(
    "incoming",
    ["x" * 65, "abc\ndef", "abc\r\nSet-Cookie: a=b", "two words", "", "ملف", "a;b", "a/b"],
    ids=["too long", "newline", "header injection", "space", "empty", "arabic", "semicolon", "/"],
)
def test_an_unsafe_incoming_id_is_replaced(logging_app, caplog, incoming):
    caplog.set_level(logging.INFO)
    response = logging_app.test_client().get(
        "/_log", environ_overrides={"HTTP_X_REQUEST_ID": incoming}
    )
    rid = response.headers["X-Request-ID"]
    assert GENERATED.fullmatch(rid)
    assert {r.request_id for r in _lines(caplog, "from")} == {rid}


def test_an_error_page_has_an_id_too(make_app):
    response = make_app().test_client().get("/no-such-page")
    assert response.status_code == 404
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_lines_outside_requests_say_dash_and_the_format_has_time_level_logger_id(app, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("artisan_market.outside").info("no request here")
    (record,) = _lines(caplog, "no request here")
    assert record.request_id == "-"
    line = logs.Formatter().format(record)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO artisan_market\.outside \[-\] "
        r"no request here",
        line,
    )
    with logs.request_id("abc"):
        logging.getLogger("artisan_market.outside").info("inside one")
    assert (
        logs.Formatter()
        .format(_lines(caplog, "inside one")[0])
        .endswith("INFO artisan_market.outside [abc] inside one")
    )


def test_an_order_s_email_is_sent_with_the_id_of_the_request_that_placed_it(
    client, make_product, caplog
):
    """A real flow: the checkout queues her email after the commit; the job (at once in
    tests) logs it, with the checkout's id."""
    caplog.set_level(logging.INFO)
    add(client, make_product(status="live"))
    response = place(client, email="sara@example.org")
    assert response.status_code == 303
    rid = response.headers["X-Request-ID"]
    (sent,) = _lines(caplog, "email (no SMTP configured): to=sara@example.org")
    assert sent.request_id == rid


@pytest.fixture
def queue_app(app, make_app) -> Iterator[Callable[..., Flask]]:
    """Apps whose jobs wait in the queue (a SQLite file) for a worker; huey goes back to the
    immediate mode other tests use afterwards."""
    yield lambda **extra: make_app(**{"JOBS_IMMEDIATE": False, "REDIS_URL": "", **extra})
    if isinstance(huey.storage, RedisStorage):
        huey.storage.pool.disconnect()
    huey.use(app)


def _work_one() -> None:
    """What a worker's thread does: take a task from the queue and run it."""
    thread = threading.Thread(target=lambda: huey.execute(huey.dequeue()))
    thread.start()
    thread.join()


def test_a_queued_job_keeps_the_id_through_the_queue_a_worker_thread_and_its_retry(
    queue_app, caplog
):
    caplog.set_level(logging.INFO)
    queue_app()
    tries.clear()
    with logs.request_id("req-42"):
        fails_once("the test")
    assert tries == []  # queued, not run
    _work_one()  # fails; retried at once: back in the queue
    assert huey.pending_count() == 1
    _work_one()
    assert tries == ["req-42", "req-42"]
    assert [r.request_id for r in _lines(caplog, "of the test")] == ["req-42", "req-42"]
    # huey's own lines about it: running it, its failure, its retry.
    huey_lines = [r for r in caplog.records if r.name.startswith("huey")]
    assert huey_lines and {r.request_id for r in huey_lines} == {"req-42"}
    assert any(r.exc_info for r in huey_lines)  # the first try's traceback


@needs_redis
def test_a_worker_process_logs_a_job_with_the_id_of_the_request_that_queued_it(
    redis_queue, start_worker, tmp_path
):
    """The real thing: `flask jobs worker` in its own process, its log in our format."""
    log = tmp_path / "worker.log"
    worker = start_worker(REDIS_URL=redis_queue)  # no MAIL_SERVER: the email goes to the log
    with logs.request_id("req-from-the-site"):
        send_email_job("mona@example.org", "subject", "body", log_as="user 1")
    _wait_for(lambda: "email (no SMTP configured)" in log.read_text(errors="replace"), log)
    _stop(worker, log)
    lines = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z [A-Z]+ \S+ \[req-from-the-site\] ", line)
    ]
    assert any("email (no SMTP configured): to=mona@example.org" in line for line in lines)
    assert any(" huey " in line and "Executing" in line for line in lines)


def test_a_job_queued_outside_any_request_and_each_periodic_run_get_ids_of_their_own(
    queue_app,
):
    queue_app()
    say("from a command")
    huey.enqueue(expire_unpaid_orders.task_class())  # what the scheduler does every minute
    huey.enqueue(expire_unpaid_orders.task_class())
    ids = [task.kwargs[logs.JOB_KWARG] for task in huey.pending()]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert all(GENERATED.fullmatch(i) for i in ids)


# --- /metrics ------------------------------------------------------------------------------


@pytest.fixture
def metrics_app(app, make_app) -> Iterator[Flask]:
    """The site with metrics on; its context above the plain `app`'s (which other fixtures
    use), so `current_app` is this one."""
    app = make_app(METRICS_TOKEN=TOKEN)
    app.test_client_class = Client
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def metrics_client(metrics_app) -> Client:
    return metrics_app.test_client()


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample /metrics gives: (name, sorted labels) → value."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def _requests(samples, route: str, method: str = "GET", status: str = "200") -> float:
    key = ("artisan_market_http_requests_total", (("method", method), ("route", route)))
    key = (key[0], tuple(sorted((*key[1], ("status", status)))))
    return samples.get(key, 0.0)


def _bucket(samples, route: str, le: str = "+Inf") -> float:
    labels = tuple(sorted({"le": le, "method": "GET", "route": route}.items()))
    return samples.get(("artisan_market_http_request_duration_seconds_bucket", labels), 0.0)


def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer"],
)
def test_metrics_without_the_right_token_are_not_found(metrics_client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    assert metrics_client.get("/metrics", headers=headers).status_code == 404


def test_requests_are_counted_and_timed_by_route_not_by_path(metrics_client, make_product):
    product = make_product(status="live")
    rule = min(
        (r.rule for r in current_app.url_map.iter_rules() if r.endpoint == "catalog.product"),
        key=len,
    )  # /products/<id:product_id>: a redirect to the one with the slug
    before = scrape(metrics_client)
    for path in ("/shop", "/shop", f"/products/{product.id}", "/healthz"):
        metrics_client.get(path).close()
    metrics_client.get("/static/css/app.css").close()  # a file: closed, or it warns
    metrics_client.get("/no-such-page").close()
    after = scrape(metrics_client)

    assert _requests(after, "/shop") - _requests(before, "/shop") == 2
    assert _bucket(after, "/shop") - _bucket(before, "/shop") == 2  # the latency histogram
    shop = (("method", "GET"), ("route", "/shop"))
    assert ("artisan_market_http_request_duration_seconds_sum", shop) in after
    product_answers = _requests(after, rule, status="301") + _requests(after, rule)
    assert product_answers - _requests(before, rule, status="301") - _requests(before, rule) == 1
    assert not any(str(product.id) in dict(labels).get("route", "") for _, labels in after)
    unmatched = _requests(after, "(unmatched)", status="404")
    assert unmatched - _requests(before, "(unmatched)", status="404") == 1
    # Probes, files and the scrapes themselves are not counted.
    routes = {dict(labels).get("route") for _, labels in after}
    assert not routes & {"/metrics", "/healthz", "/readyz", "/static/<path:filename>"}


def test_jobs_queued_and_failed(metrics_client):
    samples = scrape(metrics_client)
    assert samples[("artisan_market_jobs_queued", ())] == 0
    assert samples[("artisan_market_jobs_scheduled", ())] == 0
    name = "tests.test_observability.always_fails"
    assert samples[("artisan_market_jobs_failed_total", (("task", name),))] == 0

    always_fails()  # at once in tests: fails, with no retry left
    tries.clear()
    fails_once("metrics")  # fails, retried at once, then succeeds
    samples = scrape(metrics_client)
    assert samples[("artisan_market_jobs_failed_total", (("task", name),))] == 1
    assert samples[("artisan_market_job_errors_total", (("task", name),))] == 1
    once = "tests.test_observability.fails_once"
    assert samples[("artisan_market_job_errors_total", (("task", once),))] == 1
    assert samples[("artisan_market_jobs_failed_total", (("task", once),))] == 0


def test_jobs_waiting_in_the_queue(queue_app):
    app = queue_app(METRICS_TOKEN=TOKEN)
    say("one")
    say("two")
    samples = scrape(app.test_client())
    assert samples[("artisan_market_jobs_queued", ())] == 2


def test_orders_placed(metrics_client, make_product):
    key = ("artisan_market_orders", (("payment_method", "cod"), ("status", "placed")))
    assert scrape(metrics_client)[key] == 0
    add(metrics_client, make_product(status="live"))
    assert place(metrics_client).status_code == 303
    assert scrape(metrics_client)[key] == 1


def test_several_processes_without_a_multiprocess_directory_are_warned_of_once(
    metrics_client, caplog, monkeypatch
):
    """gunicorn with several workers and no PROMETHEUS_MULTIPROC_DIR: each scrape would see
    one worker's counts; the log says so, once per process."""
    from artisan_market import metrics

    monkeypatch.setattr(metrics, "_warned_single_process", False)
    for _ in range(2):
        response = metrics_client.get(
            "/metrics",
            headers={"Authorization": f"Bearer {TOKEN}"},
            environ_overrides={"wsgi.multiprocess": True},
        )
        assert response.status_code == 200
    assert len(_lines(caplog, "PROMETHEUS_MULTIPROC_DIR is not set")) == 1


SERVE = """
import sys
from artisan_market import create_app
app = create_app()
client = app.test_client()
for _ in range(int(sys.argv[1])):
    assert client.get("/shop").status_code == 200
if sys.argv[2] == "scrape":
    response = client.get("/metrics", headers={"Authorization": "Bearer " + sys.argv[3]})
    print(response.get_data(as_text=True))
"""


def test_with_a_multiprocess_directory_any_process_adds_up_every_process_s_counts(
    database_url, tmp_path
):
    """gunicorn's workers: each writes its counts in PROMETHEUS_MULTIPROC_DIR, and a scrape of
    any one of them shows them all."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "FLASK_DEBUG", "APP_ENV", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SECRET,
        INSTANCE_PATH=str(tmp_path / "instance"),
        JOBS_IMMEDIATE="1",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    )

    def serve(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", SERVE, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    serve("2", "no")
    text = serve("1", "scrape", TOKEN)
    families = list(text_string_to_metric_families(text))
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families
        for s in family.samples
    }
    assert _requests(samples, "/shop") == 3
    assert _bucket(samples, "/shop") == 3
    # The figures read at scrape time are there too.
    assert {"artisan_market_orders", "artisan_market_jobs_queued"} <= {f.name for f in families}


# --- settings ------------------------------------------------------------------------------


def test_production_refuses_a_short_metrics_token(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    settings = {
        "INSTANCE_PATH": str(tmp_path),
        "APP_ENV": "production",
        "SECRET_KEY": TEST_SECRET,
        "METRICS_TOKEN": "short",
    }
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        create_app(settings)
    create_app({**settings, "METRICS_TOKEN": TOKEN})


def test_a_multiprocess_directory_that_is_not_there_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    settings = {"TESTING": True, "SECRET_KEY": TEST_SECRET, "INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        create_app({**settings, "METRICS_TOKEN": TOKEN})
    create_app(settings)  # metrics off: the variable does not matter
