"""The shop window: what the public sees, filters, htmx fragments, product and artisan pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from artisan_market.catalog.models import Category, Product
from artisan_market.extensions import db
from tests.conftest import count_queries, log_in, query_plan


def _titles(html: str) -> list[str]:
    return re.findall(r'<span class="card-title"[^>]*>([^<]+)</span>', html)


@pytest.fixture
def shop(make_artisan, make_product):
    """Live pieces from two verified artisans, plus everything that must stay hidden."""
    aswan = make_artisan(verified=True, governorate="ASN", display_name="فاطمة")
    siwa = make_artisan(verified=True, governorate="MT", display_name="أمينة")
    waiting = make_artisan(verified=False, governorate="FYM")
    made = {
        "basket": make_product(artisan=aswan, status="live", title="سلة كبيرة", price=35_000),
        "tray": make_product(artisan=aswan, status="live", title="طبق خوص", price=18_000),
        "shawl": make_product(artisan=siwa, status="live", title="شال مطرز", price=75_000),
        "sold": make_product(artisan=siwa, status="sold_out", title="مفرش مباع", price=52_000),
    }
    for status in ("draft", "pending", "rejected", "paused", "archived"):
        make_product(artisan=aswan, status=status, title=f"مخفي {status}")
    # live, but her artisan is not verified (cannot happen through the rules; the shop must
    # still not show it if it ever did)
    hidden = make_product(artisan=waiting, status="pending", title="مخفي غير موثقة")
    hidden.status = hidden.status.__class__("live")
    embroidery = db.session.scalar(sa.select(Category).where(Category.slug == "embroidery"))
    made["shawl"].category = embroidery
    made["sold"].category = embroidery
    db.session.commit()
    return made


def test_only_live_pieces_of_verified_artisans(client, shop):
    page = client.get("/shop").get_data(as_text=True)
    assert sorted(_titles(page)) == sorted(["سلة كبيرة", "طبق خوص", "شال مطرز", "مفرش مباع"])
    assert "مخفي" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=embroidery", {"شال مطرز", "مفرش مباع"}),
        ("governorate=ASN", {"سلة كبيرة", "طبق خوص"}),
        ("min=200&max=400", {"سلة كبيرة"}),
        ("min=٤٠٠&max=٢٠٠", {"سلة كبيرة"}),  # upside down, Arabic digits: turned round
        ("availability=ready", {"سلة كبيرة", "طبق خوص", "شال مطرز"}),
        ("availability=order", set()),
        ("category=spaceships", {"سلة كبيرة", "طبق خوص", "شال مطرز", "مفرش مباع"}),
        ("governorate=XX&min=abc", {"سلة كبيرة", "طبق خوص", "شال مطرز", "مفرش مباع"}),
    ],
)
def test_filters(client, shop, query, expected):
    response = client.get(f"/shop?{query}")
    assert response.status_code == 200
    assert set(_titles(response.get_data(as_text=True))) == expected


def test_sort_by_price(client, shop):
    up = _titles(client.get("/shop?sort=price_up").get_data(as_text=True))
    assert up == ["طبق خوص", "سلة كبيرة", "مفرش مباع", "شال مطرز"]
    down = _titles(client.get("/shop?sort=price_down").get_data(as_text=True))
    assert down == list(reversed(up))


@pytest.mark.parametrize("page", ["0", "-3", "1000000000", "abc", "٢", "²", "①", "1²", "", " "])
def test_odd_pages_go_to_the_first_page(client, shop, page):
    """Is a page that is not one (or past the end: the shop has one page) never an error?
    It goes to the first page, with the filters kept."""
    response = client.get("/shop", query_string={"page": page, "category": "basketry"})
    assert (response.status_code, response.headers["Location"]) == (
        302,
        "/shop?category=basketry",
    )
    assert _titles(client.get(response.headers["Location"]).get_data(as_text=True))


def test_a_page_in_arabic_indic_digits_is_that_page(client, make_artisan, make_product):
    artisan = make_artisan(verified=True)
    for n in range(26):
        make_product(artisan=artisan, status="live", title=f"قطعة {n}")
    second = client.get("/shop?page=٢")
    assert second.status_code == 200 and len(_titles(second.get_data(as_text=True))) == 2


def test_pagination_without_javascript(client, make_artisan, make_product):
    artisan = make_artisan(verified=True)
    for n in range(26):
        make_product(artisan=artisan, status="live", title=f"قطعة {n}")
    first = client.get("/shop").get_data(as_text=True)
    assert len(_titles(first)) == 24
    assert 'rel="next" href="/shop?page=2"' in first
    second = client.get("/shop?page=2").get_data(as_text=True)
    assert len(_titles(second)) == 2 and 'rel="prev"' in second


def test_htmx_gets_the_results_fragment_and_the_same_url_the_whole_page(client, shop):
    url = "/shop?category=embroidery"
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "results"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="results"') and "<html" not in html
    assert "HX-Request" in fragment.headers["Vary"]
    full = client.get(url)
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"]
    assert set(_titles(html)) == set(_titles(full.get_data(as_text=True)))
    assert "HX-Push-Url" not in full.headers


def test_htmx_pushes_the_filters_alone(client, shop):
    """The form sends every field; the address bar gets only the filters that are set."""
    url = "/shop?q=&category=embroidery&governorate=&min=&max=٤٠٠&availability=&sort=newest"
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "results"})
    assert fragment.headers["HX-Push-Url"] == "/shop?category=embroidery&max=400"
    more = client.get("/shop?page=2", headers={"HX-Request": "true", "HX-Target": "results-list"})
    assert "HX-Push-Url" not in more.headers  # "More pieces" does not change the address


def test_more_appends_the_next_page(client, make_artisan, make_product):
    artisan = make_artisan(verified=True)
    for n in range(26):
        make_product(artisan=artisan, status="live", title=f"قطعة {n}")
    more = client.get("/shop?page=2", headers={"HX-Request": "true", "HX-Target": "results-list"})
    html = more.get_data(as_text=True)
    assert html.lstrip().startswith('<li class="product-card">')
    assert len(_titles(html)) == 2
    assert '<nav id="results-list-pager" class="pager"' in html and 'hx-swap-oob="true"' in html


def test_product_page(client, shop):
    """Gallery, price in the page's language, the artisan card, share link, SEO tags."""
    basket = shop["basket"]
    response = client.get(f"/products/{basket.id}")
    assert response.status_code == 301
    url = response.headers["Location"]
    assert url == f"/products/{basket.id}/%D8%B3%D9%84%D8%A9-%D9%83%D8%A8%D9%8A%D8%B1%D8%A9"
    page = client.get(url).get_data(as_text=True)
    assert "\u200f٣٥٠\xa0ج.م.\u200f" in page
    assert "https://wa.me/?text=" in page
    assert re.search(
        r'property="og:image" content="http://localhost/media/[0-9a-f]{20}-\d+\.jpg"', page
    )
    assert 'rel="canonical"' in page and 'hreflang="en"' in page
    data = json.loads(re.search(r'application/ld\+json">(.+?)</script>', page).group(1))
    assert data["offers"]["price"] == "350.00" and data["offers"]["priceCurrency"] == "EGP"
    assert data["offers"]["availability"] == "https://schema.org/InStock"
    assert "فاطمة" in page  # the artisan card
    artisan = basket.artisan
    assert artisan.village not in page and artisan.user.phone not in page
    assert "wa.me/" + artisan.user.phone.lstrip("+") not in page
    english = client.get(url + "?lang=en").get_data(as_text=True)
    assert "EGP\xa0350" in english and '<html lang="en" dir="ltr">' in english


