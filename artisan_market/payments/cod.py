"""Cash on delivery: no keys, no network. The courier collects; a coordinator records it."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _

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


class CashOnDelivery:
    name = "cod"
    online = False

    def label(self) -> str:
        return _("Cash on delivery")

    def available(self, config: Mapping) -> bool:
        return True

    def page_origin(self, config: Mapping) -> str | None:
        return None

    def start(self, payment: Payment, order: Order, *, return_url: str, cancel_url: str) -> Started:
        return Started(reference=None, pay_url=None)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> Event:
        raise BadWebhook("cash on delivery has no webhooks")

    def stop(self, payment: Payment) -> Report:
        return Report(Outcome.WAITING, payment.reference)

    def refund(self, payment: Payment, amount: int, key: str) -> str:
        # Cash is handed back by the coordinator, outside the site.
        raise ProviderError(_("Cash is given back by hand."))


provider = CashOnDelivery()
