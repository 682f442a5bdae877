"""The fake Stripe, driven by the real stripe SDK over HTTP as the app drives Stripe."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from tests.fakes.stripe_server import FakeStripe, decode_form

SUCCESS_URL = "https://market.example/orders/7/paid?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://market.example/basket"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def sent(fake: FakeStripe) -> list[tuple[bytes, dict[str, str]]]:
    """Webhooks the fake sends, kept here instead of posted (the webhook answers 200)."""
    deliveries: list[tuple[bytes, dict[str, str]]] = []

    def keep(payload: bytes, headers: dict[str, str]) -> int:
        deliveries.append((payload, headers))
        return 200

    fake.webhook_sender = keep
    return deliveries


@pytest.fixture
def stripe_client(fake: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient(
        fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0
    )


def session_params(**extra: Any) -> dict[str, Any]:
    """Two baskets at 250.00 EGP each, asked for as the app asks."""
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "egp",
                    "unit_amount": 25_000,
                    "product_data": {"name": "سلة خوص"},
                },
                "quantity": 2,
            }
        ],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "client_reference_id": "order-7",
        "metadata": {"order": "7"},
        "customer_email": "buyer@example.com",
        "locale": "ar",
        **extra,
    }


def new_session(client: stripe.StripeClient, **extra: Any) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(params=session_params(**extra))


def construct(payload: bytes, headers: dict[str, str], secret: str) -> stripe.Event:
    return stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], secret)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def browser_request(url: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    """Status, headers and text of one request, as a browser sends it; redirects not followed."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (the fake's URL)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()


def test_create_and_retrieve_a_session(fake: FakeStripe, stripe_client: stripe.StripeClient):
    expires_at = int(time.time()) + 3600
    session = new_session(stripe_client, expires_at=expires_at)

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{fake.url}/pay/{session.id}"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert (session.amount_total, session.currency) == (50_000, "egp")
    assert session.client_reference_id == "order-7"
    assert session.metadata.to_dict() == {"order": "7"}
    assert session.expires_at == expires_at
    assert session.payment_intent is None
    assert session.success_url == SUCCESS_URL
    assert session.livemode is False
    assert stripe_client.v1.checkout.sessions.retrieve(session.id) == session
    method, path, params = fake.requests[0]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert params["line_items"][0]["price_data"]["product_data"] == {"name": "سلة خوص"}


def test_a_session_lasts_a_day_unless_told(stripe_client: stripe.StripeClient):
    before = int(time.time())
    session = new_session(stripe_client)
    assert before + 24 * 3600 <= session.expires_at <= int(time.time()) + 24 * 3600


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"line_items": None}, "line_items"),
        ({"success_url": None}, "success_url"),
        ({"expires_at": "soon"}, "expires_at"),
        ({"mode": "subscription"}, "mode"),
        ({"invoice_creation": {"enabled": True}}, "invoice_creation"),
    ],
)
def test_refuses_what_stripe_refuses(stripe_client: stripe.StripeClient, change, param):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        new_session(stripe_client, **change)
    assert refused.value.http_status == 400
    assert refused.value.param == param


@pytest.mark.parametrize("minutes", [20, 24 * 60 + 5])
def test_expiry_must_be_half_an_hour_to_a_day_away(stripe_client: stripe.StripeClient, minutes):
    with pytest.raises(stripe.InvalidRequestError, match="expires_at"):
        new_session(stripe_client, expires_at=int(time.time()) + minutes * 60)


def test_a_line_item_needs_a_price_and_a_quantity(stripe_client: stripe.StripeClient):
    item = {"price_data": {"currency": "egp", "product_data": {"name": "سلة"}}, "quantity": 1}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        new_session(stripe_client, line_items=[item])
    assert refused.value.param == "line_items[0][price_data][unit_amount]"


def test_unknown_session_is_missing(stripe_client: stripe.StripeClient):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_an_idempotency_key_creates_one_session(
    fake: FakeStripe, stripe_client: stripe.StripeClient
):
    options: stripe.RequestOptions = {"idempotency_key": "order-7-attempt-1"}
    first = stripe_client.v1.checkout.sessions.create(params=session_params(), options=options)
    again = stripe_client.v1.checkout.sessions.create(params=session_params(), options=options)

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert list(fake.sessions) == [first.id]
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="order-8"), options=options
        )


def test_a_wrong_api_key_is_refused(fake: FakeStripe):
    client = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake.url})
    with pytest.raises(stripe.AuthenticationError):
        client.v1.checkout.sessions.create(params=session_params())
    assert fake.sessions == {}