def test_a_wrong_slug_redirects_to_the_right_one(client, shop):
    basket = shop["basket"]
    response = client.get(f"/products/{basket.id}/old-name?lang=en")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("?lang=en")


def test_hidden_products_are_404_to_the_public_and_visible_to_their_artisan(
    client, app, make_product, make_artisan
):
    artisan = make_artisan(verified=True)
    for status in ("draft", "pending", "rejected", "paused", "archived"):
        product = make_product(artisan=artisan, status=status, title="سر")
        url = f"/products/{product.id}/سر"
        assert client.get(url).status_code == 404
        from tests.conftest import Client

        app.test_client_class = Client
        own = app.test_client()
        log_in(own, artisan)
        preview = own.get(url)
        assert preview.status_code == 200
        assert 'name="robots" content="noindex"' in preview.get_data(as_text=True)
        other = app.test_client()
        log_in(other, make_artisan(verified=True))
        assert other.get(url).status_code == 404


def test_artisan_page_never_shows_phone_or_village(client, shop):
    artisan = shop["basket"].artisan
    response = client.get(f"/artisans/{artisan.id}")
    assert response.status_code == 301
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "فاطمة" in page and "سلة كبيرة" in page and "مخفي" not in page
    assert artisan.village not in page and artisan.user.phone not in page


