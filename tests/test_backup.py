"""Backups that restore (issue 11, part 4): `flask backup` taken while orders are being placed,
`flask restore` into an empty instance, and what a restore refuses.

Every test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (pg_dump and
pg_restore, into a database made for the test and dropped after it).
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image

from artisan_market import backup, create_app
from artisan_market.accounts.models import Role, User
from artisan_market.catalog.models import Product
from artisan_market.database import read_only
from artisan_market.extensions import db
from artisan_market.ledger import services as ledger
from artisan_market.ledger.models import Account, LedgerEntry
from artisan_market.media import get_storage
from artisan_market.orders import rules
from artisan_market.orders.models import Order, OrderItem, OrderPart, PartStatus
from tests.conftest import Client, _fresh_sqlite_copy, _migrate, _settings
from tests.media.test_s3 import REGION, aws_environment, bucket, s3, s3_endpoint  # noqa: F401
from tests.orders.conftest import add, place

# --- an empty instance to restore into -------------------------------------------------------


@contextlib.contextmanager
def _server(url: str) -> Iterator[sa.Connection]:
    """The PostgreSQL server of `url`, for CREATE and DROP DATABASE."""
    engine = sa.create_engine(
        sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


@pytest.fixture
def empty_instance(database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app on a new instance of the test's kind: its own folder (media empty) and a
    SQLite file that does not exist yet, or a PostgreSQL database made for it (no tables);
    with migrated=True, the database is built by `flask db upgrade` (the seeded rows only)."""
    apps: list[Flask] = []
    databases: list[str] = []

    def build(migrated: bool = False, **extra) -> Flask:
        instance = tmp_path / f"restored-{len(apps)}"
        instance.mkdir()
        if database_url.startswith("sqlite"):
            if migrated:
                url = _fresh_sqlite_copy(database_url, instance)
            else:
                url = f"sqlite:///{instance / 'restored.sqlite3'}"
        else:
            name = f"{sa.make_url(database_url).database}_restore_{uuid.uuid4().hex[:8]}"
            with _server(database_url) as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            databases.append(name)
            url = sa.make_url(database_url).set(database=name)
            url = url.render_as_string(hide_password=False)
            if migrated:
                _migrate(url, str(instance))
        app = create_app(_settings(url, str(instance), **extra))
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    for name in databases:
        with _server(database_url) as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _flask(app: Flask, *args: str):
    """`flask <args>` on `app`: in its own context (a command runs in the current app's
    context when there is one, and the test's `app` has one)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def _untouched(target: Flask) -> None:
    """Nothing was written: no database file (or no table), no photo."""
    with target.app_context():
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            assert not Path(url.database).exists()
        else:
            assert sa.inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    media = Path(target.config["MEDIA_ROOT"])
    assert not media.exists() or list(media.iterdir()) == []


# --- a shop open while the backup runs -------------------------------------------------------


class Shop(threading.Thread):
    """A buyer placing cash-on-delivery orders through the real pages, one after another; every
    other order is then accepted, shipped and delivered by the artisan and its cash recorded by
    an admin (the rules of orders.rules), so ledger entries land during the backup too."""

    def __init__(self, app: Flask, product_ids: list[int], admin_id: int) -> None:
        super().__init__(daemon=True)
        self.app, self.product_ids, self.admin_id = app, product_ids, admin_id
        self.done = 0  # orders placed (and, for every other one, delivered) so far
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._stopping = threading.Event()

    def run(self) -> None:
        self.app.test_client_class = Client
        client = self.app.test_client()
        try:
            while not self._stopping.is_set():
                self._one_order(client, self.done)
                with self._changed:
                    self.done += 1
                    self._changed.notify_all()
        except BaseException as error:  # read by wait_for and stop
            self.error = error
            with self._changed:
                self._changed.notify_all()

    def _one_order(self, client: Client, n: int) -> None:
        add(client, SimpleNamespace(id=self.product_ids[n % len(self.product_ids)]))
        response = place(client, name=f"مشترية {n}")
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        if n % 2:
            return
        with self.app.app_context():
            order = db.session.scalars(sa.select(Order).order_by(Order.id.desc())).first()
            part = order.parts[0]
            for move in (rules.accept, rules.ship, rules.deliver):
                move(part, by=part.artisan.user)
            rules.record_cash(part, by=db.session.get(User, self.admin_id))
            db.session.commit()

    def wait_for(self, more: int) -> int:
        """Wait until `more` further orders are done; how many are done then."""
        with self._changed:
            target = self.done + more
            self._changed.wait_for(lambda: self.done >= target or self.error, timeout=60)
            assert self.error is None, self.error
            assert self.done >= target, "the shop stopped placing orders"
            return self.done

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=60)
        assert self.error is None, self.error


def _assert_restored_whole(target: Flask, manifest: dict, stock: dict[int, int]) -> None:
    """The restored instance holds exactly what the manifest says, and it holds together."""
    with target.app_context():
        with db.engine.connect() as conn:
            restored = backup.census(conn)
        assert restored.tables == manifest["tables"]
        assert set(restored.tables) >= {"orders", "order_parts", "ledger_entries", "users"}

        # Every order has its parts and every part its pieces, and the sums add up.
        orders = db.session.scalars(sa.select(Order)).all()
        assert len(orders) == manifest["tables"]["orders"]
        for order in orders:
            assert order.parts
            for part in order.parts:
                assert part.items
                assert part.items_total == sum(item.line_total for item in part.items)
            assert order.items_total == sum(part.items_total for part in order.parts)

        # Stock left and pieces ordered make the stock there was.
        sold = dict(
            db.session.execute(
                sa.select(OrderItem.product_id, sa.func.sum(OrderItem.quantity)).group_by(
                    OrderItem.product_id
                )
            ).all()
        )
        for product in db.session.scalars(sa.select(Product)):
            assert product.stock + sold.get(product.id, 0) == stock[product.id]

        # The ledger's sum per account is the manifest's, and agrees with the parcels.
        sums = {
            account.value: total
            for account, total in db.session.execute(
                sa.select(LedgerEntry.account, sa.func.sum(LedgerEntry.amount)).group_by(
                    LedgerEntry.account
                )
            )
        }
        assert sums == manifest["ledger"]
        delivered = db.session.scalars(
            sa.select(OrderPart).where(OrderPart.status == PartStatus.DELIVERED)
        ).all()
        earned = {
            part_id: total
            for part_id, total in db.session.execute(
                sa.select(LedgerEntry.order_part_id, sa.func.sum(LedgerEntry.amount))
                .where(LedgerEntry.account == Account.EARNINGS)
                .group_by(LedgerEntry.order_part_id)
            )
        }
        assert set(earned) == {part.id for part in delivered}
        assert sums.get("cash", 0) == sum(
            earned[part.id] for part in delivered if part.cash_collected_at is not None
        )

        # Every photo the rows name is there, and opens.
        assert restored.photo_keys
        media = Path(target.config["MEDIA_ROOT"])
        for key in restored.photo_keys:
            with Image.open(media / key) as image:
                image.load()


def test_a_backup_taken_while_orders_are_placed_restores_whole(
    app, make_product, make_user, empty_instance, tmp_path, monkeypatch
):
    admin = make_user(Role.ADMIN)
    ledger.set_fee(1_000, by=admin)  # 10 %: fee entries beside the sales
    products = [make_product(status="live", stock=500, price=20_000 + 5_000 * n) for n in (0, 1)]
    stock = {product.id: product.stock for product in products}
    shop = Shop(app, list(stock), admin.id)
    db.session.commit()  # this thread holds no transaction (on SQLite, no lock) meanwhile

    # Make sure orders land inside the backup: after it started and before its database copy,
    # and after the copy (before the last media pass); on PostgreSQL also between the counts
    # of the manifest and pg_dump, which must see the same snapshot.
    copy_database, run = backup._copy_database, backup._run

    def copy_while_orders_land(directory):
        shop.wait_for(2)
        copied = copy_database(directory)
        shop.wait_for(2)
        return copied

    def run_after_an_order(command, *, env, what):
        if what == "pg_dump":
            shop.wait_for(1)
        return run(command, env=env, what=what)

    monkeypatch.setattr(backup, "_copy_database", copy_while_orders_land)
    monkeypatch.setattr(backup, "_run", run_after_an_order)
    shop.start()
    try:
        before = shop.wait_for(3)
        made = backup.make_backup(tmp_path / "backups")
        after = shop.done
    finally:
        shop.stop()

    manifest = json.loads((made.path / "manifest.json").read_text())
    assert manifest == made.manifest
    assert before + 2 <= manifest["tables"]["orders"] <= after - 1
    assert manifest["ledger"]["earnings"] > 0 and manifest["ledger"]["cash"] > 0
    assert manifest["media"]["missing"] == []
    assert made.path.name.startswith("artisan-market-") and made.warnings == []
    assert list(made.path.parent.iterdir()) == [made.path]  # no .partial left behind

    target = empty_instance()
    with target.app_context():
        restored = backup.restore(made.path)
    assert restored.warnings == []
    _assert_restored_whole(target, manifest, stock)


def test_flask_backup_and_flask_restore(app, make_product, empty_instance, tmp_path):
    """The commands, into an instance whose database `flask db upgrade` has built."""
    product = make_product(status="live", stock=4)
    result = _flask(app, "backup", str(tmp_path / "backups"))
    assert result.exit_code == 0, result.output + result.stderr
    path = Path(result.stdout.strip())
    assert path.parent == tmp_path / "backups" and (path / "manifest.json").is_file()
    manifest = json.loads((path / "manifest.json").read_text())

    target = empty_instance(migrated=True)
    with target.app_context():
        assert backup.database_rows(db.engine) == {}  # only what the migrations write
    result = _flask(target, "restore", str(path))
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.startswith(f"restored {path.name}:")
    _assert_restored_whole(target, manifest, {product.id: 4})


def test_a_new_database_counts_as_empty(app, make_user):
    """The rows `flask db upgrade` writes itself (backup.SEEDED_TABLES) do not make a database
    not empty; a revision that seeds another table must add it there."""
    assert backup.database_rows(db.engine) == {}
    make_user()
    assert backup.database_rows(db.engine) == {"users": 1}


def test_restore_refuses_an_instance_with_data(app, make_product, tmp_path):
    make_product(status="live")
    made = backup.make_backup(tmp_path / "backups")
    result = _flask(app, "restore", str(made.path))
    assert result.exit_code == 1
    assert "database is not empty" in result.stderr
    assert "products: 1" in result.stderr
    with read_only(), db.engine.connect() as conn:  # the test's session holds the write lock
        assert backup.census(conn).tables == made.manifest["tables"]


def test_restore_refuses_an_instance_with_photos(app, make_product, empty_instance, tmp_path):
    make_product(status="live")
    made = backup.make_backup(tmp_path / "backups")
    target = empty_instance()
    media = Path(target.config["MEDIA_ROOT"])
    media.mkdir()
    (media / "0123456789abcdef0123-320.webp").write_bytes(b"someone's photo")
    result = _flask(target, "restore", str(made.path))
    assert result.exit_code == 1
    assert "photo storage is not empty" in result.stderr
    assert [path.name for path in media.iterdir()] == ["0123456789abcdef0123-320.webp"]


@pytest.mark.parametrize("damaged", ["database", "photo"])
def test_restore_refuses_a_changed_backup_and_touches_nothing(
    app, make_product, empty_instance, tmp_path, damaged
):
    make_product(status="live")
    made = backup.make_backup(tmp_path / "backups")
    files = made.manifest["files"]
    name = made.manifest["database"]["file"] if damaged == "database" else sorted(files)[-1]
    path = made.path / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit: same size, another checksum
    path.write_bytes(data)

    target = empty_instance()
    result = _flask(target, "restore", str(made.path))
    assert result.exit_code == 1
    assert f"{name} does not match its checksum" in result.stderr
    assert "Nothing was restored" in result.stderr
    _untouched(target)


def test_restore_refuses_another_kind_of_database(app, make_product, empty_instance, tmp_path):
    make_product(status="live")
    made = backup.make_backup(tmp_path / "backups")
    manifest = made.manifest
    kind = manifest["database"]["kind"]
    other = "postgresql" if kind == "sqlite" else "sqlite"
    files = manifest["files"]
    files[backup.DATABASE_FILES[other]] = files.pop(backup.DATABASE_FILES[kind])
    manifest["database"] = {"kind": other, "file": backup.DATABASE_FILES[other]}
    (made.path / "manifest.json").write_text(json.dumps(manifest))

    target = empty_instance()
    result = _flask(target, "restore", str(made.path))
    assert result.exit_code == 1
    assert f"a backup of a {other} database; this instance's is {kind}" in result.stderr
    _untouched(target)


def test_a_restore_that_fails_leaves_the_instance_empty(
    app, make_product, empty_instance, tmp_path, monkeypatch
):
    """The photos are written first; when the database then fails, they are taken away."""
    make_product(status="live")
    made = backup.make_backup(tmp_path / "backups")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(backup, "_restore_sqlite", fail)
    monkeypatch.setattr(backup, "_restore_postgresql", fail)
    target = empty_instance()
    result = _flask(target, "restore", str(made.path))
    assert result.exit_code == 1
    assert "restore failed: disk full. Nothing was kept" in result.stderr
    _untouched(target)


def test_photos_added_or_removed_around_the_database_copy_are_in_the_backup(
    app, make_product, tmp_path, monkeypatch
):
    """While the backup runs, a listing is added just before the database copy (after the
    first media pass), and another's photo replaced just after it: the copied database names
    the new files and the old ones, which are gone from the storage by the last media pass."""
    replaced = make_product(status="live")
    old_keys = [derivative["key"] for derivative in replaced.photos[0].derivatives]
    added: list[str] = []
    copy_database = backup._copy_database

    def copy_between_changes(directory):
        product = make_product(status="live")
        added.extend(derivative["key"] for derivative in product.photos[0].derivatives)
        copied = copy_database(directory)
        for key in old_keys:
            get_storage().delete(key)
        return copied

    monkeypatch.setattr(backup, "_copy_database", copy_between_changes)
    made = backup.make_backup(tmp_path / "backups")
    assert made.manifest["media"]["missing"] == []
    assert {f"media/{key}" for key in old_keys + added} <= set(made.manifest["files"])


def test_a_photo_missing_from_the_storage_is_reported(app, make_product, tmp_path):
    product = make_product(status="live")
    lost = product.photos[0].derivatives[0]["key"]
    get_storage().delete(lost)
    made = backup.make_backup(tmp_path / "backups")
    assert made.manifest["media"]["missing"] == [lost]
    assert "1 photo file(s) named in the database are not in the storage" in made.warnings[0]


def test_keep_deletes_only_older_whole_backups(app, tmp_path):
    dest = tmp_path / "backups"
    for name in ("artisan-market-20250101T000000Z", "artisan-market-20250102T000000Z"):
        (dest / name).mkdir(parents=True)
        (dest / name / "manifest.json").write_text("{}")
    (dest / "artisan-market-20240101T000000Z").mkdir()  # no manifest: not one of ours
    (dest / ".artisan-market-20250103T000000Z.partial").mkdir()  # an interrupted one
    (dest / "notes").mkdir()

    result = _flask(app, "backup", str(dest), "--keep", "2")
    assert result.exit_code == 0, result.output + result.stderr
    made = Path(result.stdout.strip())
    assert sorted(path.name for path in dest.iterdir()) == sorted(
        [
            ".artisan-market-20250103T000000Z.partial",
            "artisan-market-20240101T000000Z",
            "artisan-market-20250102T000000Z",
            made.name,
            "notes",
        ]
    )
    assert "unfinished backup" in result.stderr


def test_backup_refuses_a_place_inside_the_media(app, tmp_path):
    media = Path(app.config["MEDIA_ROOT"])
    result = _flask(app, "backup", str(media / "backups"))
    assert result.exit_code == 1
    assert "inside MEDIA_ROOT" in result.stderr
    assert not (media / "backups").exists()


def test_without_pg_dump_the_message_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(backup.BackupError, match="pg_dump is not on PATH: install PostgreSQL"):
        backup._tool("pg_dump")


def test_the_libpq_uri_has_no_password():
    url = sa.make_url("postgresql+psycopg://am:s3cr%40t@db.internal:5433/market?sslmode=require")
    uri, env = backup._libpq(url)
    assert uri == "postgresql://am@db.internal:5433/market?sslmode=require"
    assert env["PGPASSWORD"] == "s3cr@t"


def test_photos_in_s3_are_backed_up_and_restored(
    app, make_app, make_product, empty_instance, tmp_path, request
):
    """MEDIA_BACKEND=s3: every object of the bucket into the backup, and into the new
    instance's (empty) bucket, with its content type (moto's S3, tests/media/test_s3.py)."""
    objects_client, source_bucket, endpoint = map(
        request.getfixturevalue, ("s3", "bucket", "s3_endpoint")
    )
    source = make_app(
        MEDIA_BACKEND="s3", MEDIA_S3_BUCKET=source_bucket, MEDIA_S3_ENDPOINT_URL=endpoint
    )
    with source.app_context():
        product = make_product(status="live", stock=2)
        product_id = product.id
        names = {derivative["key"] for derivative in product.photos[0].derivatives}
        made = backup.make_backup(tmp_path / "backups")
        db.session.remove()
    objects = {
        item["Key"] for item in objects_client.list_objects_v2(Bucket=source_bucket)["Contents"]
    }
    assert {f"media/{key}" for key in objects} == {
        name for name in made.manifest["files"] if name.startswith("media/")
    }
    assert made.manifest["media"]["backend"] == "s3"

    # A bucket with photos in it is not an empty instance.
    crowded = empty_instance(
        MEDIA_BACKEND="s3", MEDIA_S3_BUCKET=source_bucket, MEDIA_S3_ENDPOINT_URL=endpoint
    )
    with crowded.app_context(), pytest.raises(backup.BackupError, match="storage is not empty"):
        backup.restore(made.path)

    new_bucket = f"photos-{uuid.uuid4().hex[:12]}"
    objects_client.create_bucket(
        Bucket=new_bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    target = empty_instance(
        MEDIA_BACKEND="s3", MEDIA_S3_BUCKET=new_bucket, MEDIA_S3_ENDPOINT_URL=endpoint
    )
    with target.app_context():
        backup.restore(made.path)
        restored = db.session.get(Product, product_id).photos[0].derivatives
        assert {derivative["key"] for derivative in restored} == names
    for key in names:
        answer = objects_client.get_object(Bucket=new_bucket, Key=key)
        assert answer["ContentType"] == ("image/jpeg" if key.endswith(".jpg") else "image/webp")
        with Image.open(io.BytesIO(answer["Body"].read())) as image:
            image.load()


def test_restore_refuses_a_manifest_that_names_other_files(
    app, make_product, empty_instance, tmp_path
):
    make_product(status="live")
    made = backup.make_backup(tmp_path / "backups")
    manifest = made.manifest
    manifest["files"]["media/../../secret_key"] = {"sha256": "0" * 64, "bytes": 1}
    (made.path / "manifest.json").write_text(json.dumps(manifest))

    target = empty_instance()
    result = _flask(target, "restore", str(made.path))
    assert result.exit_code == 1
    assert "lists a file a backup does not hold: 'media/../../secret_key'" in result.stderr
    _untouched(target)
