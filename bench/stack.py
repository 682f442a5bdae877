"""Two hosts, one command: what production runs on several machines, started on this one,
then loaded with locust and checked (issue 11, part 2).

    make stack                                    load for 60 s with 20 users (the default)
    make stack STACK="load --seconds 30 --users 10"
    make stack STACK=up                           start everything and wait for Ctrl-C
    .venv/bin/python -m bench.stack load --smoke  CI's one-minute variant (tests/test_stack.py)

Started, each on a free port of 127.0.0.1, each a process group of its own, stopped in the
reverse order on exit, Ctrl-C or SIGTERM (and sent SIGTERM by the kernel should this script
die: PR_SET_PDEATHSIG), with its log in the scratch directory (`instance/stack/` unless
--directory):

- PostgreSQL: the machine's server (STACK_DATABASE_URL, else TEST_DATABASE_URL's server,
  else postgres@127.0.0.1:5432), a fresh database `artisan_market_stack` (dropped first);
- Redis: a private `redis-server --save ''` (log-in limits and the job queue): nothing on the
  machine's Redis is read or flushed, and it goes with the stack;
- moto's S3 server, with the photos' bucket;
- the schema (`flask db upgrade`) and the demo (`flask demo --scale 1000 --artisans 4`);
- two gunicorn instances, "two hosts": APP_ENV=production, each with its own INSTANCE_PATH,
  sharing only the services above and the SECRET_KEY (a session started on one is good on
  the other);
- two job workers (`flask jobs worker -w 2`), each with its own INSTANCE_PATH;
- Debian's nginx in front (`nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`): both
  instances in one upstream (an instance that refuses connections or times out is skipped),
  /static/ served from the repository's static/ folder, /photos/ from the bucket (what a CDN
  does in production: MEDIA_PUBLIC_URL points there).

`load` then runs locust headless (bench/locustfile.py), prints requests, req/s, p50/p95/p99
and failures per step, waits for the job queue to drain, checks the invariants against the
database and the bucket (`check_invariants`), checks that nginx skips a stopped instance,
and stops everything. It exits 1 when an invariant fails or when more requests failed than
--max-failures-percent allows (0 % with --smoke, 1 % otherwise: a run well past what the
machine can serve may see proxy time-outs), 2 when the stack would not start.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bench.serving import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
LOCUSTFILE = ROOT / "bench" / "locustfile.py"

DATABASE = "artisan_market_stack"
SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BUCKET = "artisan-market-photos"
REGION = "eu-central-1"
PRODUCTS, SCALE_ARTISANS = 1000, 4
# The demo artisans (artisan_market/demo.py) who have live listings, and the first of the
# `flask demo --scale` artisans (+20115…, SCALE_PHONE_PREFIX), whose listings are the newest.
DEMO_ARTISANS = ["01000000003", "01000000004"]
ADMIN = "admin@demo.souq"
# What the app's processes must not take from the caller's environment: each is set below or
# left to its default on purpose.
_NOT_INHERITED = (
    "DATABASE_URL",
    "TEST_DATABASE_URL",
    "REDIS_URL",
    "FLASK_DEBUG",
    "JOBS_IMMEDIATE",
    "MEDIA_ROOT",
    "METRICS_TOKEN",
    "PROMETHEUS_MULTIPROC_DIR",
    "MAIL_SERVER",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "SERVER_NAME",
)


class StackError(RuntimeError):
    """The stack could not start; the message says which part and where its log is."""


def scale_artisans(count: int = SCALE_ARTISANS) -> list[str]:
    from artisan_market.demo import SCALE_PHONE_PREFIX

    return [f"{SCALE_PHONE_PREFIX}{n:07d}" for n in range(count)]


try:  # loaded here, not in the child: bench.faults starts processes while threads run
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the stack's process dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def missing_prerequisites() -> list[str]:
    """What this machine lacks to run the stack (empty when nothing)."""
    missing = []
    if not Path(NGINX).exists():
        missing.append("nginx (apt-get install nginx)")
    if not Path(REDIS_SERVER).exists():
        missing.append("redis-server (apt-get install redis-server)")
    for tool in ("gunicorn", "flask", "moto_server", "locust"):
        if not (BIN / tool).exists():
            missing.append(f"{tool} in .venv (make setup)")
    return missing


def server_url() -> str:
    """The PostgreSQL server to make the stack's database on (its own database name is
    ignored): STACK_DATABASE_URL, else TEST_DATABASE_URL's server, else the local one."""
    return os.environ.get("STACK_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or SERVER_URL


def postgres_answers(url: str) -> str:
    """An empty string when the server at `url` takes a connection, else why not."""
    import sqlalchemy as sa

    engine = sa.create_engine(sa.engine.make_url(url).set(database="postgres"))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as error:  # any reason: the caller says PostgreSQL is not there
        return str(error).splitlines()[0]
    finally:
        engine.dispose()
    return ""


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    stop_signal: int = signal.SIGTERM


@dataclass
class Stack:
    """Everything started by `start` (or `with Stack(...)`), stopped by `stop`."""

    directory: Path
    server: str = field(default_factory=server_url)
    database: str = DATABASE
    products: int = PRODUCTS
    artisans: int = SCALE_ARTISANS
    app_workers: int = 2
    job_threads: int = 2
    echo: Callable[[str], None] = print
    processes: list[Process] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    snapshot: dict = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    # bench/faults.py: an SMTP server of its own (MAIL_SERVER; else emails go to the log),
    # and a port in front of moto that the app and nginx use instead of moto's own.
    mail_port: int | None = None
    s3_front_port: int | None = None

    def __post_init__(self) -> None:
        self.directory = Path(self.directory).resolve()

    # --- where things are --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The site, through nginx."""
        return f"http://127.0.0.1:{self.ports['nginx']}"

    @property
    def database_url(self) -> str:
        import sqlalchemy as sa

        url = sa.engine.make_url(self.server).set(database=self.database)
        return url.render_as_string(hide_password=False)

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def app_s3_endpoint(self) -> str:
        """S3 as the app and nginx reach it (through bench.faults' front when there is one)."""
        port = self.s3_front_port or self.ports["s3"]
        return f"http://127.0.0.1:{port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports['redis']}/0"

    def app_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[f'app{n}']}"

    def artisan_logins(self) -> list[str]:
        """The artisans locust logs in as, those with the newest listings first."""
        return scale_artisans(self.artisans) + DEMO_ARTISANS

    # --- starting and stopping ----------------------------------------------------------------

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Start everything; on any failure, stop what was started and raise StackError."""
        started = time.perf_counter()
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        for name in ("redis", "s3", "app1", "app2", "nginx"):
            self.ports[name] = free_port()
        try:
            self._start_redis()
            self._start_s3()
            self._create_database()
            self._migrate_and_load()
            self.snapshot = take_snapshot(self.database_url)
            (self.directory / "snapshot.json").write_text(json.dumps(self.snapshot))
            for n in (1, 2):
                self._start_app(n)
            for n in (1, 2):
                self._start_worker(n)
            self._start_nginx()
            for n in (1, 2):
                self._wait_http(f"{self.app_url(n)}/readyz", f"app{n}")
            self._wait_http(f"{self.url}/healthz", "nginx")
        except BaseException:
            self.stop()
            raise
        self.echo(f"stack up in {time.perf_counter() - started:.1f} s: {self.url}")

    def stop(self) -> None:
        """Stop every process, newest first: each group gets its signal, then SIGKILL after
        15 s. Safe to call twice."""
        while self.processes:
            process = self.processes.pop()
            _stop_group(process)

    def _env(self, instance: str, production: bool = True) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        path = self.directory / instance
        path.mkdir(exist_ok=True)
        env.update(
            FLASK_APP="wsgi.py",
            APP_ENV="production" if production else "development",
            SECRET_KEY=self.secret_key,
            INSTANCE_PATH=str(path),
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            # Plain HTTP on the loopback: a Secure cookie would never come back.
            SESSION_COOKIE_SECURE="0",
            TRUSTED_PROXIES="1",  # nginx
            PAYMENT_PROVIDERS="cod",
            MEDIA_BACKEND="s3",
            MEDIA_S3_BUCKET=BUCKET,
            MEDIA_S3_ENDPOINT_URL=self.s3_endpoint if instance == "setup" else self.app_s3_endpoint,
            MEDIA_S3_REGION=REGION,
            # What a CDN would be: nginx serves the bucket under /photos/.
            MEDIA_PUBLIC_URL=f"{self.url}/photos",
            SERVER_NAME=f"127.0.0.1:{self.ports['nginx']}",
            # Dummy credentials for moto; no profile or metadata of this machine is read.
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto's dummy, on purpose)
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=str(self.directory / "no-aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.directory / "no-aws-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            PYTHONUNBUFFERED="1",
        )
        if self.mail_port:
            env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(self.mail_port))
        return env

    # --- one process at a time (bench/faults.py) ----------------------------------------------

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> Process:
        """Send `sig` to the whole group of `name` (master and workers), wait for it to go,
        and forget it (what is left of the group is killed as `stop` does)."""
        process = self.process(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.popen.pid, sig)
        _stop_group(process, timeout=10)
        self.processes.remove(process)
        return process

    def restart(self, name: str) -> None:
        """Start `name` again, on its port: redis, app1/app2, worker1/worker2."""
        if name == "redis":
            self._start_redis()
        elif name.startswith("app"):
            self._start_app(int(name[3:]))
            self._wait_http(f"{self.app_url(int(name[3:]))}/healthz", name)
        elif name.startswith("worker"):
            self._start_worker(int(name[6:]))
        else:
            raise ValueError(f"cannot restart {name}")

    def _spawn(
        self, name: str, cmd: list[str], env: dict[str, str] | None = None, stop=signal.SIGTERM
    ) -> Process:
        log = self.directory / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(  # noqa: S603
                cmd,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a group of its own: Ctrl-C is ours to pass on
                preexec_fn=_die_with_parent,  # this process starts no threads
            )
        process = Process(name, popen, log, stop)
        self.processes.append(process)
        return process

    def _run(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        """A one-off command (migrations, demo); its output goes to its log."""
        log = self.directory / f"{name}.log"
        with log.open("ab") as out:
            status = subprocess.run(  # noqa: S603
                cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
            ).returncode
        if status:
            raise StackError(f"{' '.join(cmd)} failed ({status}):\n{_tail(log)}")

    def _wait_port(self, process: Process, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise StackError(f"{process.name} stopped:\n{_tail(process.log)}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                return
            time.sleep(0.1)
        raise StackError(f"{process.name} did not listen on {port} in {timeout:.0f} s")

    def _wait_http(self, url: str, name: str, timeout: float = 60) -> None:
        process = next((p for p in self.processes if p.name == name), None)
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if process is not None and process.popen.poll() is not None:
                raise StackError(f"{name} stopped:\n{_tail(process.log)}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:
                last = f"{error.code}: {error.read()[:300]!r}"
            except OSError as error:
                last = str(error)
            time.sleep(0.2)
        log = _tail(process.log) if process else ""
        raise StackError(f"{url} did not answer 200 in {timeout:.0f} s ({last})\n{log}")

    def _start_redis(self) -> None:
        data = self.directory / "redis"
        data.mkdir(exist_ok=True)
        port = self.ports["redis"]
        process = self._spawn(
            "redis",
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(data)],
        )  # fmt: skip
        self._wait_port(process, port)

    def _start_s3(self) -> None:
        port = self.ports["s3"]
        process = self._spawn("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)])
        self._wait_port(process, port)
        client = s3_client(self.s3_endpoint)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        # Anyone may read the photos, as in production (a bucket policy, not per-object ACLs).
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{BUCKET}/*",
                }
            ],
        }
        client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))

    def _create_database(self) -> None:
        import sqlalchemy as sa

        admin = sa.create_engine(
            sa.engine.make_url(self.server).set(database="postgres"),
            isolation_level="AUTOCOMMIT",
        )
        try:
            with admin.connect() as conn:
                name = admin.dialect.identifier_preparer.quote(self.database)
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
        except sa.exc.SQLAlchemyError as error:
            raise StackError(f"PostgreSQL at {self.server}: {error}") from error
        finally:
            admin.dispose()

    def _migrate_and_load(self) -> None:
        env = self._env("setup", production=False)  # `flask demo` refuses production
        flask = str(BIN / "flask")
        self.echo("migrating and loading the demo …")
        self._run("setup", [flask, "db", "upgrade"], env)
        self._run(
            "setup",
            [flask, "demo", "--scale", str(self.products), "--artisans", str(self.artisans)],
            env,
        )

    def _start_app(self, n: int) -> None:
        port = self.ports[f"app{n}"]
        log = self.directory / f"app{n}-access.log"
        self._spawn(
            f"app{n}",
            [
                str(BIN / "gunicorn"),
                "--bind", f"127.0.0.1:{port}",
                "--workers", str(self.app_workers),
                "--worker-class", "sync",  # nginx buffers slow clients
                "--graceful-timeout", "10",
                "--access-logfile", str(log),
                "--access-logformat",
                '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)s %({x-request-id}o)s',
                "wsgi:app",
            ],
            self._env(f"app{n}"),
        )  # fmt: skip

    def _start_worker(self, n: int) -> None:
        # SIGINT: the running tasks finish (SIGTERM would abandon them).
        self._spawn(
            f"worker{n}",
            [str(BIN / "flask"), "jobs", "worker", "-w", str(self.job_threads)],
            self._env(f"worker{n}"),
            stop=signal.SIGINT,
        )

    def _start_nginx(self) -> None:
        prefix = self.directory / "nginx"
        prefix.mkdir()
        (prefix / "nginx.conf").write_text(
            nginx_config(
                prefix,
                port=self.ports["nginx"],
                apps=[self.ports["app1"], self.ports["app2"]],
                s3_port=self.s3_front_port or self.ports["s3"],
            )
        )
        conf = str(prefix / "nginx.conf")
        check = subprocess.run(  # noqa: S603
            [NGINX, "-t", "-q", "-p", str(prefix), "-c", conf],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode:
            raise StackError(f"nginx refuses its configuration:\n{check.stderr}")
        process = self._spawn(
            "nginx",
            [NGINX, "-p", str(prefix), "-c", conf, "-g", "daemon off;"],
            stop=signal.SIGQUIT,
        )
        self._wait_port(process, self.ports["nginx"])

    def describe(self) -> str:
        d = self.directory
        lines = [
            f"site (nginx)   {self.url}   static/ from {ROOT / 'static'}, /photos/ from the bucket",
            f"app1, app2     {self.app_url(1)}  {self.app_url(2)}   gunicorn, "
            f"{self.app_workers} sync workers each, APP_ENV=production",
            f"workers        2 x `flask jobs worker -w {self.job_threads}`",
            f"PostgreSQL     {_without_password(self.database_url)}",
            f"Redis          {self.redis_url} (private redis-server)",
            f"S3 (moto)      {self.s3_endpoint}/{BUCKET}",
            f"logs           {d}/*.log, {d}/nginx/*.log",
            f"logins         password {_demo_password()}: admin {ADMIN}, artisans "
            + ", ".join(self.artisan_logins()),
        ]
        return "\n".join(lines)


def _demo_password() -> str:
    from artisan_market.demo import PASSWORD

    return PASSWORD


def _without_password(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _stop_group(process: Process, timeout: float = 15) -> None:
    popen = process.popen
    if popen.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, process.stop_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout)
    # Whatever is left in its group (a gunicorn or nginx worker that outlived its master).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(5)


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def s3_client(endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (moto's dummy, on purpose)
        config=Config(s3={"addressing_style": "path"}),
    )


def nginx_config(prefix: Path, *, port: int, apps: list[int], s3_port: int) -> str:
    """nginx as the load balancer: every path inside `prefix`, so it runs as a plain process."""
    # As root, the workers would be nobody, who may not enter a private scratch directory.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    upstream = "\n".join(
        # Two refused or timed-out tries in 10 s: the instance is left out for 10 s.
        f"        server 127.0.0.1:{app} max_fails=2 fail_timeout=10s;"
        for app in apps
    )
    return f"""# Generated by bench/stack.py for one run; see bench/README.md, "make stack".
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    server_tokens off;
    sendfile on;
    keepalive_timeout 65;
    client_max_body_size 26m;  # MAX_CONTENT_LENGTH (25 MiB) and the form around it
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    log_format stack '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                     '$request_time $upstream_addr $upstream_response_time $request_id';
    access_log {prefix}/access.log stack;

    # A hashed static URL (?v=…) never changes: a year; anything else: five minutes.
    map $arg_v $static_cache {{
        "" "public, max-age=300";
        default "public, max-age=31536000, immutable";
    }}

    upstream app {{
{upstream}
    }}

    server {{
        listen 127.0.0.1:{port};

        location / {{
            proxy_pass http://app;
            # A refused connection or a time-out goes to the other instance (GET and HEAD
            # only: nginx never sends a POST twice).
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Request-ID $request_id;
        }}

        location /static/ {{
            alias {ROOT / "static"}/;
            add_header Cache-Control $static_cache always;
            add_header X-Content-Type-Options nosniff always;
            # Compressed here only: pages (CSRF token beside reflected search text) never.
            gzip on;
            gzip_types text/css text/javascript application/javascript image/svg+xml;
            gzip_vary on;
        }}

        # The bucket, as a CDN in front of it would serve it (MEDIA_PUBLIC_URL).
        location /photos/ {{
            limit_except GET {{ deny all; }}
            proxy_pass http://127.0.0.1:{s3_port}/{BUCKET}/;
            proxy_set_header Host 127.0.0.1:{s3_port};
            proxy_set_header Authorization "";
            proxy_set_header Cookie "";
            proxy_hide_header Set-Cookie;
        }}
    }}
}}
"""


# --- the state before the load -----------------------------------------------------------------

_HELD = """
    SELECT i.product_id, SUM(i.quantity)
    FROM order_items i JOIN order_parts p ON p.id = i.part_id
    WHERE p.status <> 'cancelled' AND NOT i.made_to_order AND i.product_id IS NOT NULL
    GROUP BY i.product_id
