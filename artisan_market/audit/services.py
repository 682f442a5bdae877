"""Writing to the audit log and reading it back (the coordinators' page and the CSV export).

`record` adds and flushes in the caller's transaction, so an event is kept exactly when the
change it describes is committed. It never commits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from artisan_market.accounts.models import User
from artisan_market.audit.models import AuditEvent
from artisan_market.extensions import db
from artisan_market.i18n import format_moment, format_number
from artisan_market.money import format_money
from artisan_market.spreadsheets import cell as _cell
from artisan_market.spreadsheets import csv_bytes

ACTION_LABELS = {
    "artisan.verified": _l("Artisan verified"),
    "artisan.declined": _l("Artisan not verified"),
    "listing.approved": _l("Product approved"),
    "listing.rejected": _l("Product sent back for changes"),
    "listing.created_on_behalf": _l("Product added on her behalf"),
    "listing.edited_on_behalf": _l("Product changed on her behalf"),
    "listing.deleted_on_behalf": _l("Draft deleted on her behalf"),
    "password_link.issued": _l("Password link made"),
    "order.accepted": _l("Order accepted on her behalf"),
    "order.shipped": _l("Order sent on her behalf"),
    "order.delivered": _l("Order marked delivered"),
    "order.cancelled": _l("Order part cancelled on her behalf"),
    "order.cash_collected": _l("Cash on delivery collected"),
    "shipping.fees_changed": _l("Shipping fees changed"),
    "grant.programme_created": _l("Grant programme set up"),
    "grant.programme_changed": _l("Grant programme changed"),
    "grant.applied": _l("Grant applied for"),
    "grant.applied_on_behalf": _l("Grant applied for on her behalf"),
    "grant.approved": _l("Grant approved"),
    "grant.declined": _l("Grant declined"),
    "grant.withdrawn": _l("Grant application withdrawn"),
    "grant.instalment": _l("Grant instalment given"),
    "grant.instalment_confirmed": _l("Grant instalment confirmed by her"),
    "grant.instalment_disputed": _l("Grant instalment disputed by her"),
    "grant.instalment_cancelled": _l("Grant instalment cancelled as a mistake"),
    "ledger.sale": _l("Sale booked to her earnings"),
    "ledger.payout": _l("Payout recorded"),
    "ledger.reversed": _l("Ledger entry corrected"),
    "ledger.fee_changed": _l("Platform fee changed"),
}

SUBJECT_LABELS = {
    "artisan": _l("Artisan"),
    "listing": _l("Product"),
    "product": _l("Product"),
    "user": _l("Account"),
    "order_part": _l("Order part"),
    "shipping": _l("Shipping fees"),
    "programme": _l("Grant programme"),
    "grant_application": _l("Grant application"),
    "grant_instalment": _l("Grant instalment"),
    "platform_fee": _l("Platform fee"),
}

CSV_COLUMNS = ("time", "actor", "action", "subject", "before", "after")


def _plain_json(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """What JSON can keep: dates and enums become their text, nothing is refused."""
    if values is None:
        return None
    return json.loads(json.dumps(values, default=str, ensure_ascii=False))


def record(
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: int,
    *,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Add one event (flushed, not committed). `actor` None means the system did it."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_name=(actor.name if actor is not None else "")[:120],
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        before=_plain_json(before),
        after=_plain_json(after),
    )
    db.session.add(event)
    db.session.flush()
    return event


def events_query(action_prefix: str | None = None) -> sa.Select:
    """Events, newest first; `action_prefix` keeps "listing.rejected" or all of "listing."."""
    query = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action_prefix:
        query = query.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
    return query


def action_label(action: str) -> str:
    """The action in the page's language; an action without a label shows as it is stored."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def subject_label(subject_type: str) -> str:
    label = SUBJECT_LABELS.get(subject_type)
    return str(label) if label is not None else subject_type


# Values that say "nothing here": a change from one to another is no change.
_NOTHING = (None, "", [])


def _shown(value: Any) -> str:
    if value in _NOTHING:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _yes_no(value: Any) -> str:
    return str(_l("Yes")) if value else str(_l("No"))


