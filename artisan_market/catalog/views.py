"""The shop window. Public pages show live listings of verified artisans only; anything
else is a 404, except to its own artisan and to staff, who see a preview."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from artisan_market import money, paging
from artisan_market.accounts.models import ArtisanProfile, VerificationStatus
from artisan_market.catalog import bp
from artisan_market.catalog.models import Category, Product
from artisan_market.catalog.queries import (
    PUBLIC_STATUSES,
    ShopFilters,
    fetch_products,
    is_public,
    public_products,
    slugify,
    verified_artisans,
)
from artisan_market.catalog.search import apply_search, is_truncated
from artisan_market.extensions import db
from artisan_market.i18n import current_locale
from artisan_market.pagecache import cached_page
from artisan_market.policy import can
from artisan_market.responses import htmx_target, render

PAGE_SIZE = 24


def _candidates(page: int) -> int:
    """How many best-ranked search matches a page starts from: this page's worth four
    times over, and at least a thousand."""
    return max(1000, page * PAGE_SIZE * 4)


def _categories() -> list[Category]:
    return list(db.session.scalars(sa.select(Category).order_by(Category.position)))


@bp.get("/shop")
@cached_page
def shop():
    """The catalogue: filters, sort, search; a fragment for htmx, the whole page otherwise.

    Unknown filters are ignored, an upside-down price range is turned round, and a page
    past the end goes to the first page: never an error.
    """
    categories = _categories()
    filters = ShopFilters.from_args(request.args, {c.slug for c in categories})
    args = filters.args(page="")
    filters = replace(filters, page=paging.requested_page(args)).probed(db.session)
    base = filters.apply(public_products())
    # Search by relevance starts from the best matches only (enough for this page, four
    # times over); a short page is asked again over every match, so nothing is ever missed.
    # Sorted by price, every match counts (the cheapest need not be among the best) and
    # relevance is not asked for.
    by_relevance = filters.sort == "newest"
    candidates = _candidates(filters.page) if by_relevance else None
    stmt, searching = apply_search(base, filters.q, candidates=candidates, ranked=by_relevance)
    if not searching or filters.sort != "newest":
        stmt = filters.order(stmt.order_by(None))
    page = paging.fetch_page(stmt, PAGE_SIZE, args=args, fetch=fetch_products)
    if candidates and searching and not page.has_next and is_truncated(filters.q, candidates):
        stmt, _searching = apply_search(base, filters.q)
        if filters.sort != "newest":
            stmt = filters.order(stmt.order_by(None))
        page = paging.fetch_page(stmt, PAGE_SIZE, args=args, fetch=fetch_products)
    paging.check_not_past_the_end(page)
    response = render(
        "catalog/shop.html",
        fragments={"results": "catalog/_results.html", "results-list": "catalog/_more.html"},
        page=page,
        filters=filters,
        categories=categories,
        searching=searching,
        locale=current_locale(),
    )
    if htmx_target() == "results":
        # The address bar gets the filters as the links write them (no empty fields), not
        # the form's every field: the address she shares or comes back to is readable.
        response.headers["HX-Push-Url"] = url_for("catalog.shop", **filters.args())
    return response


@bp.get("/products/<id:product_id>")
@bp.get("/products/<id:product_id>/<slug>")
@cached_page
def product(product_id: int, slug: str | None = None):
    """A product page. 404 unless public (or a preview for who may manage or review it);
    a wrong slug redirects (301) to the right one."""
    item = db.session.scalar(
        sa.select(Product)
        .where(Product.id == product_id)
        .options(
            sa.orm.joinedload(Product.artisan),
            sa.orm.joinedload(Product.category),
            sa.orm.selectinload(Product.photos),
        )
    )
    if item is None:
        abort(404)
    public = is_public(item)
    if not public and not can(current_user, "preview_listing", item):
        abort(404)
    right = slugify(item.title)
    if slug != right:
        return _to_right_slug("catalog.product", product_id=item.id, slug=right)
    more = list(
        db.session.scalars(
            public_products()
            .where(Product.artisan_id == item.artisan_id, Product.id != item.id)
            .order_by(Product.id.desc())
            .limit(4)
        ).unique()
    )
    locale = current_locale()
    return render_template(
        "catalog/product.html",
        product=item,
        public=public,
        more=more,
        slug=right,
        json_ld=_json_ld(item, locale),
        locale=locale,
    )


def _to_right_slug(endpoint: str, **values):
    """301 to the page's right address, keeping the language chosen in the URL."""
    if request.args.get("lang"):
        values["lang"] = request.args["lang"]
    return redirect(url_for(endpoint, **values), 301)