"""


def _engine(database_url: str):
    import sqlalchemy as sa

    return sa.create_engine(database_url, poolclass=sa.pool.NullPool)


def take_snapshot(database_url: str) -> dict:
    """Each product's stock, whether it is made to order, and the pieces of it that orders
    hold (parts not cancelled): the baseline `check_invariants` compares with."""
    import sqlalchemy as sa

    engine = _engine(database_url)
    with engine.connect() as conn:
        held = dict(conn.execute(sa.text(_HELD)).all())
        products = {
            str(pid): [stock, bool(mto), int(held.get(pid, 0))]
            for pid, stock, mto in conn.execute(
                sa.text("SELECT id, stock, made_to_order FROM products")
            )
        }
        last_order = conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM orders")).scalar()
        last_product = conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM products")).scalar()
    engine.dispose()
    return {"products": products, "last_order": last_order, "last_product": last_product}


# --- the invariants ------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"  {'OK  ' if self.ok else 'FAIL'}  {self.name}" + (
            f": {self.detail}" if self.detail else ""
        )


def _rows(conn, sql: str, **params) -> list:
    import sqlalchemy as sa

    return list(conn.execute(sa.text(sql), params).all())


def _check(name: str, bad: list, ok_detail: str = "", show=repr) -> Check:
    if bad:
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        return Check(name, False, ", ".join(show(b) for b in bad[:5]) + more)
    return Check(name, True, ok_detail)


def check_invariants(
    database_url: str,
    snapshot: dict,
    *,
    s3_endpoint: str | None = None,
    record: Path | None = None,
) -> list[Check]:
    """Every invariant, by SQL against the stack's database (and the bucket, when
    `s3_endpoint` is given; and what the load's clients saw, when `record` is given)."""
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            checks = [
                *_stock_checks(conn, snapshot),
                *_order_checks(conn),
                *_once_checks(conn, snapshot, record),
                *_ledger_checks(conn),
            ]
    finally:
        engine.dispose()
    checks.append(_balances_check(database_url))
    if s3_endpoint:
        checks.extend(_photo_checks(database_url, s3_endpoint))
    return checks


