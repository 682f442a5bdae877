"""Photos in S3: the real boto3 client against moto's S3 server on 127.0.0.1.

moto runs in server mode (a real HTTP server in a thread), so requests go through
botocore's signing, retries and HTTP stack exactly as they would to AWS or to an
S3-compatible service; nothing is patched inside boto3.
"""

from __future__ import annotations

import html
import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from PIL import Image

from artisan_market.accounts.models import User
from artisan_market.config import ConfigError
from artisan_market.extensions import db
from artisan_market.media.s3 import CACHE_CONTROL, S3Storage
from artisan_market.media.storage import Storage, StorageUnavailable
from tests.accounts.test_profile_photo import FIXTURES, _upload
from tests.accounts.test_signup import ARTISAN
from tests.conftest import Client, free_port

KEY = "3f2a9c0d1e2b3a4c5d6e-640.webp"
REGION = "eu-central-1"
# Dummy values: moto accepts any, and they must never be real ones.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server, on a free port of 127.0.0.1, for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials through the environment, as production passes real ones; no
    profile, config file or instance metadata of this machine can leak in."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3(s3_endpoint: str):
    """A plain boto3 client on moto, to look at what the app stored."""
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)


@pytest.fixture
def bucket(s3) -> str:
    """A fresh, empty bucket for each test."""
    name = f"photos-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture
def storage(bucket: str, s3_endpoint: str) -> S3Storage:
    return S3Storage(bucket, endpoint_url=s3_endpoint, region=REGION)


def object_keys(s3, bucket: str) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


# ----------------------------------------------------------------------------- S3Storage


def test_is_a_storage(storage: S3Storage) -> None:
    assert isinstance(storage, Storage)


def test_save_sets_content_type_and_a_year_of_caching(storage: S3Storage, s3, bucket) -> None:
    """Does a saved object carry its type and the immutable one-year cache header?"""
    storage.save(KEY, b"RIFF....WEBP", "image/webp")
    head = s3.head_object(Bucket=bucket, Key=KEY)
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == CACHE_CONTROL == "public, max-age=31536000, immutable"
    assert s3.get_object(Bucket=bucket, Key=KEY)["Body"].read() == b"RIFF....WEBP"


def test_save_replaces(storage: S3Storage, s3, bucket) -> None:
    storage.save(KEY, b"old", "image/webp")
    storage.save(KEY, b"new", "image/webp")
    assert s3.get_object(Bucket=bucket, Key=KEY)["Body"].read() == b"new"
    assert object_keys(s3, bucket) == {KEY}


def test_exists_and_delete(storage: S3Storage, s3, bucket) -> None:
    assert not storage.exists(KEY)
    storage.save(KEY, b"x", "image/webp")
    assert storage.exists(KEY)
    storage.delete(KEY)
    assert not storage.exists(KEY)
    assert object_keys(s3, bucket) == set()


def test_deleting_a_missing_key_is_fine(storage: S3Storage, s3, bucket) -> None:
    storage.delete(KEY)
    storage.save("other-320.webp", b"x", "image/webp")
    storage.delete(KEY)
    assert object_keys(s3, bucket) == {"other-320.webp"}


def test_url_without_public_url_is_the_bucket_path(storage: S3Storage, s3_endpoint) -> None:
    assert storage.url(KEY) == f"{s3_endpoint}/{storage.bucket}/{KEY}"
    assert storage.origin == s3_endpoint


@pytest.mark.parametrize(
    "base", ["https://cdn.example.org/photos", "https://cdn.example.org/photos/"]
)
def test_url_with_public_url(bucket: str, s3_endpoint: str, base: str) -> None:
    storage = S3Storage(bucket, endpoint_url=s3_endpoint, public_url=base)
    assert storage.url(KEY) == f"https://cdn.example.org/photos/{KEY}"
    assert storage.origin == "https://cdn.example.org"


def test_url_on_aws_is_virtual_hosted() -> None:
    storage = S3Storage("artisan-photos", region="eu-south-1")
    assert storage.url(KEY) == f"https://artisan-photos.s3.eu-south-1.amazonaws.com/{KEY}"


def test_url_on_aws_takes_boto3s_region() -> None:
    """Without MEDIA_S3_REGION, the region is the one boto3 finds (AWS_DEFAULT_REGION)."""
    storage = S3Storage("artisan-photos")
    assert storage.url(KEY) == f"https://artisan-photos.s3.{REGION}.amazonaws.com/{KEY}"


