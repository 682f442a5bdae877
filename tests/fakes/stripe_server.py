"""A local fake of the few Stripe endpoints Artisan Market uses, for tests.

The app's real `stripe` SDK talks HTTP to it on 127.0.0.1, so request encoding, headers,
retries and error parsing are the SDK's own. Checked against stripe 16.1.0:

    with FakeStripe(webhook_url=...) as fake:
        client = stripe.StripeClient(
            fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0
        )
        session = client.v1.checkout.sessions.create(
            params={...}, options={"idempotency_key": "order-7"}
        )
        client.v1.checkout.sessions.retrieve(session.id)
        client.v1.checkout.sessions.expire(session.id)
        client.v1.refunds.create(params={"payment_intent": "pi_...", "amount": 500})
        stripe.Webhook.construct_event(body, signature_header, fake.webhook_secret)

Use `client.v1.*`: since stripe 12 the unversioned `client.checkout` and `client.refunds`
are marked @deprecated and warn (an error under our `filterwarnings = error`).

Endpoints: POST /v1/checkout/sessions, GET /v1/checkout/sessions/{id},
POST /v1/checkout/sessions/{id}/expire, POST /v1/refunds, and the hosted page
GET/POST /pay/{id} a browser (or `pay()`) completes. Only `mode=payment` with `price_data`
line items is supported; any other parameter is refused as Stripe refuses unknown ones, so a
new parameter in the app fails loudly here until the fake learns it.

As at Stripe: every POST has an idempotency key (the SDK makes one up when the caller gives
none, and reuses it on retries); a repeat gets the first response replayed, a reuse with other
parameters is refused. Only successful responses are kept for replay. Unlike Stripe, webhooks
are delivered synchronously, before the request that caused them is answered, so a test can
assert on them at once; and sessions never expire by themselves (call `expire()`).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

API_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_fake"
API_VERSION = "2024-06-20"
WEBHOOK_USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
MIN_LIFETIME = 30 * 60  # Stripe: expires_at is 30 minutes to 24 hours after creation
MAX_LIFETIME = 24 * 60 * 60
LIFETIME_SLACK = 60
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
REPLAYED = {"Idempotent-Replayed": "true"}  # Stripe's header on a replayed response

SESSION_PARAMS = {
    "mode",
    "line_items",
    "success_url",
    "cancel_url",
    "client_reference_id",
    "metadata",
    "expires_at",
    "customer_email",
    "locale",
    "payment_method_types",
}
REFUND_PARAMS = {"payment_intent", "amount", "metadata", "reason"}

Params = dict[str, Any]
WebhookSender = Callable[[bytes, dict[str, str]], int]


class FakeStripeError(Exception):
    """A request Stripe would refuse: answered with Stripe's error JSON and HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.code = code
        self.param = param

    def body(self) -> Params:
        """`{"error": {...}}` as Stripe sends it (absent fields left out)."""
        error = {"type": self.kind, "message": self.message, "code": self.code, "param": self.param}
        return {"error": {k: v for k, v in error.items() if v is not None}}


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Payment:
    """The payment behind a completed session: what was paid and what is refunded."""

    amount: int
    currency: str
    status: str  # "processing" (a bank transfer not yet settled), "succeeded" or "failed"
    refunded: int = 0


def decode_form(body: str) -> Params:
    """Stripe's form encoding (`line_items[0][price_data][unit_amount]=5`) as nested values.

    A dict whose keys are all indexes becomes a list, except `metadata`, whose keys are the
    caller's own.
    """
    root: Params = {}
    for key, value in urllib.parse.parse_qsl(body, keep_blank_values=True):
        *path, last = key.replace("]", "").split("[")
        node = root
        for part in path:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[last] = value
    return _with_lists(root)


def _with_lists(value: Any, name: str = "") -> Any:
    if not isinstance(value, dict):
        return value
    items = {key: _with_lists(item, key) for key, item in value.items()}
    if name != "metadata" and items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _name(prefix: str, key: str) -> str:
    """The parameter's name as Stripe reports it: `line_items[0][quantity]`."""
    return f"{prefix}[{key}]" if prefix else key


