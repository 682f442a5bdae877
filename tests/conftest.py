"""Fixtures for the whole suite: the app on each database, clients, people.

Every test runs on SQLite; when TEST_DATABASE_URL is set (CI always sets it), every test
runs again on PostgreSQL. The schema is built by the Alembic revisions themselves, once per
database, and emptied after each test.
"""

from __future__ import annotations

import contextlib
import contextvars
import email
import email.policy
import functools
import itertools
import os
import re
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from artisan_market import create_app
from artisan_market.accounts import services
from artisan_market.accounts.models import Role, User
from artisan_market.accounts.passwords import hash_password
from artisan_market.extensions import db

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "a good long test password"

# Real image files (Pillow's own test images, with their licence); ARTISAN_FIXTURES may point
# at another copy.
FIXTURES = Path(os.environ.get("ARTISAN_FIXTURES") or Path(__file__).parent / "fixtures" / "images")

BACKENDS = ["sqlite"]
if os.environ.get("TEST_DATABASE_URL"):
    BACKENDS.append("postgresql")


def _migrate(url: str, instance_path: str) -> None:
    """Build the schema from the migrations, as `flask db upgrade` does in production."""
    from flask_migrate import upgrade

    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    app = create_app(_settings(url, instance_path))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _settings(url: str, instance_path: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "INSTANCE_PATH": instance_path,
        "MEDIA_ROOT": os.path.join(instance_path, "media"),
        # Background jobs run at once, in the test (tests/test_jobs.py turns the queue on).
        "JOBS_IMMEDIATE": True,
        **extra,
    }


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    """A migrated database: a SQLite file, or the PostgreSQL of TEST_DATABASE_URL."""
    instance = tmp_path_factory.mktemp(f"instance-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{instance / 'test.sqlite3'}"
    else:
        url = os.environ["TEST_DATABASE_URL"]
    _migrate(url, str(instance))
    return url


def _fresh_sqlite_copy(url: str, directory) -> str:
    """A copy of the migrated SQLite file for one test: quicker than emptying tables."""
    target = directory / "test.sqlite3"
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"


@pytest.fixture
def make_app(database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app on an empty migrated database with extra settings.

    SQLite: each test gets its own copy of the migrated file. PostgreSQL: tables are
    truncated after the test.
    """
    apps: list[Flask] = []
    sqlite = database_url.startswith("sqlite")
    url = _fresh_sqlite_copy(database_url, tmp_path) if sqlite else database_url

    def build(**extra) -> Flask:
        app = create_app(_settings(url, str(tmp_path), **extra))
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if not sqlite:
        _truncate_tables(url)


# Rows the migrations themselves insert (the seeded taxonomy): kept between tests.
SEEDED_TABLES = {"categories", "cache_versions"}


def _truncate_tables(url: str) -> None:
    tables = ", ".join(
        f'"{t.name}"' for t in db.metadata.sorted_tables if t.name not in SEEDED_TABLES
    )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def sqlite_app(tmp_path) -> Iterator[Flask]:
    """An app on its own migrated SQLite file, for what only SQLite has (pragmas, locking)."""
    url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
    _migrate(url, str(tmp_path))
    app = create_app(_settings(url, str(tmp_path)))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


class Client(FlaskClient):
    """A browser-like client: `submit` posts a form with the CSRF token the page carries."""

    _token = re.compile(r'name="csrf_token" value="([^"]+)"')

    def open(self, *args, **kwargs):
        # Flask would reuse the test's app context for the request, and with it `g`, the
        # cached locale and the test's database session. Run each request in an empty
        # context instead, as a server does. Ending the test's transaction around it lets
        # the test see what the request committed (its objects stay attached, expired).
        if has_app_context():
            db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            if has_app_context():
                db.session.commit()

    def csrf_token(self, page: str = "/") -> str:
        html = self.get(page).get_data(as_text=True)
        match = self._token.search(html)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, *, page: str = "/", **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(page))
        return self.post(url, data=data, **kwargs)


@pytest.fixture
def client(app) -> Client:
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_counter = itertools.count(1)


@functools.cache
def _password_hash(password: str) -> str:
    # argon2id costs ~40 ms by design; hash each test password once per run, not per user.
    return hash_password(password)


def _save(role: Role, password: str | None, register: Callable[..., User], **kw) -> User:
    user = (
        register(password=None, **kw)
        if role is Role.ARTISAN
        else register(role=role, password=None, **kw)
    )
    if password:
        user.password_hash = _password_hash(password)
    db.session.commit()
    return user


def _unique_phone() -> str:
    return f"+2010{next(_counter) + 10_000_000:08d}"


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    """A saved account; any field can be given (password defaults to PASSWORD)."""

    def make(role: Role | str = Role.BUYER, **kw) -> User:
        role = Role(role)
        kw.setdefault("name", f"{role.value} {next(_counter)}")
        kw.setdefault("phone", _unique_phone())
        kw.setdefault("email", None)
        password = kw.pop("password", PASSWORD)
        return _save(role, password, services.register, **kw)

    return make


@pytest.fixture
def make_artisan(app) -> Callable[..., User]:
    """A saved artisan with her profile, waiting for verification; with verified=True, then
    verified as the app does it: by a coordinator (`verified_by`, a new one unless given),
    vouched for by an organisation of her governorate."""

    def make(verified: bool = False, verified_by: User | None = None, **kw) -> User:
        details = services.ArtisanDetails(
            display_name=kw.pop("display_name", "نادية"),
            governorate=kw.pop("governorate", "ASN"),
            village=kw.pop("village", "غرب سهيل"),
            craft=kw.pop("craft", "basketry"),
            story=kw.pop("story", "أصنع السلال."),
        )
        kw.setdefault("name", f"حرفية {next(_counter)}")
        kw.setdefault("phone", _unique_phone())
        kw.setdefault("email", None)
        password = kw.pop("password", PASSWORD)
        user = _save(Role.ARTISAN, password, services.register_artisan, details=details, **kw)
        if verified:
            coordinator = verified_by or _save(
                Role.COORDINATOR,
                None,
                services.register,
                name=f"منسقة {next(_counter)}",
                phone=_unique_phone(),
                email=None,
            )
            services.verify_artisan(
                user.artisan_profile,
                coordinator=coordinator,
                organisation=_organisation(details.governorate),
            )
            db.session.commit()
        return user

    return make


def _organisation(governorate: str):
    from artisan_market.accounts.models import Organisation

    name = f"جمعية {governorate}"
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name_ar == name))
    if organisation is None:
        organisation = Organisation(name_ar=name, name_en=f"{governorate} association")
        organisation.governorate = governorate
        db.session.add(organisation)
        db.session.flush()
    return organisation


def log_in(client: FlaskClient, user: User) -> None:
    """Put `user` in the client's session, as a successful log-in does."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture
def login_as(client, make_user, make_artisan) -> Callable[..., User]:
    """login_as("coordinator") → a new coordinator, logged in on `client`."""

    def login(role: str | Role, **kw) -> User:
        role = Role(role)
        user = make_artisan(**kw) if role is Role.ARTISAN else make_user(role, **kw)
        log_in(client, user)
        return user

    return login


def small_jpeg(colour=(170, 110, 60), size=(640, 480)) -> bytes:
    """A real JPEG, small enough to keep tests quick."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def oversized_upload(token: str, megabytes: int) -> bytes:
    """A multipart photo upload of `megabytes` MB, written out by hand (the test client would
    spool it to a temporary file it never closes)."""
    return (
        b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b'\r\n--b\r\nContent-Disposition: form-data; name="photos"; filename="huge.jpg"'
        + b"\r\nContent-Type: image/jpeg\r\n\r\n"
        + b"\xff\xd8"
        + b"\0" * (megabytes * 1024 * 1024)
        + b"\r\n--b--\r\n"
    )


@pytest.fixture
def make_organisation(app):
    from artisan_market.accounts.models import Organisation

    def make(name_ar: str = "جمعية", name_en: str = "Association") -> Organisation:
        organisation = Organisation(
            name_ar=f"{name_ar} {next(_counter)}", name_en=name_en, governorate="ASN"
        )
        db.session.add(organisation)
        db.session.commit()
        return organisation

    return make


@pytest.fixture
def make_product(app, make_artisan, make_user):
    """A listing in any status, with photos, for an artisan (a new verified one by default).

    Moves go through the real rules (catalog.listings), as a person's actions would.
    """
    import io

    from artisan_market.catalog import listings
    from artisan_market.catalog.models import Category, ListingStatus, RejectionReason
    from artisan_market.media.services import prepare_photo

    def make(
        artisan: User | None = None,
        status: ListingStatus | str = ListingStatus.DRAFT,
        photos: int = 1,
        coordinator: User | None = None,
        **fields,
    ):
        status = ListingStatus(status)
        artisan = artisan or make_artisan(verified=True)
        coordinator = coordinator or make_user(Role.COORDINATOR)
        product = listings.new_draft(artisan.artisan_profile)
        prepared = [prepare_photo(io.BytesIO(small_jpeg())) for _ in range(photos)]
        if prepared:
            listings.add_photos(product, prepared, editor=artisan)
        category = db.session.scalar(sa.select(Category).where(Category.slug == "basketry"))
        words = listings.ListingWords(
            title=fields.pop("title", "سلة خوص"),
            description=fields.pop("description", "سلة من الخوص الملون."),
            materials=fields.pop("materials", "خوص"),
            category_id=category.id,
            size="",
            weight_grams=None,
        )
        terms = listings.ListingTerms(
            price=fields.pop("price", 25_000),
            made_to_order=False,
            stock=fields.pop("stock", 3),
            days_to_make=None,
        )
        listings.update(product, words, terms, editor=artisan)
        if status is not ListingStatus.DRAFT:
            listings.submit(product, editor=artisan)
        if status in (ListingStatus.REJECTED,):
            listings.reject(product, coordinator=coordinator, reason=RejectionReason.PHOTO, note="")
        elif status not in (ListingStatus.DRAFT, ListingStatus.PENDING):
            listings.approve(product, coordinator=coordinator)
            if status is ListingStatus.PAUSED:
                listings.change_status(product, "pause", editor=artisan)
            elif status is ListingStatus.ARCHIVED:
                listings.change_status(product, "archive", editor=artisan)
            elif status is ListingStatus.SOLD_OUT:
                terms = listings.ListingTerms(
                    price=terms.price, made_to_order=False, stock=0, days_to_make=None
                )
                listings.update(product, words, terms, editor=artisan)
        db.session.commit()
        assert product.status is status
        return product

    return make


def query_plan(stmt: sa.Select, prefix: str) -> str:
    """The database's plan for `stmt` ("EXPLAIN QUERY PLAN " on SQLite, "EXPLAIN " on
    PostgreSQL), a line per row."""
    sql = stmt.compile(db.session.connection(), compile_kwargs={"literal_binds": True})
    rows = db.session.execute(sa.text(prefix + str(sql))).all()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


@contextlib.contextmanager
def count_queries():
    """The SQL statements run inside the block (an engine event listener)."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


class Inbox:
    """An aiosmtpd handler that keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    """A real SMTP server on a port of its own on 127.0.0.1: down until `start()`."""

    def __init__(self) -> None:
        self.inbox, self.port = Inbox(), free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A mail server the test starts when it wants it up (a server down, then back)."""
    server = MailServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp(mail_server) -> tuple[Inbox, int]:
    """A real SMTP server on 127.0.0.1 for the length of the test: its inbox and port."""
    mail_server.start()
    return mail_server.inbox, mail_server.port