def _stock_checks(conn, snapshot: dict) -> list[Check]:
    import sqlalchemy as sa

    negative = _rows(conn, "SELECT id, stock FROM products WHERE stock < 0")
    held = dict(conn.execute(sa.text(_HELD)).all())
    now = {
        str(pid): (stock, bool(mto))
        for pid, stock, mto in conn.execute(
            sa.text("SELECT id, stock, made_to_order FROM products")
        )
    }
    wrong, taken, sold = [], 0, 0
    for pid, (stock_before, mto_before, held_before) in snapshot["products"].items():
        stock_now, mto_now = now.get(pid, (None, mto_before))
        if stock_now is None:
            wrong.append((pid, "deleted"))
            continue
        held_now = int(held.get(int(pid), 0))
        if mto_before or mto_now:
            if stock_now != stock_before:  # a made-to-order piece's stock is never counted
                wrong.append((pid, f"made to order, stock {stock_before} -> {stock_now}"))
            continue
        taken += stock_before - stock_now
        sold += held_now - held_before
        if stock_before - stock_now != held_now - held_before:
            wrong.append(
                (pid, f"stock {stock_before} -> {stock_now}, held {held_before} -> {held_now}")
            )
    newer = _rows(
        conn,
        "SELECT p.id, COUNT(i.id) FROM products p JOIN order_items i ON i.product_id = p.id"
        " WHERE p.id > :last GROUP BY p.id",
        last=snapshot["last_product"],
    )
    return [
        _check("no product's stock below zero", negative, f"{len(now)} products"),
        _check(
            "units sold during the load = stock taken, for every product",
            wrong,
            f"{sold} units sold, {taken} taken from stock",
        ),
        _check("no order item for a listing made during the load (drafts)", newer),
    ]


