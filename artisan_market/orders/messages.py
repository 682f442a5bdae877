"""What an order tells people: the artisan a notification (and her email), the buyer an email
with her tracking link, in the language she ordered in. Sent only if the change is kept."""

from __future__ import annotations

from flask_babel import force_locale, gettext, ngettext

from artisan_market.i18n import LOCALES, format_number, isolate
from artisan_market.money import format_money
from artisan_market.notifications.email import email_later
from artisan_market.notifications.services import absolute_url, notify
from artisan_market.orders.models import Order, OrderPart


def tell_artisan(part: OrderPart, kind: str) -> None:
    pieces = sum(item.quantity for item in part.items)
    notify(
        part.artisan.user,
        kind,
        link=f"/parts/{part.id}",  # a path (notifications keep paths), also from a job
        number=part.order.display_number,
        pieces={locale: _pieces(pieces, locale) for locale in LOCALES},
    )


def _pieces(count: int, locale: str) -> str:
    with force_locale(locale):
        return ngettext("%(count)s piece", "%(count)s pieces", count, count=format_number(count))


def tracking_url(order: Order) -> str:
    return absolute_url(f"/orders/{order.token}")


def _subject(kind: str, order: Order) -> str:
    number = order.display_number
    subjects = {
        "placed": gettext("Your order %(number)s is placed", number=number),
        "accepted": gettext("Your order %(number)s is being prepared", number=number),
        "shipped": gettext("Part of your order %(number)s is on its way", number=number),
        "cancelled": gettext("Part of your order %(number)s was cancelled", number=number),
    }
    return f"{gettext('Artisan Market')}: {subjects[kind]}"


def _news(kind: str, order: Order, part: OrderPart | None) -> list[str]:
    if kind == "placed":
        lines = [
            gettext("Thank you. Your order %(number)s is placed.", number=order.display_number),
            gettext("Total: %(total)s", total=format_money(order.total)),
        ]
        if order.payment_method == "cod":
            lines.append(gettext("You pay in cash when each parcel arrives."))
        return lines
    artisan = isolate(part.artisan.display_name)
    if kind == "accepted":
        if part.ready_by:
            return [
                gettext(
                    "%(artisan)s accepted your order and will have it ready by %(day)s.",
                    artisan=artisan,
                    day=part.ready_by.isoformat(),
                )
            ]
        return [gettext("%(artisan)s accepted your order and is preparing it.", artisan=artisan)]
    if kind == "shipped":
        lines = [gettext("%(artisan)s sent your parcel.", artisan=artisan)]
        if part.courier or part.tracking_number:
            lines.append(
                gettext(
                    "Courier: %(courier)s %(number)s",
                    courier=isolate(part.courier),
                    number=isolate(part.tracking_number),
                ).strip()
            )
        return lines
    lines = [
        gettext("%(artisan)s cannot send her part of your order.", artisan=artisan),
        gettext("Reason: %(reason)s", reason=part.cancel_reason.label),
    ]
    if order.payment_method != "cod" and order.paid_at:
        lines.append(
            gettext("%(amount)s will be refunded to your card.", amount=format_money(part.total))
        )
    return lines


def tell_buyer(order: Order, kind: str, *, part: OrderPart | None = None) -> None:
    """Email the buyer, if she gave an address, once the change is kept."""
    if not order.email:
        return
    locale = order.locale if order.locale in LOCALES else "ar"
    with force_locale(locale):
        body = [
            gettext("Hello %(name)s,", name=order.name),
            "",
            *_news(kind, order, part),
            "",
            gettext("Follow your order: %(url)s", url=tracking_url(order)),
            "",
            gettext("Artisan Market"),
        ]
        subject = _subject(kind, order)
    email_later(order.email, subject, "\n".join(body), log_as=f"order {order.id}")
