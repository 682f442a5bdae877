"""The audit log for coordinators and admins: read it on a phone, or take it away as CSV."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, render_template, request
from flask_babel import to_user_timezone

from artisan_market import paging
from artisan_market.audit import bp, services
from artisan_market.extensions import db
from artisan_market.i18n import current_locale
from artisan_market.security import staff_required
from artisan_market.timeutil import utcnow

PER_PAGE = 50


def _action_filter() -> str:
    """?action= as given (an exact action or a prefix such as "listing."); "" for all."""
    return (request.args.get("action") or "").strip()[:60]


def _names() -> dict[str, dict]:
    """Category and organisation names for the ids the log keeps (two small tables)."""
    from artisan_market.accounts.models import Organisation
    from artisan_market.catalog.models import Category

    locale = current_locale()
    return {
        "category_id": {c.id: c.name(locale) for c in db.session.scalars(sa.select(Category))},
        "organisation_id": {
            o.id: o.name(locale) for o in db.session.scalars(sa.select(Organisation))
        },
    }


@bp.get("/audit")
@staff_required
def index():
    """Newest first, 50 a page, filtered by ?action=. Other roles 403; anonymous → log in.

    A page number past the end (or not a number) goes to the first page.
    """
    action = _action_filter()
    page = paging.paginate(
        services.events_query(action), PER_PAGE, args={"action": action} if action else {}
    )
    names = _names()
    choices = [(value, str(label)) for value, label in services.ACTION_LABELS.items()]
    if action and action not in services.ACTION_LABELS:
        choices.append((action, action))
    return render_template(
        "audit/index.html",
        page=page,
        action=action,
        choices=choices,
        action_label=services.action_label,
        subject_label=services.subject_label,
        changes=lambda event: services.changes(event, names),
    )


@bp.get("/audit.csv")
@staff_required
def export():
    """The same events (same ?action=) as a CSV download, UTF-8 with BOM.

    Built whole before it is sent: the log of a coalition is thousands of rows, not millions,
    and a streamed body would outlive the request's database session. Other roles 403;
    anonymous → log in.
    """
    events = db.session.scalars(
        services.events_query(_action_filter()).execution_options(yield_per=500)
    )
    day = to_user_timezone(utcnow()).strftime("%Y%m%d")
    return Response(
        services.csv_export(events),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename=audit-{day}.csv"},
    )