def test_no_api_key_is_refused_with_stripes_error_shape(fake: FakeStripe):
    status, _, body = browser_request(f"{fake.url}/v1/checkout/sessions/cs_test_x")
    assert status == 401
    assert json.loads(body)["error"]["type"] == "invalid_request_error"


def test_paying_sends_a_signed_completed_event(
    fake: FakeStripe, stripe_client: stripe.StripeClient, sent
):
    session = new_session(stripe_client)
    fake.pay(session.id)

    payload, headers = sent[-1]
    event = construct(payload, headers, fake.webhook_secret)
    assert event.type == "checkout.session.completed"
    paid = event.data.object
    assert (paid.id, paid.status, paid.payment_status) == (session.id, "complete", "paid")
    assert paid.payment_intent.startswith("pi_")
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    assert fake.events[-1]["webhook_status"] == 200
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_a_signature_needs_the_secret_and_a_recent_time(
    fake: FakeStripe, stripe_client: stripe.StripeClient
):
    payload = fake.event("checkout.session.completed", new_session(stripe_client).id)

    stripe.Webhook.construct_event(payload, fake.sign(payload), fake.webhook_secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, fake.sign(payload), "whsec_other")
    stale = fake.sign(payload, timestamp=int(time.time()) - 400)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(payload, stale, fake.webhook_secret, tolerance=300)


def test_the_event_has_stripes_shape(fake: FakeStripe, stripe_client: stripe.StripeClient):
    session = new_session(stripe_client)
    event = json.loads(fake.event("checkout.session.expired", session.id, event_id="evt_1"))
    assert event == {
        "id": "evt_1",
        "object": "event",
        "api_version": "2024-06-20",
        "created": event["created"],
        "type": "checkout.session.expired",
        "data": {"object": fake.sessions[session.id]},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
    }


