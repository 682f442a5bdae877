"""The security baseline every response gets, and the checks views share."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request
from flask_login import current_user

from artisan_market.extensions import login_manager


def content_security_policy() -> str:
    """No inline script or style anywhere; photos also from the media storage's origin
    (an S3 bucket or a CDN) when they are not served by the app itself."""
    storage = current_app.extensions.get("media_storage")
    media_origin = getattr(storage, "origin", "")
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src 'self' data: {media_origin}".strip(),
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


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


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
