"""Backups that restore: `flask backup [DEST]` and `flask restore SOURCE`.

A backup is one directory, ``artisan-market-<UTC time>`` (``20261204T162613Z``), holding

    manifest.json       what is inside, and how to check it (below)
    database.sqlite3    SQLite: a copy made with SQLite's online backup API
    database.pgdump     PostgreSQL: ``pg_dump --format=custom``
    media/<key>         every photo file of the storage (local MEDIA_ROOT or the S3 bucket)

The manifest gives the time of the database copy (UTC), the Alembic revision, the kind of
database, the rows of every table, the sum of the ledger's entries per account, and the
size and SHA-256 of every file. It is written into ``.artisan-market-<time>.partial``, which
is renamed only once everything is in it and on disk: a directory with the final name is a
whole backup, and a half-written one can never be mistaken for one.

Consistency. The database copy is one snapshot even while orders are placed: SQLite's
backup API copies in a single step under one read transaction (WAL lets writers go on);
pg_dump works in one repeatable-read snapshot, and the rows and ledger sums of the manifest
are counted in that very snapshot (``pg_export_snapshot`` / ``pg_dump --snapshot``), not a
moment later.

Photos and rows. A photo's files are written before the row that names them is committed
(``media.services.save_photo``), and are removed only after the change that drops them is
committed (``discard_photo``). So the media are copied *after* the database copy: every
photo the copied database names was in the storage before the copy was taken, and is copied.
A photo replaced just after the copy would be gone by then, though (its listing in the copy
still names it): so the media are also copied once *before* the database copy, and the pass
after it only fetches keys it has not seen. Keys are never reused for other bytes, so a file
copied once needs no second look. What the copied database names and the backup lacks (a
storage that had lost files already) is listed in the manifest and reported as a warning.

Restore. ``flask restore`` refuses unless the instance is empty (`database_rows`,
`media_keys`), checks every file against the manifest before touching anything, writes the
photos, then the database in one transaction (SQLite's backup API into the target;
``pg_restore --single-transaction``), and compares the restored rows and ledger sums with the
manifest. If a step fails, what was written is removed again, so the instance is left empty,
as it was; the message says so, or says what to remove by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from artisan_market.database import read_only
from artisan_market.extensions import db
from artisan_market.media import get_storage
from artisan_market.media.storage import LocalStorage, Storage, validate_key

__all__ = ["BackupError", "Census", "make_backup", "restore"]

FORMAT: Final = 1
PREFIX: Final = "artisan-market-"
NAME_RE: Final = re.compile(r"artisan-market-\d{8}T\d{6}Z")
MANIFEST: Final = "manifest.json"
MEDIA: Final = "media"
DATABASE_FILES: Final = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# Tables whose rows `flask db upgrade` writes itself (a revision that seeds a table adds it
# here; tests/test_backup.py checks a new database counts as empty): rows only there, empty.
SEEDED_TABLES: Final = frozenset({"alembic_version", "categories", "cache_versions"})
# The public schema is there in every new PostgreSQL database: its entries (in the dump
# when the schema was ever dropped and made again) would stop a restore.
_PUBLIC_SCHEMA: Final = re.compile(
    r"^\d+; \d+ \d+ (SCHEMA - public|(COMMENT|ACL) - SCHEMA public) "
)
_CHUNK: Final = 1 << 20


class BackupError(Exception):
    """A backup or a restore could not be made; the message says why and what to do."""


# What can go wrong besides our own checks (a full disk, a database that does not answer):
# the commands report it as a message, not a traceback.
_FAILURES: Final = (BackupError, OSError, sqlite3.Error, sa.exc.SQLAlchemyError)


@dataclass
class Census:
    """What a database holds, as the manifest records it and a restore checks it."""

    revision: str | None
    tables: dict[str, int]
    ledger: dict[str, int]
    photo_keys: set[str] = field(default_factory=set)


@dataclass
class Backup:
    path: Path
    manifest: dict[str, Any]
    warnings: list[str]


# --- backup ----------------------------------------------------------------------------------


def make_backup(dest: Path, *, keep: int | None = None) -> Backup:
    """Write a whole backup of this instance into a new directory in ``dest``; with ``keep``,
    then delete all but the ``keep`` newest whole backups there."""
    storage = get_storage()
    backend = _backend(storage)
    if isinstance(storage, LocalStorage) and _inside(dest, storage.root):
        raise BackupError(f"{dest} is inside MEDIA_ROOT ({storage.root}): choose another place")
    started = _now()
    name = f"{PREFIX}{started:%Y%m%dT%H%M%SZ}"
    final, partial = dest / name, dest / f".{name}.partial"
    if final.exists():
        raise BackupError(f"{final} exists already (one backup a second at most)")
    dest.mkdir(parents=True, exist_ok=True)
    warnings = [
        f"{other} is an unfinished backup (interrupted): delete it"
        for other in sorted(dest.glob(f".{PREFIX}*.partial"))
        if other != partial
    ]
    try:
        # Personal data (names, phones, addresses): readable by this user only.
        partial.mkdir(mode=0o700)
    except FileExistsError:
        raise BackupError(f"{partial} exists: another backup is being written") from None
    try:
        media_dir = partial / MEDIA
        media_dir.mkdir()
        files: dict[str, dict[str, Any]] = {}
        _copy_media(storage, media_dir, files)  # before: photos removed meanwhile are kept
        kind, census = _copy_database(partial)
        taken = _now()
        _copy_media(storage, media_dir, files)  # after: every photo the copy names
        copied = {path.removeprefix(f"{MEDIA}/") for path in files}
        missing = sorted(census.photo_keys - copied)
        if missing:
            warnings.append(
                f"{len(missing)} photo file(s) named in the database are not in the storage "
                f"(listed in the manifest), e.g. {missing[0]}"
            )
        database_file = DATABASE_FILES[kind]
        files[database_file] = _file_entry(partial / database_file)
        manifest = {
            "format": FORMAT,
            "app": "artisan-market",
            "created_at": _iso(taken),
            "started_at": _iso(started),
            "finished_at": _iso(_now()),
            "alembic_revision": census.revision,
            "database": {"kind": kind, "file": database_file},
            "media": {
                "backend": backend,
                "files": len(copied),
                "bytes": sum(files[f"{MEDIA}/{key}"]["bytes"] for key in copied),
                "missing": missing,
            },
            "tables": census.tables,
            "ledger": census.ledger,
            "files": dict(sorted(files.items())),
        }
        _write_synced(partial / MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")
        _fsync_dir(media_dir)
        _fsync_dir(partial)
        partial.rename(final)
        _fsync_dir(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if keep:
        prune(dest, keep, spare=final)
    return Backup(final, manifest, warnings)


def prune(dest: Path, keep: int, *, spare: Path | None = None) -> list[Path]:
    """Delete all but the ``keep`` newest whole backups in ``dest`` (names made by
    `make_backup`, with a manifest; anything else there is left alone)."""
    whole = sorted(
        path
        for path in dest.iterdir()
        if NAME_RE.fullmatch(path.name) and (path / MANIFEST).is_file()
    )
    removed = [path for path in whole[:-keep] if path != spare]
    for path in removed:
        shutil.rmtree(path)
    return removed


def _copy_database(directory: Path) -> tuple[str, Census]:
    """Copy the database into ``directory`` (its file named by DATABASE_FILES); what it
    holds, counted in the same snapshot."""
    engine = db.engine
    kind = engine.dialect.name
    if kind == "sqlite":
        return kind, _copy_sqlite(engine.url, directory / DATABASE_FILES[kind])
    if kind == "postgresql":
        return kind, _dump_postgresql(engine, directory / DATABASE_FILES[kind])
    raise BackupError(f"cannot back up a {kind} database")


def _copy_sqlite(url: sa.URL, target: Path) -> Census:
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"no SQLite database at {source_path}")
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # pages=-1: the whole database in one step, under one read transaction: a snapshot,
        # while writers carry on (WAL). A copy made in several steps would start over
        # whenever another connection wrote.
        source.backup(copy, pages=-1)
        # One self-contained file, no -wal beside it (the app turns WAL on when it connects).
        copy.execute("PRAGMA journal_mode=DELETE")
        problems = [row[0] for row in copy.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise BackupError(f"the database fails SQLite's quick_check: {problems[:5]}")
    finally:
        copy.close()
        source.close()
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(target)), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return census(conn)
    finally:
        engine.dispose()


def _dump_postgresql(engine: sa.Engine, target: Path) -> Census:
    pg_dump = _tool("pg_dump")
    uri, env = _libpq(engine.url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        # The transaction's snapshot is taken by its first statement and exported; pg_dump
        # imports it, so the counts below and the dump see exactly the same rows.
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        counted = census(conn)
        _run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", uri],
            env=env,
            what="pg_dump",
        )
        conn.rollback()
    with open(target, "rb") as dump:
        os.fsync(dump.fileno())
    return counted


def census(conn: sa.Connection) -> Census:
    """Rows per table (the app's tables and alembic_version), the ledger's sum per account,
    the revision, and the photo keys the rows name."""
    inspector = sa.inspect(conn)
    existing = set(inspector.get_table_names())
    quote = conn.dialect.identifier_preparer.quote
    names = sorted(existing & (set(db.metadata.tables) | {"alembic_version"}))
    tables = {
        name: conn.exec_driver_sql(f"SELECT count(*) FROM {quote(name)}").scalar_one()  # noqa: S608 (a table name from the catalogue, quoted)
        for name in names
    }
    revision = None
    if "alembic_version" in existing:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    ledger = {}
    if "ledger_entries" in existing:
        rows = conn.exec_driver_sql(
            "SELECT account, SUM(amount) FROM ledger_entries GROUP BY account ORDER BY account"
        )
        ledger = {account: int(total) for account, total in rows}
    return Census(revision, tables, ledger, _photo_keys(conn, inspector, existing))


def _photo_keys(conn: sa.Connection, inspector, existing: set[str]) -> set[str]:
    """Keys of the photo records kept on rows: JSON lists of {"key": …, …} in any column."""
    keys: set[str] = set()
    for table in db.metadata.sorted_tables:
        if table.name not in existing:
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if not isinstance(column.type, sa.JSON) or column.name not in present:
                continue
            looks_like = sa.cast(column, sa.Text).like('%"key"%')
            for value in conn.execute(sa.select(column).where(looks_like)).scalars():
                if isinstance(value, list):
                    keys.update(
                        item["key"]
                        for item in value
                        if isinstance(item, dict) and isinstance(item.get("key"), str)
                    )
    return keys


# --- media -----------------------------------------------------------------------------------


def _backend(storage: Storage) -> str:
    if isinstance(storage, LocalStorage):
        return "local"
    if _is_s3(storage):
        return "s3"
    raise BackupError(f"cannot back up photos kept in {storage!r}")


def _is_s3(storage: Storage) -> bool:
    try:
        from artisan_market.media.s3 import S3Storage
    except ImportError:  # no boto3: the storage cannot be S3
        return False
    return isinstance(storage, S3Storage)


def media_keys(storage: Storage) -> Iterator[str]:
    """Every blob's key in the storage (files a crash left half-written are not blobs)."""
    if _backend(storage) == "local":
        root = storage.root
        if not root.is_dir():
            return
        with os.scandir(root) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and _is_key(entry.name):
                    yield entry.name
        return
    paginator = storage.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=storage.bucket):
        for item in page.get("Contents", []):
            yield item["Key"]


