"""Photos as the rest of the site uses them: process an upload, keep its derivatives, show them.

A stored photo is a list of its derivatives, kept as JSON on the row that owns it:
[{"key": "…-640.webp", "kind": "webp", "width": 640, "height": 853}, …].
"""

from __future__ import annotations

from typing import BinaryIO

from flask import current_app

from artisan_market.media import get_storage
from artisan_market.media.pipeline import ProcessedPhoto, process_photo

PhotoRecord = list[dict]


def prepare_photo(stream: BinaryIO) -> ProcessedPhoto:
    """Decode and re-encode an upload in memory; raises PhotoRejected with a message for her.

    Nothing is written anywhere: call this before any database work, so a refused photo
    leaves nothing behind.
    """
    return process_photo(stream, max_bytes=current_app.config["MAX_CONTENT_LENGTH"])


def save_photo(photo: ProcessedPhoto) -> PhotoRecord:
    """Write every derivative to storage and return the record to keep on the owner's row."""
    storage = get_storage()
    record = []
    for derivative in photo.derivatives:
        storage.save(derivative.key, derivative.data, derivative.content_type)
        record.append(
            {
                "key": derivative.key,
                "kind": derivative.kind,
                "width": derivative.width,
                "height": derivative.height,
            }
        )
    return record


def delete_photo(record: PhotoRecord | None) -> None:
    """Remove a photo's files (after a failed commit, or when the photo is replaced).

    Derivatives are content-addressed, so identical files are shared: callers delete only
    files no other row uses (for now, a photo belongs to one row).
    """
    storage = get_storage()
    for derivative in record or []:
        storage.delete(derivative["key"])


def srcset(record: PhotoRecord) -> str:
    storage = get_storage()
    return ", ".join(
        f"{storage.url(d['key'])} {d['width']}w" for d in record if d["kind"] == "webp"
    )


def image(record: PhotoRecord, width: int) -> dict:
    """The WebP derivative closest to `width` (for src, width and height attributes)."""
    webps = [d for d in record if d["kind"] == "webp"]
    best = min(webps, key=lambda d: (d["width"] < width, abs(d["width"] - width)))
    return {**best, "url": get_storage().url(best["key"])}