def test_an_unverified_artisan_has_no_page(client, make_artisan):
    profile = make_artisan(verified=False).artisan_profile
    assert client.get(f"/artisans/{profile.id}").status_code == 404
    assert client.get("/artisans/9999999").status_code == 404


def test_sitemap_and_robots(client, shop):
    sitemap = client.get("/sitemap.xml")
    assert sitemap.mimetype == "application/xml"
    body = sitemap.get_data(as_text=True)
    assert f"/products/{shop['basket'].id}/" in body
    assert f"/artisans/{shop['basket'].artisan_id}/" in body
    assert "/shop?category=embroidery" in body
    assert "مخفي" not in body and 'hreflang="en"' in body
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in robots
    assert [line for line in robots.splitlines() if line.startswith("Disallow")] == [
        "Disallow: /set-password"
    ]
    # what is not listed is locked: a crawler gets the log-in page
    studio = client.get("/studio/products/new")
    assert studio.status_code == 303 and "/login" in studio.headers["Location"]


def test_each_page_has_its_own_title_and_description(client, shop):
    titles = set()
    for url in [
        "/",
        "/shop",
        f"/products/{shop['basket'].id}/x",
        f"/artisans/{shop['basket'].artisan_id}/x",
    ]:
        response = client.get(url, follow_redirects=True)
        html = response.get_data(as_text=True)
        titles.add(re.search(r"<title>(.+?)</title>", html).group(1))
        assert re.search(r'<meta name="description" content="[^"]{8,}">', html)
    assert len(titles) == 4


@pytest.mark.parametrize("logged_in", [False, True])
def test_catalogue_and_product_pages_stay_within_six_queries(
    client, login_as, make_artisan, make_product, logged_in
):
    """No N+1: at most six SQL statements, for 3 pieces or 24 on the page."""
    if logged_in:
        login_as("buyer")
    artisan = make_artisan(verified=True)
    few = [make_product(artisan=artisan, status="live", photos=2) for _ in range(3)]
    with count_queries() as small:
        client.get("/shop")
    for _ in range(24):
        make_product(artisan=make_artisan(verified=True), status="live", photos=2)
    with count_queries() as large:
        assert len(_titles(client.get("/shop").get_data(as_text=True))) == 24
    assert len(large) == len(small) <= 6, "\n".join(s[:90] for s in large)
    url = f"/products/{few[0].id}/{few[0].title.replace(' ', '-')}"  # read before counting
    with count_queries() as product_page:
        page = client.get(url)
        assert page.status_code == 200
    assert len(product_page) <= 6, "\n".join(s[:120] for s in product_page)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 27


@pytest.mark.parametrize("min_candidates", [1, 3, 1000])
def test_search_pages_are_the_same_with_few_candidates(
    client, make_artisan, make_product, monkeypatch, min_candidates
):
    """Ranking only the best matches first must never change what a page shows.

    With one candidate the first page comes back short and is asked again over every match.
    """
    from artisan_market.catalog import views

    client.application.config["PAGE_CACHE_SECONDS"] = 0  # each page from the queries, twice
    artisan = make_artisan(verified=True)
    for n in range(30):
        make_product(artisan=artisan, status="live", title=f"سلة رقم {n}")
    make_product(artisan=artisan, status="draft", title="سلة مخفية", photos=0)
    expected = [_titles(client.get(f"/shop?q=سله&page={p}").get_data(as_text=True)) for p in (1, 2)]
    monkeypatch.setattr(views, "_candidates", lambda page: min_candidates)
    asked_again = []
    is_truncated = views.is_truncated
    monkeypatch.setattr(views, "is_truncated", lambda *a: asked_again.append(a) or is_truncated(*a))
    got = [_titles(client.get(f"/shop?q=سله&page={p}").get_data(as_text=True)) for p in (1, 2)]
    assert got == expected
    if min_candidates < 30:
        assert asked_again  # a short page was asked again over every match
    assert len(expected[0]) == 24 and len(expected[1]) == 6
    assert "سلة مخفية" not in got[0] + got[1]


