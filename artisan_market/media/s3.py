"""Photo derivatives in S3-compatible object storage (``MEDIA_BACKEND=s3``).

The bucket (or the CDN in front of it) serves the files itself, so the app never streams
a photo: ``url(key)`` points at ``MEDIA_PUBLIC_URL`` when it is set, else straight at the
bucket. Every object is written with its content type and the same one-year
``immutable`` cache header that ``/media/<key>`` sends for local files: keys are content
hashes, so an object never changes under its name.

Credentials are never part of the app's settings: boto3 finds them as it always does
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, an instance or task
role...). Only boto3 is needed, and only when this backend is chosen.
"""

from __future__ import annotations

import threading
from typing import Any, Final
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from artisan_market.media.storage import StorageUnavailable, validate_key

__all__ = ["CACHE_CONTROL", "S3Storage"]

# The same header /media/<key> sends for local files (see views.py).
CACHE_CONTROL: Final = "public, max-age=31536000, immutable"

# A photo upload must not hang a worker for minutes on a stuck connection; "standard"
# retries back off and retry throttling and 5xx answers a few times.
_CLIENT_CONFIG: Final = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"max_attempts": 4, "mode": "standard"},
)
# head_object answers a missing key with a bare 404 (no body, so no "NoSuchKey" code).
_MISSING_CODES: Final = frozenset({"404", "NoSuchKey", "NotFound"})


class S3Storage:
    """Blobs in one S3 bucket, with the same four methods as ``LocalStorage``.

    ``endpoint_url`` is for S3-compatible services (MinIO, Cloudflare R2, DigitalOcean
    Spaces...) and for tests; without it boto3 talks to AWS. ``public_url`` is the base
    URL the public fetches photos from (a CDN, or the bucket's own website); without it
    URLs point at the bucket: ``<endpoint>/<bucket>/<key>`` (path style) with an
    endpoint, ``https://<bucket>.s3.<region>.amazonaws.com/<key>`` on AWS. Either way
    the bucket (or CDN) must let the public read the objects: that is a bucket policy,
    not something this class sets per object (many buckets refuse ACLs).

    The boto3 client is made on first use, once per storage object (so a forked
    gunicorn worker makes its own), and shared by all threads: boto3 clients are
    thread-safe, boto3's default session is not, hence a session of our own.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        public_url: str | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3Storage needs a bucket name")
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.public_url = public_url.rstrip("/") if public_url else None
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The boto3 S3 client, made once on first use."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    session = boto3.session.Session()
                    config = _CLIENT_CONFIG
                    if self.endpoint_url:
                        # S3-compatible services and IP endpoints (tests) take path-style
                        # requests; virtual-hosted ones would need DNS per bucket.
                        config = config.merge(Config(s3={"addressing_style": "path"}))
                    self._client = session.client(
                        "s3",
                        endpoint_url=self.endpoint_url,
                        region_name=self.region,
                        config=config,
                    )
                client = self._client
        return client

    def save(self, key: str, data: bytes, content_type: str) -> None:
        # One PUT: S3 makes the whole object visible at once or not at all.
        key = validate_key(key)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=CACHE_CONTROL,
            )
        except (BotoCoreError, ClientError) as error:  # unreachable, refused, no bucket
            raise StorageUnavailable(f"s3://{self.bucket}/{key}: {error}") from error

    def delete(self, key: str) -> None:
        # S3 answers 204 whether or not the key existed.
        self.client.delete_object(Bucket=self.bucket, Key=validate_key(key))

    def exists(self, key: str) -> bool:
        # A HEAD answer has no body: a missing bucket is a bare 404 too, so it reads as
        # False here; save() is where a missing bucket or a denied write raises.
        try:
            self.client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING_CODES:
                return False
            raise  # access denied, throttling...: a configuration or service problem
        return True

    def url(self, key: str) -> str:
        # Valid keys are [A-Za-z0-9._-] only: nothing to percent-encode.
        return f"{self.base_url}/{validate_key(key)}"

    @property
    def base_url(self) -> str:
        """Where the public fetches objects from, without a trailing slash."""
        if self.public_url:
            return self.public_url
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.bucket}"
        region = self.region or self.client.meta.region_name or "us-east-1"
        return f"https://{self.bucket}.s3.{region}.amazonaws.com"

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the photo URLs, for the CSP's ``img-src``."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def __repr__(self) -> str:
        return (
            f"S3Storage(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r}, "
            f"region={self.region!r}, public_url={self.public_url!r})"
        )