def _label(labels: dict) -> Callable[[Any], str]:
    """A stored enum value in the words the rest of the site uses for it."""
    by_value = {member.value: text for member, text in labels.items()}
    return lambda value: str(by_value[value]) if value in by_value else _shown(value)


def _money(value: Any) -> str:
    return format_money(value) if isinstance(value, int) else _shown(value)


def _count_photos(value: Any) -> str:
    return format_number(len(value)) if isinstance(value, list) else _shown(value)


def _number(value: Any) -> str:
    return format_number(value) if isinstance(value, int) else _shown(value)


def _moment(value: Any) -> str:
    try:
        return format_moment(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return _shown(value)


def _fields() -> dict[str, tuple[Any, Callable[[Any], str]]]:
    """field → (its name, how a stored value of it reads), for what the audit log keeps."""
    from artisan_market.accounts.models import VERIFICATION_LABELS, PasswordLinkPurpose
    from artisan_market.catalog.models import STATUS_LABELS, RejectionReason

    reasons = {reason: reason.label for reason in RejectionReason}
    purposes = {
        PasswordLinkPurpose.INVITE: _l("Her new account"),
        PasswordLinkPurpose.RESET: _l("A forgotten password"),
    }
    return {
        "status": (_l("Status"), _label(STATUS_LABELS)),
        "title": (_l("Name of the piece"), _shown),
        "description": (_l("Description"), _shown),
        "materials": (_l("Materials"), _shown),
        "category_id": (_l("Category"), _shown),
        "size": (_l("Size"), _shown),
        "weight_grams": (_l("Weight in grams"), _number),
        "price": (_l("Price"), _money),
        "made_to_order": (_l("Made to order"), _yes_no),
        "stock": (_l("Ready pieces"), _number),
        "days_to_make": (_l("Days needed to make one"), _number),
        "photos": (_l("Photos"), _count_photos),
        "reason": (_l("Reason"), _label(reasons)),
        "note": (_l("Note"), _shown),
        "verification": (_l("Verification"), _label(VERIFICATION_LABELS)),
        "organisation_id": (_l("Organisation"), _shown),
        "decline_reason": (_l("Reason"), _shown),
        "purpose": (_l("Link for"), _label(purposes)),
        "expires_at": (_l("Works until"), _moment),
    }


def changes(event: AuditEvent, names: dict[str, dict] | None = None) -> list[tuple[str, str, str]]:
    """(field, before, after) in the page's words, for each field that differs.

    Fields and enum values read as the rest of the site words them (status "Live", not
    "live"); `names` turns ids into names ({"category_id": {3: "Pottery"}, ...}). A field this
    version does not know shows as stored.
    """
    before, after = event.before or {}, event.after or {}
    keys = [*before, *(k for k in after if k not in before)]
    fields = _fields()
    rows = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old == new or (old in _NOTHING and new in _NOTHING):
            continue
        label, shown = fields.get(key, (key, _shown))
        lookup = (names or {}).get(key)
        if lookup is not None:
            shown = lambda value, lookup=lookup: lookup.get(value, _shown(value))  # noqa: E731
        rows.append((str(label), shown(old), shown(new)))
    return rows


def _json_cell(values: dict | None) -> str:
    return "" if values is None else _cell(json.dumps(values, ensure_ascii=False, sort_keys=True))


def csv_rows(events: Iterable[AuditEvent]) -> Iterator[list[str]]:
    """The header, then one row per event: ISO 8601 UTC time, actor, action, subject, JSON."""
    yield list(CSV_COLUMNS)
    for event in events:
        yield [
            event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            _cell(event.actor_name),
            event.action,
            f"{event.subject_type}:{event.subject_id}",
            _json_cell(event.before),
            _json_cell(event.after),
        ]


def csv_export(events: Iterable[AuditEvent]) -> bytes:
    """The CSV export: UTF-8 with a byte-order mark, so Excel reads the Arabic right."""
    return csv_bytes(csv_rows(events))
