"""Artisan Market · سوق الحرفيات: create_app() builds the whole site."""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, url_for
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from artisan_market.config import check_production_safety, load_config
from artisan_market.extensions import (
    babel,
    compress,
    csrf,
    db,
    htmx,
    limiter,
    login_manager,
    migrate,
)

ROOT = Path(__file__).resolve().parent.parent


class IdConverter(IntegerConverter):
    """A database id in a URL: 1 to 2³¹−1, so an absurd number is a 404, never an overflow."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=2**31 - 1)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The site. `config` overrides settings (tests); INSTANCE_PATH moves instance/."""
    instance_path = (
        (config or {}).get("INSTANCE_PATH")
        or os.environ.get("INSTANCE_PATH")
        or str(ROOT / "instance")
    )
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.path.abspath(instance_path),
    )
    app.config.from_mapping(load_config(app.instance_path, config))
    check_production_safety(app.debug, app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["APP_ENV"] == "production" and not app.config["TRUSTED_PROXIES"]:
        # Behind a load balancer every visitor would share the proxy's address, and one
        # address's log-in limit would lock the whole site.
        app.logger.warning("TRUSTED_PROXIES is 0: set it to the number of proxies in front")
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    app.url_map.converters["id"] = IdConverter
    _init_extensions(app)
    _register_blueprints(app)
    _init_templates(app)

    from artisan_market import cli, errors, jobs, logs, metrics, pagecache, security

    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    jobs.init_app(app)
    pagecache.init_app(app)  # shop pages kept for visitors nobody in particular
    metrics.init_app(app)  # /metrics, and request counts when METRICS_TOKEN is set
    logs.init_app(app)  # request ids on every log line; the log's format (not in tests)
    return app


def _init_extensions(app: Flask) -> None:
    from artisan_market import database, transactions
    from artisan_market.i18n import select_locale

    db.init_app(app)
    database.init_app(app)
    transactions.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    htmx.init_app(app)
    if app.debug:  # a developer edits static files while the server runs
        app.config["COMPRESS_CACHE_BACKEND"] = None
    compress.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)


def _register_blueprints(app: Flask) -> None:
    """Each domain registers its pages and its hooks (listeners, template context) itself."""
    from artisan_market import (  # noqa: F401 (once: the table of forms sent once)
        accounts,
        audit,
        catalog,
        grants,
        impact,
        ledger,
        main,
        media,
        notifications,
        once,
        orders,
        pagecache,
        payments,
        review,
        studio,
    )

    for domain in (
        main,
        accounts,
        studio,
        review,
        catalog,
        media,
        audit,
        notifications,
        orders,
        payments,
        ledger,
        grants,
        impact,
    ):
        domain.init_app(app)


@cache
def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _init_templates(app: Flask) -> None:
    from flask_wtf.csrf import generate_csrf

    from artisan_market import i18n, money, once
    from artisan_market.accounts.phones import display_phone, whatsapp_url
    from artisan_market.catalog.queries import slugify
    from artisan_market.egypt import GOVERNORATES, craft_name, governorate_name
    from artisan_market.media.services import image as photo_image
    from artisan_market.media.services import srcset as photo_srcset

    def static_url(filename: str) -> str:
        """A static file's URL with its content hash, so it can be cached for a year."""
        path = Path(app.static_folder) / filename
        version = _file_digest(str(path)) if path.exists() else "0"
        return url_for("static", filename=filename, v=version)

    def field_attrs(field, extra: dict[str, str] | None = None) -> dict[str, str]:
        """aria-describedby/aria-invalid tying a field to its hint and its errors (and any
        `extra` attributes, such as htmx's)."""
        ids = []
        if field.description:
            ids.append(f"{field.id}-hint")
        if field.errors:
            ids.append(f"{field.id}-error")
        attrs = {"aria-describedby": " ".join(ids)} if ids else {}
        if field.errors:
            attrs["aria-invalid"] = "true"
        return {**attrs, **(extra or {})}

    from artisan_market.compact import CompactTemplates

    app.jinja_env.add_extension(CompactTemplates)
    app.jinja_env.globals.update(
        static_url=static_url,
        field_attrs=field_attrs,
        photo_image=photo_image,
        product_slug=lambda product: slugify(product.title),
        artisan_slug=lambda profile: slugify(profile.display_name),
        photo_srcset=photo_srcset,
        whatsapp_url=whatsapp_url,
        current_locale=i18n.current_locale,
        text_direction=i18n.text_direction,
        LOCALE_NAMES=i18n.LOCALE_NAMES,
        GOVERNORATES=GOVERNORATES,
        csrf_token=generate_csrf,
        form_key=once.form_key,
    )
    app.jinja_env.filters.update(
        money=money.format_money,
        number=i18n.format_number,
        day=i18n.format_day,
        moment=i18n.format_moment,
        short_moment=i18n.format_short_moment,
        governorate=governorate_name,
        # A phone number the way people say it, in the page's digits (٠١٠ ١٢٣٤ ٥٦٧٨).
        phone=lambda e164: i18n.localise_digits(display_phone(e164)),
        craft=craft_name,
        isolate=i18n.isolate,
        # An order number (already set apart left to right) in the page's digits.
        order_number=i18n.localise_digits,
    )
    # A year for hashed static URLs; a short time for anything else.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None

    def get_send_file_max_age(filename):
        from flask import request

        return 31536000 if request.args.get("v") else 300

    app.get_send_file_max_age = get_send_file_max_age
    app.after_request(_read_static_text)  # registered after Flask-Compress's: runs before it


def _read_static_text(response):
    """Our CSS and scripts read whole before Flask-Compress sees them (they are small): it
    compresses a streamed file without closing it, and a whole one with every algorithm,
    a Content-Length and its validator per encoding."""
    from flask import current_app, request

    if (
        request.endpoint == "static"
        and response.status_code == 200
        and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]
    ):
        response.direct_passthrough = False
        response.make_sequence()  # closes the file when the response is closed
    return response
