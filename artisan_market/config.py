"""Configuration from the environment, with defaults that run on one machine.

Every setting can come from an environment variable of the same name (see `.env.example`).
`load_config` is called by `create_app`; a test passes overrides as a mapping.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

# Placeholders people copy from examples; production refuses them as secrets.
_NOT_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development", "please-change-me"}
MIN_SECRET_LENGTH = 32


class CompressedFiles(dict):
    """Flask-Compress's cache of compressed static files: a dict with `set`."""

    def set(self, key: str, value: bytes) -> None:
        self[key] = value


def _request_path(request) -> str:
    return request.path  # not the query string: ?v=<anything> is the same file


class ConfigError(RuntimeError):
    """The configuration would run the site unsafely; the message says what to set."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret_key(instance_path: Path) -> str:
    """A secret generated once and kept in instance/, so sessions survive a restart."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with 0600 so only the app's user can read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the settings mapping: environment first, then `overrides` (tests)."""
    overrides = dict(overrides or {})
    instance = Path(instance_path)
    production = (overrides.get("APP_ENV") or os.environ.get("APP_ENV", "development")) == (
        "production"
    )
    redis_url = overrides.get("REDIS_URL", os.environ.get("REDIS_URL", ""))

    config: dict[str, Any] = {
        "APP_ENV": "production" if production else "development",
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance / 'artisan_market.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        # Sessions: one signed cookie, kept for a month so an artisan on a shared phone
        # is not asked for her password every day; HttpOnly and SameSite=Lax always,
        # Secure whenever the site is served over HTTPS (production).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_NAME": "am_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # The site's host: full links in emails sent by background jobs, outside any request.
        "SERVER_NAME": os.environ.get("SERVER_NAME") or None,
        # Photos are the largest uploads; a broken 30 MB upload gets the friendly 413 page.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 25 * 1024 * 1024)),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BABEL_DEFAULT_LOCALE": "ar",
        "BABEL_DEFAULT_TIMEZONE": "Africa/Cairo",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "artisan_market"),
        "RATELIMIT_HEADERS_ENABLED": False,
        # Redis down: the limits go on in each process's memory until it answers again
        # (docs/decisions.md, "When Redis is down"), rather than log-in failing or going
        # unlimited.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Our CSS, scripts and icons compressed (htmx: 52 KB → 17 KB) when no proxy does it.
        # Not pages: they carry CSRF tokens next to reflected search text (BREACH).
        "COMPRESS_MIMETYPES": ["text/css", "text/javascript", "image/svg+xml"],
        # Brotli at its best (htmx: 15 KB, zstd's default gives 18), once per file and
        # encoding: the compressed bytes are kept by path (static files only come here, and
        # only a file that exists is compressed, so the cache is as small as static/).
        "COMPRESS_ALGORITHM": ["br", "zstd", "gzip", "deflate"],
        "COMPRESS_BR_LEVEL": 11,
        "COMPRESS_CACHE_BACKEND": CompressedFiles,
        "COMPRESS_CACHE_KEY": _request_path,
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes"),
        "SIGNUP_LIMIT_PER_ADDRESS": os.environ.get("SIGNUP_LIMIT_PER_ADDRESS", "20 per hour"),
        "SET_PASSWORD_LINK_DAYS": int(os.environ.get("SET_PASSWORD_LINK_DAYS", 7)),
        # Number of proxies in front of the app that set X-Forwarded-For/-Proto (0 = none).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", 0)),
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT") or str(instance / "media"),
        # Photos: "local" (files in MEDIA_ROOT, served by /media/) or "s3" (an S3-compatible
        # bucket that, or whose CDN, serves them). Credentials come from boto3's usual chain
        # (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role), never here.
        "MEDIA_BACKEND": os.environ.get("MEDIA_BACKEND") or "local",
        "MEDIA_S3_BUCKET": os.environ.get("MEDIA_S3_BUCKET", ""),
        # Only for S3-compatible services (MinIO, R2, Spaces...); empty means AWS.
        "MEDIA_S3_ENDPOINT_URL": os.environ.get("MEDIA_S3_ENDPOINT_URL", ""),
        # Empty means boto3's own (AWS_DEFAULT_REGION, ~/.aws/config).
        "MEDIA_S3_REGION": os.environ.get("MEDIA_S3_REGION", ""),
        # Public/CDN base URL of the photos; empty means the bucket's own URL.
        "MEDIA_PUBLIC_URL": os.environ.get("MEDIA_PUBLIC_URL", ""),
        # Shop pages kept in each process's memory for visitors not logged in, thrown away by
        # any change to what they show (artisan_market/pagecache.py); 0 turns it off.
        "PAGE_CACHE_SECONDS": int(os.environ.get("PAGE_CACHE_SECONDS", 600)),
        "PAGE_CACHE_BYTES": int(os.environ.get("PAGE_CACHE_BYTES", 32 * 1024 * 1024)),
        # Email: sent over SMTP when MAIL_SERVER is set, else written to the log.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT") or 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),  # STARTTLS
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM") or "Artisan Market <no-reply@localhost>",
        # Background jobs run at once in the process that queues them (tests), instead of
        # waiting in the queue (Redis at REDIS_URL, else instance/jobs.sqlite3) for a worker.
        "JOBS_IMMEDIATE": _bool("JOBS_IMMEDIATE", False),
        # Ways to pay, in the order the checkout offers them (modules of artisan_market.payments).
        # Cash on delivery needs nothing; Stripe is offered only with both of its keys.
        "PAYMENT_PROVIDERS": [
            name.strip()
            for name in os.environ.get("PAYMENT_PROVIDERS", "cod,stripe").split(",")
            if name.strip()
        ],
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        # Only for tests (a local fake of Stripe's API); empty means Stripe itself.
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        # Where Stripe's payment pages are (the CSP lets the checkout send buyers there).
        "STRIPE_CHECKOUT_ORIGIN": os.environ.get("STRIPE_CHECKOUT_ORIGIN")
        or "https://checkout.stripe.com",
        # One artisan's parcel, in piastres, until admins set fees per governorate.
        "SHIPPING_FEE": int(os.environ.get("SHIPPING_FEE") or 6000),
        # /metrics (Prometheus) is on only when set, and answers only "Authorization: Bearer
        # <it>"; anyone else gets a 404, as while it is off (metrics.py).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
    }
    config.update(overrides)

    secret = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY", "")
    if production:
        if secret.strip().lower() in _NOT_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                "APP_ENV=production needs SECRET_KEY set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters (python -c 'import secrets; "
                "print(secrets.token_hex(32))')."
            )
    elif not secret:
        secret = _instance_secret_key(instance)
    config["SECRET_KEY"] = secret
    return config


def check_production_safety(app_debug: bool, config: dict[str, Any]) -> None:
    """Refuse to serve production traffic with the debugger on."""
    if config["APP_ENV"] == "production" and app_debug:
        raise ConfigError("APP_ENV=production refuses to start with debug on (unset FLASK_DEBUG).")
