"""Shop pages kept for visitors who are nobody in particular (artisan_market/pagecache.py):
served from the copy, never stale after a change, on every instance, never someone else's."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from artisan_market.accounts.models import Role
from artisan_market.extensions import db
from artisan_market.pagecache import UNSHOWN, CacheVersion, current_version
from tests.conftest import Client, count_queries, log_in
from tests.orders.conftest import add, place

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _visitor(app) -> Client:
    app.test_client_class = Client
    return app.test_client()


def _pages(product) -> list[str]:
    artisan = product.artisan
    return [
        "/",
        "/shop",
        "/shop?q=سلة",
        "/shop?category=basketry&sort=price_up",
        f"/products/{product.id}/x",
        f"/artisans/{artisan.id}/x",
    ]


def _follow(client, path: str):
    response = client.get(path)
    if response.status_code == 301:  # a product or artisan page's slug
        response = client.get(response.headers["Location"])
    assert response.status_code == 200, path
    return response


@pytest.fixture
def piece(make_product):
    return make_product(status="live", title="سلة التلي الكبيرة", price=35_000, stock=1)


def test_a_visitor_is_served_the_kept_copy_after_one_question(app, piece):
    first, second = _visitor(app), _visitor(app)
    for path in _pages(piece):
        page = _follow(first, path)
        path = page.request.full_path.rstrip("?")
        with count_queries() as statements:
            again = second.get(path)
        assert again.status_code == 200
        assert len(statements) == 1, (path, statements)  # the catalogue's version
        # the same page, but for her own CSRF token (in its forms and htmx's headers)
        assert _tokenless(again) == _tokenless(page)


def _tokenless(response) -> str:
    html = response.get_data(as_text=True)
    tokens = set(TOKEN.findall(html))
    assert len(tokens) <= 1
    return html.replace(tokens.pop(), "") if tokens else html


def test_each_visitor_gets_her_own_working_token(app, piece):
    first, second = _visitor(app), _visitor(app)
    url = f"/products/{piece.id}/x"
    mine = _follow(first, url).get_data(as_text=True)
    hers = _follow(second, url).get_data(as_text=True)
    assert set(TOKEN.findall(mine)) != set(TOKEN.findall(hers))
    assert len(set(TOKEN.findall(hers))) == 1
    token = TOKEN.search(hers).group(1)
    added = second.post(f"/cart/add/{piece.id}", data={"csrf_token": token, "quantity": "1"})
    assert added.status_code == 303
    # her cart is hers: the shop she sees now counts it, the first visitor's does not
    assert 'class="badge-count"' in second.get("/shop").get_data(as_text=True)
    assert 'class="badge-count"' not in first.get("/shop").get_data(as_text=True)


def test_a_changed_price_is_shown_at_once_on_every_instance(make_app, login_as, piece):
    one, two = make_app(), make_app()  # two hosts: one database, a cache each
    visitors = [_visitor(one), _visitor(two)]
    url = f"/products/{piece.id}/x"
    her, category_id = piece.artisan.user, piece.category_id
    db.session.commit()  # the test's own transaction ends before theirs begin
    for visitor in visitors:
        for path in ("/shop", url):
            assert "٣٥٠" in _follow(visitor, path).get_data(as_text=True)
    artisan = _visitor(one)
    log_in(artisan, her)
    details = {
        "title": "سلة التلي الكبيرة",
        "price": "٤٢٠",
        "availability": "ready",
        "stock": "١",
        "days_to_make": "",
        "category": str(category_id),
        "description": "سلة من الخوص الملون.",
        "materials": "خوص",
        "size": "",
        "weight": "",
        "action": "save",
    }
    page = f"/studio/products/{piece.id}"
    assert artisan.submit(page, details, page=page).status_code == 303
    for visitor in visitors:
        for path in ("/shop", url):
            html = _follow(visitor, path).get_data(as_text=True)
            assert "٤٢٠" in html and "٣٥٠" not in html, path


def test_the_last_piece_sold_is_sold_out_at_once(app, piece, make_user):
    visitor = _visitor(app)
    url = f"/products/{piece.id}/x"
    assert "Add to cart" in _follow(visitor, f"{url}?lang=en").get_data(as_text=True)
    buyer = _visitor(app)
    add(buyer, piece)
    assert place(buyer).status_code == 303  # stock taken by a conditional UPDATE
    html = _follow(visitor, f"{url}?lang=en").get_data(as_text=True)
    assert "Sold out" in html and "Add to cart" not in html
    shop = _follow(visitor, "/shop?lang=en").get_data(as_text=True)
    assert "Sold out" in shop


def test_a_listing_approved_appears_at_once(app, make_product, make_user):
    visitor = _visitor(app)
    waiting = make_product(status="pending", title="مفرش جديد")
    assert "مفرش جديد" not in _follow(visitor, "/shop").get_data(as_text=True)
    coordinator = make_user(Role.COORDINATOR)
    staff = _visitor(app)
    log_in(staff, coordinator)
    answer = staff.submit(f"/review/products/{waiting.id}/approve", page="/review")
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:300]
    assert "مفرش جديد" in _follow(visitor, "/shop").get_data(as_text=True)


def test_her_own_page_is_never_kept_nor_served_a_copy(app, piece, make_user):
    buyer = make_user(Role.BUYER, name="نادية الكاتبة")
    visitor, her = _visitor(app), _visitor(app)
    log_in(her, buyer)
    # she comes first: her page is not kept for the visitor after her
    assert "My account" in _follow(her, "/shop?lang=en").get_data(as_text=True)
    assert "My account" not in _follow(visitor, "/shop?lang=en").get_data(as_text=True)
    # the visitor comes first: his copy is not served to her
    assert "My account" in _follow(her, "/shop?lang=en").get_data(as_text=True)


def test_the_htmx_fragment_and_each_language_are_kept_apart(app, piece):
    visitor = _visitor(app)
    assert "<html" in _follow(visitor, "/shop").get_data(as_text=True)
    fragment = visitor.get("/shop", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<html" in _follow(visitor, "/shop").get_data(as_text=True)
    arabic = _follow(visitor, "/shop").get_data(as_text=True)
    visitor.set_cookie("lang", "en")
    english = _follow(visitor, "/shop").get_data(as_text=True)
    assert 'lang="ar"' in arabic and 'lang="en"' in english


def test_only_changes_to_what_pages_show_move_the_version(app, piece, make_user):
    from artisan_market.audit.services import record

    before = current_version()
    record(make_user(Role.ADMIN), "test.nothing_shown", "artisan", 1)
    db.session.commit()
    assert current_version() == before + 1  # a new user is a row of `users`: shown
    after_user = current_version()
    record(None, "test.nothing_shown", "artisan", 1)  # the audit log alone
    db.session.commit()
    assert current_version() == after_user
    piece.title = "سلة أخرى"
    db.session.rollback()  # a change rolled back moves nothing
    assert current_version() == after_user
    db.session.execute(
        sa.update(type(piece)).where(type(piece).id == piece.id).values(stock=5)
    )  # a bulk UPDATE counts like a flushed change
    db.session.commit()
    assert current_version() == after_user + 1


def test_no_kept_page_reads_a_table_whose_changes_keep_it(make_app, piece):
    """UNSHOWN lists tables whose changes leave the copies: no kept page may read one."""
    app = make_app(PAGE_CACHE_SECONDS=0)
    names = "|".join(sorted(db.metadata.tables, key=len, reverse=True))
    read = re.compile(rf'\b(?:FROM|JOIN)\s+"?({names})\b', re.I)
    visitor = _visitor(app)
    pages = [*_pages(piece), f"/products/{piece.id}/x?lang=en"]
    db.session.commit()  # the test's own transaction ends before the other app's begin
    with app.app_context():
        for path in pages:
            with count_queries() as statements:
                _follow(visitor, path)
            tables = {match for sql in statements for match in read.findall(sql)}
            assert "products" in tables or path == "/", (path, tables)
            assert not tables & UNSHOWN, (path, tables & UNSHOWN)


def test_without_its_row_pages_are_rendered_each_time(app, piece):
    db.session.execute(sa.delete(CacheVersion))
    db.session.commit()
    visitor = _visitor(app)
    _follow(visitor, "/shop")
    with count_queries() as statements:
        assert visitor.get("/shop").status_code == 200
    assert len(statements) > 1


def test_a_page_that_shows_a_message_flashed_in_its_own_request_is_not_kept(make_app):
    """A kept view that flashes and shows the message at once: that page is hers."""
    from flask import flash, render_template

    from artisan_market.pagecache import cached_page

    app = make_app()

    @app.get("/test-flash")
    @cached_page
    def flashing():
        flash("رسالة لها وحدها")
        return render_template("errors/error.html", code=200, title="t", message="m")

    first, second = _visitor(app), _visitor(app)
    assert "رسالة لها وحدها" in first.get("/test-flash").get_data(as_text=True)
    assert "رسالة لها وحدها" in second.get("/test-flash").get_data(as_text=True)
    assert app.extensions["page_cache"].copies == {}
