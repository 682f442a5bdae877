"""Requests per second of the shop window through a real server, as an outside user meets it.

    make bench                          (the last part; or: .venv/bin/python -m bench.load)
    LOAD_SECONDS=30 .venv/bin/python -m bench.load
    LOAD_WORKERS=4 LOAD_CONNECTIONS=32 .venv/bin/python -m bench.load

Serves the 100,000-product catalogue that `bench.catalog` builds (instance/bench/, SQLite;
built here on the first run) with gunicorn, 2 sync workers on a free port of 127.0.0.1, the
way issue 11 measured it, and loads each page with Debian's `wrk` (apt-get install wrk) from
the same machine: `wrk -t2 -c16 -d10s --latency`. Each page is loaded twice, in two rounds
(every page, then every page again), and the better round is shown: a page's figure is
what the server can do, not what a neighbour on the machine took from it at that moment.

Each page is loaded twice per round: from the site as it runs, and from a second server whose
pages are rendered for every request (`PAGE_CACHE_SECONDS=0`, as before issue 11), one right
after the other, so the ratio between them is measured on the same machine at the same time.

`/healthz` (a page that touches nothing) is this machine's ceiling for the app's stack; its
ratio is the figure to compare between machines: a page at 0.30 of /healthz here will be at
about 0.30 on a faster machine too.

Visitors are anonymous and send no cookie, as wrk does. Nothing leaves 127.0.0.1. It
measures; it is not a test: a page under its goal still exits 0; an error (a page that is
not 200, gunicorn not starting, wrk missing) exits 1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from bench import serving
from bench.serving import BenchError, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
SECONDS = int(os.environ.get("LOAD_SECONDS", 10))
WORKERS = int(os.environ.get("LOAD_WORKERS", 2))
CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", 16))
ROUNDS = int(os.environ.get("LOAD_ROUNDS", 2))

# (name, path, goal in requests/s from issue 11; None: no goal)
PAGES = [
    ("/healthz (ceiling)", "/healthz", None),
    ("/shop, 24 cards", "/shop", 600),
    ("/shop?page=200", "/shop?page=200", None),
    ("/shop?q=فخار (search)", "/shop?q=فخار", 400),
    ("a product page", "{product}", 1000),
    ("home", "/", 800),
]


def _serve(database: Path, instance: Path, port: int, log: Path, *, kept: bool) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        INSTANCE_PATH=str(instance),
        DATABASE_URL=f"sqlite:///{database}",
        FLASK_APP="wsgi.py",
        APP_ENV="development",
        PAGE_CACHE_SECONDS="600" if kept else "0",
    )
    for name in ("MEDIA_ROOT", "MEDIA_BACKEND", "REDIS_URL", "FLASK_DEBUG", "METRICS_TOKEN"):
        env.pop(name, None)
    options = ["--workers", str(WORKERS), "--worker-class", "sync", "--access-logfile", "/dev/null"]
    return serving.gunicorn(options, env, port, log)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        if response.status != 200 or response.url != url:  # a redirect would be measured
            raise BenchError(f"{url}: {response.status} at {response.url}")
        return response.read().decode()


def _product_path(base: str) -> str:
    """The first product linked from /shop."""
    found = re.search(r'href="(/products/\d+/[^"]*)"', _get(f"{base}/shop"))
    if not found:
        raise BenchError("no product linked from /shop")
    return found.group(1)


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * _UNIT[unit]


def _wrk(url: str) -> dict[str, float]:
    """wrk's requests/s, latency p50/p99 (ms) and count of non-2xx answers for `url`."""
    out = subprocess.run(  # noqa: S603
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "bad": int(bad.group(1)) if bad else 0,
        "errors": errors.group(1) if errors else "",
    }


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 1
    from bench import catalog

    sqlite = [url for name, url in catalog._database_urls() if name == "SQLite"]
    if not sqlite:
        print("bench.load serves the SQLite catalogue; BENCH_DATABASES leaves it out")
        return 0
    catalog._prepare(catalog._app(sqlite[0]))
    database = Path(sqlite[0].removeprefix("sqlite:///"))
    instance = ROOT / "instance" / "bench"
    print(
        f"\nLoad: gunicorn {WORKERS} sync workers, wrk -t2 -c{CONNECTIONS} -d{SECONDS}s, "
        f"{catalog.SCALE:,} products (SQLite), {os.cpu_count()} CPUs, best of {ROUNDS} rounds;\n"
        "each page with pages kept (the site as it runs) and rendered for every request "
        "(PAGE_CACHE_SECONDS=0), one after the other, so both meet the same machine"
    )
    servers = {}
    try:
        for kept in (True, False):
            port = free_port()
            log = instance / f"gunicorn-{'kept' if kept else 'rendered'}.log"
            servers[kept] = (
                f"http://127.0.0.1:{port}",
                _serve(database, instance, port, log, kept=kept),
            )
        product = _product_path(servers[True][0])
        paths = [(name, path.format(product=product), goal) for name, path, goal in PAGES]
        best: dict[tuple[str, bool], dict[str, float]] = {}
        for _ in range(ROUNDS):
            for name, path, _ in paths:
                for kept, (base, _server) in servers.items():
                    url = base + urllib.request.quote(path, safe="/?=&%")
                    _get(url)  # 200 before it is loaded (and kept, where pages are)
                    figures = _wrk(url)
                    if figures["bad"] or figures["errors"]:
                        raise BenchError(
                            f"{path}: {figures['bad']} answers not 2xx, errors: {figures['errors']}"
                        )
                    if (name, kept) not in best or figures["rps"] > best[name, kept]["rps"]:
                        best[name, kept] = figures
    finally:
        for _base, server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    ceiling = best[PAGES[0][0], True]["rps"]
    print(
        f"{'page':<26}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'/healthz':>10}"
        f"{'rendered':>10}{'p99 ms':>9}{'kept/rendered':>15}  goal"
    )
    for name, _, goal in PAGES:
        f, r = best[name, True], best[name, False]
        verdict = "" if goal is None else f"{goal:>5}  {'ok' if f['rps'] >= goal else 'MISS'}"
        print(
            f"{name:<26}{f['rps']:>8.0f}{f['p50']:>9.1f}{f['p99']:>9.1f}"
            f"{f['rps'] / ceiling:>10.2f}{r['rps']:>10.0f}{r['p99']:>9.1f}"
            f"{f['rps'] / r['rps']:>14.1f}×  {verdict}"
        )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench.load: {error}", file=sys.stderr)
        sys.exit(1)
