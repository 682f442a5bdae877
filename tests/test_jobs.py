"""Background jobs: where the queue lives, and the app a task runs in."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from artisan_market.accounts.models import Organisation
from artisan_market.extensions import db
from artisan_market.jobs import huey

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL") and not os.environ.get("CI"),
    reason="needs REDIS_URL (CI always sets it)",
)


def _redis_url() -> str:
    if not os.environ.get("REDIS_URL"):
        pytest.fail("CI must set REDIS_URL")
    return os.environ["REDIS_URL"]


seen: list[dict] = []


@huey.task()
def look_around(organisation: str | None = None) -> None:
    """What a task sees; with a name, it adds an organisation and does not commit."""
    seen.append(
        {
            "app": current_app._get_current_object(),
            "motto": current_app.config.get("MOTTO"),
            "request": has_request_context(),
            "g": dict(vars(g)),
            "session": db.session(),
        }
    )
    if organisation:
        db.session.add(Organisation(name_ar=organisation, name_en=organisation))
        db.session.flush()


@huey.task()
def found_organisation(name: str) -> None:
    db.session.add(Organisation(name_ar=name, name_en=name))
    db.session.commit()


@pytest.fixture
def queue_app(app, make_app) -> Iterator[Callable[..., Flask]]:
    """An app whose jobs wait in the queue for a worker; huey is put back as the other
    tests use it (immediate) afterwards."""
    seen.clear()
    yield lambda **extra: make_app(JOBS_IMMEDIATE=False, **extra)
    if isinstance(huey.storage, RedisStorage):
        huey.storage.pool.disconnect()
    huey.use(app)


@pytest.fixture
def redis_queue(queue_app) -> Iterator[str]:
    """A queue app on the Redis of REDIS_URL (its URL), the queue emptied before and after
    (what an interrupted run left; runs on one Redis database take turns)."""
    url = _redis_url()
    queue_app(REDIS_URL=url)
    huey.flush()
    yield url
    huey.flush()


def _organisations() -> set[str]:
    return set(db.session.scalars(sa.select(Organisation.name_ar)))


def test_without_redis_the_queue_is_a_sqlite_file_in_the_instance_folder(queue_app, tmp_path):
    app = queue_app(REDIS_URL="", MOTTO="بإيدينا")
    assert isinstance(huey.storage, SqliteStorage)
    assert huey.storage.filename == str(tmp_path / "jobs.sqlite3")
    assert (tmp_path / "jobs.sqlite3").exists()

    look_around()
    assert seen == []  # queued, not run
    assert huey.pending_count() == 1
    # What a worker's thread does (it has no app context): take the task and run it.
    thread = threading.Thread(target=lambda: huey.execute(huey.dequeue()))
    thread.start()
    thread.join()
    assert seen[0]["app"] is app
    assert seen[0]["motto"] == "بإيدينا"


@needs_redis
def test_with_redis_url_the_queue_is_in_redis(redis_queue):
    import redis

    assert isinstance(huey.storage, RedisStorage)
    look_around()
    assert seen == []
    with redis.Redis.from_url(redis_queue) as server:
        assert server.llen("huey.redis.artisan_market") == 1


def test_immediate_mode_runs_a_task_at_once_in_an_app_context_of_its_own(make_app):
    """The task runs in the caller's app, and sees nothing of the caller's request: as in a
    worker, no request, no `g`, and a database session of its own."""
    app = make_app(MOTTO="بإيدينا")
    assert isinstance(huey.storage, MemoryStorage)
    seen.clear()
    with app.test_request_context("/", method="POST"):
        g.visitor = "someone"
        look_around()
        caller_session = db.session()
    (saw,) = seen
    assert saw["app"] is app
    assert saw["motto"] == "بإيدينا"
    assert saw["request"] is False
    assert saw["g"] == {}
    assert saw["session"] is not caller_session


def test_a_task_commits_nothing_by_itself(app):
    look_around(organisation="لم تحفظ")
    found_organisation("حفظت")
    assert _organisations() == {"حفظت"}


def test_the_worker_command(runner):
    result = runner.invoke(args=["jobs", "worker", "--help"])
    assert result.exit_code == 0
    assert "-w, --workers" in result.output
