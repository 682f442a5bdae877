"""Photos: the pipeline that re-encodes uploads, the storage that keeps the results, and the
view that serves them (local storage only; S3, or the CDN in front of it, serves its own)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask

from artisan_market.config import ConfigError
from artisan_market.media.storage import LocalStorage, Storage

bp = Blueprint("media", __name__)


def init_app(app: Flask) -> None:
    from artisan_market.media import views  # noqa: F401

    app.extensions["media_storage"] = _make_storage(app.config)
    app.register_blueprint(bp)


def _make_storage(config: Mapping[str, Any]) -> Storage:
    """The storage ``MEDIA_BACKEND`` names: "local" (the default) or "s3".

    Raises ``ConfigError`` for another name, for "s3" without a bucket, and for "s3"
    without boto3 installed; the local default needs nothing.
    """
    backend = (config.get("MEDIA_BACKEND") or "local").strip().lower()
    if backend == "local":
        return LocalStorage(config["MEDIA_ROOT"], url_prefix="/media/")
    if backend == "s3":
        if not config.get("MEDIA_S3_BUCKET"):
            raise ConfigError("MEDIA_BACKEND=s3 needs MEDIA_S3_BUCKET (the bucket's name).")
        try:
            from artisan_market.media.s3 import S3Storage
        except ImportError as exc:
            raise ConfigError(
                "MEDIA_BACKEND=s3 needs boto3: pip install 'artisan-market[s3]'."
            ) from exc
        return S3Storage(
            config["MEDIA_S3_BUCKET"],
            endpoint_url=config.get("MEDIA_S3_ENDPOINT_URL") or None,
            region=config.get("MEDIA_S3_REGION") or None,
            public_url=config.get("MEDIA_PUBLIC_URL") or None,
        )
    raise ConfigError(f'MEDIA_BACKEND must be "local" or "s3", not {backend!r}.')


def get_storage() -> Storage:
    from flask import current_app

    return current_app.extensions["media_storage"]
