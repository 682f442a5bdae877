"""Races through the real pages, in separate processes as separate servers would be: buyers
for the last pieces, and two coordinators recording the same cash."""

from __future__ import annotations

import multiprocessing
import re
import traceback

import sqlalchemy as sa

from artisan_market.audit.models import AuditEvent
from artisan_market.catalog.models import ListingStatus
from artisan_market.extensions import db
from artisan_market.orders import rules
from artisan_market.orders.models import Order
from tests.conftest import TEST_SECRET, Client
from tests.orders.conftest import CHECKOUT, form_key

BUYERS = 20
PIECES = 5


def _client(url: str, instance: str) -> Client:
    from artisan_market import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "INSTANCE_PATH": instance,
            "JOBS_IMMEDIATE": True,
        }
    )
    app.test_client_class = Client
    return app.test_client()


def _child(name: str, *args) -> None:
    """A process's body (`name`, a function of this module); whatever goes wrong is put on the
    queue, so the test reads it instead of waiting for an answer that never comes."""
    answers = args[-1]
    try:
        globals()[name](*args)
    except BaseException:
        answers.put((0, traceback.format_exc()))
        raise


def _buyer(url: str, instance: str, product_id: int, number: int, barrier, answers) -> None:
    """One buyer: the piece in her cart, the checkout filled in, then all post at once."""
    client = _client(url, instance)
    added = client.submit(f"/cart/add/{product_id}", {"quantity": "1"}, page="/cart")
    assert added.status_code == 303, added.status_code
    page = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {**CHECKOUT, "name": f"مشترية {number}", "once": form_key(page), "csrf_token": token}
    barrier.wait(timeout=240)
    response = client.post("/checkout", data=data)
    answers.put((response.status_code, response.get_data(as_text=True)))


def _run_all(target, argument_sets, answers) -> list:
    """Start one process per argument set; their answers (read before joining them: a
    process does not end until what it put on the queue is taken)."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_child, args=(target.__name__, *args)) for args in argument_sets
    ]
    for process in processes:
        process.start()
    results = [answers.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    errors = [text for status, text in results if status == 0]
    assert [p.exitcode for p in processes] == [0] * len(processes), errors
    return results


def test_twenty_buyers_race_for_the_last_five_pieces(app, make_product, tmp_path):
    product = make_product(status="live", stock=PIECES, price=30_000)
    product_id, url = product.id, db.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier, answers = context.Barrier(BUYERS), context.Queue()
    db.session.commit()  # this process holds no transaction (on SQLite, no lock) meanwhile

    arguments = [(url, str(tmp_path), product_id, n, barrier, answers) for n in range(BUYERS)]

    results = _run_all(_buyer, arguments, answers)

    statuses = sorted(status for status, _html in results)
    assert 0 not in statuses, [html for status, html in results if status == 0]
    assert statuses == [303] * PIECES + [422] * (BUYERS - PIECES)
    for status, html in results:
        if status == 422:
            assert "sold out" in html or "نفد" in html, html[:2000]
        assert "database is locked" not in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == PIECES
    db.session.refresh(product)
    assert (product.stock, product.status) == (0, ListingStatus.SOLD_OUT)


def _coordinator(url: str, instance: str, user_id: str, part_id: int, barrier, answers) -> None:
    client = _client(url, instance)
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user_id, True
    page = client.get(f"/parts/{part_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    barrier.wait(timeout=240)
    response = client.post(f"/parts/{part_id}/cash", data={"csrf_token": token})
    answers.put((response.status_code, ""))


def test_two_coordinators_record_the_same_cash_once(
    app, client, make_product, make_user, add_to_cart, place_order, tmp_path
):
    product = make_product(status="live", stock=2)
    add_to_cart(product)
    place_order()
    part = db.session.scalars(sa.select(Order)).one().parts[0]
    artisan = product.artisan.user
    rules.accept(part, by=artisan)
    rules.ship(part, by=artisan)
    rules.deliver(part, by=artisan)
    admins = [make_user("admin").get_id() for _ in range(2)]
    part_id, url = part.id, db.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier, answers = context.Barrier(2), context.Queue()
    db.session.commit()

    results = _run_all(
        _coordinator,
        [(url, str(tmp_path), admin, part_id, barrier, answers) for admin in admins],
        answers,
    )

    assert sorted(status for status, _error in results) == [303, 303], results
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "order.cash_collected")
    ).all()
    assert len(events) == 1
    db.session.refresh(part)
    assert part.cash_collected_at is not None
