"""Photos: the pipeline that re-encodes uploads, the storage that keeps the results, and the
view that serves them (local storage only; S3 serves its own)."""

from __future__ import annotations

from flask import Blueprint, Flask

from artisan_market.media.storage import LocalStorage, Storage

bp = Blueprint("media", __name__)


def init_app(app: Flask) -> None:
    app.extensions["media_storage"] = LocalStorage(app.config["MEDIA_ROOT"], url_prefix="/media/")
    app.register_blueprint(bp)


def get_storage() -> Storage:
    from flask import current_app

    return current_app.extensions["media_storage"]


from artisan_market.media import views  # noqa: E402, F401
