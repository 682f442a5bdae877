"""Faults under load (issue 11, part 3): the stack of bench/stack.py under locust, one fault
injected in the middle of the load, and what held printed with its figures.

    make faults                                   every fault, one after the other
    make faults FAULTS="app redis"                some of them
    .venv/bin/python -m bench.faults worker --outbox-wait 420

Each fault gets a stack of its own (bench.stack.Stack, database `artisan_market_faults`),
with two additions: a real SMTP server in this process (aiosmtpd, MAIL_SERVER of every
instance and worker), which can be stopped, restarted and made slow, and a TCP front before
moto's S3 that the app and nginx use, which can be cut (moto keeps its objects in memory:
killing it would lose the bucket). Then locust for --seconds with --users, the fault at
--inject-at seconds, put right at --restore-at where that makes sense, the load to its end,
the job queue drained, the emails counted, and bench.stack's invariants.

- app       kill -9 of app2's process group (gunicorn master and workers); back at restore.
- worker    the SMTP server answers DATA 6 s late, worker1 killed (-9) while it sends, started
            again 5 s later: is the email it was sending sent, once?
- postgres  `pg_ctlcluster <version> main restart` of the machine's server (the stack's database
            lives there): 503 or 500 meanwhile, and does the pool come back by itself?
- redis     the private redis-server killed, started again (empty) at restore: the shop, log-in
            limits, orders and their emails meanwhile.
- smtp      the SMTP server stopped until restore: every email arrives afterwards, once.
- s3        the front to S3 cut until restore: an upload meanwhile is refused how, and is
            anything half-saved?

For each: "HELD: …" or "BROKE: …" lines with figures (requests before/during/after the
fault and their status codes, from nginx's access log; failures by step, from locust), the
invariants, and a summary table at the end. Exit status 1 when anything broke. Before each
load it waits while /tmp/lead_measuring exists (someone measuring on this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import stack as bench_stack
from bench.stack import ROOT, Check, Stack, StackError

FAULTS = ("app", "worker", "postgres", "redis", "smtp", "s3")
DATABASE = "artisan_market_faults"
LEAD_MEASURING = Path("/tmp/lead_measuring")  # noqa: S108 (a flag file agreed on this machine)
TOKEN = re.compile(r"/orders/([A-Za-z0-9_-]{32})")
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')
TITLE = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
NGINX_LINE = re.compile(r'^\S+ \[([^\]]+)\] "(\S+) (\S+)[^"]*" (\d{3}) ')
GUNICORN_TIME = re.compile(r"\[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\]")


def say(line: str = "") -> None:
    print(line, flush=True)


# --- an SMTP server that can be stopped and made slow ---------------------------------------


@dataclass
class Mail:
    at: float
    to: str
    subject: str
    body: str
    peer_port: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.to, self.subject, self.body


def _mail(data: bytes, peer_port: int) -> Mail:
    message = email.message_from_bytes(data, policy=email.policy.default)
    part = message.get_body(("plain",))
    body = part.get_content() if part is not None else ""
    return Mail(time.time(), str(message["To"]), str(message["Subject"]), body, peer_port)


class Inbox:
    """aiosmtpd handler: keeps every message it accepted, and those whose sender went away
    while it held the DATA answer back (`delay`)."""

    def __init__(self) -> None:
        self.accepted: list[Mail] = []
        self.aborted: list[Mail] = []
        self.holding: dict[int, Mail] = {}  # client port -> the message held back
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        mail = _mail(envelope.original_content, session.peer[1])
        if self.delay:
            self.holding[mail.peer_port] = mail
            try:
                await asyncio.sleep(self.delay)
            except asyncio.CancelledError:  # the client went away (aiosmtpd cancels us)
                self.aborted.append(mail)
                raise
            finally:
                self.holding.pop(mail.peer_port, None)
        mail.at = time.time()
        self.accepted.append(mail)
        return "250 OK"


class MailServer:
    """A real SMTP server on 127.0.0.1 in this process; `stop` closes it (connections are
    refused), `start` opens it again on the same port."""

    def __init__(self) -> None:
        self.inbox, self.port = Inbox(), bench_stack.free_port()
        self._controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# --- a TCP front before S3 that can be cut ---------------------------------------------------


class Front:
    """Forwards 127.0.0.1:port to the port `target()` names. `stop` closes the port and every
    connection through it (what a stopped S3 looks like to its clients: refused, reset)."""

    def __init__(self, target: Callable[[], int]) -> None:
        self.port = bench_stack.free_port()
        self.target = target
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), backlog=128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._open = self._open, set()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target()), timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._open.update((client, upstream))
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            with self._lock:
                self._open.difference_update((source, sink))


# --- probes: requests of our own during the fault --------------------------------------------


@dataclass
class Probe:
    at: float
    name: str
    status: int  # 0: no answer
    detail: str = ""


class Prober:
    """Requests through nginx, each recorded with its time and status."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        self.results: list[Probe] = []

    def get(self, path: str, name: str, **kwargs):
        return self._send("GET", path, name, **kwargs)

    def post(self, path: str, name: str, **kwargs):
        return self._send("POST", path, name, allow_redirects=False, **kwargs)

    def _send(self, method: str, path: str, name: str, **kwargs):
        import requests

        try:
            response = self.session.request(method, self.base + path, timeout=20, **kwargs)
        except requests.RequestException as error:
            self.results.append(Probe(time.time(), name, 0, type(error).__name__))
            return None
        title = TITLE.search(response.text or "")
        detail = re.sub(r"\s+", " ", title.group(1)).strip()[:120] if title else ""
        self.results.append(Probe(time.time(), name, response.status_code, detail))
        return response

    def log_in(self, login: str, password: str, name: str = "log-in") -> int:
        page = self.get("/login", f"{name}: page")
        token = CSRF.search(page.text).group(1) if page is not None and page.ok else ""
        response = self.post(
            "/login", name, data={"csrf_token": token, "login": login, "password": password}
        )
        return response.status_code if response is not None else 0

    def upload(self, name: str = "upload") -> Probe:
        page = self.get("/studio/products/new", f"{name}: page")
        if page is None or not page.ok:
            return self.results[-1]
        data = {"csrf_token": CSRF.search(page.text).group(1)}
        once = ONCE.search(page.text)
        if once:
            data["once"] = once.group(1)
        self.post(
            "/studio/products/new",
            name,
            data=data,
            files={"photos": ("probe.jpg", _jpeg(), "image/jpeg")},
        )
        return self.results[-1]


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 120, 40)).save(out, "JPEG", quality=85)
    return out.getvalue()


