"""The one small interface every way of paying implements, and the list of those that are on.

A provider is a module of this package with a `provider` object (cash on delivery: `cod`;
Stripe Checkout: `stripe`). `PAYMENT_PROVIDERS` lists the modules to load, in the order the
checkout offers them; a provider that is not configured (no keys) says so and is not offered.
Adding Paymob or Fawry is a module here and a name in that setting: orders never import one.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from flask import current_app

from artisan_market.orders.models import Order
from artisan_market.payments.models import Payment


class Outcome(enum.StrEnum):
    """What a provider says of a payment."""

    PAID = "paid"
    FAILED = "failed"  # nothing was or will be taken: the order gives its stock back
    WAITING = "waiting"  # nothing to do yet (a bank transfer on its way)


@dataclass(frozen=True)
class Started:
    """A payment started with the provider: its id there, and where the buyer pays (None:
    nothing to do online, as with cash on delivery)."""

    reference: str | None
    pay_url: str | None


@dataclass(frozen=True)
class Report:
    """What a provider says about one payment, from a webhook or when asked."""

    outcome: Outcome
    reference: str | None  # the payment's id at the provider
    charge_reference: str | None = None  # the money taken, for refunds
    amount: int | None = None  # in our minor units (piastres)
    currency: str | None = None


@dataclass(frozen=True)
class Event:
    """A webhook, verified: its id (acted on once), its type, and what it reports (None:
    a type we do not act on)."""

    event_id: str
    kind: str
    report: Report | None


class BadWebhook(Exception):
    """Not a webhook from the provider (bad or old signature, not JSON): 400, nothing done."""


class ProviderError(Exception):
    """The provider could not be reached or refused the request; `message` is for people."""


class PaymentProvider(Protocol):
    name: str
    online: bool  # the buyer pays on the provider's page before the order is placed

    def page_origin(self, config: Mapping) -> str | None:
        """The origin of the page the buyer is sent to, for the CSP (None: no page)."""

    def label(self) -> str:
        """The choice as the checkout shows it."""

    def available(self, config: Mapping) -> bool:
        """Whether it is set up (keys present) and may be offered."""

    def start(self, payment: Payment, order: Order, *, return_url: str, cancel_url: str) -> Started:
        """Ask the provider to take `payment`. Network: called with no transaction open."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> Event:
        """The event in a webhook's raw body, its signature checked (BadWebhook if not)."""

    def stop(self, payment: Payment) -> Report:
        """Stop taking `payment` (its time ran out): what it stands at once stopped. A payment
        that was made meanwhile reports PAID and must not be cancelled."""

    def refund(self, payment: Payment, amount: int, key: str) -> str:
        """Give back `amount` of a paid payment; `key` makes a retry refund once. Returns the
        provider's id of the refund (ProviderError if it fails)."""


def _load(name: str) -> PaymentProvider:
    module = importlib.import_module(f"artisan_market.payments.{name}")
    return module.provider


def all_providers() -> dict[str, PaymentProvider]:
    """Every provider named in PAYMENT_PROVIDERS, configured or not."""
    return {name: _load(name) for name in current_app.config["PAYMENT_PROVIDERS"]}


def offered() -> dict[str, PaymentProvider]:
    """The providers a buyer may choose now, in the checkout's order."""
    config = current_app.config
    return {name: p for name, p in all_providers().items() if p.available(config)}


def payment_page_origins() -> list[str]:
    """Where the checkout may send a buyer to pay (form-action of the CSP)."""
    config = current_app.config
    origins = (p.page_origin(config) for p in offered().values())
    return [origin for origin in origins if origin]


def get(name: str) -> PaymentProvider:
    """A provider by name (KeyError if it is not one of PAYMENT_PROVIDERS)."""
    if name not in current_app.config["PAYMENT_PROVIDERS"]:
        raise KeyError(name)
    return _load(name)
