"""Background jobs (huey): work that must not hold a request, or that has to wait and try
again (an email while the mail server is down).

One queue for the whole site, `huey` below. A task anywhere in the app is a function under
`@huey.task(retries=…, retry_delay=…)` or `@huey.periodic_task(crontab(…))`; calling it
queues it and returns at once. In a request, queue only after the commit
(`transactions.after_commit`), so a task never acts on a change that was rolled back.

Where the queue lives is the app's configuration, read when `create_app` calls `init_app`:
Redis at REDIS_URL when it is set (every web process and worker on every host shares it),
else a SQLite file, `instance/jobs.sqlite3` (one machine). With JOBS_IMMEDIATE (tests) each
task runs at once in the process that queues it, on huey's in-memory storage; a task that
fails there waits in that memory for its retry, which nothing runs by itself.

How a task finds its app: from the caller when there is an app context (immediate mode),
else the app `init_app` saw, which in a worker is the one app of the process:
`flask jobs worker` loads the site like every `flask` command (wsgi.py, `create_app()` once).
Each task runs in an app context of its own, started from empty context variables as in a
worker's thread: no request, no `g`, and a database session of its own, which closing the
context removes (Flask-SQLAlchemy's teardown), rolling back whatever was not committed.
Nothing is committed for a task: one that writes commits when its work is done, as a
command-line tool does, and its after_commit actions follow that commit. Its log lines, and
huey's about it, carry the id of the request that queued it, retries too (logs.py).

A retry repeats the whole task, so every task must be safe to run twice (docs/design.md,
section 8): it reads what is left to do and records what it did.
"""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup
from huey import Huey
from huey.api import TaskWrapper
from huey.storage import BaseStorage, RedisStorage, SqliteStorage

from artisan_market import logs


class _InAppContext(TaskWrapper):
    """huey builds every task through this class, periodic ones too: so each runs in an app
    context of its own, whichever decorator made it."""

    def create_task(
        self, func: Callable, context: bool = False, name: str | None = None, **settings
    ):
        return super().create_task(_in_app_context(self.huey, func), context, name, **settings)


def _in_app_context(queue: AppHuey, func: Callable) -> Callable:
    @functools.wraps(func)  # huey names the task after the function and its module
    def run(*args, **kwargs):
        app = current_app._get_current_object() if has_app_context() else queue.flask_app
        request_id = logs.job_request_id(kwargs)  # the id of the request that queued it
        return contextvars.Context().run(_run, app, func, args, kwargs, request_id)

    return run


def _run(app: Flask, func: Callable, args: tuple, kwargs: dict, request_id: str) -> Any:
    logs.set_request_id(request_id)
    with app.app_context():
        return func(*args, **kwargs)


class AppHuey(Huey):
    """huey whose storage and app are the app's, chosen after import (`use`)."""

    flask_app: Flask | None = None

    def get_task_wrapper_class(self) -> type[TaskWrapper]:
        return _InAppContext

    def enqueue(self, task):
        logs.tag_job(task)  # the request's id goes with the task, and stays for its retries
        return super().enqueue(task)

    def execute(self, task, timestamp=None):
        with logs.running_job(task):  # huey's own lines about it carry that id too
            return super().execute(task, timestamp)

    def use(self, app: Flask) -> None:
        """Queue where `app`'s configuration says, and run tasks in `app` when no app
        context is current (a worker's threads). `init_app` calls it."""
        previous = self.storage
        redis_url = app.config["REDIS_URL"]
        if redis_url:
            self.storage_class, self.storage_kwargs = RedisStorage, {"url": redis_url}
        else:
            path = os.path.join(app.instance_path, "jobs.sqlite3")
            self.storage_class, self.storage_kwargs = SqliteStorage, {"filename": path}
        # Setting `immediate` makes a storage only when the mode changes; the storage may
        # change without it, so it is made here in any case (huey reads `self.storage`
        # on every use, nothing keeps the old one).
        self.immediate = app.config["JOBS_IMMEDIATE"]
        self.storage = self.create_storage()
        previous.close()
        self.flask_app = app


# No results are kept: nothing reads them, and a failed email's would hold its traceback.
# Until `use` runs the storage refuses every call (BaseStorage), so nothing is queued where
# the app would not look.
huey = AppHuey("artisan_market", results=False, storage_class=BaseStorage)

jobs_cli = AppGroup("jobs", help="Background jobs.")


@jobs_cli.command("worker")
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many tasks run at once (threads).",
)
def worker(workers: int) -> None:
    """Run queued, retried and periodic tasks until stopped. Ctrl-C (SIGINT) lets the
    running tasks finish; SIGTERM stops at once, abandoning them."""
    logs.configure_logging()  # huey's log, on stderr like the site's, with request ids
    huey.create_consumer(workers=workers, periodic=True).run()


def init_app(app: Flask) -> None:
    huey.use(app)
    app.cli.add_command(jobs_cli)