@pytest.mark.parametrize(
    ("rank_window", "candidates"),
    [(5000, 1), (5000, 30), (5000, 1000), (10, 30), (10, 1000)],
)
def test_every_search_match_is_on_exactly_one_page(
    client, make_artisan, make_product, monkeypatch, rank_window, candidates
):
    """Walking every page of a search shows each match once, in the order of the whole
    search, however ids and creation dates relate (imports and back-dated listings put
    them out of step), whether the pool of best matches is smaller than the matches, and
    whether the ranking window is smaller than the pool."""
    from artisan_market.catalog import search, views
    from artisan_market.catalog.queries import public_products
    from artisan_market.timeutil import utcnow

    artisan = make_artisan(verified=True)
    made = []
    for n in range(40):
        # Every third says it three times: a better score, so the pool is cut across
        # scores as well as inside a tie.
        description = "سلة سلة من الخوص" if n % 3 == 0 else "من الخوص"
        made.append(
            make_product(
                artisan=artisan, status="live", title=f"سلة رقم {n}", description=description
            )
        )
    for n in range(2):  # matches the pool holds and the shop must not show
        make_product(artisan=artisan, status="draft", title=f"سلة مسودة {n}", photos=0)
    now = utcnow()
    for product in made:
        product.created_at = now - timedelta(hours=product.id)  # the later id, the older
    db.session.commit()
    monkeypatch.setattr(search, "RANK_WINDOW", rank_window)
    monkeypatch.setattr(views, "_candidates", lambda page: candidates)

    shown = []
    for page in range(1, 10):
        html = client.get(f"/shop?q=سلة&page={page}").get_data(as_text=True)
        shown += _titles(html)
        if 'rel="next"' not in html:
            break
    assert sorted(shown) == sorted(p.title for p in made)  # every match, exactly once
    whole, _searched = search.apply_search(public_products(), "سلة")
    assert shown == list(db.session.scalars(whole.with_only_columns(Product.title)))


@pytest.mark.parametrize(
    "query",
    [
        "min=100&max=300",
        "min=250",
        "category=embroidery&min=150&max=400",
        "governorate=MT&max=350",
        "governorate=ASN&category=embroidery&min=100&max=400&availability=ready",
        "min=100&max=300&sort=price_down",
    ],
)
def test_a_price_range_finds_the_same_pages_narrow_or_wide(
    client, make_artisan, make_product, monkeypatch, query
):
    """A narrow range is found through the price index and sorted, a wide one by walking
    the catalogue newest first: the pages must be the same either way."""
    from artisan_market.catalog import queries

    aswan = make_artisan(verified=True, governorate="ASN")
    siwa = make_artisan(verified=True, governorate="MT")
    embroidery = db.session.scalar(sa.select(Category).where(Category.slug == "embroidery"))
    for n in range(40):
        product = make_product(
            artisan=(aswan, siwa)[n % 2],
            status="live",
            title=f"قطعة {n}",
            price=(n * 37 % 45 + 1) * 1000,  # 10 to 450 pounds, out of order
        )
        if n % 3 == 0:
            product.category = embroidery
    db.session.commit()
    pages = {}
    for narrow_below in (0, 10**6):  # never narrow; always narrow
        monkeypatch.setattr(queries, "NARROW_PRICE_RANGE", narrow_below)
        pages[narrow_below] = [
            _titles(client.get(f"/shop?{query}&page={p}").get_data(as_text=True)) for p in (1, 2)
        ]
    assert pages[0] == pages[10**6]
    assert pages[0][0], "the range holds listings"


