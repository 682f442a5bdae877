"""The security baseline every response gets, and the checks views share."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from artisan_market.accounts.models import STAFF
from artisan_market.extensions import login_manager


def content_security_policy() -> str:
    """No inline script or style anywhere; photos also from the media storage's origin
    (an S3 bucket or a CDN) when they are not served by the app itself."""
    storage = current_app.extensions.get("media_storage")
    media_origin = getattr(storage, "origin", "")
    # The checkout's POST is redirected to the card payment page: form-action covers every
    # redirect of a form's navigation, so the payment page's origin is named (when offered).
    from artisan_market.payments.providers import payment_page_origins

    pay_origins = " ".join(payment_page_origins())
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src 'self' data: {media_origin}".strip(),
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"form-action 'self' {pay_origins}".strip(),
        ]
    )


# Endpoints that serve files, not pages.
PUBLIC_FILES = frozenset({"static", "media.serve"})


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), payment=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.endpoint in PUBLIC_FILES:
        # The same bytes for everyone: looking at who is logged in would read the session,
        # and Flask would add "Vary: Cookie", which no shared cache or CDN keeps.
        return response
    if current_user and current_user.is_authenticated and "Cache-Control" not in headers:
        # Her pages must not be kept by a shared phone's browser or any proxy.
        headers["Cache-Control"] = "private, no-store"
    return response


def safe_next(target: str | None, fallback: str = "/") -> str:
    """`target` if it is a path inside this site, else `fallback`.

    Refuses absolute URLs, scheme-relative `//host`, backslash tricks (`/\\host`) and
    anything with control characters, which browsers may strip into one of those.
    """
    if not target or len(target) > 2000:
        return fallback
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return fallback
    if not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def page_or_none(target: str | None) -> str | None:
    """`target` if it is a page of this site that a GET opens (`safe_next`); else None.

    A button's address (POST only) is not a page: after logging in she would land on a 405.
    """
    path = safe_next(target, "")
    if not path:
        return None
    try:
        current_app.create_url_adapter(request).match(urlsplit(path).path, method="GET")
    except RequestRedirect:
        return path  # a page, only spelt without its trailing slash
    except HTTPException:
        return None
    return path


def roles_required(*roles):
    """Only these roles; anonymous people are sent to log in, others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


# Coordinators and admins only (accounts.models.STAFF).
staff_required = roles_required(*STAFF)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except that files (static, media) never carry the
    cookie nor "Vary: Cookie": a look at the session by some extension along the way (Flask-
    Login checks it on every answer) would otherwise keep shared caches and CDNs from
    keeping the same bytes for everyone."""

    def save_session(self, app: Flask, session, response: Response) -> None:
        if request.endpoint in PUBLIC_FILES:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(set_security_headers)
