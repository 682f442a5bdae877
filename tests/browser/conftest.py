"""Real Chromium against the real app, served over HTTP on 127.0.0.1.

The app runs on its own migrated SQLite file (browser tests run once, not per database),
in a Werkzeug server thread. Chromium is Debian's package, driven by Playwright; it is
never downloaded (`playwright install` cannot reach the internet here).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from artisan_market import create_app
from artisan_market.extensions import db
from tests.conftest import _migrate, _settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE_SCREEN = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app the live server serves, on its own migrated SQLite file (for seeding data)."""
    instance = tmp_path_factory.mktemp("browser-instance")
    url = f"sqlite:///{instance / 'browser.sqlite3'}"
    _migrate(url, str(instance))
    app = create_app(_settings(url, str(instance)))
    # What reached the server: (method, path, Content-Length), for tests about upload sizes.
    app.received = []
    inner = app.wsgi_app

    def recording(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        app.received.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], length))
        return inner(environ, start_response)

    app.wsgi_app = recording
    return app


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The site on http://127.0.0.1:<free port>."""
    app = live_app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's Chromium, headless; skipped (failed on CI) when it is not installed."""
    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request) -> bool:
    """Every journey runs twice: with JavaScript (htmx) and without (plain HTML)."""
    return request.param


@pytest.fixture
def new_page(browser, live_server, js) -> Iterator[Callable[..., object]]:
    """new_page() → a page in a fresh context: a 360x740 phone in Arabic (Egypt) by default.

    Console errors and uncaught page errors are collected on `page.errors`.
    """
    contexts = []

    def make(viewport: dict | None = None, cookies: list[dict] | None = None):
        context = browser.new_context(
            viewport=viewport or PHONE_SCREEN,
            device_scale_factor=1,
            locale="ar-EG",
            java_script_enabled=js,
            base_url=live_server,
        )
        contexts.append(context)
        if cookies:
            context.add_cookies([{"url": live_server, **c} for c in cookies])
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.errors = []
        page.on(
            "console",
            lambda msg: (
                msg.type == "error"
                and page.errors.append(f"console: {msg.text} [{msg.location.get('url')}]")
            ),
        )
        page.on("pageerror", lambda exc: page.errors.append(f"pageerror: {exc}"))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A fresh 360x740 Arabic page."""
    return new_page()


@pytest.fixture
def shot(request, js) -> Callable[..., Path]:
    """shot(page, "step") saves screenshots/<test>-<js|nojs>-<step>.png (full page)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w-]+", "-", request.node.originalname)
    mode = "js" if js else "nojs"

    def save(page, step: str) -> Path:
        path = SCREENSHOTS / f"{name}-{mode}-{step}.png"
        # caret="initial": Playwright's default caret hiding leaves `style=""` on every text
        # field, which htmx's settle step then copies with setAttribute, and the CSP
        # (rightly) blocks: a violation the test itself would have caused.
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    return save