def test_the_buyer_pays_on_the_hosted_page(
    fake: FakeStripe, stripe_client: stripe.StripeClient, sent
):
    session = new_session(stripe_client)

    status, _, page = browser_request(session.url)
    assert status == 200
    assert '<html lang="en">' in page
    assert "<h1>Fake Stripe Checkout</h1>" in page
    assert "500.00 EGP" in page
    assert ">Pay</button>" in page
    assert f'<a href="{CANCEL_URL}">Cancel</a>' in page

    status, headers, _ = browser_request(session.url, "POST")
    assert status == 303
    assert headers["Location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)
    assert [e["type"] for e in fake.events] == ["checkout.session.completed"]
    assert browser_request(session.url, "POST")[0] == 400


def test_webhooks_are_posted_to_the_webhook_url(
    fake: FakeStripe, stripe_client: stripe.StripeClient, webhook: _Received
):
    fake.webhook_url = webhook.url
    session = new_session(stripe_client)
    assert fake.send_event("checkout.session.completed", session.id) == 200

    headers, payload = webhook[0]
    event = construct(payload, headers, fake.webhook_secret)
    assert event.data.object.id == session.id
    assert headers["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def test_each_delivery_is_recorded_with_its_status(
    fake: FakeStripe, stripe_client: stripe.StripeClient
):
    session = new_session(stripe_client)
    assert fake.send_event("checkout.session.completed", session.id) == 0
    fake.webhook_sender = lambda payload, headers: 500
    assert fake.send_event("checkout.session.completed", session.id) == 500
    assert [e["webhook_status"] for e in fake.events] == [0, 500]


def test_expiring_an_open_session(fake: FakeStripe, stripe_client: stripe.StripeClient, sent):
    session = new_session(stripe_client)

    expired = stripe_client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    event = construct(*sent[-1], fake.webhook_secret)
    assert (event.type, event.data.object.status) == ("checkout.session.expired", "expired")
    with pytest.raises(stripe.InvalidRequestError, match="status of `open`"):
        stripe_client.v1.checkout.sessions.expire(session.id)
    status, _, page = browser_request(session.url, "POST")
    assert status == 400
    assert "expired" in page


def test_a_paid_session_cannot_be_expired(fake: FakeStripe, stripe_client: stripe.StripeClient):
    session = new_session(stripe_client)
    fake.pay(session.id)
    with pytest.raises(stripe.InvalidRequestError, match="status of `open`"):
        stripe_client.v1.checkout.sessions.expire(session.id)
    assert [e["type"] for e in fake.events] == ["checkout.session.completed"]


def test_refunds_in_part_then_in_full(fake: FakeStripe, stripe_client: stripe.StripeClient):
    payment_intent = fake.pay(new_session(stripe_client).id)["payment_intent"]

    part = stripe_client.v1.refunds.create(
        params={"payment_intent": payment_intent, "amount": 10_000, "metadata": {"order": "7"}},
        options={"idempotency_key": "refund-7-1"},
    )
    assert (part.object, part.amount, part.currency, part.status) == (
        "refund",
        10_000,
        "egp",
        "succeeded",
    )
    assert part.id.startswith("re_")
    assert part.metadata.to_dict() == {"order": "7"}
    again = stripe_client.v1.refunds.create(
        params={"payment_intent": payment_intent, "amount": 10_000, "metadata": {"order": "7"}},
        options={"idempotency_key": "refund-7-1"},
    )
    assert again.id == part.id
    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded"):
        stripe_client.v1.refunds.create(params={"payment_intent": payment_intent, "amount": 50_000})
    rest = stripe_client.v1.refunds.create(params={"payment_intent": payment_intent})
    assert rest.amount == 40_000
    assert [refund["amount"] for refund in fake.refunds] == [10_000, 40_000]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.refunds.create(params={"payment_intent": payment_intent, "amount": 1})
    assert refused.value.code == "charge_already_refunded"


def test_a_refund_needs_a_known_payment(stripe_client: stripe.StripeClient):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.refunds.create(params={"payment_intent": "pi_unknown"})
    assert (refused.value.http_status, refused.value.param) == (400, "payment_intent")


def test_a_delayed_payment_settles_later(
    fake: FakeStripe, stripe_client: stripe.StripeClient, sent
):
    transfer = new_session(stripe_client)
    fake.pay(transfer.id, delayed=True)
    completed = construct(*sent[-1], fake.webhook_secret).data.object
    assert (completed.status, completed.payment_status) == ("complete", "unpaid")
    with pytest.raises(stripe.InvalidRequestError, match="successful charge"):
        stripe_client.v1.refunds.create(params={"payment_intent": completed.payment_intent})

    fake.settle(transfer.id, succeeded=True)
    event = construct(*sent[-1], fake.webhook_secret)
    assert event.type == "checkout.session.async_payment_succeeded"
    assert event.data.object.payment_status == "paid"

    bounced = new_session(stripe_client)
    fake.pay(bounced.id, delayed=True)
    fake.settle(bounced.id, succeeded=False)
    event = construct(*sent[-1], fake.webhook_secret)
    assert event.type == "checkout.session.async_payment_failed"
    assert event.data.object.payment_status == "unpaid"


def test_an_outage_raises_api_error(fake: FakeStripe, stripe_client: stripe.StripeClient):
    fake.fail_next(1)
    with pytest.raises(stripe.APIError) as failed:
        new_session(stripe_client)
    assert failed.value.http_status == 500
    assert fake.sessions == {}
    assert new_session(stripe_client).status == "open"


def test_the_sdk_retries_with_the_same_key(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0)
    client = stripe.StripeClient(
        fake.api_key, base_addresses={"api": fake.url}, max_network_retries=2
    )
    fake.fail_next(2, status=503)

    session = new_session(client)
    assert list(fake.sessions) == [session.id]
    assert [path for _, path, _ in fake.requests] == ["/v1/checkout/sessions"] * 3


def test_decode_form_nests_brackets():
    body = (
        "line_items[0][price_data][unit_amount]=5&line_items[0][quantity]=2"
        "&line_items[1][quantity]=1&metadata[0]=zero&metadata[order]=7&mode=payment"
    )
    assert decode_form(body) == {
        "line_items": [{"price_data": {"unit_amount": "5"}, "quantity": "2"}, {"quantity": "1"}],
        "metadata": {"0": "zero", "order": "7"},
        "mode": "payment",
    }


class _Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint that keeps what it is sent and answers 200."""

    server: _ReceiverServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _ReceiverServer(ThreadingHTTPServer):
    received: list[tuple[dict, bytes]]


class _Received(list):
    url: str


@pytest.fixture
def webhook() -> Iterator[_Received]:
    """A real HTTP webhook endpoint on 127.0.0.1; the list of (headers, body) it received,
    with its `url`."""
    server = _ReceiverServer(("127.0.0.1", 0), _Receiver)
    server.received = received = _Received()
    received.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield received
    server.shutdown()
    server.server_close()
    thread.join()