class Sampler(threading.Thread):
    """GET `path` every `every` seconds until stopped: its status over time."""

    def __init__(self, base: str, path: str, every: float) -> None:
        super().__init__(daemon=True)
        self.prober, self.path, self.every = Prober(base), path, every
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.prober.get(self.path, self.path)
            self._stop_event.wait(self.every)

    def stop(self) -> list[Probe]:
        self._stop_event.set()
        self.join(30)
        return self.prober.results


# --- figures: nginx's access log by window ---------------------------------------------------


@dataclass
class Window:
    name: str
    start: float
    end: float
    statuses: Counter = field(default_factory=Counter)
    bad: Counter = field(default_factory=Counter)  # (method, route, status) of 5xx answers

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def line(self) -> str:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        fives = {c: self.statuses.get(c, 0) for c in (500, 502, 503, 504)}
        return (
            f"  {self.name:<7} {self.end - self.start:>5.0f} s {self.requests:>6} requests"
            f" ({self.requests / max(1.0, self.end - self.start):.1f}/s); "
            f"500: {fives[500]}, 502: {fives[502]}, 503: {fives[503]}, 504: {fives[504]}"
            f"  [{codes}]"
        )


def _route(path: str) -> str:
    path = path.split("?", 1)[0]
    path = re.sub(r"/[A-Za-z0-9_-]{32}(?=/|$)", "/<token>", path)
    path = re.sub(r"/\d+(?=/|$)", "/<id>", path)
    return re.sub(r"/photos/.*", "/photos/<key>", path)


def _stamp(text: str) -> float:
    return datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z").timestamp()


def traffic(stack: Stack, bounds: list[tuple[str, float, float]]) -> list[Window]:
    windows = [Window(name, start, end) for name, start, end in bounds]
    log = stack.directory / "nginx" / "access.log"
    if not log.exists():
        return windows
    for line in log.read_text(errors="replace").splitlines():
        found = NGINX_LINE.match(line)
        if not found:
            continue
        at, method, path, status = found.groups()
        t = _stamp(at)
        for w in windows:
            # nginx's times are whole seconds: a second is in the window it starts in
            if int(w.start) <= t < int(w.end):
                w.statuses[int(status)] += 1
                if int(status) >= 500:
                    w.bad[(method, _route(path), int(status))] += 1
                break
    return windows


def answered_by(stack: Stack, n: int, start: float, end: float) -> int:
    log = stack.directory / f"app{n}-access.log"
    if not log.exists():
        return 0
    count = 0
    for line in log.read_text(errors="replace").splitlines():
        found = GUNICORN_TIME.search(line)
        if found and int(start) <= _stamp(found.group(1)) < int(end):
            count += 1
    return count


# --- emails: what should have been sent, against what arrived ------------------------------


@dataclass
class MailCount:
    expected: Counter  # key -> emails the run's changes should have sent
    delivered: Counter  # key -> emails the SMTP server accepted
    keys: dict[str, str]  # key -> how it is named in the report (order number, address)
    identical: int  # messages delivered more than once, word for word (duplicates for sure)

    @property
    def missing(self) -> dict[str, int]:
        return {k: n - self.delivered[k] for k, n in self.expected.items() if self.delivered[k] < n}

    @property
    def duplicated(self) -> dict[str, int]:
        return {
            k: n - self.expected[k]
            for k, n in self.delivered.items()
            if n > self.expected[k] and k in self.expected
        }

    def line(self) -> str:
        return (
            f"{sum(self.expected.values())} emails due from the run's orders and"
            f" notifications, {sum(self.delivered[k] for k in self.expected)} delivered;"
            f" {sum(self.missing.values())} missing ({len(self.missing)} recipients),"
            f" {sum(self.duplicated.values())} more than due, {self.identical} delivered twice"
            " word for word"
        )


