"""Background jobs: where the queue lives, the app a task runs in, and a real worker process
sending email through Redis, also while the mail server is down for a moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from artisan_market.accounts.models import Organisation
from artisan_market.extensions import db
from artisan_market.jobs import huey
from artisan_market.notifications.email import send_email_job
from artisan_market.notifications.models import OutgoingEmail
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent

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


# --- a real worker process ---------------------------------------------------------------


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """`flask jobs worker` in a process of its own, configured by its environment only;
    its log is in tmp_path/worker.log."""
    processes: list[subprocess.Popen] = []
    log = tmp_path / "worker.log"

    def start(**env: str) -> subprocess.Popen:
        environ = {
            k: v
            for k, v in os.environ.items()
            if k not in {"JOBS_IMMEDIATE", "DATABASE_URL", "FLASK_DEBUG"}
        }
        environ.update(APP_ENV="development", INSTANCE_PATH=str(tmp_path / "worker"), **env)
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
                cwd=ROOT,
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _stop(process: subprocess.Popen, log: Path) -> None:
    """Stop it as systemd does (SIGTERM); it must exit at once and cleanly."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0, log.read_text()


def _wait_for(condition: Callable[[], object], log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


@needs_redis
def test_a_worker_process_sends_a_queued_email(redis_queue, start_worker, smtp, tmp_path):
    inbox, port = smtp
    worker = start_worker(REDIS_URL=redis_queue, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port))

    send_email_job("mona@example.org", "سلتك جاهزة", "أهلًا منى،", log_as="user 1")
    _wait_for(lambda: inbox.messages, tmp_path / "worker.log")
    assert inbox.recipients == [["mona@example.org"]]
    assert inbox.messages[0].get_content().strip() == "أهلًا منى،"
    _stop(worker, tmp_path / "worker.log")


@needs_redis
def test_a_worker_retries_an_email_until_the_mail_server_is_back(
    redis_queue, start_worker, mail_server, tmp_path
):
    """The mail server is down when the worker first tries: the email waits in the schedule
    and goes out on a later try. (A one-second first delay instead of 30 s.)"""
    log = tmp_path / "worker.log"
    worker = start_worker(
        REDIS_URL=redis_queue, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(mail_server.port)
    )

    send_email_job("mona@example.org", "subject", "body", log_as="user 1", retry_delay=1)
    _wait_for(lambda: huey.scheduled_count() == 1, log)  # tried, failed, scheduled
    assert mail_server.inbox.messages == []
    mail_server.start()
    _wait_for(lambda: mail_server.inbox.messages, log)
    assert mail_server.inbox.recipients == [["mona@example.org"]]
    assert (huey.pending_count(), huey.scheduled_count()) == (0, 0)
    _stop(worker, log)
    assert "Connection refused" in log.read_text()  # the failed try, in the worker's log


def test_an_email_that_cannot_be_queued_fails_nothing(queue_app, make_user, caplog):
    """Redis down after her change was committed: the change stands, and her email waits in
    the outbox (tests/notifications/test_outbox.py: sent once the queue is back)."""
    from artisan_market.notifications.models import Notification
    from artisan_market.notifications.services import notify

    app = queue_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")  # nobody listens
    with app.app_context():
        artisan = make_user("artisan", email="mona@example.org")
        notify(artisan, "artisan_verified")
        db.session.commit()  # does not raise
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1
        expected = f"email to user {artisan.id} could not be queued; it waits in the outbox"
        (waiting,) = db.session.scalars(sa.select(OutgoingEmail)).all()
        assert waiting.sent_at is None and waiting.due_at is not None
    assert any(r.getMessage() == expected for r in caplog.records)