@contextlib.contextmanager
def _open_blob(storage: Storage, key: str) -> Iterator[BinaryIO | None]:
    """The blob's bytes as a stream; None when it was removed since it was listed."""
    if _backend(storage) == "local":
        try:
            stream = open(storage.path(key), "rb")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            yield None
            return
    else:
        from botocore.exceptions import ClientError

        try:
            answer = storage.client.get_object(Bucket=storage.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                yield None
                return
            raise
        stream = answer["Body"]
    try:
        yield stream
    finally:
        stream.close()


def _copy_media(storage: Storage, media_dir: Path, files: dict[str, dict[str, Any]]) -> None:
    """Copy every blob not copied yet (keys never change meaning: no second look needed)."""
    for key in media_keys(storage):
        name = f"{MEDIA}/{key}"
        if name in files:
            continue
        if not _is_key(key):
            raise BackupError(f"the photo storage holds {key!r}, which is not a photo key")
        with _open_blob(storage, key) as stream:
            if stream is None:
                continue  # removed since it was listed: its row is gone too
            files[name] = _copy_stream(stream, media_dir / key)


def _restore_media(source: Path, keys: list[str], storage: Storage, written: list[str]) -> None:
    for key in keys:
        data = (source / MEDIA / key).read_bytes()
        written.append(key)
        storage.save(key, data, mimetypes.guess_type(key)[0] or "application/octet-stream")


# --- restore ---------------------------------------------------------------------------------


@dataclass
class Restored:
    manifest: dict[str, Any]
    census: Census
    warnings: list[str]


def restore(source: Path) -> Restored:
    """Put the backup in ``source`` into this instance, which must be empty."""
    manifest = read_manifest(source)
    kind = manifest["database"]["kind"]
    engine = db.engine
    target_kind = engine.dialect.name
    if kind != target_kind:
        raise BackupError(
            f"this is a backup of a {kind} database; this instance's is {target_kind}: "
            f"restore it into a {kind} instance (moving between kinds is not supported)"
        )
    warnings = _check_revision(manifest)
    if kind == "postgresql":
        _tool("pg_restore")
    storage = get_storage()
    rows = database_rows(engine, manifest)
    if rows:
        listed = ", ".join(f"{name}: {count}" for name, count in sorted(rows.items()))
        raise BackupError(
            f"this instance's database is not empty (rows in {listed}): restore only into a new "
            "instance (a SQLite file that does not exist yet, or an empty PostgreSQL "
            "database: createdb)"
        )
    with contextlib.closing(media_keys(storage)) as listing:
        stored = next(listing, None)
    if stored is not None:
        raise BackupError(
            f"this instance's photo storage is not empty ({stored}…): restore only into an "
            "empty MEDIA_ROOT or an empty bucket"
        )
    verify(source, manifest)  # last of the checks: it reads every file
    engine.dispose()  # no pooled connection holds the file or the tables
    keys = [
        path.removeprefix(f"{MEDIA}/") for path in manifest["files"] if path.startswith(f"{MEDIA}/")
    ]
    sqlite_file = _sqlite_path(engine.url) if kind == "sqlite" else None
    created = sqlite_file is not None and not sqlite_file.exists()
    written: list[str] = []
    try:
        # Photos before rows, as the app writes them: a row never names a missing file.
        _restore_media(source, keys, storage, written)
        database = source / manifest["database"]["file"]
        if sqlite_file is not None:
            _restore_sqlite(database, sqlite_file)
        else:
            _restore_postgresql(database, engine)
    except BaseException as error:
        leftovers = _undo(storage, written, sqlite_file if created else None)
        if not isinstance(error, Exception):
            raise
        if leftovers:
            raise BackupError(
                f"restore failed: {error}. Cleaning up failed too ({'; '.join(leftovers)}): "
                "empty the database and the photo storage by hand before trying again"
            ) from error
        raise BackupError(
            f"restore failed: {error}. Nothing was kept: the database and the photo storage "
            "are as empty as before; fix the cause and run flask restore again"
        ) from error
    engine.dispose()
    with read_only(), engine.connect() as conn:
        restored = census(conn)
    problems = _compare(manifest, restored)
    if problems:
        raise BackupError(
            "the restored database does not match the backup's manifest ("
            + "; ".join(problems[:5])
            + "). Do not serve this instance: empty it (remove the SQLite file, or drop and "
            "create the database; empty the photo storage) and restore again, or restore an "
            "older backup"
        )
    if manifest["media"]["missing"]:
        warnings.append(
            f"{len(manifest['media']['missing'])} photo file(s) named in the database were "
            "missing from the instance when the backup was made (listed in its manifest)"
        )
    return Restored(manifest, restored, warnings)


def read_manifest(source: Path) -> dict[str, Any]:
    """The backup's manifest, refused unless it is one this version reads and lists only the
    files a backup holds (a name like ``media/../x`` never reaches the file system)."""
    path = source / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{source} is not a backup: no readable {MANIFEST} ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("app") != "artisan-market":
        raise BackupError(f"{path} is not the manifest of an Artisan Market backup")
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{source} has backup format {manifest.get('format')!r}; this version reads {FORMAT}"
        )
    absent = [
        name
        for name in ("alembic_revision", "database", "media", "tables", "ledger", "files")
        if name not in manifest
    ]
    if absent or not isinstance(manifest["database"], dict) or "missing" not in manifest["media"]:
        raise BackupError(f"{path} is incomplete (no {', '.join(absent) or 'database or media'})")
    kind, database = manifest["database"].get("kind"), manifest["database"].get("file")
    names = list(manifest["files"])
    if DATABASE_FILES.get(kind) != database or database not in names:
        raise BackupError(f"{path}: no database file, or an unknown kind of database ({kind!r})")
    for name in names:
        key = name.removeprefix(f"{MEDIA}/")
        if name != database and (key == name or not _is_key(key)):
            raise BackupError(f"{path} lists a file a backup does not hold: {name!r}")
    return manifest


