"""Time the shop window on a catalogue of 100,000 products, against the budgets in docs/design.md.

    make bench                         (or: .venv/bin/python -m bench.catalog)
    BENCH_SCALE=20000 BENCH_REPEAT=30 .venv/bin/python -m bench.catalog
    BENCH_DATABASES=postgresql make bench      (only one of sqlite, postgresql)

The catalogue is `flask demo --scale` (5,000 verified artisans, 100,000 listings), built once
into instance/bench/ (SQLite) and kept for the next run (delete instance/bench/ after a change
to the demo data); with TEST_DATABASE_URL set, also into
a database of its own next to that one (`<name>_bench`) on PostgreSQL.

For each page, in one process through the app's WSGI interface (no network), after a warm-up:
server time p50 and p95 over BENCH_REPEAT requests (wall clock around the request), the
number of SQL statements, and the gzip size of the HTML. It measures; it is not a test: a
MISS still exits 0, an error (a page that is not 200) exits 1.
"""

from __future__ import annotations

import gzip
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SCALE = int(os.environ.get("BENCH_SCALE", 100_000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 40))

PAGES = [
    # (name, path, p50 budget in ms on SQLite, budget kind)
    ("catalogue, 24 cards", "/shop", 20, "catalogue"),
    ("catalogue, page 200", "/shop?page=200", 20, "catalogue"),
    ("filtered catalogue", "/shop?category=pottery&governorate=ASN&sort=price_up", 20, "catalogue"),
    ("  the same, none match", "/shop?category=basketry&governorate=SIN&min=2990", 20, "catalogue"),
    ("  a governorate, newest", "/shop?governorate=SIN&availability=order", 20, "catalogue"),
    ("price range", "/shop?min=100&max=500&availability=ready", 20, "catalogue"),
    ("  a narrow one, newest", "/shop?min=1234&max=1235", 20, "catalogue"),
    ("  in a category", "/shop?category=glass&min=1234&max=1300", 20, "catalogue"),
    ("htmx results fragment", "/shop?category=embroidery", 20, "fragment"),
    ("product page", "/products/{product}/{slug}", 20, "product"),
    ("home page", "/", 20, "home"),
]
SEARCHES = [
    "سلة",
    "سله ملونه",
    "شال مطرز",
    "الشال المطرّز",
    "فخار",
    "pottery",
    "من أسوان",
    "كليم يدوي",
    "عقد فضه",
    "handmade",
    "يدوي",  # in nearly every listing ("مصنوعة يدويًا")
    "مصنوعة يدويا",
    "فانوس زجاج",
    "kilim",  # only in the category and craft names of a ninth of the catalogue
    "شيء غير موجود",
]


def _database_urls() -> list[tuple[str, str]]:
    bench_dir = ROOT / "instance" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    urls = []
    if os.environ.get("BENCH_DATABASES", "sqlite,postgresql").find("sqlite") >= 0:
        urls.append(("SQLite", f"sqlite:///{bench_dir / f'catalog-{SCALE}.sqlite3'}"))
    test_url = os.environ.get("TEST_DATABASE_URL")
    if test_url and "postgresql" in os.environ.get("BENCH_DATABASES", "sqlite,postgresql"):
        base = sa.engine.make_url(test_url)
        name = f"{base.database}_bench"
        admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        urls.append(("PostgreSQL", base.set(database=name).render_as_string(hide_password=False)))
    return urls


def _app(url: str):
    from artisan_market import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(ROOT / "instance" / "bench"),
            "RATELIMIT_ENABLED": False,
        }
    )


def _prepare(app) -> None:
    """Migrate and load the scaled catalogue unless this database has it already."""
    from flask_migrate import upgrade

    from artisan_market import demo
    from artisan_market.catalog.models import Product
    from artisan_market.extensions import db

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        have = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
        if have < SCALE:
            started = time.perf_counter()
            print(f"  loading {SCALE} products (once; kept for the next run)…", flush=True)
            demo.load()
            demo.load_scale(SCALE, min(5000, SCALE))
            db.session.commit()
            demo.analyse()
            print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)


def _measure(client, path: str, headers=None) -> tuple[list[float], int, int, int]:
    from tests.conftest import count_queries

    for _ in range(3):  # warm-up: caches, first compile of templates and statements
        client.get(path, headers=headers)
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    with count_queries() as statements:
        body = client.get(path, headers=headers).get_data()
    return times, len(statements), len(gzip.compress(body)), len(body)


