"""Background work for payments: refunds, sent and retried (and sent again while they stay
pending), and unpaid orders stopped when their time runs out, even if no webhook comes."""

from __future__ import annotations

from huey import crontab

from artisan_market.jobs import huey
from artisan_market.payments import services


@huey.task(retries=10, retry_delay=60)
def send_refund(refund_id: int) -> str:
    """One refund; a provider outage retries it every minute for ten minutes, then it stays
    pending for staff to see."""
    return services.send_refund(refund_id)  # ProviderError: huey tries again


@huey.periodic_task(crontab(minute="*/10"))
def send_pending_refunds() -> int:
    """Every ten minutes: refunds still pending a quarter of an hour after they were asked
    for are sent again (their job was lost with Redis or a killed worker, or ran out of
    tries while the provider was down). Safe at any time: the provider refunds a key once."""
    return services.send_pending_refunds()


@huey.periodic_task(crontab(minute="*"))
def expire_unpaid_orders() -> int:
    """Every minute: card orders whose time to pay ran out give their stock back."""
    return services.expire_unpaid()
