"""Photos as the rest of the site uses them: process an upload, keep its derivatives, show them.

A stored photo is a list of its derivatives, kept as JSON on the row that owns it:
[{"key": "…-640.webp", "kind": "webp", "width": 640, "height": 853}, …].

Each saved photo has keys of its own (a random stem shared by its derivatives), even when the
same bytes are uploaded twice: removing one listing's photo can never take another's files.
Files follow the transaction that records them (`transactions`): written now and removed if it
rolls back; removed only once the change that drops them is committed.
"""

from __future__ import annotations

import secrets
from typing import BinaryIO

from flask import current_app

from artisan_market.media import get_storage
from artisan_market.media.pipeline import ProcessedPhoto, process_photo
from artisan_market.transactions import after_commit, on_rollback, slow_work

PhotoRecord = list[dict]


def prepare_photo(stream: BinaryIO) -> ProcessedPhoto:
    """Decode and re-encode an upload in memory; raises PhotoRejected with a message for her.

    Nothing is written anywhere, and no transaction is held while it works (a 12 MP photo
    takes a tenth of a second, eight of them a second): call it before any database write.
    """
    with slow_work():
        return process_photo(stream, max_bytes=current_app.config["MAX_CONTENT_LENGTH"])


def save_photo(photo: ProcessedPhoto) -> PhotoRecord:
    """Write every derivative under keys of its own and return the record to keep on the
    owner's row. The files are removed again if the transaction rolls back."""
    storage = get_storage()
    stem = secrets.token_hex(10)
    record = [
        {
            "key": f"{stem}-{derivative.width}.{derivative.key.rsplit('.', 1)[-1]}",
            "kind": derivative.kind,
            "width": derivative.width,
            "height": derivative.height,
        }
        for derivative in photo.derivatives
    ]
    on_rollback(lambda: _delete_files(record))
    for derivative, entry in zip(photo.derivatives, record, strict=True):
        storage.save(entry["key"], derivative.data, derivative.content_type)
    return record


def discard_photo(record: PhotoRecord | None) -> None:
    """Remove a photo's files once the change that drops it is committed (never before:
    a rollback keeps the row, and the row needs its files)."""
    if record:
        after_commit(lambda: _delete_files(record))


def _delete_files(record: PhotoRecord) -> None:
    storage = get_storage()
    for derivative in record:
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
