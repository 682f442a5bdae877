"""Photo uploads on weak connections and a busy database: re-encoding holds no transaction,
so uploads in parallel never end in "database is locked" and a small write meanwhile is not
held up; and a second tap on a slow upload does the work once."""

from __future__ import annotations

import io
import re
import sqlite3
import threading

import sqlalchemy as sa
from PIL import Image

from artisan_market.catalog.models import Product
from artisan_market.extensions import db
from artisan_market.media import services as media
from tests.conftest import Client, log_in, small_jpeg


def _phone_photo(seed: int) -> bytes:
    """A 12-megapixel JPEG (4000×3000) of about a megabyte, as a phone camera makes."""
    image = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    image.paste((120 + seed % 100, 80, 40), (seed * 37 % 3000, 500, seed * 37 % 3000 + 900, 2000))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _lock_is_free(app) -> bool:
    """Could another connection begin writing to SQLite right now, without waiting?"""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def test_a_small_write_during_an_upload_is_not_held_up(app, client, login_as, monkeypatch):
    """While her photos are re-encoded, does the request hold a transaction (and SQLite's
    write lock)? Does another person's one-row write go through meanwhile?"""
    artisan = login_as("artisan", verified=True)
    reader = login_as("buyer")
    log_in(client, artisan)
    app.test_client_class = Client
    other = app.test_client()
    log_in(other, reader)
    token = other.csrf_token("/notifications")
    seen = []
    process = media.process_photo

    def process_and_look(*args, **kwargs):
        sqlite = db.engine.dialect.name == "sqlite"
        seen.append(
            {
                "in_transaction": db.session().in_transaction(),
                "lock_free": _lock_is_free(app) if sqlite else True,
                # A one-row write by someone else, sent in the middle of the upload.
                "write": other.post("/notifications/read", data={"csrf_token": token}).status_code,
            }
        )
        return process(*args, **kwargs)

    monkeypatch.setattr(media, "process_photo", process_and_look)
    photos = [(io.BytesIO(small_jpeg(colour=(n * 60, 90, 30))), f"{n}.jpg") for n in range(3)]
    response = client.submit(
        "/studio/products/new", {"photos": photos}, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    assert seen == [{"in_transaction": False, "lock_free": True, "write": 303}] * 3


def test_uploads_in_parallel_never_end_in_database_is_locked(app, login_as, monkeypatch):
    """14 phones each send eight 12-megapixel photos at once: does every upload make its
    draft, and none answer 500 or 503?"""
    artisan = login_as("artisan", verified=True)
    her_session = artisan.get_id()  # read here: the threads must not touch this test's session
    db.session.commit()
    app.test_client_class = Client
    photos = [_phone_photo(n) for n in range(8)]
    answers: list[int] = []
    lock = threading.Lock()

    def upload():
        phone = app.test_client()
        with phone.session_transaction() as session:
            session["_user_id"] = her_session
        files = [(io.BytesIO(data), f"IMG_{n}.jpg") for n, data in enumerate(photos)]
        response = phone.submit(
            "/studio/products/new",
            {"photos": files},
            page="/studio/products/new",
            content_type="multipart/form-data",
        )
        status = response.status_code
        response.close()
        # Werkzeug's test client spools a body this big to a temporary file it never closes.
        response.request.environ["wsgi.input"].close()
        with lock:
            answers.append(status)

    threads = [threading.Thread(target=upload) for _ in range(14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [303] * 14
    drafts = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
    assert drafts == 14


def test_a_second_tap_makes_one_draft(client, login_as):
    """Her first upload seems stuck and she taps again: the same form arrives twice. Is
    there one draft, with the second sending led to it?"""
    login_as("artisan", verified=True)
    page = client.get("/studio/products/new").get_data(as_text=True)
    key = re.search(r'name="once" value="([^"]+)"', page).group(1)
    answers = [
        client.submit(
            "/studio/products/new",
            {"photos": [(io.BytesIO(small_jpeg()), "a.jpg")], "once": key},
            page="/studio/products/new",
            content_type="multipart/form-data",
        )
        for _ in range(2)
    ]
    product = db.session.scalar(sa.select(Product))
    assert [a.status_code for a in answers] == [303, 303]
    assert {a.headers["Location"] for a in answers} == {f"/studio/products/{product.id}"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 1
    assert len(product.photos) == 1
    # the same for more photos added to it: added once
    edit = client.get(f"/studio/products/{product.id}").get_data(as_text=True)
    key = re.search(r'name="once" value="([^"]+)"', edit).group(1)
    for _ in range(2):
        client.submit(
            f"/studio/products/{product.id}/photos",
            {"photos": [(io.BytesIO(small_jpeg(colour=(9, 9, 9))), "b.jpg")], "once": key},
            page=f"/studio/products/{product.id}",
            content_type="multipart/form-data",
        )
    db.session.refresh(product)
    assert len(product.photos) == 2
