"""Background work for payments: refunds, sent and retried, and unpaid orders stopped when
their time runs out, even if no webhook comes."""

from __future__ import annotations

from huey import crontab

from artisan_market.jobs import huey
from artisan_market.payments import services


@huey.task(retries=10, retry_delay=60)
def send_refund(refund_id: int) -> str:
    """One refund; a provider outage retries it every minute for ten minutes, then it stays
    pending for staff to see."""
    return services.send_refund(refund_id)  # ProviderError: huey tries again


@huey.periodic_task(crontab(minute="*"))
def expire_unpaid_orders() -> int:
    """Every minute: card orders whose time to pay ran out give their stock back."""
    return services.expire_unpaid()