def count_mail(stack: Stack, since: datetime, inbox: Inbox) -> MailCount:
    """Due: for each order placed during the run with an address, one email when placed and
    one per part accepted, shipped or cancelled; for each user with an address, one per
    notification made during the run. Delivered: the server's messages, an order's by the
    tracking link in its body, a user's by her address (those after `since`: the demo's own
    emails go out as the workers start)."""
    import sqlalchemy as sa

    engine = bench_stack._engine(stack.database_url)
    expected: Counter = Counter()
    names: dict[str, str] = {}
    with engine.connect() as conn:
        for token, number, n in conn.execute(
            sa.text(
                "SELECT o.token, o.number, 1 + COUNT(p.accepted_at) + COUNT(p.shipped_at)"
                " + COUNT(p.cancelled_at) FROM orders o JOIN order_parts p ON p.order_id = o.id"
                " WHERE o.id > :last AND COALESCE(o.email, '') <> '' GROUP BY o.id"
            ),
            {"last": stack.snapshot["last_order"]},
        ):
            expected[f"order:{token}"] = n
            names[f"order:{token}"] = f"order {number}"
        for address, n in conn.execute(
            sa.text(
                "SELECT u.email, COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id"
                " WHERE n.created_at >= :t AND COALESCE(u.email, '') <> '' GROUP BY u.email"
            ),
            {"t": since},
        ):
            expected[f"user:{address}"] = n
            names[f"user:{address}"] = address
    engine.dispose()
    delivered: Counter = Counter()
    for mail in list(inbox.accepted):
        token = TOKEN.search(mail.body)
        if token:
            delivered[f"order:{token.group(1)}"] += 1
        elif mail.at >= since.timestamp():
            delivered[f"user:{mail.to}"] += 1
    identical = sum(n - 1 for n in Counter(m.key for m in inbox.accepted).values() if n > 1)
    return MailCount(expected, delivered, names, identical)


def outbox_state(stack: Stack, mails: list[Mail]) -> list[str]:
    """What the outbox (outgoing_emails, when the app has one) says of these emails."""
    import sqlalchemy as sa

    engine = bench_stack._engine(stack.database_url)
    lines = []
    try:
        with engine.connect() as conn:
            if not conn.execute(sa.text("SELECT to_regclass('outgoing_emails')")).scalar():
                return ["the app has no outbox table (outgoing_emails)"]
            for mail in mails:
                row = conn.execute(
                    sa.text(
                        "SELECT id, log_as, due_at, sent_at FROM outgoing_emails"
                        " WHERE recipient = :to AND subject = :subject"
                        " AND rtrim(body, E'\\n') = :body"
                    ),
                    {"to": mail.to, "subject": mail.subject, "body": mail.body.rstrip("\n")},
                ).first()
                if row is None:
                    lines.append(f"{mail.subject[:60]!r}: no outbox row")
                else:
                    due = row.due_at.astimezone(UTC).strftime("%H:%M:%S") if row.due_at else "-"
                    sent = row.sent_at.astimezone(UTC).strftime("%H:%M:%S") if row.sent_at else "-"
                    lines.append(
                        f"outbox row {row.id} ({row.log_as}): due_at {due}, sent_at {sent}"
                    )
    finally:
        engine.dispose()
    return lines


def outbox_waiting(stack: Stack) -> tuple[int, float | None]:
    """Outbox rows not sent yet, and when the last of them falls due (None without outbox)."""
    import sqlalchemy as sa

    engine = bench_stack._engine(stack.database_url)
    try:
        with engine.connect() as conn:
            if not conn.execute(sa.text("SELECT to_regclass('outgoing_emails')")).scalar():
                return 0, None
            n, last = conn.execute(
                sa.text(
                    "SELECT COUNT(*), MAX(due_at) FROM outgoing_emails"
                    " WHERE sent_at IS NULL AND due_at IS NOT NULL"
                )
            ).one()
    finally:
        engine.dispose()
    return n, (last.timestamp() if last else None)


def worker_log_lines(stack: Stack, needle: str) -> int:
    return sum(
        path.read_text(errors="replace").count(needle)
        for path in stack.directory.glob("worker*.log")
    )


# --- one fault ----------------------------------------------------------------------------


@dataclass
class Verdict:
    held: bool
    text: str

    def line(self) -> str:
        return f"{'HELD' if self.held else 'BROKE'}: {self.text}"


@dataclass
class Run:
    fault: str
    args: argparse.Namespace
    stack: Stack
    mail: MailServer
    front: Front
    t0: float = 0.0
    inject: float = 0.0
    restore: float = 0.0
    end: float = 0.0
    since: datetime | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    context: dict = field(default_factory=dict)

    def held(self, ok: bool, text: str) -> None:
        self.verdicts.append(Verdict(ok, text))

    def note(self, text: str) -> None:
        self.notes.append(text)


def _sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.time()))