def _order_checks(conn) -> list[Check]:
    no_parts = _rows(
        conn,
        "SELECT o.id FROM orders o WHERE NOT EXISTS"
        " (SELECT 1 FROM order_parts p WHERE p.order_id = o.id)",
    )
    no_items = _rows(
        conn,
        "SELECT p.id FROM order_parts p WHERE NOT EXISTS"
        " (SELECT 1 FROM order_items i WHERE i.part_id = p.id)",
    )
    part_totals = _rows(
        conn,
        "SELECT p.id, p.items_total, SUM(i.unit_price * i.quantity) FROM order_parts p"
        " JOIN order_items i ON i.part_id = p.id GROUP BY p.id, p.items_total"
        " HAVING p.items_total <> SUM(i.unit_price * i.quantity)",
    )
    order_totals = _rows(
        conn,
        "SELECT o.id, o.items_total, o.shipping_total, o.total FROM orders o"
        " JOIN order_parts p ON p.order_id = o.id"
        " GROUP BY o.id, o.items_total, o.shipping_total, o.total"
        " HAVING o.items_total <> SUM(p.items_total) OR o.shipping_total <> SUM(p.shipping_fee)"
        " OR o.total <> o.items_total + o.shipping_total",
    )
    # An order's status follows its parts': placed while any is open, completed once all
    # are over with one delivered, cancelled when all are cancelled.
    status = _rows(
        conn,
        "SELECT o.id, o.status FROM orders o JOIN order_parts p ON p.order_id = o.id"
        " GROUP BY o.id, o.status HAVING NOT ("
        " (o.status = 'placed' AND bool_or(p.status IN ('new', 'accepted', 'shipped')))"
        " OR (o.status = 'completed' AND bool_and(p.status IN ('delivered', 'cancelled'))"
        "     AND bool_or(p.status = 'delivered'))"
        " OR (o.status = 'cancelled' AND bool_and(p.status = 'cancelled'))"
        " OR (o.status = 'awaiting_payment' AND bool_and(p.status IN ('waiting', 'cancelled'))))",
    )
    payments = _rows(
        conn,
        "SELECT o.id, o.payment_method, pay.provider, pay.status, pay.amount, o.total"
        " FROM orders o LEFT JOIN payments pay ON pay.order_id = o.id WHERE pay.id IS NULL"
        " OR pay.provider <> o.payment_method"
        " OR (pay.status = 'pending' AND pay.amount <> o.total)"
        " OR (o.status = 'cancelled' AND o.payment_method = 'cod' AND pay.status <> 'failed')"
        " OR (o.status = 'placed' AND o.payment_method = 'cod' AND pay.status <> 'pending')",
    )
    cash_paid = _rows(
        conn,
        "SELECT o.id, pay.amount, SUM(p.items_total + p.shipping_fee) FROM orders o"
        " JOIN payments pay ON pay.order_id = o.id JOIN order_parts p ON p.order_id = o.id"
        " WHERE o.payment_method = 'cod' AND pay.status = 'paid' AND p.status = 'delivered'"
        " GROUP BY o.id, pay.amount HAVING pay.amount <> SUM(p.items_total + p.shipping_fee)"
        " OR bool_or(p.cash_collected_at IS NULL)",
    )
    count = _rows(conn, "SELECT COUNT(*) FROM orders")[0][0]
    return [
        _check("every order has at least one part", no_parts, f"{count} orders"),
        _check("every part has at least one item", no_items),
        _check("each part's items total = sum of its items", part_totals),
        _check(
            "each order's totals = sum of its parts (and total = items + shipping)", order_totals
        ),
        _check("each order's status follows its parts'", status),
        _check("each order has one payment, of its provider, its total while unpaid", payments),
        _check("each cash payment received = its delivered parcels, all collected", cash_paid),
    ]


