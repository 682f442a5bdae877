"""One commit point per request (transactions.py): what commits, what rolls back, and what
waits for the outcome."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import abort

from artisan_market.accounts.models import Organisation
from artisan_market.extensions import db
from artisan_market.rules import RuleError
from artisan_market.transactions import (
    SlowWorkInTransaction,
    after_commit,
    attempt,
    on_rollback,
    slow_work,
)


def _organisations() -> set[str]:
    return set(db.session.scalars(sa.select(Organisation.name_en)))


@pytest.fixture
def routes(app):
    """Views that write a row and then answer as told, recording what ran after."""
    ran: list[str] = []

    def write(name: str) -> None:
        db.session.add(Organisation(name_ar=name, name_en=name))
        db.session.flush()
        after_commit(lambda: ran.append(f"after commit {name}"))
        on_rollback(lambda: ran.append(f"on rollback {name}"))

    def answer(status: int):
        write(f"answered {status}")
        if status == 404:
            abort(404)
        if status == 500:
            raise RuntimeError("a bug")
        return "", status

    def refused():
        write("kept")
        try:
            with attempt():
                write("undone")
                raise RuleError("no")
        except RuleError:
            pass
        return "", 303

    def slow_after_write():
        write("slow")
        with slow_work():
            return "", 200

    app.add_url_rule("/t/<int:status>", "answer", answer, methods=["POST"])
    app.add_url_rule("/t/refused", "refused", refused, methods=["POST"])
    app.add_url_rule("/t/slow", "slow", slow_after_write, methods=["POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    return ran


@pytest.mark.parametrize(
    ("status", "kept"), [(200, True), (303, True), (422, False), (404, False), (500, False)]
)
def test_an_answer_below_400_commits_and_anything_else_rolls_back(
    app, client, routes, status, kept
):
    """Is what the view wrote kept exactly when it answered below 400, and does each outside
    action follow that outcome (email after a commit, file removal after a rollback)?"""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(f"/t/{status}")
    assert response.status_code == status
    name = f"answered {status}"
    assert (name in _organisations()) is kept
    assert routes == [f"after commit {name}" if kept else f"on rollback {name}"]


def test_a_refused_attempt_leaves_nothing_and_the_rest_commits(client, routes):
    """A rule that refuses inside attempt() undoes what it wrote, outside the database too (a
    file it wrote goes at once); the request's other work is kept; and nothing of the refused
    part runs after the commit."""
    assert client.post("/t/refused").status_code == 303
    assert {"kept", "undone"} & _organisations() == {"kept"}
    assert routes == ["on rollback undone", "after commit kept"]


def test_slow_work_after_a_write_is_a_bug_that_shows_at_once(app, client, routes):
    """Slow work after a write would hold SQLite's lock: it raises, and nothing is saved."""
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(SlowWorkInTransaction):
        client.post("/t/slow")
    assert "slow" not in _organisations()


def test_a_failing_after_commit_action_does_not_undo_the_commit(app, caplog):
    """An email that cannot be sent is logged; the change it follows is kept."""
    db.session.add(Organisation(name_ar="x", name_en="kept anyway"))
    after_commit(lambda: 1 / 0)
    db.session.commit()
    assert "kept anyway" in _organisations()
    assert "after commit action failed" in caplog.text