def _sweep(client) -> tuple[int, list[tuple[float, str]]]:
    """Every combination of the filters (3 categories or none, 2 governorates or none, 4
    price ranges or none, availability, 3 sorts): p50 of 3 requests each, as htmx asks."""
    options = [
        ["", "category=pottery", "category=textiles"],
        ["", "governorate=ASN", "governorate=SIN"],
        ["", "min=1234&max=1235", "min=100&max=500", "min=2500", "max=80"],
        ["", "availability=ready", "availability=order"],
        ["", "sort=price_up", "sort=price_down"],
    ]
    headers = {"HX-Request": "true", "HX-Target": "results"}
    results = []
    for parts in itertools.product(*options):
        path = "/shop?" + "&".join(p for p in parts if p)
        client.get(path, headers=headers)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        results.append((statistics.median(times), path))
    results.sort(reverse=True)
    return len(results), results


def _line(name, times, queries, gz, raw, budget, sqlite) -> str:
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 20 else max(times)
    verdict = ""
    if sqlite:
        verdict = "PASS" if p50 <= budget else "MISS"
    queries_ok = "PASS" if queries <= 6 else "MISS"
    return (
        f"  {name:<34} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  (≤ {budget} ms) {verdict:<4}"
        f"  {queries} SQL ({queries_ok})  {gz / 1024:5.1f} KB gzip ({raw / 1024:.0f} KB)"
    )


def main() -> int:
    sys.path.insert(0, str(ROOT))
    print(f"Shop window bench: {SCALE} products, {REPEAT} requests a page, one process")
    print("  budgets (docs/design.md): catalogue p50 ≤ 20 ms on SQLite, search p50 ≤ 30 ms,")
    print("  ≤ 6 SQL statements a page, first load ≤ 60 KB gzip, htmx fragment ≤ 10 KB")
    misses = 0
    for label, url in _database_urls():
        print(f"\n{label}")
        app = _app(url)
        _prepare(app)
        from artisan_market.catalog.models import Product
        from artisan_market.catalog.queries import public_products, slugify
        from artisan_market.extensions import db

        with app.app_context():
            newest = db.session.scalar(public_products().order_by(Product.id.desc()).limit(1))
            product, slug = newest.id, slugify(newest.title)
        client = app.test_client()
        sqlite = label == "SQLite"
        for name, path, budget, kind in PAGES:
            headers = {"HX-Request": "true", "HX-Target": "results"} if kind == "fragment" else None
            times, queries, gz, raw = _measure(
                client, path.format(product=product, slug=slug), headers
            )
            print(_line(name, times, queries, gz, raw, budget, sqlite))
            misses += sqlite and statistics.median(times) > budget
            if kind == "fragment" and gz > 10 * 1024:
                print("    MISS: fragment over 10 KB gzip")
        count, slowest = _sweep(client)
        over = sum(ms > 20 for ms, _path in slowest)
        print(
            f"  every filter combination ({count}): p50 of the slowest {slowest[0][0]:.1f} ms,"
            f" {over} over 20 ms" + (" PASS" if not over else " MISS") * sqlite
        )
        for ms, path in slowest[:3]:
            print(f"    {ms:6.1f} ms  {path}")
        misses += sqlite and over > 0
        print("  search (/shop?q=…, htmx fragment)")
        for query in SEARCHES:
            headers = {"HX-Request": "true", "HX-Target": "results"}
            times, queries, gz, raw = _measure(client, f"/shop?q={query}", headers)
            print(_line(f"“{query}”", times, queries, gz, raw, 30, sqlite))
            misses += sqlite and statistics.median(times) > 30
        # First load of the home page: HTML + CSS + scripts (no product photos), gzip.
        static = sum(
            len(gzip.compress((ROOT / "static" / p).read_bytes()))
            for p in ("css/app.css", "vendor/htmx.min.js", "js/site.js", "img/icons.svg")
        )
        _times, _q, home_gz, _raw = _measure(client, "/")
        total = home_gz + static
        verdict = "PASS" if total <= 60 * 1024 else "MISS"
        print(f"  first load of / without photos: {total / 1024:.1f} KB gzip (≤ 60 KB) {verdict}")
    print(f"\n{misses} timing line(s) over budget" if misses else "\nall timing lines in budget")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
