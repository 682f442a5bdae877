"""Serve stored photo derivatives: content-hashed names, so cached for a year."""

from __future__ import annotations

from flask import abort, send_file

from artisan_market.extensions import limiter
from artisan_market.media import bp, get_storage
from artisan_market.media.storage import LocalStorage

CONTENT_TYPES = {"webp": "image/webp", "jpg": "image/jpeg"}


@bp.get("/media/<key>")
@limiter.exempt
def serve(key: str):
    """A derivative by its key; 404 for a malformed, unknown or non-image key.

    Only files the pipeline wrote can be here, and only with our two extensions.
    """
    storage = get_storage()
    extension = key.rsplit(".", 1)[-1]
    if not isinstance(storage, LocalStorage) or extension not in CONTENT_TYPES:
        abort(404)
    try:
        path = storage.path(key)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=CONTENT_TYPES[extension], conditional=True, etag=True)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
