"""Local storage of photo derivatives: keys, atomic writes, URLs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from artisan_market.media.storage import LocalStorage, Storage, StorageUnavailable, validate_key

KEY = "3f2a9c0d1e2b3a4c5d6e-640.webp"


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


def test_is_a_storage() -> None:
    assert isinstance(LocalStorage("/nonexistent"), Storage)


def test_save_exists_path_url_delete(storage: LocalStorage) -> None:
    assert not storage.exists(KEY)
    storage.save(KEY, b"RIFF....WEBP", "image/webp")
    assert storage.exists(KEY)
    assert storage.path(KEY) == storage.root / KEY
    assert storage.path(KEY).read_bytes() == b"RIFF....WEBP"
    assert storage.url(KEY) == f"/media/{KEY}"
    storage.delete(KEY)
    assert not storage.exists(KEY)
    assert not storage.path(KEY).exists()


def test_root_is_created_on_first_save(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "deep" / "er" / "media")
    storage.save(KEY, b"x", "image/webp")
    assert (tmp_path / "deep" / "er" / "media" / KEY).read_bytes() == b"x"


def test_files_are_readable_by_the_web_server(storage: LocalStorage) -> None:
    storage.save(KEY, b"x", "image/webp")
    mode = stat.S_IMODE(storage.path(KEY).stat().st_mode)
    assert mode & 0o044 == 0o044  # group and others can read
    assert mode & 0o022 == 0  # nobody else can write


def test_save_replaces(storage: LocalStorage) -> None:
    storage.save(KEY, b"old", "image/webp")
    storage.save(KEY, b"new", "image/webp")
    assert storage.path(KEY).read_bytes() == b"new"
    assert sorted(p.name for p in storage.root.iterdir()) == [KEY]


def test_deleting_a_missing_key_is_fine(storage: LocalStorage) -> None:
    storage.delete(KEY)  # root does not even exist yet
    storage.save("other-320.webp", b"x", "image/webp")
    storage.delete(KEY)
    assert storage.exists("other-320.webp")


def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.save(KEY, b"old", "image/webp")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StorageUnavailable, match="disk full") as raised:
        storage.save(KEY, b"new" * 1000, "image/webp")
    assert isinstance(raised.value.__cause__, OSError)  # told as a storage outage (a 503)
    assert storage.path(KEY).read_bytes() == b"old"
    assert sorted(p.name for p in storage.root.iterdir()) == [KEY]  # no temp file left


def test_writes_go_through_a_temporary_file(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    moves: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src, dst):
        moves.append((os.path.basename(src), os.path.basename(dst)))
        assert Path(src).read_bytes() == b"payload"  # complete before it is moved
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    storage.save(KEY, b"payload", "image/webp")
    assert len(moves) == 1
    temp_name, final_name = moves[0]
    assert final_name == KEY
    assert temp_name.startswith(".")  # never a valid key, so never served by mistake


@pytest.mark.parametrize(
    "key",
    [
        "",
        ".",
        "..",
        ".hidden",
        ".tmp-abc.part",
        "a/b.webp",
        "../escape.webp",
        "/etc/passwd",
        "a\\b.webp",
        "C:evil.webp",
        "with space.webp",
        "tab\t.webp",
        "nul\0.webp",
        "new\nline.webp",
        "صورة.webp",
        "é.jpg",
        "x" * 201,
    ],
)
def test_unsafe_keys_are_refused_everywhere(storage: LocalStorage, key: str) -> None:
    with pytest.raises(ValueError):
        validate_key(key)
    with pytest.raises(ValueError):
        storage.save(key, b"x", "image/webp")
    with pytest.raises(ValueError):
        storage.delete(key)
    with pytest.raises(ValueError):
        storage.exists(key)
    with pytest.raises(ValueError):
        storage.url(key)
    with pytest.raises(ValueError):
        storage.path(key)
    assert not storage.root.exists() or list(storage.root.iterdir()) == []


def test_non_string_key_is_refused() -> None:
    with pytest.raises(ValueError):
        validate_key(b"abc.webp")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key", ["3f2a9c0d1e2b3a4c5d6e-1280.webp", "a", "A_b.c-d", "0", "x" * 200, "name.tar.gz"]
)
def test_safe_keys_work(storage: LocalStorage, key: str) -> None:
    assert validate_key(key) == key
    storage.save(key, b"data", "application/octet-stream")
    assert storage.exists(key)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("/media/", f"/media/{KEY}"),
        ("/media", f"/media/{KEY}"),
        ("https://cdn.example.org/p/", f"https://cdn.example.org/p/{KEY}"),
    ],
)
def test_url_prefix(tmp_path: Path, prefix: str, expected: str) -> None:
    assert LocalStorage(tmp_path, url_prefix=prefix).url(KEY) == expected


def test_exists_is_false_for_a_directory(storage: LocalStorage) -> None:
    (storage.root / KEY).mkdir(parents=True)
    assert not storage.exists(KEY)


def test_accepts_str_root(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    storage.save(KEY, b"x", "image/webp")
    assert (tmp_path / KEY).exists()
    assert "LocalStorage(" in repr(storage)