BAD_KEYS = ["../secret", "a/b.webp", ".hidden", "", "a b.webp", "x\x00.webp", "k" * 201]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused(storage: S3Storage, s3, bucket, key: str) -> None:
    for call in (
        lambda: storage.save(key, b"x", "image/webp"),
        lambda: storage.delete(key),
        lambda: storage.exists(key),
        lambda: storage.url(key),
    ):
        with pytest.raises(ValueError, match="invalid media key"):
            call()
    assert object_keys(s3, bucket) == set()


def test_the_client_is_made_once_and_lazily(storage: S3Storage) -> None:
    assert storage._client is None  # constructing a storage touches no network or config
    first = storage.client
    storage.save(KEY, b"x", "image/webp")
    assert storage.client is first


def test_no_bucket_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="bucket"):
        S3Storage("")


# ------------------------------------------------------------------------- configuration


def test_local_is_the_default(app) -> None:
    from artisan_market.media import get_storage
    from artisan_market.media.storage import LocalStorage

    assert app.config["MEDIA_BACKEND"] == "local"
    assert isinstance(get_storage(), LocalStorage)


def test_environment_chooses_s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from artisan_market.config import load_config

    monkeypatch.setenv("MEDIA_BACKEND", "s3")
    monkeypatch.setenv("MEDIA_S3_BUCKET", "artisan-photos")
    monkeypatch.setenv("MEDIA_S3_ENDPOINT_URL", "https://s3.example.net")
    monkeypatch.setenv("MEDIA_S3_REGION", "auto")
    monkeypatch.setenv("MEDIA_PUBLIC_URL", "https://photos.example.org")
    config = load_config(str(tmp_path), {"SECRET_KEY": "x" * 40})
    assert {k: v for k, v in config.items() if k.startswith("MEDIA_") and k != "MEDIA_ROOT"} == {
        "MEDIA_BACKEND": "s3",
        "MEDIA_S3_BUCKET": "artisan-photos",
        "MEDIA_S3_ENDPOINT_URL": "https://s3.example.net",
        "MEDIA_S3_REGION": "auto",
        "MEDIA_PUBLIC_URL": "https://photos.example.org",
    }
    assert not any("SECRET" in k or "ACCESS_KEY" in k for k in config if k.startswith("MEDIA"))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MEDIA_BACKEND": "s3"}, "MEDIA_S3_BUCKET"),
        ({"MEDIA_BACKEND": "ftp"}, "MEDIA_BACKEND"),
    ],
)
def test_bad_media_settings_stop_the_app(make_app, settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_app(**settings)


# ---------------------------------------------------------------------------- the app


@pytest.fixture
def s3_app(make_app, bucket: str, s3_endpoint: str):
    app = make_app(MEDIA_BACKEND="s3", MEDIA_S3_BUCKET=bucket, MEDIA_S3_ENDPOINT_URL=s3_endpoint)
    app.test_client_class = Client
    with app.app_context():
        yield app


def _signup_with_photo(client: Client) -> list[dict]:
    response = client.submit(
        "/signup/artisan",
        {**ARTISAN, "photo": _upload("exif_gps.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.phone == "+201012345678"))
    return user.artisan_profile.photo


def _img_urls(page: str) -> tuple[str, list[str]]:
    """src and the srcset URLs of the first <img> of the page."""
    tag = re.search(r"<img\b[^>]*>", page, re.S)
    assert tag, "no <img> on the page"
    src = html.unescape(re.search(r'\ssrc="([^"]+)"', tag.group(0)).group(1))
    srcset = html.unescape(re.search(r'\ssrcset="([^"]+)"', tag.group(0)).group(1))
    return src, [part.strip().split(" ")[0] for part in srcset.split(",")]


def test_artisan_photo_goes_to_the_bucket_clean(s3_app, s3, bucket, s3_endpoint) -> None:
    """Sign-up with a GPS-tagged phone photo on S3: are the derivatives objects in the
    bucket, without EXIF, and does her account page point at the bucket?"""
    client = s3_app.test_client()
    record = _signup_with_photo(client)
    assert {d["kind"] for d in record} == {"webp", "jpeg"}

    assert object_keys(s3, bucket) == {d["key"] for d in record}
    original = (FIXTURES / "exif_gps.jpg").read_bytes()
    for derivative in record:
        obj = s3.get_object(Bucket=bucket, Key=derivative["key"])
        data = obj["Body"].read()
        assert obj["ContentType"] == (
            "image/webp" if derivative["kind"] == "webp" else "image/jpeg"
        )
        assert obj["CacheControl"] == CACHE_CONTROL
        assert data != original
        assert b"Exif\x00\x00" not in data and b"GPS" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (derivative["width"], derivative["height"])
            assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info

    src, srcset = _img_urls(client.get("/account").get_data(as_text=True))
    webps = {d["key"] for d in record if d["kind"] == "webp"}
    base = f"{s3_endpoint}/{bucket}/"
    assert src.startswith(base) and src.removeprefix(base) in webps
    assert {url.removeprefix(base) for url in srcset} == webps
    assert all(url.startswith(base) for url in srcset)


def test_account_page_uses_the_public_url(make_app, bucket, s3_endpoint, s3) -> None:
    """With a CDN in front of the bucket, pages point at the CDN, not the bucket."""
    app = make_app(
        MEDIA_BACKEND="s3",
        MEDIA_S3_BUCKET=bucket,
        MEDIA_S3_ENDPOINT_URL=s3_endpoint,
        MEDIA_PUBLIC_URL="https://cdn.example.org/p/",
    )
    app.test_client_class = Client
    with app.app_context():
        client = app.test_client()
        record = _signup_with_photo(client)
        src, srcset = _img_urls(client.get("/account").get_data(as_text=True))
    webps = {f"https://cdn.example.org/p/{d['key']}" for d in record if d["kind"] == "webp"}
    assert src in webps and set(srcset) == webps
    assert object_keys(s3, bucket) == {d["key"] for d in record}


def test_media_view_does_not_serve_from_s3(s3_app, s3, bucket) -> None:
    """/media/<key> is for local files only: with S3 the bucket or CDN serves photos."""
    client = s3_app.test_client()
    record = _signup_with_photo(client)
    assert object_keys(s3, bucket)
    for derivative in record:
        assert client.get(f"/media/{derivative['key']}").status_code == 404


def test_a_refused_photo_leaves_nothing_in_the_bucket(s3_app, s3, bucket) -> None:
    client = s3_app.test_client()
    response = client.submit(
        "/signup/artisan",
        {**ARTISAN, "photo": _upload("truncated_jpeg.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert object_keys(s3, bucket) == set()


def test_storage_errors_are_not_swallowed(storage: S3Storage, s3, bucket) -> None:
    """A bucket that has gone away is a loud error on save, not a silent loss."""
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(StorageUnavailable) as raised:
        storage.save(KEY, b"x", "image/webp")
    assert isinstance(raised.value.__cause__, ClientError)


def test_s3_out_of_reach_refuses_her_photos_and_saves_nothing(make_app, bucket) -> None:
    """S3 down while she signs up with a photo: a 503 in her language that says nothing was
    saved, and nothing is (issue 11, part 3: stop S3)."""
    app = make_app(
        MEDIA_BACKEND="s3",
        MEDIA_S3_BUCKET=bucket,
        MEDIA_S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",  # nobody listens
    )
    app.test_client_class = Client
    with app.app_context():
        client = app.test_client()
        response = client.submit(
            "/signup/artisan",
            {**ARTISAN, "photo": _upload("exif_gps.jpg")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 503
        assert "لا يمكن حفظ الصور الآن" in response.get_data(as_text=True)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        with_htmx = client.submit(
            "/signup/artisan",
            {**ARTISAN, "photo": _upload("exif_gps.jpg")},
            content_type="multipart/form-data",
            headers={"HX-Request": "true"},
        )
        assert with_htmx.status_code == 503  # a message above the form she filled in
        assert with_htmx.headers["HX-Retarget"] == "#messages"
        boosted = client.submit(
            "/signup/artisan",
            {**ARTISAN, "photo": _upload("exif_gps.jpg")},
            content_type="multipart/form-data",
            headers={"HX-Request": "true", "HX-Boosted": "true"},
        )
        assert boosted.status_code == 503  # a boosted form too: her form stays as she filled it
        assert boosted.headers["HX-Retarget"] == "#messages"
        assert "<html" not in boosted.get_data(as_text=True)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_csp_lets_browsers_load_photos_from_the_bucket(s3_app, s3_endpoint) -> None:
    """Do pages allow the browser to fetch images from where S3Storage.url points?"""
    response = s3_app.test_client().get("/")
    policy = response.headers["Content-Security-Policy"]
    img_src = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
    assert s3_endpoint in img_src.split()