def _json_ld(item: Product, locale: str) -> str:
    """schema.org Product for search engines, safe inside <script>: <, > and & are written
    as JSON escapes, so no title can end the script or open an HTML comment in it."""
    availability = (
        "MadeToOrder" if item.made_to_order else ("InStock" if item.stock > 0 else "OutOfStock")
    )
    jpeg = next((d for p in item.photos for d in p.derivatives if d["kind"] == "jpeg"), None)
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": item.title,
        "description": item.description,
        "sku": str(item.id),
        "category": item.category.name(locale) if item.category else "",
        "offers": {
            "@type": "Offer",
            "price": money.decimal_text(item.price, item.currency) if item.price else "0",
            "priceCurrency": item.currency,
            "availability": f"https://schema.org/{availability}",
            "url": url_for(
                "catalog.product", product_id=item.id, slug=slugify(item.title), _external=True
            ),
        },
    }
    if jpeg:
        data["image"] = url_for("media.serve", key=jpeg["key"], _external=True)
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@bp.get("/artisans/<id:artisan_id>")
@bp.get("/artisans/<id:artisan_id>/<slug>")
@cached_page
def artisan(artisan_id: int, slug: str | None = None):
    """Her public page: name, photo, governorate, craft, story, live products. Never her
    phone or village. 404 until she is verified."""
    profile = db.session.get(ArtisanProfile, artisan_id)
    if profile is None or profile.verification is not VerificationStatus.VERIFIED:
        abort(404)
    right = slugify(profile.display_name)
    if slug != right:
        return _to_right_slug("catalog.artisan", artisan_id=profile.id, slug=right)
    products = list(
        db.session.scalars(
            public_products()
            .where(Product.artisan_id == profile.id)
            .order_by(Product.id.desc())
            .limit(48)
        ).unique()
    )
    return render_template(
        "catalog/artisan.html",
        profile=profile,
        products=products,
        slug=right,
        locale=current_locale(),
    )


@bp.get("/robots.txt")
def robots():
    """Everything public may be crawled. The studio, review, account and audit pages are not
    listed: they answer a crawler with the log-in page, robots.txt is no lock (listing them
    only tells everyone where they are), and a page that robots.txt blocks cannot be
    checked by the tools that audit it. Set-password links carry a one-time token: never
    fetched by a crawler that comes across one."""
    body = "\n".join(
        [
            "User-agent: *",
            "Disallow: /set-password",
            f"Sitemap: {url_for('catalog.sitemap', _external=True)}",
            "",
        ]
    )
    return Response(body, mimetype="text/plain")


@bp.get("/sitemap.xml")
def sitemap():
    """Products, artisans, categories and the impact page, in both languages (hreflang
    alternates)."""
    products = db.session.execute(
        sa.select(Product.id, Product.title, Product.updated_at)
        .where(
            Product.status.in_(PUBLIC_STATUSES),
            Product.artisan_id.in_(verified_artisans()),
        )
        .order_by(Product.id)
        .limit(45_000)
    ).all()
    artisans = db.session.execute(
        sa.select(ArtisanProfile.id, ArtisanProfile.display_name)
        .where(ArtisanProfile.verification == VerificationStatus.VERIFIED)
        .order_by(ArtisanProfile.id)
    ).all()
    urls = [
        (url_for("catalog.shop", _external=True), None),
        (url_for("impact.public", _external=True), None),
    ]
    urls += [
        (url_for("catalog.shop", category=c.slug, _external=True), None) for c in _categories()
    ]
    urls += [
        (
            url_for("catalog.product", product_id=p.id, slug=slugify(p.title), _external=True),
            p.updated_at,
        )
        for p in products
    ]
    urls += [
        (
            url_for(
                "catalog.artisan", artisan_id=a.id, slug=slugify(a.display_name), _external=True
            ),
            None,
        )
        for a in artisans
    ]
    body = render_template("catalog/sitemap.xml", urls=urls, urlencode=urlencode)
    return Response(body, mimetype="application/xml")