def _once_checks(conn, snapshot: dict, record: Path | None) -> list[Check]:
    """One order per checkout key: every order placed during the load has exactly one key
    pointing at it and every key points at one order; the same form sent twice by the load
    led to the order its first sending made."""
    orders = _rows(
        conn,
        "SELECT o.id, COUNT(s.key) FROM orders o LEFT JOIN sent_forms s"
        " ON s.result = '/orders/' || o.token WHERE o.id > :last GROUP BY o.id"
        " HAVING COUNT(s.key) <> 1",
        last=snapshot["last_order"],
    )
    placed = _rows(
        conn, "SELECT COUNT(*) FROM orders WHERE id > :last", last=snapshot["last_order"]
    )
    dangling = _rows(
        conn,
        "SELECT s.key, s.result FROM sent_forms s WHERE s.result LIKE '/orders/%'"
        " AND NOT EXISTS (SELECT 1 FROM orders o WHERE s.result = '/orders/' || o.token)",
    )
    checks = [
        _check(
            "one checkout key per order placed, one order per key",
            orders + dangling,
            f"{placed[0][0]} orders placed during the load",
        )
    ]
    if record is not None and record.exists():
        results = dict(_rows(conn, "SELECT key, result FROM sent_forms"))
        sent = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
        wrong, again = [], 0
        for entry in sent:
            again += entry.get("again", False)
            location = entry.get("location") or ""
            if location.startswith("/orders/") and results.get(entry["key"]) != location:
                wrong.append((entry["key"][:8], location, results.get(entry["key"])))
        checks.append(
            _check(
                "each checkout sent (and sent twice) led to its key's one order",
                wrong,
                f"{len(sent)} sendings, {again} of them the same form again",
            )
        )
    return checks


