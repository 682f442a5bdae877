"""The load `make stack` puts on the site through nginx (bench/stack.py runs it, headless).

Four kinds of visitor, each request named after its step so locust's report groups by step:

- **Visitor** (anonymous): home, the shop and its later pages, a category, a search in Arabic,
  product pages, a product photo (from the bucket, through nginx) and a static file.
- **Buyer** (a guest, new each time: no cookie): finds pieces in the shop or a search, adds
  one or two to her cart (as htmx does), opens the cart and the checkout, and places the
  order, cash on delivery; one checkout in four sends the same form twice at once (a second
  tap on a slow connection), which must lead to the same order. Every sending is written to
  STACK_RECORD for the invariants.
- **Artisan** (STACK_ARTISAN_USERS of them, each logged in once as the next of
  STACK_ARTISANS): her orders, each open part's next move (accept, ship, deliver; one new
  part in ten cancelled), her listings, and a new listing photo first (a JPEG made here
  with Pillow), then its details, sent for review.
- **Admin** (one, logged in once): records the courier's cash for delivered parcels.

Expected refusals are not failures, and have steps of their own: a piece sold out between
the product page and "add to cart" (422), a cart whose piece sold out meanwhile (the
checkout's button is disabled), an order refused at checkout because a piece sold out (422).
Anything else that is not the expected answer is a failure.

Log-in limits count failed log-ins only (artisan_market/accounts/views.py): logging in once
per artisan user, with the right password, never comes near them.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import random
import re
from datetime import date, timedelta

import gevent
from locust import HttpUser, between, events, task
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV
from PIL import Image, ImageDraw

ARTISANS = os.environ.get("STACK_ARTISANS", "01000000003,01000000004").split(",")
ARTISAN_USERS = int(os.environ.get("STACK_ARTISAN_USERS", "1"))
ADMIN = os.environ.get("STACK_ADMIN", "admin@demo.souq")
PASSWORD = os.environ.get("STACK_PASSWORD", "souq-demo-2026")
RECORD = os.environ.get("STACK_RECORD", "")
STATS = os.environ.get("STACK_STATS", "")  # where the final figures go: <prefix>_stats.csv
TIMEOUT = 60

SEARCHES = ["فخار", "سلة", "شال مطرز", "خوص", "كليم", "تطريز", "فضة", "سلة خوص ملونة"]
CATEGORIES = ["basketry", "embroidery", "pottery", "textiles", "jewellery", "leather"]
GOVERNORATES = ["C", "GZ", "ALX", "ASN", "MT", "FYM", "SHG", "DK"]
NAMES = ["سارة محمود", "نورا علي", "منى حسن", "ياسمين أحمد", "ريم خالد", "دينا سمير"]
CITIES = ["سموحة", "مدينة نصر", "الدقي", "المعادي", "طنطا", "المنصورة"]

PRODUCT_LINK = re.compile(r'href="(/products/\d+/[^"#?]*)"')
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')
ADD_FORM = re.compile(r'action="(/cart/add/\d+)"')
PHOTO = re.compile(r"(/photos/[A-Za-z0-9._-]+\.webp)")
STATIC = re.compile(r'"(/static/[^"?]+\?v=[0-9a-f]+)"')
PART_ROW = re.compile(r'href="/parts/(\d+)">[^<]*</a>\s*<span class="status status-(\w+)">')
CATEGORY_OPTION = re.compile(r'<option value="(\d+)"')
ORDER_PAGE = re.compile(r"^(?:https?://[^/]+)?(/orders/[A-Za-z0-9_-]{32})$")
DRAFT_PAGE = re.compile(r"^(?:https?://[^/]+)?(/studio/products/\d+)$")

_next_artisan = itertools.count()


def _photo(seed: int) -> bytes:
    """A phone-like JPEG, 1200×900, a different one per seed."""
    rng = random.Random(seed)  # noqa: S311 (a picture)
    image = Image.new("RGB", (1200, 900), tuple(rng.randrange(150, 250) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(1200), rng.randrange(900)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse([x, y, x + rng.randrange(40, 300), y + rng.randrange(40, 300)], fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


PHOTOS = [_photo(seed) for seed in range(4)]


_environment = None


@events.init.add_listener
def _keep_environment(environment, **_kwargs) -> None:
    global _environment
    _environment = environment


@events.quit.add_listener
def _write_stats(**_kwargs) -> None:
    """The final figures per step, once every user has stopped, in the columns of locust's
    --csv (which is rewritten every second during the run, so it misses the last one)."""
    if not STATS or _environment is None:
        return
    figures = StatsCSV(_environment, PERCENTILES_TO_REPORT)
    with open(f"{STATS}_stats.csv", "w", newline="", encoding="utf-8") as f:
        figures.requests_csv(csv.writer(f))
    with open(f"{STATS}_failures.csv", "w", newline="", encoding="utf-8") as f:
        figures.failures_csv(csv.writer(f))


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    return found.group(1) if found else ""


def _record(entry: dict) -> None:
    if RECORD:
        with open(RECORD, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


class Site(HttpUser):
    abstract = True

    def page(self, path: str, name: str, **kwargs) -> str:
        """GET a page that must answer 200; its text ("" when it did not)."""
        with self.client.get(
            path, name=name, timeout=TIMEOUT, catch_response=True, **kwargs
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return ""
            return response.text

    def post(self, path: str, name: str, expect: int = 303, **kwargs):
        """POST a form that must answer `expect` (without following a redirect)."""
        with self.client.post(
            path, name=name, timeout=TIMEOUT, allow_redirects=False, catch_response=True, **kwargs
        ) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}: {response.text[:200]!r}")
            return response

    def log_in(self, login: str) -> bool:
        html = self.page("/login", "login: page")
        response = self.post(
            "/login",
            "login",
            data={"csrf_token": _csrf(html), "login": login, "password": PASSWORD},
        )
        return response.status_code == 303

    def products(self, html: str) -> list[str]:
        return list(dict.fromkeys(PRODUCT_LINK.findall(html)))

    def find_pieces(self) -> list[str]:
        """A listing page, as a buyer gets to pieces: mostly the newest, sometimes further on,
        or a search."""
        roll = random.random()  # noqa: S311
        if roll < 0.5:
            html = self.page("/shop", "shop")
        elif roll < 0.75:
            html = self.page(
                "/shop",
                "shop: later page",
                params={"page": random.randint(2, 5)},  # noqa: S311
            )
        else:
            html = self.page("/shop", "search", params={"q": random.choice(SEARCHES)})  # noqa: S311
        return self.products(html)


class Visitor(Site):
    """Someone looking around, not logged in."""

    weight = 1
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.seen: list[str] = []

    def remember(self, html: str) -> None:
        found = self.products(html)
        if found:
            self.seen = found

    @task(3)
    def home(self) -> None:
        self.remember(self.page("/", "home"))

    @task(3)
    def shop(self) -> None:
        self.remember(self.page("/shop", "shop"))

    @task(2)
    def later_page(self) -> None:
        page = random.randint(2, 20)  # noqa: S311
        self.remember(self.page("/shop", "shop: later page", params={"page": page}))

    @task(1)
    def category(self) -> None:
        category = random.choice(CATEGORIES)  # noqa: S311
        self.remember(self.page("/shop", "shop: category", params={"category": category}))

    @task(3)
    def search(self) -> None:
        query = random.choice(SEARCHES)  # noqa: S311
        self.remember(self.page("/shop", "search", params={"q": query}))

    @task(4)
    def product(self) -> None:
        if not self.seen:
            self.shop()
        if self.seen:
            html = self.page(random.choice(self.seen), "product")  # noqa: S311
            photos = PHOTO.findall(html)
            if photos and random.random() < 0.3:  # noqa: S311
                self.page(random.choice(photos), "photo (bucket, through nginx)")  # noqa: S311

    @task(1)
    def static(self) -> None:
        html = self.page("/", "home")
        files = STATIC.findall(html)
        if files:
            self.page(random.choice(files), "static file (nginx)")  # noqa: S311


class Buyer(Site):
    """A guest who orders, cash on delivery."""

    weight = 1
    wait_time = between(1, 3)

    @task
    def buy(self) -> None:
        self.client.cookies.clear()  # a new visitor each time
        pieces = self.find_pieces()
        if not pieces:
            return
        added = 0
        for path in random.sample(pieces, min(len(pieces), random.choice([1, 1, 2]))):  # noqa: S311
            added += self.add_to_cart(path)
        if not added:
            return
        self.page("/cart", "cart")
        with self.client.get(
            "/checkout", name="checkout: form", timeout=TIMEOUT, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return
            html = response.text
            if 'class="button" disabled>' in html:
                # A piece sold out since she added it: the page says so, its button is off.
                response.request_meta["name"] = "checkout: form (blocked, sold out)"
                return
        self.checkout(html)

    def add_to_cart(self, path: str) -> bool:
        html = self.page(path, "product")
        form = ADD_FORM.search(html)
        if not form:
            return False  # sold out (or paused) already: no button
        quantity = "2" if random.random() < 0.2 else "1"  # noqa: S311
        with self.client.post(
            form.group(1),
            name="cart: add",
            data={"csrf_token": _csrf(html), "quantity": quantity},
            headers={"HX-Request": "true", "HX-Target": "cart-count"},
            timeout=TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                return True
            if response.status_code == 422:
                # Sold out (or fewer left than asked) since the page was drawn.
                response.request_meta["name"] = "cart: add (refused, sold out)"
                response.success()
                return False
            response.failure(f"{response.status_code}")
            return False

    def checkout(self, html: str) -> None:
        key = ONCE.search(html).group(1)
        n = random.randrange(10**8)  # noqa: S311
        data = {
            "csrf_token": _csrf(html),
            "once": key,
            "name": random.choice(NAMES),  # noqa: S311
            "phone": f"012{n:08d}",
            "governorate": random.choice(GOVERNORATES),  # noqa: S311
            "city": random.choice(CITIES),  # noqa: S311
            "address": f"{n % 90 + 1} شارع النصر، الدور {n % 9 + 1}",
            "notes": "",
            "email": f"buyer{n}@example.com" if n % 2 else "",
            "payment": "cod",
        }
        if random.random() < 0.25:  # noqa: S311
            # A second tap while the first is on its way: both at once, the same form.
            sendings = [
                gevent.spawn(self.place, data, "checkout: place"),
                gevent.spawn(self.place, data, "checkout: same form again"),
            ]
            gevent.joinall(sendings)
            places = [g.value for g in sendings if g.value]
            if len(places) == 2 and places[0] != places[1]:
                self.environment.events.request.fire(
                    request_type="POST",
                    name="checkout: same form again",
                    response_time=0,
                    response_length=0,
                    exception=AssertionError(f"two orders for one form: {places}"),
                    context={},
                )
            order = places[0] if places else None
        else:
            order = self.place(data, "checkout: place")
        if order:
            self.page(order, "order: track page")

    def place(self, data: dict, name: str) -> str | None:
        """POST the checkout; the order's page it leads to (None when refused)."""
        with self.client.post(
            "/checkout",
            name=name,
            data=data,
            timeout=TIMEOUT,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            order = ORDER_PAGE.match(location)
            _record(
                {
                    "key": data["once"],
                    "status": response.status_code,
                    "location": order.group(1) if order else location,
                    "again": name.endswith("again"),
                }
            )
            if response.status_code == 303 and order:
                return order.group(1)
            if response.status_code == 422 and 'href="/cart"' in response.text.split("<main")[-1]:
                response.request_meta["name"] = "checkout: refused (sold out)"
                response.success()
                return None
            response.failure(f"{response.status_code} {location}: {response.text[:200]!r}")
            return None


class Artisan(Site):
    """A craftswoman: her orders, her listings, a new piece photo first."""

    fixed_count = ARTISAN_USERS
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.phone = ARTISANS[next(_next_artisan) % len(ARTISANS)]
        self.ready = self.log_in(self.phone)

    @task(8)
    def fulfil(self) -> None:
        if not self.ready:
            return
        html = self.page("/studio/orders", "fulfil: her orders")
        open_parts = [
            (pid, s) for pid, s in PART_ROW.findall(html) if s in ("new", "accepted", "shipped")
        ]
        for part_id, _status in open_parts[:3]:
            self.next_move(part_id)

    def next_move(self, part_id: str) -> None:
        path = f"/parts/{part_id}"
        html = self.page(path, "fulfil: order part")
        csrf = _csrf(html)
        if f'action="{path}/accept"' in html:
            if random.random() < 0.1:  # noqa: S311
                data = {"csrf_token": csrf, "reason": "cannot_make", "note": ""}
                self.post(f"{path}/cancel", "fulfil: cancel", data=data)
                return
            data = {"csrf_token": csrf}
            if 'name="ready_by"' in html:  # a made-to-order piece: the day it will be ready
                data["ready_by"] = (date.today() + timedelta(days=10)).isoformat()  # noqa: DTZ011
            self.post(f"{path}/accept", "fulfil: accept", data=data)
        elif f'action="{path}/ship"' in html:
            data = {
                "csrf_token": csrf,
                "courier": "بوسطة",
                "tracking_number": f"BOS{random.randrange(10**8):08d}",  # noqa: S311
            }
            self.post(f"{path}/ship", "fulfil: ship", data=data)
        elif f'action="{path}/deliver"' in html:
            self.post(f"{path}/deliver", "fulfil: deliver", data={"csrf_token": csrf})

    @task(1)
    def listings(self) -> None:
        if self.ready:
            self.page("/studio", "studio: her listings")

    @task(2)
    def new_listing(self) -> None:
        """Photo first (the photo makes a draft), then the words, sent for review."""
        if not self.ready:
            return
        html = self.page("/studio/products/new", "upload: new product page")
        if not html:
            return
        response = self.post(
            "/studio/products/new",
            "upload: photo (makes a draft)",
            data={"csrf_token": _csrf(html), "once": ONCE.search(html).group(1)},
            files={"photos": ("photo.jpg", random.choice(PHOTOS), "image/jpeg")},  # noqa: S311
        )
        draft = DRAFT_PAGE.match(response.headers.get("Location", ""))
        if response.status_code != 303 or not draft:
            return
        html = self.page(draft.group(1), "upload: product form")
        categories = CATEGORY_OPTION.findall(html)
        if not html or not categories:
            return
        data = {
            "csrf_token": _csrf(html),
            "title": random.choice(["سلة خوص", "شال مطرز", "طبق فخار", "كليم صغير"]),  # noqa: S311
            "price": str(random.randrange(100, 900)),  # noqa: S311
            "availability": "ready",
            "stock": "3",
            "days_to_make": "",
            "category": random.choice(categories),  # noqa: S311
            "description": "قطعة مصنوعة يدويًا بالكامل.",
            "materials": "خامات طبيعية",
            "size": "",
            "weight": "",
            "action": "send",
        }
        self.post(draft.group(1), "upload: details, sent for review", data=data)


class Admin(Site):
    """The coalition's staff: the courier's cash for each delivered parcel, recorded once."""

    fixed_count = 1
    wait_time = between(2, 4)

    def on_start(self) -> None:
        self.ready = self.log_in(ADMIN)
        self.done: set[str] = set()

    @task
    def collect_cash(self) -> None:
        if not self.ready:
            return
        html = self.page("/review/orders", "cash: orders")
        delivered = [pid for pid, s in PART_ROW.findall(html) if s == "delivered"]
        for part_id in [p for p in delivered if p not in self.done][:3]:
            path = f"/parts/{part_id}"
            page = self.page(path, "cash: order part")
            self.done.add(part_id)
            _, found, rest = page.partition(f'action="{path}/cash"')
            if found and "<button" in rest.split("</form>", 1)[0]:  # not recorded yet
                self.post(f"{path}/cash", "cash: record", data={"csrf_token": _csrf(page)})
