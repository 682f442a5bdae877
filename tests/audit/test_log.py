"""The audit log: written by rules, read by coordinators, never changed by anyone."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from artisan_market.audit import services
from artisan_market.audit.models import (
    APPEND_ONLY_TRIGGERS,
    DROP_APPEND_ONLY_TRIGGERS,
    AuditEvent,
    AuditLogIsAppendOnly,
)
from artisan_market.extensions import db


def install_append_only_triggers(conn: sa.Connection) -> None:
    """As the revision does: op.execute(...) runs each statement through sa.text()."""
    for statement in APPEND_ONLY_TRIGGERS[conn.dialect.name]:
        conn.execute(sa.text(statement))


def _event(actor=None, action="listing.approved", subject_id=1, **kw) -> AuditEvent:
    event = services.record(actor, action, "listing", subject_id, **kw)
    db.session.commit()
    return event


def test_an_event_reads_back_as_written(app, make_user):
    """Is what a rule records read back whole: who (id and name), when, what, before/after?"""
    coordinator = make_user("coordinator", name="منى حسن")
    moment = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    services.record(
        coordinator,
        "listing.rejected",
        "listing",
        42,
        before={"status": "pending", "title": "سلة خوص"},
        after={"status": "rejected", "reason": "photo", "at": moment},
    )
    db.session.commit()
    coordinator_id = coordinator.id
    db.session.expunge_all()

    event = db.session.scalars(services.events_query()).one()
    assert (event.actor_id, event.actor_name) == (coordinator_id, "منى حسن")
    assert (event.action, event.subject_type, event.subject_id) == (
        "listing.rejected",
        "listing",
        42,
    )
    assert event.before == {"status": "pending", "title": "سلة خوص"}
    # Whatever JSON cannot hold is kept as its text, not refused.
    assert event.after == {"status": "rejected", "reason": "photo", "at": str(moment)}
    assert event.at.tzinfo is not None and abs((datetime.now(UTC) - event.at).total_seconds()) < 60


def test_the_system_can_act_without_an_actor(app):
    event = _event(None, "artisan.verified")
    assert event.actor_id is None and event.actor_name == ""


def test_newest_first_and_filtered_by_action(app):
    """Does ?action= keep one action, or a whole family with a trailing dot?"""
    first = _event(action="artisan.verified")
    second = _event(action="listing.approved")
    third = _event(action="listing.rejected")

    def ids(prefix):
        return [e.id for e in db.session.scalars(services.events_query(prefix))]

    assert ids(None) == [third.id, second.id, first.id]
    assert ids("listing.") == [third.id, second.id]
    assert ids("listing.approved") == [second.id]
    assert ids("%") == []  # a LIKE wildcard is a plain character here


def test_the_orm_refuses_to_change_or_delete_an_event(app):
    """Can a bug in our own code rewrite history through the ORM? (No: it raises.)"""
    event = _event()
    event.action = "listing.approved_quietly"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()

    db.session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()

    for statement in (
        sa.update(AuditEvent).values(action="x"),
        sa.delete(AuditEvent).where(AuditEvent.id == event.id),
    ):
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.get(AuditEvent, event.id).action == "listing.approved"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'listing.approved_quietly'",
        "UPDATE audit_events SET actor_name = 'someone else'",
        "UPDATE audit_events SET actor_id = NULL, after = NULL",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_event(app, make_user, statement):
    """Does the database itself refuse, for anyone with plain SQL (the triggers)?"""
    _event(make_user("coordinator"))
    with pytest.raises(sa.exc.IntegrityError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


def test_deleting_an_account_keeps_her_events(app, make_user):
    """The one change the database lets through: ON DELETE SET NULL; her name stays."""
    coordinator = make_user("coordinator", name="منى")
    event = _event(coordinator, after={"status": "live"})
    db.session.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": coordinator.id})
    db.session.commit()
    kept = db.session.get(AuditEvent, event.id)
    assert (kept.actor_id, kept.actor_name, kept.after) == (None, "منى", {"status": "live"})


def test_the_trigger_sql_drops_and_installs_cleanly(app):
    """Do the statements the revision will run work both ways (downgrade, upgrade)?"""
    dialect = db.engine.dialect.name
    assert dialect in APPEND_ONLY_TRIGGERS and dialect in DROP_APPEND_ONLY_TRIGGERS
    event_id = _event().id
    db.session.commit()  # the session holds no transaction (SQLite: no lock) from here on
    with db.engine.begin() as conn:
        for statement in DROP_APPEND_ONLY_TRIGGERS[dialect]:
            conn.execute(sa.text(statement))
    try:
        # Control: without the triggers the same UPDATE goes through.
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_events SET actor_name = 'x'"))
    finally:
        with db.engine.begin() as conn:
            install_append_only_triggers(conn)
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET actor_name = 'y'"))
    assert db.session.get(AuditEvent, event_id).actor_name == "x"


def test_actions_have_labels_in_both_languages(app):
    with app.test_request_context():
        with force_locale("en"):
            assert services.action_label("listing.rejected") == "Product sent back for changes"
            assert services.action_label("grant.awarded") == "grant.awarded"  # unknown: as stored
        with force_locale("ar"):
            for action in services.ACTION_LABELS:
                label = services.action_label(action)
                assert label != action and re.search("[\u0600-\u06ff]", label), action


# --- The page and the CSV export -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/audit", "/audit.csv"])
@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 303), ("buyer", 403), ("artisan", 403), ("coordinator", 200), ("admin", 200)],
)
def test_only_coordinators_and_admins_read_the_log(client, login_as, path, role, status):
    if role:
        login_as(role)
    response = client.get(path)
    assert response.status_code == status
    if role is None:
        assert response.headers["Location"].startswith("/login?next=")


def test_the_page_shows_who_did_what_in_arabic(client, login_as, make_user):
    coordinator = make_user("coordinator", name="منى حسن")
    _event(
        coordinator,
        "listing.rejected",
        7,
        before={"status": "pending"},
        after={"status": "rejected"},
    )
    login_as("admin")
    page = client.get("/audit").get_data(as_text=True)
    assert "منى حسن" in page
    assert "أُعيد المنتج للتعديل" in page  # "Product sent back for changes"
    # the change in the site's words, never the stored values
    changes = page[page.index('class="audit-changes"') :]
    changes = changes[: changes.index("</ul>")]
    assert "الحالة" in changes and "في انتظار المراجعة" in changes and "يحتاج إلى تعديل" in changes
    assert "pending" not in changes and "rejected" not in changes
    # The download is a real link htmx leaves alone (it must not swap a CSV into the page).
    link = re.search(r'<a [^>]*href="/audit\.csv"[^>]*>', page)
    assert link and 'hx-boost="false"' in link.group(0)


def test_fifty_a_page(client, login_as):
    for n in range(51):
        services.record(None, "listing.approved", "listing", n)
    db.session.commit()
    login_as("coordinator")
    rows = re.compile(r'<tr role="row">\s*<td')
    assert len(rows.findall(client.get("/audit").get_data(as_text=True))) == 50
    second = client.get("/audit?page=2").get_data(as_text=True)
    assert len(rows.findall(second)) == 1 and 'rel="prev"' in second
    # Past the end: the first page (one behaviour for every list), the filter kept.
    past = client.get("/audit?page=3&action=listing.approved")
    assert (past.status_code, past.headers["Location"]) == (302, "/audit?action=listing.approved")


def test_the_filter_keeps_one_action(client, login_as):
    _event(action="artisan.verified", subject_id=111)
    _event(action="listing.approved", subject_id=222)
    login_as("coordinator")
    page = client.get("/audit?action=artisan.verified").get_data(as_text=True)
    assert "#111" in page and "#222" not in page
    assert 'href="/audit.csv?action=artisan.verified"' in page


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_csv_export_opens_in_excel_with_its_arabic(client, login_as, make_user):
    """UTF-8 with a BOM (Excel's cue), an attachment, and the Arabic exactly as written."""
    coordinator = make_user("coordinator", name="منى حسن")
    _event(coordinator, "listing.rejected", 9, after={"title": "سلة خوص", "price": 12500})
    _event(coordinator, "artisan.verified", 3)
    login_as("coordinator")

    response = client.get("/audit.csv?action=listing.")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r"attachment; filename=audit-\d{8}\.csv", response.headers["Content-Disposition"]
    )
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    rows = _csv(response)
    assert rows[0] == ["time", "actor", "action", "subject", "before", "after"]
    assert len(rows) == 2  # the filter applies
    time, actor, action, subject, before, after = rows[1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", time)
    assert (actor, action, subject, before) == ("منى حسن", "listing.rejected", "listing:9", "")
    assert after == '{"price": 12500, "title": "سلة خوص"}'


def test_the_csv_export_cannot_carry_a_formula(client, login_as, make_user):
    """A name typed as a formula stays text in Excel (CSV injection)."""
    _event(make_user("coordinator", name='=HYPERLINK("http://x","click")'))
    login_as("admin")
    rows = _csv(client.get("/audit.csv"))
    assert rows[1][1] == '\'=HYPERLINK("http://x","click")'


def test_an_empty_log_exports_its_header(client, login_as):
    login_as("admin")
    response = client.get("/audit.csv")
    assert response.get_data() == b"\xef\xbb\xbftime,actor,action,subject,before,after\r\n"