def _ledger_checks(conn) -> list[Check]:
    orphans = _rows(
        conn,
        "SELECT e.id, e.source FROM ledger_entries e LEFT JOIN order_parts p"
        " ON p.id = e.order_part_id WHERE (e.order_part_id IS NOT NULL AND p.id IS NULL)"
        " OR (e.kind IN ('sale', 'fee', 'cash_collected') AND e.order_part_id IS NULL)"
        " OR (p.id IS NOT NULL AND p.artisan_id <> e.artisan_id)",
    )
    sales = _rows(
        conn,
        "SELECT p.id, p.status, p.items_total, SUM(e.amount), COUNT(e.id) FROM order_parts p"
        " LEFT JOIN ledger_entries e ON e.order_part_id = p.id AND e.kind = 'sale'"
        " GROUP BY p.id HAVING (p.status = 'delivered' AND (COUNT(e.id) <> 1"
        " OR SUM(e.amount) <> p.items_total)) OR (p.status <> 'delivered' AND COUNT(e.id) > 0)",
    )
    cash = _rows(
        conn,
        "SELECT p.id, p.cash_collected_at IS NOT NULL, COUNT(e.id) FROM order_parts p"
        " LEFT JOIN ledger_entries e ON e.order_part_id = p.id AND e.kind = 'cash_collected'"
        " GROUP BY p.id HAVING (COUNT(e.id) > 0) <> (p.cash_collected_at IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM ledger_entries s WHERE s.order_part_id = p.id"
        " AND s.kind = 'sale'))",
    )
    refunds = _rows(
        conn,
        "SELECT r.id FROM refunds r LEFT JOIN order_parts p ON p.id = r.part_id"
        " LEFT JOIN payments pay ON pay.id = r.payment_id"
        " WHERE p.id IS NULL OR pay.id IS NULL OR pay.order_id <> p.order_id",
    )
    entries = _rows(conn, "SELECT COUNT(*) FROM ledger_entries")[0][0]
    return [
        _check(
            "every ledger entry of an order belongs to a real part, of its artisan",
            orphans,
            f"{entries} entries",
        ),
        _check("one sale entry per delivered part, of its items total; none for others", sales),
        _check("cash entries exactly for the delivered parts whose cash is recorded", cash),
        _check("every refund belongs to a real part of its payment's order", refunds),
    ]


def _balances_check(database_url: str) -> Check:
    """ledger.services.balances against plain sums of each account's entries, per artisan."""
    import sqlalchemy as sa

    from artisan_market import create_app

    wrong = []
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "TESTING": True,  # no logging set-up in the caller's process
                "SECRET_KEY": secrets.token_hex(32),
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": sa.pool.NullPool},
                "REDIS_URL": "",
                "RATELIMIT_STORAGE_URI": "memory://",
                "MEDIA_BACKEND": "local",
                "JOBS_IMMEDIATE": True,
                "INSTANCE_PATH": instance,
            }
        )
        sums = _sums_and_balances(app, wrong)
    return _check(
        "each artisan's balances = the sums of her entries", wrong, f"{len(sums)} artisans"
    )


