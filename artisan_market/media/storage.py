"""Where photo derivatives live.

``Storage`` is the small interface the rest of the app uses; ``LocalStorage`` is the
embedded default (files under ``instance/media/``). An S3-compatible backend only has
to provide the same four methods.

Keys are the content-hashed names made by the pipeline (``<sha256 prefix>-<width>.<ext>``):
a key never changes meaning, so whatever serves ``url(key)`` may cache it for a year.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import tempfile
from typing import Final, Protocol, runtime_checkable

__all__ = ["LocalStorage", "Storage", "validate_key"]

# Letters, digits, dot, underscore, hyphen; not starting with a dot (no ".", "..",
# hidden files). That rules out path separators, drive letters, NUL and whitespace.
_KEY_RE: Final = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_MAX_KEY_LENGTH: Final = 200


class StorageUnavailable(RuntimeError):
    """The photo storage did not take a file (S3 unreachable or refusing, a full disk): the
    request's change is rolled back and she is told to try again (errors.py, 503)."""


@runtime_checkable
class Storage(Protocol):
    """A flat namespace of immutable blobs, addressed by key."""

    def save(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any previous blob atomically."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a key that does not exist is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        ...

    def url(self, key: str) -> str:
        """The public URL of ``key`` (whether or not it exists)."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe, flat file name; raise ``ValueError`` otherwise.

    Keys come from our own pipeline, but a key that reaches the file system or a
    bucket unchecked is a path traversal waiting for its first bug.
    """
    if not isinstance(key, str) or len(key) > _MAX_KEY_LENGTH or _KEY_RE.fullmatch(key) is None:
        raise ValueError(f"invalid media key: {key!r}")
    return key


class LocalStorage:
    """Files in one directory on the local disk.

    Writes go to a temporary file in the same directory and are moved into place with
    ``os.replace``, so a reader (or a crash) never sees half a file. The content type
    is not stored: the web server derives it from the extension of the key.
    """

    def __init__(self, root: str | os.PathLike[str], url_prefix: str = "/media/") -> None:
        self.root = pathlib.Path(root)
        self.url_prefix = url_prefix if url_prefix.endswith("/") else url_prefix + "/"

    def path(self, key: str) -> pathlib.Path:
        """The file that holds ``key`` (``ValueError`` for an unsafe key)."""
        return self.root / validate_key(key)

    def save(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path(key)
        # The temporary name starts with a dot, which no valid key does: a leftover
        # from a crash can never be mistaken for, or served as, a real blob.
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=self.root)
        except OSError as error:
            raise StorageUnavailable(f"{self.root}: {error}") from error
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            # mkstemp creates 0600; media are public files, readable by the web server.
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, target)
        except BaseException as error:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            if isinstance(error, OSError):  # a full disk, a folder it may not write to
                raise StorageUnavailable(f"{target}: {error}") from error
            raise

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def url(self, key: str) -> str:
        return self.url_prefix + validate_key(key)

    def __repr__(self) -> str:
        return f"LocalStorage(root={str(self.root)!r}, url_prefix={self.url_prefix!r})"
