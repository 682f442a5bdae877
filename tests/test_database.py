"""The database is set up as docs/design.md says, and the migrations build exactly the models."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from artisan_market.database import write_intent
from artisan_market.extensions import db


def test_migrations_match_models(app):
    """Do the Alembic revisions build exactly what the models describe (`flask db check`)?"""
    from artisan_market.catalog.search import include_name

    with db.engine.connect() as conn:
        # include_name: the search index lives only in the migrations (as env.py says)
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(context, db.metadata) == []


def test_sqlite_pragmas(sqlite_app):
    """Is every SQLite connection in WAL mode with foreign keys, a busy timeout and NORMAL sync?"""
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def _race(app, *, immediate: bool) -> list[BaseException]:
    """Two writers that each read, wait for the other to read too, then write."""
    both_read = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        with app.app_context(), write_intent(immediate):
            try:
                with db.engine.connect() as conn, conn.begin():
                    conn.execute(sa.text("SELECT count(*) FROM users")).scalar()
                    if not immediate:
                        both_read.wait()  # both hold a read snapshot before either writes
                    time.sleep(0.05)
                    conn.execute(
                        sa.text(
                            "INSERT INTO users (name, phone, role, is_active, session_nonce,"
                            " created_at) VALUES (:name, :phone, 'buyer', 1, 'x', :now)"
                        ),
                        {"name": f"w{n}", "phone": f"+2010000000{n}", "now": "2026-01-01"},
                    )
            except BaseException as error:  # collected and asserted on below
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_concurrent_writers_wait_their_turn(sqlite_app):
    """Do two concurrent read-then-write transactions both succeed (BEGIN IMMEDIATE)?"""
    assert _race(sqlite_app, immediate=True) == []
    assert db.session.scalar(sa.text("SELECT count(*) FROM users")) == 2


def test_deferred_writers_do_lock_each_other(sqlite_app):
    """Control: with a plain BEGIN the same race fails with "database is locked".

    This shows the test above would catch a regression rather than pass by luck.
    """
    errors = _race(sqlite_app, immediate=False)
    assert len(errors) == 1
    assert "database is locked" in str(errors[0])


def test_reads_begin_deferred_and_writes_begin_immediate(sqlite_app):
    """Does a GET begin a plain transaction (readers never queue) and a POST BEGIN IMMEDIATE?"""
    from tests.conftest import Client

    sqlite_app.test_client_class = Client
    client = sqlite_app.test_client()
    token = client.csrf_token()
    begins: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        client.get("/healthz")
        assert begins == ["BEGIN"]
        begins.clear()
        client.post("/login", data={"csrf_token": token, "login": "01012345678", "password": "x"})
        # a failed log-in only reads; the hash is checked with no transaction open
        assert begins == ["BEGIN"]
        begins.clear()
        client.post("/language", data={"csrf_token": token, "locale": "en"})
        client.post("/logout", data={"csrf_token": token})
        assert begins == []  # nobody logged in: nothing to read or write
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_health_ok(client):
    """Does /healthz answer 200 while the database answers?"""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "up"}


def test_health_database_down(make_app, tmp_path):
    """Does /healthz answer 503 (not 500) when the database cannot be reached?"""
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "down"


def test_health_postgres_down(make_app):
    """The same with a PostgreSQL URL nobody listens on."""
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503


def _db_check(app):
    import flask_migrate.cli

    return app.test_cli_runner().invoke(flask_migrate.cli.db, ["check"])


def test_db_check_on_a_migrated_database_checks_that_database(app):
    result = _db_check(app)  # SQLite, and PostgreSQL when TEST_DATABASE_URL is set
    assert result.exit_code == 0, result.output + result.stderr
    assert "not at the latest revision" not in result.stderr


def test_db_check_answers_on_a_database_not_migrated_yet(make_app, tmp_path):
    """A fresh checkout has no database: `flask db check` checks the migrations against the
    models on a scratch one, says so, and neither creates nor touches hers."""
    path = tmp_path / "fresh.sqlite3"
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    result = _db_check(app)
    assert result.exit_code == 0, result.output + result.stderr
    assert "not at the latest revision" in result.stderr
    assert not path.exists()


def test_db_check_fails_when_a_model_has_no_migration(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    extra = sa.Table("unmigrated", db.metadata, sa.Column("id", sa.Integer, primary_key=True))
    try:
        result = _db_check(app)
    finally:
        db.metadata.remove(extra)
    assert result.exit_code == 1