def _refuse_unknown(params: Params, allowed: set[str], prefix: str = "") -> None:
    for key in params:
        if key not in allowed:
            name = _name(prefix, key)
            raise FakeStripeError(400, f"Received unknown parameter: {name}", param=name)


def _required(params: Params, key: str, prefix: str = "") -> Any:
    value = params.get(key)
    if value in (None, "", {}, []):
        name = _name(prefix, key)
        raise FakeStripeError(
            400, f"Missing required param: {name}.", code="parameter_missing", param=name
        )
    return value


def _integer(value: Any, name: str, minimum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise FakeStripeError(400, f"Invalid integer: {value}", param=name) from None
    if number < minimum:
        raise FakeStripeError(
            400, f"This value must be greater than or equal to {minimum}.", param=name
        )
    return number


def _mapping(value: Any, name: str) -> Params:
    """A nested parameter such as `metadata` (the SDK sends `metadata=` for an empty one)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise FakeStripeError(400, f"Invalid object: {name}", param=name)
    return value


def _line_item(item: Any, index: int) -> tuple[str, int]:
    """One `line_items[i]` entry, checked: its currency and its amount in minor units."""
    prefix = f"line_items[{index}]"
    item = _mapping(item, prefix)
    _refuse_unknown(item, {"price_data", "quantity"}, prefix)
    price = _mapping(_required(item, "price_data", prefix), f"{prefix}[price_data]")
    price_prefix = f"{prefix}[price_data]"
    _refuse_unknown(price, {"currency", "unit_amount", "product_data"}, price_prefix)
    product_prefix = f"{price_prefix}[product_data]"
    product = _mapping(_required(price, "product_data", price_prefix), product_prefix)
    _refuse_unknown(product, {"name", "description"}, product_prefix)
    _required(product, "name", product_prefix)
    unit_amount = _required(price, "unit_amount", price_prefix)
    unit_amount = _integer(unit_amount, f"{price_prefix}[unit_amount]", 0)
    quantity = _integer(_required(item, "quantity", prefix), f"{prefix}[quantity]", 1)
    return str(_required(price, "currency", price_prefix)).lower(), unit_amount * quantity


def _expiry(params: Params, now: int) -> int:
    if "expires_at" not in params:
        return now + MAX_LIFETIME
    expires_at = _integer(params["expires_at"], "expires_at", 0)
    if expires_at < now + MIN_LIFETIME - LIFETIME_SLACK:
        message = "The `expires_at` timestamp must be at least 30 minutes from creation."
    elif expires_at > now + MAX_LIFETIME + LIFETIME_SLACK:
        message = "The `expires_at` timestamp must be less than 24 hours from creation."
    else:
        return expires_at
    raise FakeStripeError(400, message, param="expires_at")


def _json(status: int, value: Params, headers: dict[str, str] | None = None) -> _Response:
    body = json.dumps(value, indent=2).encode()
    return _Response(status, body, headers={"Request-Id": _new_id("req"), **(headers or {})})


def _page(status: int, title: str, body: str) -> _Response:
    document = (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )
    return _Response(status, document.encode(), "text/html; charset=utf-8")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Stripe counts a redirect as a failed delivery; so do we."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# Never through a proxy from the environment, never following redirects.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        response = self.server.fake._handle(self.command, self.path, body, self.headers)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests' output is for the tests."""


class _Server(ThreadingHTTPServer):
    def __init__(self, fake: FakeStripe) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeStripe:
    """Stripe's Checkout Sessions and Refunds APIs, its hosted payment page and its webhooks.

    State is in plain attributes for tests to read: `sessions` (id → the checkout.session as
    the API returns it), `refunds` (refund objects, oldest first), `events` (each event sent,
    with the HTTP status the webhook answered under "webhook_status", 0 when nothing
    answered) and `requests` ((method, path, decoded params) of every request, oldest first).
    The test methods (`pay`, `settle`, `expire`) raise FakeStripeError where Stripe would
    refuse the same move.
    """

    def __init__(
        self,
        api_key: str = API_KEY,
        webhook_secret: str = WEBHOOK_SECRET,
        webhook_url: str | None = None,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.webhook_sender: WebhookSender | None = None
        self.api_version = API_VERSION
        self.sessions: dict[str, Params] = {}
        self.refunds: list[Params] = []
        self.events: list[Params] = []
        self.requests: list[tuple[str, str, Params]] = []
        self._payments: dict[str, _Payment] = {}
        self._replies: dict[str, tuple[tuple[str, str, Params], bytes | None]] = {}
        self._failures: list[int] = []
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        """Serve on a free port of 127.0.0.1, in a daemon thread."""
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-stripe",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base address, for `base_addresses={"api": fake.url}`."""
        if self._server is None:
            raise RuntimeError("FakeStripe is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- what tests do ---------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next `count` /v1 requests with `status` and an api_error, as in an
        outage (nothing is done, nothing is kept for idempotent replay)."""
        with self._lock:
            self._failures.extend([status] * count)

    def recover(self) -> None:
        """End the outage: the failures `fail_next` has not used up are dropped."""
        with self._lock:
            self._failures.clear()

    def pay(self, session_id: str, *, delayed: bool = False) -> Params:
        """Pay an open session as the buyer does on the hosted page; send
        checkout.session.completed. `delayed`: a bank transfer, so the session is complete
        but unpaid until `settle()`."""
        with self._lock:
            session = self._open_session(session_id)
            payment_intent = _new_id("pi")
            status = "processing" if delayed else "succeeded"
            self._payments[payment_intent] = _Payment(
                session["amount_total"], session["currency"], status
            )
            session.update(
                status="complete",
                payment_status="unpaid" if delayed else "paid",
                payment_intent=payment_intent,
                url=None,
            )
            payload = self.event("checkout.session.completed", session_id)
        self.deliver(payload)
        return session

    def settle(self, session_id: str, succeeded: bool) -> Params:
        """End a delayed payment: send checkout.session.async_payment_succeeded (the session
        becomes paid) or checkout.session.async_payment_failed."""
        with self._lock:
            session = self._session(session_id)
            payment = self._payments.get(session["payment_intent"] or "")
            if payment is None or payment.status != "processing":
                raise FakeStripeError(400, f"{session_id} has no payment waiting to settle.")
            payment.status = "succeeded" if succeeded else "failed"
            if succeeded:
                session["payment_status"] = "paid"
            outcome = "succeeded" if succeeded else "failed"
            payload = self.event(f"checkout.session.async_payment_{outcome}", session_id)
        self.deliver(payload)
        return session

    def expire(self, session_id: str) -> Params:
        """Expire an open session, as the API call does; send checkout.session.expired."""
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise FakeStripeError(
                    400, "Only Checkout Sessions with a status of `open` can be expired."
                )
            session.update(status="expired", url=None)
            payload = self.event("checkout.session.expired", session_id)
        self.deliver(payload)
        return session

    def event(self, type: str, session_id: str, *, event_id: str | None = None) -> bytes:
        """The body of a webhook event of `type` about the session as it is now."""
        with self._lock:
            event = {
                "id": event_id or _new_id("evt"),
                "object": "event",
                "api_version": self.api_version,
                "created": int(time.time()),
                "type": type,
                "data": {"object": self._session(session_id)},
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
            }
            return json.dumps(event, indent=2).encode()

    def sign(
        self, payload: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> str:
        """The Stripe-Signature header for `payload`: `t=<unix time>,v1=<HMAC-SHA256>`."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        key = (secret or self.webhook_secret).encode()
        digest = hmac.new(key, f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"

    def deliver(self, payload: bytes, signature: str | None = None) -> int:
        """POST `payload` to the webhook (signed now unless `signature` is given), as Stripe
        does; record it in `events`; return the HTTP status (0: nothing answered)."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": WEBHOOK_USER_AGENT,
            "Stripe-Signature": self.sign(payload) if signature is None else signature,
        }
        sender = self.webhook_sender or self._post_webhook
        status = sender(payload, headers)
        try:
            sent = json.loads(payload)
        except ValueError:
            sent = {"raw": payload.decode(errors="replace")}
        with self._lock:
            self.events.append({**sent, "webhook_status": status})
        return status

    def send_event(self, type: str, session_id: str, *, event_id: str | None = None) -> int:
        """Build and deliver an event about the session; return the webhook's HTTP status."""
        return self.deliver(self.event(type, session_id, event_id=event_id))

    def _post_webhook(self, payload: bytes, headers: dict[str, str]) -> int:
        if not self.webhook_url:
            return 0
        if not self.webhook_url.startswith(("http://", "https://")):
            raise ValueError(f"not an HTTP webhook URL: {self.webhook_url}")
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.webhook_url, data=payload, headers=headers, method="POST"
        )
        try:
            with _OPENER.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            error.close()
            return error.code
        except OSError:
            return 0

    # -- HTTP ----------------------------------------------------------------------------

    def _handle(self, method: str, target: str, body: str, headers: Mapping[str, str]) -> _Response:
        url = urllib.parse.urlsplit(target)
        params = decode_form(url.query if method == "GET" else body)
        with self._lock:
            self.requests.append((method, url.path, params))
        if url.path.startswith("/v1/"):
            return self._api(method, url.path, params, headers)
        if url.path.startswith("/pay/"):
            return self._checkout_page(method, url.path.removeprefix("/pay/"))
        return _page(404, "Not Found", "<p>No such page.</p>")

    def _api(self, method: str, path: str, params: Params, headers: Mapping[str, str]) -> _Response:
        try:
            self._check_outage()
            self._authenticate(headers.get("Authorization"))
            action = self._route(method, path, params)
            key = headers.get("Idempotency-Key") if method == "POST" else None
            return self._once(key, (method, path, params), action)
        except FakeStripeError as error:
            return _json(error.status, error.body())

    def _check_outage(self) -> None:
        with self._lock:
            if not self._failures:
                return
            status = self._failures.pop(0)
        message = "An unknown error occurred (a simulated outage of the fake)."
        raise FakeStripeError(status, message, kind="api_error")

    def _authenticate(self, header: str | None) -> None:
        if not header:
            raise FakeStripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        if header != f"Bearer {self.api_key}":
            key = header.removeprefix("Bearer ")
            raise FakeStripeError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")

    def _route(self, method: str, path: str, params: Params) -> Callable[[], Params]:
        """The action for `method path`, not yet run (idempotency decides whether it runs)."""
        parts = path.removeprefix("/v1/").split("/")
        match method, parts:
            case "POST", ["checkout", "sessions"]:
                return lambda: self._create_session(params)
            case "GET", ["checkout", "sessions", session_id]:
                _refuse_unknown(params, set())
                return lambda: self._session(session_id)
            case "POST", ["checkout", "sessions", session_id, "expire"]:
                _refuse_unknown(params, set())
                return lambda: self.expire(session_id)
            case "POST", ["refunds"]:
                return lambda: self._create_refund(params)
        raise FakeStripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _once(
        self, key: str | None, request: tuple[str, str, Params], action: Callable[[], Params]
    ) -> _Response:
        """Run `action` once per idempotency key: a repeat of the same request gets the first
        response again; another request with the key is refused."""
        if key is None:
            return _json(200, action())
        with self._lock:
            if key not in self._replies:
                self._replies[key] = (request, None)
            else:
                return self._replay(key, request)
        try:
            response = _json(200, action())
        except BaseException:
            with self._lock:
                del self._replies[key]
            raise
        with self._lock:
            self._replies[key] = (request, response.body)
        return response

    def _replay(self, key: str, request: tuple[str, str, Params]) -> _Response:
        first, body = self._replies[key]
        if first != request:
            raise FakeStripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                kind="idempotency_error",
            )
        if body is None:
            raise FakeStripeError(
                409,
                "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still "
                "going through). Please try again later.",
                kind="idempotency_error",
            )
        return _Response(200, body, headers={"Request-Id": _new_id("req"), **REPLAYED})

    # -- the API's objects -----------------------------------------------------------------

    def _session(self, session_id: str) -> Params:
        with self._lock:
            session = self.sessions.get(session_id)
        if session is None:
            raise FakeStripeError(
                404,
                f"No such checkout.session: '{session_id}'",
                code="resource_missing",
                param="session",
            )
        return session

    def _open_session(self, session_id: str) -> Params:
        session = self._session(session_id)
        if session["status"] == "expired":
            raise FakeStripeError(400, "This Checkout Session has expired.")
        if session["status"] == "complete":
            raise FakeStripeError(400, "This Checkout Session is already complete.")
        return session

    def _create_session(self, params: Params) -> Params:
        _refuse_unknown(params, SESSION_PARAMS)
        if _required(params, "mode") != "payment":
            raise FakeStripeError(400, "The fake only knows mode=payment.", param="mode")
        items = _required(params, "line_items")
        priced = [_line_item(item, index) for index, item in enumerate(items)]
        currencies = {currency for currency, _ in priced}
        if len(currencies) > 1:
            raise FakeStripeError(400, "All line items must use the same currency.")
        success_url = _required(params, "success_url")
        if not str(success_url).startswith(("http://", "https://")):
            raise FakeStripeError(400, "Not a valid URL", param="success_url")
        now = int(time.time())
        session_id = _new_id("cs_test")
        amount = sum(amount for _, amount in priced)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": currencies.pop(),
            "customer_email": params.get("customer_email"),
            "expires_at": _expiry(params, now),
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": _mapping(params.get("metadata"), "metadata"),
            "mode": "payment",
            "payment_intent": None,
            "payment_method_types": params.get("payment_method_types") or ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "success_url": success_url,
            "url": f"{self.url}/pay/{session_id}",
        }
        with self._lock:
            self.sessions[session_id] = session
        return session

    def _create_refund(self, params: Params) -> Params:
        _refuse_unknown(params, REFUND_PARAMS)
        payment_intent = params.get("payment_intent")
        if not payment_intent:
            raise FakeStripeError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
            )
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise FakeStripeError(
                400, f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", param="reason"
            )
        metadata = _mapping(params.get("metadata"), "metadata")
        with self._lock:
            payment = self._refundable(payment_intent)
            left = payment.amount - payment.refunded
            amount = _integer(params.get("amount", left), "amount", 1)
            if amount > left:
                raise FakeStripeError(
                    400,
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                    f"({left})",
                    param="amount",
                )
            payment.refunded += amount
            refund = {
                "id": _new_id("re"),
                "object": "refund",
                "amount": amount,
                "created": int(time.time()),
                "currency": payment.currency,
                "metadata": metadata,
                "payment_intent": payment_intent,
                "reason": reason,
                "status": "succeeded",
            }
            self.refunds.append(refund)
        return refund

    def _refundable(self, payment_intent: str) -> _Payment:
        payment = self._payments.get(payment_intent)
        if payment is None:
            raise FakeStripeError(
                400,
                f"No such payment_intent: '{payment_intent}'",
                code="resource_missing",
                param="payment_intent",
            )
        if payment.status != "succeeded":
            raise FakeStripeError(
                400, "This PaymentIntent does not have a successful charge to refund."
            )
        if payment.refunded == payment.amount:
            raise FakeStripeError(
                400,
                f"The charge of {payment_intent} has already been refunded.",
                code="charge_already_refunded",
            )
        return payment

    # -- the hosted payment page ---------------------------------------------------------

    def _checkout_page(self, method: str, session_id: str) -> _Response:
        try:
            if method == "POST":
                session = self.pay(session_id)
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
                return _Response(303, b"", "text/html; charset=utf-8", {"Location": target})
            return self._payment_form(self._open_session(session_id))
        except FakeStripeError as error:
            return _page(error.status, "Fake Stripe Checkout", f"<p>{html.escape(str(error))}</p>")

    def _payment_form(self, session: Params) -> _Response:
        major, minor = divmod(session["amount_total"], 100)
        cancel = session["cancel_url"]
        body = (
            f"<p>{major}.{minor:02d} {html.escape(session['currency'].upper())}</p>\n"
            f'<form method="post" action="/pay/{session["id"]}">'
            '<button type="submit">Pay</button></form>'
        )
        if cancel:
            body += f'\n<p><a href="{html.escape(cancel)}">Cancel</a></p>'
        return _page(200, "Fake Stripe Checkout", body)