def test_a_narrow_price_range_is_looked_up_not_walked(app, make_artisan, make_product, monkeypatch):
    from artisan_market.catalog import queries
    from artisan_market.catalog.queries import ShopFilters, public_products

    monkeypatch.setattr(queries, "NARROW_PRICE_RANGE", 10)
    artisan = make_artisan(verified=True)
    for n in range(30):
        make_product(artisan=artisan, status="live", price=(n + 1) * 1000)
    db.session.commit()
    narrow = ShopFilters(min_price=5000, max_price=6000).probed(db.session)
    wide = ShopFilters(min_price=1000).probed(db.session)
    assert narrow.narrow_price and not wide.narrow_price
    assert not ShopFilters(min_price=5000, sort="price_up").probed(db.session).narrow_price
    if db.engine.dialect.name == "sqlite":
        stmt = narrow.order(narrow.apply(public_products())).with_only_columns(Product.id)
        plan = query_plan(stmt, "EXPLAIN QUERY PLAN ")
        assert "ix_products_price" in plan and "SCAN products" not in plan, plan
    ids = db.session.scalars(
        narrow.order(narrow.apply(public_products())).with_only_columns(Product.id)
    ).all()
    assert len(ids) == 2 and ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("sort", ["newest", "price_up", "price_down"])
def test_a_governorate_is_found_through_her_artisans_not_by_walking(app, shop, sort):
    """A governorate with few listings (or none) must not walk the whole catalogue in the
    order asked for: her listings come from the artisan index and are sorted."""
    from artisan_market.catalog.queries import ShopFilters, public_products

    filters = ShopFilters(governorate="ASN", min_price=10_000, sort=sort)
    stmt = filters.order(filters.apply(public_products())).with_only_columns(Product.id)
    titles = db.session.scalars(
        filters.order(filters.apply(public_products())).with_only_columns(Product.title)
    ).all()
    assert set(titles) == {"سلة كبيرة", "طبق خوص"}
    if db.engine.dialect.name == "sqlite":
        plan = query_plan(stmt, "EXPLAIN QUERY PLAN ")
        assert "COVERING INDEX ix_products_artisan_shop" in plan, plan
        assert "SCAN products" not in plan and "ix_products_price" not in plan, plan


def test_card_photos_say_only_what_the_title_does_not(client, make_artisan, make_product):
    """A card's photo without alt text of its own is decorative (alt=""): the title beside it
    names the link. The first photos of the page are asked for first."""
    artisan = make_artisan(verified=True)
    plain = make_product(artisan=artisan, status="live", title="سلة خوص")
    described = make_product(artisan=artisan, status="live", title="طبق")
    described.photos[0].alt_text = "طبق نحاس منقوش بزخارف نباتية"
    db.session.commit()
    html = client.get("/shop").get_data(as_text=True)
    images = re.findall(r"<img [^>]*>", html)
    alts = [re.search(r'alt="([^"]*)"', tag).group(1) for tag in images]
    assert alts == ["طبق نحاس منقوش بزخارف نباتية", ""]  # newest first
    assert all('fetchpriority="high"' in tag for tag in images)  # both in the first row
    assert plain.title in html


@pytest.mark.parametrize("sort", ["price_up", "price_down"])
def test_a_search_sorted_by_price_shows_every_match_in_price_order(
    client, make_artisan, make_product, monkeypatch, sort
):
    """Sorted by price, are all matches there in price order, even when the pool of best
    matches by relevance is smaller than the matches? (The cheapest need not rank best.)"""
    from artisan_market.catalog import views

    artisan = make_artisan(verified=True)
    made = [
        make_product(
            artisan=artisan,
            status="live",
            title=f"سلة رقم {n}",
            # every other one ranks better; prices run against the ranking
            description="سلة سلة" if n % 2 else "خوص",
            price=10_000 + n * 100,
        )
        for n in range(30)
    ]
    monkeypatch.setattr(views, "_candidates", lambda page: 26)  # a page and a bit
    shown = []
    for page in range(1, 5):
        html = client.get(f"/shop?q=سلة&sort={sort}&page={page}").get_data(as_text=True)
        shown += _titles(html)
        if 'rel="next"' not in html:
            break
    by_price = sorted(made, key=lambda p: p.price, reverse=sort == "price_down")
    assert shown == [p.title for p in by_price]
