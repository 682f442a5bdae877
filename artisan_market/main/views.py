"""Home, language switch and health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify, redirect, render_template, request

from artisan_market.extensions import db, limiter
from artisan_market.forms import EmptyForm
from artisan_market.i18n import LOCALES, remember_locale
from artisan_market.main import bp
from artisan_market.pagecache import cached_page
from artisan_market.security import safe_next


@bp.get("/")
@cached_page
def home():
    """New pieces, the crafts, the governorates they come from, and who we are."""
    from artisan_market.accounts.models import ArtisanProfile, VerificationStatus
    from artisan_market.catalog.models import Category, Product
    from artisan_market.catalog.queries import PUBLIC_STATUSES, public_products
    from artisan_market.i18n import current_locale

    newest = db.session.scalars(public_products().order_by(Product.id.desc()).limit(8)).all()
    categories = db.session.scalars(sa.select(Category).order_by(Category.position)).all()
    # Where the pieces come from: governorates of verified artisans with a piece in the
    # shop (an index lookup per artisan, not a count over every product).
    in_shop = (
        sa.select(Product.id)
        .where(Product.artisan_id == ArtisanProfile.id, Product.status.in_(PUBLIC_STATUSES))
        .exists()
    )
    places = db.session.scalars(
        sa.select(ArtisanProfile.governorate)
        .where(ArtisanProfile.verification == VerificationStatus.VERIFIED, in_shop)
        .distinct()
    ).all()
    return render_template(
        "main/home.html",
        newest=newest,
        categories=categories,
        places=places,
        locale=current_locale(),
    )


@bp.post("/language")
def set_language():
    """This browser's pages in the chosen language (a cookie); her messages keep theirs (a
    setting of her account). An unknown language is ignored; `next` may only point inside
    the site."""
    form = EmptyForm()
    target = safe_next(request.form.get("next"))
    locale = request.form.get("locale")
    response = redirect(target, 303)
    if form.validate_on_submit() and locale in LOCALES:
        remember_locale(response, locale)
    return response


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:  # any failure to reach the database means "not healthy"
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="up")


def _probe(name: str, check) -> str:
    """ "up", or "down" (logged) when `check` raises."""
    try:
        check()
    except Exception:  # any failure to reach it means "not ready"
        current_app.logger.exception("readiness: %s unreachable", name)
        return "down"
    return "up"


def _ping_redis() -> None:
    import redis

    client = redis.Redis.from_url(
        current_app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1
    )
    try:
        client.ping()
    finally:
        client.close()


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Whether this instance can serve: the database, Redis (log-in limits, jobs) when
    REDIS_URL is set, and photo storage (local folder or S3). 503 if any is down: a balancer
    stops sending it traffic; /healthz says only whether the process and its database live."""
    from artisan_market.media import get_storage

    checks = {
        "database": _probe("database", lambda: db.session.execute(sa.text("SELECT 1"))),
        "redis": _probe("redis", _ping_redis) if current_app.config["REDIS_URL"] else "not used",
        "storage": _probe("storage", lambda: get_storage().exists("readyz-probe.txt")),
    }
    ready = "down" not in checks.values()
    return jsonify(status="ok" if ready else "unavailable", **checks), 200 if ready else 503
