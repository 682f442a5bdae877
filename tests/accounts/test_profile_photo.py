"""An artisan's photo goes through the pipeline; the uploaded bytes are never kept or served."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from artisan_market.accounts.models import User
from artisan_market.extensions import db
from tests.accounts.test_signup import ARTISAN
from tests.conftest import FIXTURES


def _upload(name: str, data: bytes | None = None):
    return (io.BytesIO(data if data is not None else (FIXTURES / name).read_bytes()), name)


def _media_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(root.rglob("*.*")) if root.exists() else []


def test_photo_is_reencoded_without_gps_and_served_cached(client, app):
    """Sign-up with a phone photo holding GPS: derivatives only, no metadata, cached a year."""
    response = client.submit(
        "/signup/artisan",
        {**ARTISAN, "photo": _upload("exif_gps.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.phone == "+201012345678"))
    record = user.artisan_profile.photo
    assert {d["kind"] for d in record} == {"webp", "jpeg"}
    page = client.get("/account").get_data(as_text=True)
    webp = next(d for d in record if d["kind"] == "webp")
    assert f"/media/{webp['key']}" in page and 'srcset="' in page
    assert f'width="{webp["width"]}"' in page
    for derivative in record:
        served = client.get(f"/media/{derivative['key']}")
        assert served.status_code == 200
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        image = Image.open(io.BytesIO(served.data))
        assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info
        served.close()
    original = (FIXTURES / "exif_gps.jpg").read_bytes()
    assert all(path.read_bytes() != original for path in _media_files(app))


@pytest.mark.parametrize(
    "name",
    ["truncated_jpeg.jpg", "ultrahdr.jpg", "decompression_bomb.gif", "fake.jpg", "empty.jpg"],
)
def test_a_refused_photo_leaves_nothing_behind(client, app, name):
    """A broken or hostile file: the form again with a message, no account, no file."""
    data = {"fake.jpg": b"<html><script>alert(1)</script></html>", "empty.jpg": b""}.get(name)
    response = client.submit(
        "/signup/artisan",
        {**ARTISAN, "photo": _upload(name, data)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="photo-error"' in page
    assert "غرب سهيل" in page  # what she typed is kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert _media_files(app) == []


def test_no_photo_chosen_is_fine(client):
    """Browsers send an empty, nameless part when no file is chosen: that is not an error."""
    response = client.submit(
        "/signup/artisan",
        {**ARTISAN, "photo": (io.BytesIO(b""), "")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.phone == "+201012345678"))
    assert user.artisan_profile.photo is None


def test_coordinator_adds_her_photo_on_her_behalf(client, app, login_as):
    login_as("coordinator")
    response = client.submit(
        "/coordinator/artisans/new",
        {
            "name": "زينب",
            "phone": "01122334455",
            "governorate": "MT",
            "village": "سيوة",
            "craft": "embroidery",
            "photo": _upload("hopper_orientation_6.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    user = db.session.scalar(sa.select(User).where(User.phone == "+201122334455"))
    webps = [d for d in user.artisan_profile.photo if d["kind"] == "webp"]
    assert webps
    page = client.get("/coordinator/artisans").get_data(as_text=True)
    assert webps[0]["key"].split("-")[0] in page


def test_a_photo_too_big_for_the_request_gets_the_friendly_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=64 * 1024)
    response = app.test_client().post(
        "/signup/artisan",
        data={**ARTISAN, "photo": (io.BytesIO(b"\xff" * 200_000), "big.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "الملف كبير" in response.get_data(as_text=True)
