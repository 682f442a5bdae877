"""Two hosts, one command: the whole stack of bench/stack.py under a short load (CI's smoke).

nginx in front of two gunicorn instances (APP_ENV=production), PostgreSQL (a database of
its own on TEST_DATABASE_URL's server), a private Redis, moto's S3 server and two job
workers; locust for 40 s with 6 users (visitors, guest buyers paying cash on delivery, an
artisan fulfilling orders and adding a listing photo first, the admin recording cash). No
request may fail, and every invariant must hold afterwards. About 75 s in all.

Skipped only when the machine lacks a part: nginx, redis-server, or PostgreSQL
(TEST_DATABASE_URL); `.ci/run` provides all three. Select it alone with `pytest -m stack`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import stack

pytestmark = pytest.mark.stack

SECONDS, USERS = 40, 6
# Steps that must have happened in the smoke's minute, whatever the dice said.
STEPS = {
    "home",
    "shop",
    "search",
    "product",
    "cart: add",
    "checkout: form",
    "checkout: place",
    "login",
    "fulfil: her orders",
    "upload: photo (makes a draft)",
    "cash: orders",
}


def _skip_unless_ready() -> str:
    if not Path(stack.NGINX).exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    if not Path(stack.REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL (PostgreSQL) is not set")
    why = stack.postgres_answers(url)
    if why:
        pytest.skip(f"PostgreSQL of TEST_DATABASE_URL does not answer: {why}")
    missing = stack.missing_prerequisites()
    assert not missing, f"make setup installs these: {missing}"
    return url


def test_two_instances_behind_nginx_hold_every_invariant_under_load(tmp_path):
    url = _skip_unless_ready()
    lines: list[str] = []
    with stack.Stack(
        tmp_path / "stack", server=url, database="artisan_market_stack_test", echo=lines.append
    ) as running:
        prefix, record, _status = stack.run_locust(running, users=USERS, seconds=SECONDS)
        steps = {s.name: s for s in stack.read_stats(prefix)}
        report = stack.format_report(steps.values())
        total = steps["Aggregated"]
        assert total.requests > 200, report
        assert total.failures == 0, report + "\n" + "\n".join(stack.read_failures(prefix))
        assert not STEPS - set(steps), f"missing steps {STEPS - set(steps)}\n{report}"

        checks = [stack.wait_for_jobs(running)]
        checks += stack.check_invariants(
            running.database_url,
            running.snapshot,
            s3_endpoint=running.s3_endpoint,
            record=record,
        )
        checks.append(stack.failover_check(running))
    failed = [c.line() for c in checks if not c.ok]
    assert not failed, "\n".join([*failed, "", report])
    app1, app2 = stack.served_by_instance(running)  # nginx spread the load over both
    assert min(app1, app2) > (app1 + app2) / 4, (app1, app2)
