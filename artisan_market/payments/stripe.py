"""Card payments through Stripe Checkout: a page Stripe hosts, so no card data and no Stripe
script ever reach our pages.

The buyer is sent to a Checkout Session that expires when the stock held for her order goes
back; Stripe tells us what happened through signed webhooks (`verify_webhook`), never through
the buyer's return to our site. `STRIPE_API_BASE` points the SDK elsewhere (the tests' local
fake); it is empty in production.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import stripe
from flask import current_app
from flask_babel import gettext as _

from artisan_market import money
from artisan_market.orders.models import Order
from artisan_market.payments.models import Payment
from artisan_market.payments.providers import (
    BadWebhook,
    Event,
    Outcome,
    ProviderError,
    Report,
    Started,
)

# Stripe accepts a Checkout Session's expiry from 30 minutes to 24 hours after it is made.
SHORTEST_SESSION = 30 * 60
SIGNATURE_TOLERANCE = 300  # seconds: an older signed event is a replay
NETWORK_RETRIES = 2

_PAID_STATUSES = {"paid", "no_payment_required"}
_EVENT_OUTCOMES = {
    "checkout.session.async_payment_succeeded": Outcome.PAID,
    "checkout.session.async_payment_failed": Outcome.FAILED,
    "checkout.session.expired": Outcome.FAILED,
}


def _client() -> stripe.StripeClient:
    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        max_network_retries=NETWORK_RETRIES,
    )


def _report(session: Mapping, outcome: Outcome) -> Report:
    currency = str(session.get("currency") or "").upper() or None
    amount = session.get("amount_total")
    return Report(
        outcome=outcome,
        reference=session.get("id"),
        charge_reference=session.get("payment_intent"),
        amount=money.from_provider(amount, currency) if amount is not None and currency else None,
        currency=currency,
    )


def _session_outcome(session: Mapping) -> Outcome:
    """Where a session stands: paid, over without payment, or neither yet."""
    if session.get("status") == "complete" and session.get("payment_status") in _PAID_STATUSES:
        return Outcome.PAID
    if session.get("status") == "expired":
        return Outcome.FAILED
    return Outcome.WAITING


def _line_items(order: Order) -> list[dict]:
    currency = order.currency.lower()
    lines = []
    for part in order.parts:
        for item in part.items:
            lines.append(
                {
                    "price_data": {
                        "currency": currency,
                        "unit_amount": money.to_provider(item.unit_price, order.currency),
                        "product_data": {"name": item.title},
                    },
                    "quantity": item.quantity,
                }
            )
        if part.shipping_fee:
            name = _("Shipping: %(artisan)s", artisan=part.artisan.display_name)
            lines.append(
                {
                    "price_data": {
                        "currency": currency,
                        "unit_amount": money.to_provider(part.shipping_fee, order.currency),
                        "product_data": {"name": name},
                    },
                    "quantity": 1,
                }
            )
    return lines


class StripeCheckout:
    name = "stripe"
    online = True

    def label(self) -> str:
        return _("Card (Visa, Mastercard, Meeza) on Stripe's secure page")

    def available(self, config: Mapping) -> bool:
        return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_WEBHOOK_SECRET"))

    def page_origin(self, config: Mapping) -> str | None:
        return config["STRIPE_CHECKOUT_ORIGIN"]

    def start(self, payment: Payment, order: Order, *, return_url: str, cancel_url: str) -> Started:
        # Stripe's shortest expiry, or the order's own if that is later. The key names the
        # expiry: a retry within the same second is the same session, a later one a new one.
        expires_at = max(int(time.time()) + SHORTEST_SESSION + 60, int(order.pay_by.timestamp()))
        params = {
            "mode": "payment",
            "line_items": _line_items(order),
            "success_url": return_url,
            "cancel_url": cancel_url,
            "client_reference_id": order.number,
            "metadata": {"order": order.number, "payment": str(payment.id)},
            "expires_at": expires_at,
        }
        if order.email:
            params["customer_email"] = order.email
        try:
            session = _client().v1.checkout.sessions.create(
                params=params,
                options={"idempotency_key": f"checkout-{payment.id}-{expires_at}"},
            )
        except stripe.StripeError as error:
            current_app.logger.warning("Stripe checkout for order %s failed: %s", order.id, error)
            raise ProviderError(_("The card payment page could not be opened.")) from error
        return Started(reference=session.id, pay_url=session.url)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> Event:
        secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
        try:
            payload = body.decode("utf-8")
            stripe.WebhookSignature.verify_header(
                payload, headers.get("Stripe-Signature"), secret, SIGNATURE_TOLERANCE
            )
            event = json.loads(payload)
            kind, session = event["type"], event["data"]["object"]
            event_id = event["id"]
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
            raise BadWebhook(str(error)) from error
        except (KeyError, TypeError) as error:
            raise BadWebhook(f"not an event: {error}") from error
        if kind == "checkout.session.completed":
            return Event(event_id, kind, _report(session, _session_outcome(session)))
        if kind in _EVENT_OUTCOMES:
            return Event(event_id, kind, _report(session, _EVENT_OUTCOMES[kind]))
        return Event(event_id, kind, None)

    def stop(self, payment: Payment) -> Report:
        if payment.reference is None:  # the payment page was never opened
            return Report(Outcome.FAILED, None)
        client = _client()
        try:
            session = client.v1.checkout.sessions.expire(payment.reference)
        except stripe.InvalidRequestError:
            # Not open any more: paid meanwhile, or expired already. Ask which.
            try:
                session = client.v1.checkout.sessions.retrieve(payment.reference)
            except stripe.StripeError as error:
                raise ProviderError(str(error)) from error
        except stripe.StripeError as error:
            raise ProviderError(str(error)) from error
        session = session.to_dict()
        return _report(session, _session_outcome(session))

    def refund(self, payment: Payment, amount: int, key: str) -> str:
        params = {
            "payment_intent": payment.charge_reference,
            "amount": money.to_provider(amount, payment.currency),
            "metadata": {"payment": str(payment.id)},
        }
        try:
            refund = _client().v1.refunds.create(params=params, options={"idempotency_key": key})
        except stripe.StripeError as error:
            raise ProviderError(str(error)) from error
        return refund.id


provider = StripeCheckout()