def _sums_and_balances(app, wrong: list) -> dict:
    import sqlalchemy as sa

    from artisan_market.extensions import db
    from artisan_market.ledger import services

    with app.app_context():
        sums: dict[int, dict[str, int]] = {}
        for artisan, account, amount in db.session.execute(
            sa.text(
                "SELECT artisan_id, account, SUM(amount) FROM ledger_entries"
                " GROUP BY artisan_id, account"
            )
        ):
            sums.setdefault(artisan, {})[account] = int(amount)
        for artisan, accounts in sums.items():
            b = services.balances(artisan)
            figures = (b.earned - b.paid, b.cash, b.grants)
            expected = tuple(accounts.get(a, 0) for a in ("earnings", "cash", "grants"))
            if figures != expected:
                wrong.append((artisan, figures, expected))
        db.session.remove()
        db.engine.dispose()
    return sums


def _photo_checks(database_url: str, s3_endpoint: str) -> list[Check]:
    import sqlalchemy as sa

    client = s3_client(s3_endpoint)
    stored: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        stored.update(item["Key"] for item in page.get("Contents", []))
    engine = _engine(database_url)
    with engine.connect() as conn:
        records = [
            row[0] for row in conn.execute(sa.text("SELECT derivatives FROM product_photos"))
        ]
        records += [
            row[0]
            for row in conn.execute(
                sa.text("SELECT photo FROM artisan_profiles WHERE photo IS NOT NULL")
            )
        ]
    engine.dispose()
    named = set()
    for record in records:
        derivatives = json.loads(record) if isinstance(record, str) else record
        named.update(d["key"] for d in derivatives)
    missing = sorted(named - stored)
    unnamed = sorted(stored - named)
    return [
        _check(
            "every photo's files are in the bucket",
            missing,
            f"{len(records)} photos, {len(named)} files",
        ),
        _check("every file in the bucket belongs to a photo (none left over)", unnamed),
    ]


# --- jobs and fail-over --------------------------------------------------------------------


