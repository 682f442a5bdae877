"""Her notifications: read them, and mark them all read."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from artisan_market import paging
from artisan_market.forms import EmptyForm
from artisan_market.notifications import bp, services

PER_PAGE = 30


@bp.get("/notifications")
@login_required
def index():
    """Hers only, newest first, 30 a page; unread ones marked. Anonymous → log in; a page
    past the end → the first page.

    Reading the page changes nothing (a GET never writes): "Mark all as read" does.
    """
    page = paging.paginate(services.notifications_query(current_user), PER_PAGE)
    return render_template(
        "notifications/index.html",
        page=page,
        message=services.message,
    )


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark all of hers read, then back to the list (303). A missing CSRF token is a 400."""
    form = EmptyForm()
    if form.validate_on_submit():
        services.mark_all_read(current_user)
    return redirect(url_for("notifications.index"), 303)