def verify(source: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists is there, with its size and SHA-256."""
    problems = []
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        with open(path, "rb") as stream:
            actual = _digest(stream)
        if actual != expected:
            problems.append(f"{name} does not match its checksum")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise BackupError(
            f"{source} is damaged or was changed since it was made: "
            + "; ".join(problems[:5])
            + more
            + ". Nothing was restored"
        )


def database_rows(engine: sa.Engine, manifest: dict[str, Any] | None = None) -> dict[str, int]:
    """Rows in the app's tables besides those `flask db upgrade` writes itself: empty ({})
    for a database with no tables, or with only the schema the migrations build.

    PostgreSQL: a database that has the schema already must be at the backup's revision
    (pg_restore replaces what the backup holds; tables of another revision would stay).
    """
    if engine.dialect.name == "sqlite" and not _sqlite_path(engine.url).exists():
        return {}  # asking would create the file
    with read_only(), engine.connect() as conn:
        existing = set(sa.inspect(conn).get_table_names())
        quote = conn.dialect.identifier_preparer.quote
        rows = {}
        for name in sorted(existing & set(db.metadata.tables) - SEEDED_TABLES):
            count = conn.exec_driver_sql(f"SELECT count(*) FROM {quote(name)}").scalar_one()  # noqa: S608
            if count:
                rows[name] = count
        if rows or manifest is None or engine.dialect.name != "postgresql":
            return rows
        app_tables = existing & (set(db.metadata.tables) | {"alembic_version"})
        if app_tables:
            revision = None
            if "alembic_version" in existing:
                revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            if revision != manifest["alembic_revision"]:
                raise BackupError(
                    f"this instance's database has the tables of revision {revision}, the "
                    f"backup is at {manifest['alembic_revision']}: restore into an empty "
                    "database (dropdb, createdb) instead"
                )
    return rows


def _check_revision(manifest: dict[str, Any]) -> list[str]:
    """Refuse a backup from a newer version of the app; note an older one."""
    from alembic.script import ScriptDirectory

    revision = manifest["alembic_revision"]
    if revision is None:
        return []
    directory = current_app.extensions["migrate"].directory
    script = ScriptDirectory.from_config(
        current_app.extensions["migrate"].migrate.get_config(directory)
    )
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise BackupError(
            f"the backup is at revision {revision}, which this version of the app does not "
            "know: restore it with the version that made it (or a newer one)"
        )
    if revision not in script.get_heads():
        return ["the backup is from an older version of the app: run `flask db upgrade` now"]
    return []


def _compare(manifest: dict[str, Any], restored: Census) -> list[str]:
    problems = []
    expected = manifest["tables"]
    for name in sorted(set(expected) | set(restored.tables)):
        if expected.get(name) != restored.tables.get(name):
            problems.append(f"{name}: {restored.tables.get(name)} rows, not {expected.get(name)}")
    if restored.ledger != manifest["ledger"]:
        problems.append(f"ledger sums {restored.ledger}, not {manifest['ledger']}")
    if restored.revision != manifest["alembic_revision"]:
        problems.append(f"revision {restored.revision}, not {manifest['alembic_revision']}")
    return problems


def _restore_sqlite(database: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(target, timeout=30)
    try:
        # One write transaction into the target: whole or, on any error, nothing.
        source.backup(copy, pages=-1)
    finally:
        copy.close()
        source.close()


def _restore_postgresql(dump: Path, engine: sa.Engine) -> None:
    pg_restore = _tool("pg_restore")
    uri, env = _libpq(engine.url)
    listing = _run([pg_restore, "--list", str(dump)], env=env, what="pg_restore --list")
    with tempfile.TemporaryDirectory() as scratch:
        entries = Path(scratch) / "entries"
        entries.write_text(
            "".join(line + "\n" for line in listing.splitlines() if not _PUBLIC_SCHEMA.match(line))
        )
        _run(
            [
                pg_restore,
                "--no-owner",  # objects belong to the role restoring them
                "--no-privileges",  # grants name roles the new server may not have
                "--clean",  # an empty schema made by `flask db upgrade` is replaced
                "--if-exists",
                "--single-transaction",  # all or nothing
                "--exit-on-error",
                f"--use-list={entries}",
                f"--dbname={uri}",
                str(dump),
            ],
            env=env,
            what="pg_restore",
        )
    # pg_restore leaves the planner with no statistics.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


def _undo(storage: Storage, written: list[str], created: Path | None) -> list[str]:
    """Remove what a failed restore wrote; what could not be removed."""
    leftovers = []
    for key in written:
        try:
            storage.delete(key)
        except Exception as error:
            leftovers.append(f"photo {key}: {error}")
    if created is not None:
        for path in (created, *(Path(f"{created}{end}") for end in ("-wal", "-shm", "-journal"))):
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                leftovers.append(f"{path}: {error}")
    return leftovers


# --- helpers ---------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_key(name: str) -> bool:
    try:
        validate_key(name)
    except ValueError:
        return False
    return True


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"cannot back up or restore the SQLite database {url.database!r}")
    return Path(url.database)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH: install PostgreSQL's client programs (Debian: apt-get "
            "install postgresql-client), of the server's major version or newer"
        )
    return path


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL (postgresql+psycopg://…) as libpq takes it: a postgresql:// URI
    without the password, which goes in the environment (not on a command line `ps` shows)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    libpq = sa.URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return libpq.render_as_string(hide_password=False), env


def _run(command: list[str], *, env: dict[str, str], what: str) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (our own arguments, no shell)
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _digest(stream: BinaryIO) -> dict[str, Any]:
    hasher, size = hashlib.sha256(), 0
    while chunk := stream.read(_CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    return {"sha256": hasher.hexdigest(), "bytes": size}


def _file_entry(path: Path) -> dict[str, Any]:
    with open(path, "rb") as stream:
        return _digest(stream)


def _copy_stream(stream: BinaryIO, target: Path) -> dict[str, Any]:
    hasher, size = hashlib.sha256(), 0
    with open(target, "xb") as out:
        while chunk := stream.read(_CHUNK):
            hasher.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return {"sha256": hasher.hexdigest(), "bytes": size}


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "xb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- commands --------------------------------------------------------------------------------


@click.command("backup")
@click.argument(
    "dest", required=False, type=click.Path(file_okay=False, writable=True, path_type=Path)
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=None,
    help="Then delete all but the newest N backups in DEST (whole ones this command made).",
)
@with_appcontext
def backup_command(dest: Path | None, keep: int | None) -> None:
    """Write a consistent copy of the database and the photos into a new directory in DEST
    (default: instance/backups), named with the UTC time; prints its path."""
    dest = dest or Path(current_app.instance_path) / "backups"
    try:
        made = make_backup(dest, keep=keep)
    except _FAILURES as error:
        raise click.ClickException(f"no backup was made: {error}") from error
    for warning in made.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(str(made.path))


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(source: Path) -> None:
    """Put a backup (a directory `flask backup` made) into this instance, whose database and
    photo storage must be empty. Every file is checked against the manifest first."""
    try:
        done = restore(source)
    except _FAILURES as error:
        raise click.ClickException(str(error)) from error
    for warning in done.warnings:
        click.echo(f"Warning: {warning}", err=True)
    rows = sum(done.census.tables.values())
    click.echo(
        f"restored {source.name}: {rows} rows in {len(done.census.tables)} tables, "
        f"{done.manifest['media']['files']} photo files"
    )