def wait_for_jobs(stack: Stack, timeout: float = 20) -> Check:
    """The queue drains once the load stops, and nothing waits for a retry."""
    from huey.storage import RedisStorage

    storage = RedisStorage("artisan_market", url=stack.redis_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            queued, scheduled = storage.queue_size(), storage.schedule_size()
            if (queued == 0 and scheduled == 0) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        storage.conn.close()
    sent = [
        p.log.read_text(errors="replace").count("email (no SMTP configured)")
        for p in stack.processes
        if p.name.startswith("worker")
    ]
    detail = f"{sent[0] if sent else 0} + {sent[1] if len(sent) > 1 else 0} emails (worker1 + 2)"
    if stack.mail_port:
        detail = "emails sent over SMTP"
    if queued or scheduled:
        return Check("the job queue drains", False, f"{queued} queued, {scheduled} to retry")
    return Check("the job queue drains, nothing waits for a retry", True, detail)


def failover_check(stack: Stack, requests: int = 20) -> Check:
    """Stop app2: every GET through nginx is still answered (by app1)."""
    app2 = next(p for p in stack.processes if p.name == "app2")
    _stop_group(app2)
    stack.processes.remove(app2)
    answered = 0
    for _ in range(requests):
        url = f"{stack.url}/healthz"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            answered += response.status == 200
    return Check(
        "app2 stopped: nginx answers every GET from app1",
        answered == requests,
        f"{answered}/{requests} answered 200",
    )


# --- the load ------------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    method: str
    requests: int
    failures: int
    rps: float
    p50: str
    p95: str
    p99: str


def run_locust(
    stack: Stack, *, users: int, seconds: int, spawn_rate: float | None = None
) -> tuple[Path, Path, int]:
    """locust, headless, against nginx; the CSV prefix, the record of checkouts, its status."""
    popen, prefix, record = start_locust(stack, users=users, seconds=seconds, spawn_rate=spawn_rate)
    return prefix, record, popen.wait()


def start_locust(
    stack: Stack, *, users: int, seconds: int, spawn_rate: float | None = None
) -> tuple[subprocess.Popen, Path, Path]:
    """locust started in the background (bench/faults.py injects faults meanwhile): the
    process, the CSV prefix and the record of checkouts."""
    prefix = stack.directory / "locust"
    record = stack.directory / "checkouts.jsonl"
    env = dict(os.environ)
    env.update(
        STACK_ARTISANS=",".join(stack.artisan_logins()),
        STACK_ARTISAN_USERS=str(max(1, min(len(stack.artisan_logins()), users // 5))),
        STACK_ADMIN=ADMIN,
        STACK_PASSWORD=_demo_password(),
        STACK_RECORD=str(record),
        STACK_STATS=str(prefix),  # the final figures (locustfile.py writes them as it quits)
        PYTHONUNBUFFERED="1",
    )
    cmd = [
        str(BIN / "locust"),
        "-f", str(LOCUSTFILE),
        "--headless",
        "--users", str(users),
        "--spawn-rate", str(spawn_rate or max(1.0, users / 5)),
        "--run-time", f"{seconds}s",
        "--stop-timeout", "10",  # each user ends the step it is in
        "--host", stack.url,
        "--only-summary",
        "--exit-code-on-error", "0",  # failures are counted here, with the expected ones
    ]  # fmt: skip
    log = stack.directory / "locust.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(  # noqa: S603
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return popen, prefix, record


def read_stats(prefix: Path) -> list[Step]:
    steps = []
    with Path(f"{prefix}_stats.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            steps.append(
                Step(
                    name=row["Name"],
                    method=row["Type"],
                    requests=int(row["Request Count"]),
                    failures=int(row["Failure Count"]),
                    rps=float(row["Requests/s"]),
                    p50=row["50%"],
                    p95=row["95%"],
                    p99=row["99%"],
                )
            )
    return steps


def read_failures(prefix: Path) -> list[str]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [
            f"  {row['Occurrences']:>5} x {row['Method']} {row['Name']}: {row['Error'][:200]}"
            for row in csv.DictReader(f)
        ]


def format_report(steps: Iterable[Step]) -> str:
    lines = [
        f"{'step':<44}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'failures':>10}"
    ]
    for s in steps:
        name = s.name if s.name != "Aggregated" else "all steps"
        if s.name == "Aggregated":
            lines.append("-" * len(lines[0]))
        lines.append(
            f"{name[:43]:<44}{s.requests:>9}{s.rps:>8.1f}{s.p50:>8}{s.p95:>8}{s.p99:>8}"
            f"{s.failures:>10}"
        )
    return "\n".join(lines)


def served_by_instance(stack: Stack) -> tuple[int, int]:
    """Requests each instance answered (lines of its gunicorn access log)."""
    counts = []
    for n in (1, 2):
        log = stack.directory / f"app{n}-access.log"
        if log.exists():
            with log.open("rb") as f:
                counts.append(sum(1 for _ in f))
        else:
            counts.append(0)
    return counts[0], counts[1]


def cpu_times() -> tuple[int, int]:
    """(busy, all) clock ticks of every CPU since boot, from /proc/stat ((0, 0) elsewhere)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def load(stack: Stack, *, users: int, seconds: int, max_failures_percent: float) -> int:
    """Run the load on a started stack, report, check; 0 when everything held."""
    echo = stack.echo
    echo(f"locust: {users} users for {seconds} s against {stack.url} …")
    busy, ticks = cpu_times()
    prefix, record, status = run_locust(stack, users=users, seconds=seconds)
    busy, ticks = (a - b for a, b in zip(cpu_times(), (busy, ticks), strict=True))
    if not Path(f"{prefix}_stats.csv").exists():
        echo(f"locust wrote no statistics ({status}):\n{_tail(stack.directory / 'locust.log')}")
        return 1
    steps = read_stats(prefix)
    echo("\n" + format_report(steps))
    total = next((s for s in steps if s.name == "Aggregated"), None)
    failed = read_failures(prefix)
    if failed:
        echo("failures:\n" + "\n".join(failed))
    app1, app2 = served_by_instance(stack)
    echo(f"answered by app1: {app1}, by app2: {app2} (gunicorn access logs)")
    if ticks:
        echo(f"CPU: {os.cpu_count()} cores, {100 * busy / ticks:.0f} % busy during the load")

    checks = [wait_for_jobs(stack)]
    checks += check_invariants(
        stack.database_url, stack.snapshot, s3_endpoint=stack.s3_endpoint, record=record
    )
    checks.append(failover_check(stack))
    requests = total.requests if total else 0
    failures = total.failures if total else 0
    allowed = requests * max_failures_percent / 100
    checks.insert(
        0,
        Check(
            f"failed requests at most {max_failures_percent:g} % of all"
            if max_failures_percent
            else "no request failed",
            requests > 0 and failures <= allowed,
            f"{failures} of {requests}",
        ),
    )
    echo("\ninvariants:\n" + "\n".join(c.line() for c in checks))
    return 0 if all(c.ok for c in checks) else 1


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait_for_signal() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.stack", description=__doc__.split("\n")[0]
    )
    parser.add_argument("mode", choices=["up", "load"], nargs="?", default="load")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--smoke", action="store_true", help="CI's minute: 45 s, 6 users, 0 failures"
    )
    parser.add_argument("--max-failures-percent", type=float, default=None)
    parser.add_argument("--products", type=int, default=PRODUCTS, help="flask demo --scale")
    parser.add_argument("--app-workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--directory", type=Path, default=ROOT / "instance" / "stack")
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.users = 45, 6
    limit = args.max_failures_percent
    if limit is None:
        limit = 0.0 if args.smoke else 1.0
    missing = missing_prerequisites()
    if missing:
        print("bench.stack needs: " + "; ".join(missing), file=sys.stderr)
        return 2
    why = postgres_answers(server_url())
    if why:
        print(
            f"bench.stack: no PostgreSQL at {_without_password(server_url())}: {why}",
            file=sys.stderr,
        )
        return 2

    # SIGTERM (a CI runner, `kill`) stops everything as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    stack = Stack(
        args.directory,
        database=args.database,
        products=args.products,
        app_workers=args.app_workers,
    )
    try:
        stack.start()
        print(stack.describe())
        if args.mode == "up":
            print("\nCtrl-C stops everything.")
            _wait_for_signal()
            return 0
        return load(stack, users=args.users, seconds=args.seconds, max_failures_percent=limit)
    except StackError as error:
        print(f"bench.stack: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()
        print(f"stopped; logs in {stack.directory}")


if __name__ == "__main__":
    sys.exit(main())