def wait_for_lead() -> None:
    waited = False
    while LEAD_MEASURING.exists():
        if not waited:
            say(f"{LEAD_MEASURING} exists: someone is measuring; waiting (every 20 s) …")
            waited = True
        time.sleep(20)


def pg_cluster() -> tuple[str, str] | None:
    """The machine's PostgreSQL cluster the stack's server is (version, name), if local."""
    import sqlalchemy as sa

    url = sa.engine.make_url(bench_stack.server_url())
    if url.host not in (None, "127.0.0.1", "localhost") or not shutil.which("pg_ctlcluster"):
        return None
    try:
        out = subprocess.run(
            ["pg_lsclusters", "--no-header"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.splitlines():
        version, name, port = line.split()[:3]
        if int(port) == (url.port or 5432):
            return version, name
    return None


# -- the faults: inject, restore, judge ----


def inject_app(run: Run) -> None:
    run.stack.kill("app2", signal.SIGKILL)
    run.note("app2 killed: SIGKILL to its process group (gunicorn master and 2 workers)")
    run.context["sampler"] = s = Sampler(run.stack.url, "/healthz", 0.2)
    s.start()


def restore_app(run: Run) -> None:
    run.probes += run.context["sampler"].stop()
    started = time.time()
    run.stack.restart("app2")
    run.note(f"app2 started again ({time.time() - started:.1f} s to answer /healthz)")


def judge_app(run: Run, windows: list[Window]) -> None:
    during = windows[1]
    fives = {code: during.statuses.get(code, 0) for code in (500, 502, 503, 504)}
    late = _bad_lines(run.stack, run.inject + 3, run.restore)
    app1 = answered_by(run.stack, 1, run.inject, run.restore)
    app2 = answered_by(run.stack, 2, run.inject + 1, run.restore)
    failed_probes = [p for p in run.probes if p.status != 200]
    run.held(
        not late and app2 == 0 and app1 > 0 and not failed_probes,
        f"nginx sent the traffic to app1: {app1} requests answered by app1, {app2} by app2"
        f" while it was dead; 5xx during the fault: {fives} (all of them within 3 s of the"
        f" kill: {not late}); /healthz probed {len(run.probes)} times every 0.2 s through"
        f" nginx, {len(failed_probes)} not 200",
    )
    if sum(fives.values()):
        run.note(
            "5xx during the fault, by route: "
            + ", ".join(f"{m} {r} {s} x{n}" for (m, r, s), n in during.bad.most_common(8))
            + " (requests in flight on app2 when it died: nginx never sends a POST twice,"
            " and a GET whose answer had begun cannot be retried)"
        )
    after = answered_by(run.stack, 2, run.restore, run.end + 1)
    run.held(after > 0, f"app2 back at restore: it answered {after} requests afterwards")


def _bad_lines(stack: Stack, start: float, end: float) -> list[str]:
    log = stack.directory / "nginx" / "access.log"
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        found = NGINX_LINE.match(line)
        if found and int(start) <= _stamp(found.group(1)) < int(end) and int(found.group(4)) >= 500:
            lines.append(line)
    return lines


def inject_worker(run: Run) -> None:
    """Hold DATA answers back, wait until worker1 has a message held, kill it then."""
    import psutil

    inbox = run.mail.inbox
    inbox.delay = 6.0
    worker = run.stack.process("worker1")
    deadline = time.time() + 20
    caught: list[Mail] = []
    while time.time() < deadline and not caught:
        try:
            ports = {c.laddr.port for c in psutil.Process(worker.popen.pid).net_connections("tcp")}
        except psutil.Error:
            ports = set()
        caught = [m for port, m in list(inbox.holding.items()) if port in ports]
        if not caught:
            time.sleep(0.05)
    run.inject = time.time()
    run.stack.kill("worker1", signal.SIGKILL)
    inbox.delay = 0.0
    run.context["caught"] = caught
    run.note(
        f"worker1 killed (SIGKILL) while it was sending {len(caught)} email(s), held at the"
        " SMTP server's DATA answer (6 s late from 4 s before the kill until the kill)"
    )
    time.sleep(5)
    run.stack.restart("worker1")
    run.note("worker1 started again 5 s later (as a supervisor would)")


def judge_worker(run: Run, count: MailCount) -> None:
    caught: list[Mail] = run.context.get("caught", [])
    if not caught:
        run.held(False, "no email was caught in the middle (nothing to judge): run it again")
        return
    aborted = run.mail.inbox.aborted
    later = {m.key for m in run.mail.inbox.accepted if m.at > run.inject}
    resent = [m for m in caught if m.key in later]
    lost = [m for m in caught if m.key not in later]
    aborted_note = f"{len(aborted)} session(s) cut at the SMTP server when worker1 died"
    if lost:
        state = outbox_state(run.stack, lost)
        run.held(
            False,
            f"job lost: {len(lost)} of the {len(caught)} email(s) worker1 was sending never"
            f" arrived afterwards ({aborted_note}; queue empty after the run: huey's Redis"
            " storage takes a task off the list with BRPOP, nothing puts it back when the"
            " consumer dies). Outbox: " + "; ".join(state),
        )
        for m in lost:
            run.note(f"  lost: to {m.to} subject {m.subject!r}")
    if resent:
        run.held(
            True,
            f"{len(resent)} of the {len(caught)} email(s) worker1 was sending ran again and"
            f" arrived ({aborted_note})",
        )
    dup = count.duplicated
    run.held(
        not dup and not count.identical,
        f"each email at most once: {sum(dup.values())} more than due,"
        f" {count.identical} delivered twice word for word"
        + (f" ({', '.join(count.keys[k] for k in list(dup)[:5])})" if dup else ""),
    )
    expected_missing = {k: n for k, n in count.missing.items()}
    caught_keys = set()
    for m in caught:
        token = TOKEN.search(m.body)
        caught_keys.add(f"order:{token.group(1)}" if token else f"user:{m.to}")
    others = {k: n for k, n in expected_missing.items() if k not in caught_keys}
    run.held(
        not others,
        f"every other email arrived: {count.line()}"
        + (
            f"; missing besides the killed ones: {', '.join(count.keys[k] for k in others)}"
            if others
            else ""
        ),
    )


def inject_postgres(run: Run) -> None:
    version, name = run.context["cluster"]
    run.context["sampler"] = s = Sampler(run.stack.url, "/healthz", 0.2)
    s.start()
    started = time.time()
    result = subprocess.run(  # noqa: S603
        ["pg_ctlcluster", "-m", "fast", version, name, "restart"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    run.context["restart_seconds"] = time.time() - started
    run.note(
        f"pg_ctlcluster -m fast {version} {name} restart: {time.time() - started:.1f} s,"
        f" exit {result.returncode} {result.stderr.strip()[:200]}"
    )


def restore_postgres(run: Run) -> None:
    run.probes += run.context["sampler"].stop()


def judge_postgres(run: Run, windows: list[Window]) -> None:
    during = windows[1]
    fives = {code: during.statuses.get(code, 0) for code in (500, 502, 503, 504)}
    run.held(
        fives[500] == 0,
        f"requests in flight failed cleanly: {fives[503]} x 503 (the app's 'busy for a"
        f" moment, nothing was saved' page), {fives[500]} x 500, {fives[502]} x 502,"
        f" {fives[504]} x 504 in the {during.end - during.start:.0f} s from the restart"
        f" ({during.requests} requests)",
    )
    if during.bad:
        run.note(
            "5xx by route: "
            + ", ".join(f"{m} {r} {s} x{n}" for (m, r, s), n in during.bad.most_common(10))
        )
    done = run.inject + run.context.get("restart_seconds", 0)
    fails = [p for p in run.probes if p.status != 200]
    first_ok = next((p.at for p in run.probes if p.at > done and p.status == 200), None)
    after = windows[2]
    bad_after = sum(n for code, n in after.statuses.items() if code >= 500)
    run.held(
        first_ok is not None and bad_after == 0,
        "the pool recovered by itself (pool_pre_ping, no app restart): /healthz probed every"
        f" 0.2 s, {len(fails)} of {len(run.probes)} not 200"
        f" ({dict(Counter(p.status for p in fails))}), first 200 after the restart"
        f" {(first_ok - done) if first_ok else float('nan'):.1f} s after it returned;"
        f" {after.requests} requests after the fault window, {bad_after} of them 5xx",
    )
    errors = _app_errors(run.stack)
    if errors:
        run.note("app logs, errors by kind: " + ", ".join(f"{k} x{n}" for k, n in errors))


def _app_errors(stack: Stack) -> list[tuple[str, int]]:
    """The last line of each traceback (its exception) in app1/app2 logs, counted."""
    kinds: Counter = Counter()
    for n in (1, 2):
        path = stack.directory / f"app{n}.log"
        if not path.exists():
            continue
        lines = path.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Traceback"):
                j = i + 1
                while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                    j += 1
                if j < len(lines):
                    kinds[lines[j][:140]] += 1
    return kinds.most_common(6)


def inject_redis(run: Run) -> None:
    stack = run.stack
    from huey.storage import RedisStorage

    storage = RedisStorage("artisan_market", url=stack.redis_url)
    run.context["lost_in_redis"] = (storage.queue_size(), storage.schedule_size())
    storage.conn.close()
    stack.kill("redis", signal.SIGKILL)
    queued, scheduled = run.context["lost_in_redis"]
    run.note(
        f"redis-server killed (SIGKILL); in it at that moment: {queued} queued, {scheduled}"
        " scheduled (retries) jobs, gone with it (no persistence: --save '')"
    )
    time.sleep(2)
    prober = Prober(stack.url)
    run.context["prober"] = prober
    prober.get("/shop", "shop")
    prober.get("/readyz", "readyz")
    # Wrong passwords for an account that does not exist, as a guesser would: 45 tries.
    statuses = Counter(
        prober.log_in("probe-nobody@example.com", "wrong-password", "log-in, wrong password")
        for _ in range(45)
    )
    run.context["wrong"] = statuses
    good = Prober(stack.url)
    run.context["good"] = good.log_in(bench_stack.ADMIN, bench_stack._demo_password())
    run.probes += good.results


def restore_redis(run: Run) -> None:
    prober: Prober = run.context["prober"]
    prober.get("/readyz", "readyz (still down)")
    run.probes += prober.results
    run.stack.restart("redis")
    run.note("redis-server started again, empty, on its port")
    time.sleep(3)
    p = Prober(run.stack.url)
    p.get("/readyz", "readyz (after)")
    run.probes += p.results


def judge_redis(run: Run, windows: list[Window], count: MailCount) -> None:
    stack = run.stack
    during = windows[1]
    bad = sum(n for code, n in during.statuses.items() if code >= 500)
    pages_bad = sum(
        n for (m, route, _s), n in during.bad.items() if m == "GET" and route != "/readyz"
    )
    run.held(
        pages_bad == 0,
        f"the shop kept serving: {during.requests} requests while Redis was down, {bad} of"
        f" them 5xx ({pages_bad} on pages, not counting /readyz)",
    )
    wrong: Counter = run.context.get("wrong", Counter())
    run.held(
        wrong.get(500, 0) == 0 and wrong.get(422, 0) > 0 and run.context.get("good") == 303,
        f"log-in while Redis was down: 45 wrong passwords for one account answered"
        f" {dict(wrong)} (422: refused; 429: the limit, now per process in memory,"
        f" RATELIMIT_IN_MEMORY_FALLBACK_ENABLED, as docs/decisions.md chose); the right"
        f" password answered {run.context.get('good')}",
    )
    ready = [p for p in run.probes if p.name.startswith("readyz")]
    run.note("readyz: " + ", ".join(f"{p.name} {p.status}" for p in ready))
    # orders placed while Redis was down, and their emails
    import sqlalchemy as sa

    engine = bench_stack._engine(stack.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT token, number FROM orders WHERE id > :last AND created_at >= :a"
                " AND created_at < :b AND COALESCE(email, '') <> ''"
            ),
            {
                "last": stack.snapshot["last_order"],
                "a": datetime.fromtimestamp(run.inject, UTC),
                "b": datetime.fromtimestamp(run.restore, UTC),
            },
        ).all()
        placed = conn.execute(
            sa.text("SELECT COUNT(*) FROM orders WHERE created_at >= :a AND created_at < :b"),
            {
                "a": datetime.fromtimestamp(run.inject, UTC),
                "b": datetime.fromtimestamp(run.restore, UTC),
            },
        ).scalar()
    engine.dispose()
    checkout_5xx = sum(n for (m, r, _s), n in during.bad.items() if r == "/checkout")
    run.held(
        checkout_5xx == 0 and placed > 0,
        f"orders while Redis was down: {placed} placed, {checkout_5xx} checkouts answered 5xx",
    )
    delivered = {
        TOKEN.search(m.body).group(1) for m in run.mail.inbox.accepted if TOKEN.search(m.body)
    }
    lost = [number for token, number in rows if token not in delivered]
    waiting, due = outbox_waiting(stack)
    outbox = (
        f"; the outbox holds {waiting} unsent, the last due at "
        f"{datetime.fromtimestamp(due, UTC):%H:%M:%S} UTC (queued again then)"
        if due
        else ""
    )
    run.held(
        not lost,
        f"emails of those orders: {len(rows)} had an address, {len(rows) - len(lost)} emailed"
        f" by the end of the run, {len(lost)} not (yet){outbox}"
        f"; 'could not be queued' in app logs: {_app_log_count(stack, 'could not be queued')}",
    )
    run.held(
        not count.missing,
        f"all emails of the run: {count.line()}"
        + (
            f"; missing: {', '.join(count.keys[k] for k in list(count.missing)[:8])}"
            if count.missing
            else ""
        ),
    )


def _app_log_count(stack: Stack, needle: str) -> int:
    return sum(
        (stack.directory / f"app{n}.log").read_text(errors="replace").count(needle)
        for n in (1, 2)
        if (stack.directory / f"app{n}.log").exists()
    )


def inject_smtp(run: Run) -> None:
    run.mail.stop()
    run.note("SMTP server stopped (connections refused)")


def restore_smtp(run: Run) -> None:
    run.mail.start()
    run.note("SMTP server started again on its port")


def judge_smtp(run: Run, count: MailCount) -> None:
    failed_tries = worker_log_lines(run.stack, "Unhandled exception in task")
    last = max((m.at for m in run.mail.inbox.accepted), default=run.restore)
    run.held(
        not count.missing,
        f"mail waited and none was lost: {count.line()}; {failed_tries} failed tries"
        f" (retried 30 s later, then 60 s …); the last email arrived"
        f" {last - run.restore:.0f} s after SMTP was back",
    )
    dup = count.duplicated
    run.held(
        not dup and not count.identical,
        f"each email once: {sum(dup.values())} more than due, {count.identical} word for word",
    )


def inject_s3(run: Run) -> None:
    prober = Prober(run.stack.url)
    login = run.stack.artisan_logins()[-1]
    prober.log_in(login, bench_stack._demo_password())
    prober.upload("upload (S3 up, before)")
    run.context["prober"] = prober
    run.front.stop()
    run.note(f"the front to S3 cut: the app's and nginx's connections refused ({login} probes)")
    time.sleep(3)
    prober.upload("upload (S3 down)")
    prober.get("/readyz", "readyz (S3 down)")


def restore_s3(run: Run) -> None:
    run.front.start()
    run.note("the front to S3 open again")
    time.sleep(2)
    prober: Prober = run.context["prober"]
    prober.upload("upload (S3 back)")
    run.probes += prober.results


def judge_s3(run: Run, windows: list[Window]) -> None:
    probes = {p.name: p for p in run.probes}
    down = probes.get("upload (S3 down)")
    before, back = probes.get("upload (S3 up, before)"), probes.get("upload (S3 back)")
    clear = down is not None and down.status in (422, 503) and down.status != 500
    run.held(
        clear,
        f"an upload while S3 was down answered {down.status if down else '-'}"
        f" {down.detail if down else ''!r} (before: {before.status if before else '-'},"
        f" after: {back.status if back else '-'})",
    )
    during = windows[1]
    uploads = Counter(
        s for (m, r, s), n in during.bad.items() for _ in range(n) if r == "/studio/products/new"
    )
    photos = sum(n for (m, r, _s), n in during.bad.items() if r == "/photos/<key>")
    run.note(
        f"during the outage: uploads by locust answered 5xx: {dict(uploads)}; photo GETs"
        f" through nginx (the CDN's place) 5xx: {photos}"
    )
    import sqlalchemy as sa

    engine = bench_stack._engine(run.stack.database_url)
    with engine.connect() as conn:
        drafts = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM products p WHERE p.id > :last AND NOT EXISTS"
                " (SELECT 1 FROM product_photos f WHERE f.product_id = p.id)"
            ),
            {"last": run.stack.snapshot["last_product"]},
        ).scalar()
    engine.dispose()
    run.held(drafts == 0, f"no draft without its photo: {drafts} products of the run have none")


# -- the run ----


def run_fault(name: str, args: argparse.Namespace) -> Run:
    mail = MailServer()
    directory = args.directory / name
    stack = Stack(
        directory,
        database=DATABASE,
        products=args.products,
        mail_port=mail.port,
        echo=lambda line: say(f"  {line}"),
    )
    front = Front(lambda: stack.ports["s3"])
    stack.s3_front_port = front.port
    run = Run(name, args, stack, mail, front)
    if name == "postgres":
        run.context["cluster"] = pg_cluster()
        if run.context["cluster"] is None:
            run.held(False, "skipped: the stack's PostgreSQL is not a cluster of this machine")
            return run
    inject, restore = INJECT[name], RESTORE.get(name)
    wait_for_lead()
    say(f"\n=== {name}: {DESCRIPTION[name]}")
    mail.start()
    front.start()
    locust = None
    try:
        stack.start()
        run.since = datetime.now(UTC)
        run.t0 = time.time()
        locust, prefix, record = bench_stack.start_locust(
            stack, users=args.users, seconds=args.seconds
        )
        _sleep_until(run.t0 + args.inject_at - (4 if name == "worker" else 0))
        run.inject = time.time()
        say(f"  t={run.inject - run.t0:.0f} s: fault")
        inject(run)
        if restore:
            _sleep_until(run.t0 + args.restore_at)
            run.restore = time.time()
            say(f"  t={run.restore - run.t0:.0f} s: restored")
            restore(run)
        else:
            run.restore = run.inject + FAULT_WINDOW.get(name, lambda r: 10.0)(run)
        locust.wait(args.seconds + 60)
        run.end = time.time()
        finish(run, prefix, record)
    except StackError as error:
        run.held(False, f"the stack would not start: {error}")
    finally:
        if locust is not None and locust.poll() is None:
            locust.kill()
        stack.stop()
        with contextlib.suppress(Exception):
            mail.stop()
        front.stop()
    return run


def finish(run: Run, prefix: Path, record: Path) -> None:
    stack, args = run.stack, run.args
    if run.fault in ("smtp", "worker", "redis"):
        _wait_for_mail(run)
    jobs = bench_stack.wait_for_jobs(stack, timeout=args.job_wait)
    count = count_mail(stack, run.since, run.mail.inbox)
    windows = traffic(
        stack,
        [
            ("before", run.t0, run.inject),
            ("during", run.inject, run.restore),
            ("after", run.restore, run.end + 1),
        ],
    )
    judge = JUDGE[run.fault]
    if run.fault in ("app", "postgres", "s3"):
        judge(run, windows)
    elif run.fault == "redis":
        judge(run, windows, count)
    else:
        judge(run, count)
    if run.fault in ("app", "postgres", "s3"):
        dup, missing = count.duplicated, count.missing
        run.held(not dup and not missing and not count.identical, f"emails: {count.line()}")

    say("  requests through nginx (whole seconds; t=0 when locust started):")
    for w in windows:
        say(w.line())
    steps = bench_stack.read_stats(prefix) if Path(f"{prefix}_stats.csv").exists() else []
    total = next((s for s in steps if s.name == "Aggregated"), None)
    if total:
        say(f"  locust: {total.requests} requests, {total.failures} failures; failures by step:")
    for line in bench_stack.read_failures(prefix)[:12]:
        say(f"  {line}")
    for note in run.notes:
        say(f"  note: {note}")
    probe_counts = Counter((p.name, p.status) for p in run.probes)
    if probe_counts:
        say(
            "  probes: "
            + ", ".join(f"{name} {status} x{n}" for (name, status), n in probe_counts.items())
        )
    checks: list[Check] = [jobs]
    checks += bench_stack.check_invariants(
        stack.database_url, stack.snapshot, s3_endpoint=stack.s3_endpoint, record=record
    )
    failed = [c for c in checks if not c.ok]
    run.held(
        not failed,
        f"invariants: {len(checks) - len(failed)} of {len(checks)} hold"
        + ("" if not failed else "; " + "; ".join(c.line().strip() for c in failed)),
    )
    say("  invariants:\n" + "\n".join(f"  {c.line()}" for c in checks))
    for v in run.verdicts:
        say(f"  {v.line()}")


def _wait_for_mail(run: Run) -> None:
    """Until every due email arrived, or --mail-wait (and, with --outbox-wait, until the
    outbox has sent what waits in it)."""
    deadline = time.time() + run.args.mail_wait
    while time.time() < deadline:
        if not count_mail(run.stack, run.since, run.mail.inbox).missing:
            return
        time.sleep(2)
    if run.args.outbox_wait:
        waiting, due = outbox_waiting(run.stack)
        if due:
            until = min(due + 75, time.time() + run.args.outbox_wait)
            say(f"  waiting for the outbox: {waiting} unsent, until {until - time.time():.0f} s")
            while time.time() < until:
                if not count_mail(run.stack, run.since, run.mail.inbox).missing:
                    return
                time.sleep(5)


INJECT = {
    "app": inject_app,
    "worker": inject_worker,
    "postgres": inject_postgres,
    "redis": inject_redis,
    "smtp": inject_smtp,
    "s3": inject_s3,
}
RESTORE = {
    "app": restore_app,
    "postgres": restore_postgres,
    "redis": restore_redis,
    "smtp": restore_smtp,
    "s3": restore_s3,
}
FAULT_WINDOW = {"worker": lambda run: 10.0}
JUDGE = {
    "app": judge_app,
    "worker": judge_worker,
    "postgres": judge_postgres,
    "redis": judge_redis,
    "smtp": judge_smtp,
    "s3": judge_s3,
}
DESCRIPTION = {
    "app": "kill -9 one app instance (app2), started again at restore",
    "worker": "kill -9 a job worker in the middle of sending an email",
    "postgres": "restart the machine's PostgreSQL",
    "redis": "stop Redis (kill), started again (empty) at restore",
    "smtp": "stop the SMTP server, started again at restore",
    "s3": "stop S3 (the front to it cut), open again at restore",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults", description=__doc__.split("\n")[0]
    )
    parser.add_argument("faults", nargs="*", metavar="fault", help=f"of {', '.join(FAULTS)}")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--inject-at", type=float, default=15)
    parser.add_argument("--restore-at", type=float, default=35)
    parser.add_argument("--products", type=int, default=bench_stack.PRODUCTS)
    parser.add_argument("--job-wait", type=float, default=30, help="for the queue to drain")
    parser.add_argument("--mail-wait", type=float, default=45, help="for every due email")
    parser.add_argument(
        "--outbox-wait",
        type=float,
        default=0,
        help="also wait (up to this many seconds) for emails the outbox queues again",
    )
    parser.add_argument("--directory", type=Path, default=ROOT / "instance" / "faults")
    args = parser.parse_args(argv)
    unknown = [f for f in args.faults if f not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {unknown}: choose among {', '.join(FAULTS)}")
    missing = bench_stack.missing_prerequisites()
    if missing:
        say("bench.faults needs: " + "; ".join(missing))
        return 2
    why = bench_stack.postgres_answers(bench_stack.server_url())
    if why:
        say(f"bench.faults: no PostgreSQL: {why}")
        return 2
    signal.signal(signal.SIGTERM, bench_stack._interrupt)
    runs: list[Run] = []
    started = time.time()
    try:
        for name in dict.fromkeys(args.faults or FAULTS):
            t = time.time()
            runs.append(run_fault(name, args))
            say(f"  ({name}: {time.time() - t:.0f} s)")
    except KeyboardInterrupt:
        say("interrupted")
    say(f"\n=== summary ({time.time() - started:.0f} s; logs in {args.directory})")
    say(f"{'fault':<10}{'result':<8}")
    for run in runs:
        ok = all(v.held for v in run.verdicts)
        first = next(
            (v for v in run.verdicts if not v.held), run.verdicts[0] if run.verdicts else None
        )
        say(f"{run.fault:<10}{'HELD' if ok else 'BROKE':<8}{first.text[:160] if first else ''}")
    return 0 if runs and all(v.held for r in runs for v in r.verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
