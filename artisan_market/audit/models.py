"""One row per decision or change someone made: never updated, never deleted.

Append-only twice over: the ORM refuses to update or delete an AuditEvent (mapper and
session events, hooked by `init_app`), and the database refuses it too (APPEND_ONLY_TRIGGERS,
installed by the migration), so neither a bug nor a hand-typed SQL statement rewrites history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from artisan_market.extensions import db
from artisan_market.timeutil import UTCDateTime, utcnow


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or remove an audit event."""


class AuditEvent(db.Model):
    """`actor` did `action` to the `subject`; `before` and `after` say what changed."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # A copy of her name when she acted: the log still reads after the account changes or goes.
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="")
    # Dotted, past tense: "artisan.verified", "listing.rejected", "password_link.issued".
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    subject_type: Mapped[str] = mapped_column(sa.String(30))
    subject_id: Mapped[int] = mapped_column(sa.Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.subject_type}:{self.subject_id}>"


def _refuse_update(_mapper, _connection, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed")


def _refuse_delete(_mapper, _connection, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be deleted")


def _refuse_bulk_changes(state) -> None:
    # sa.update(AuditEvent) / sa.delete(AuditEvent) skip the mapper events above.
    if (state.is_update or state.is_delete) and state.bind_mapper is sa.inspect(AuditEvent):
        raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")


_HOOKS = (
    (AuditEvent, "before_update", _refuse_update),
    (AuditEvent, "before_delete", _refuse_delete),
    (db.session, "do_orm_execute", _refuse_bulk_changes),
)


def init_app(app) -> None:
    """The ORM's side of append-only (the database's is the triggers below); hooked once,
    since the model and the session class are shared by every app."""
    for target, name, hook in _HOOKS:
        if not event.contains(target, name, hook):
            event.listen(target, name, hook)


# The database's own guard, for the Alembic revision (op.execute each statement, in order).
# The one change let through is the one the foreign key makes itself: ON DELETE SET NULL of
# actor_id when an account is deleted, with every other column unchanged (the name stays).
# TRUNCATE is not guarded: the tests empty tables with it. A new column must be added to the
# "unchanged" comparisons below, and a SQLite batch migration that rebuilds the table drops
# these triggers: that revision must create them again. Plain SQL with no ":name" and no "%",
# so op.execute(...) runs it as written.
APPEND_ONLY_TRIGGERS: dict[str, list[str]] = {
    "postgresql": [
        """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
        AND (NEW.id, NEW.at, NEW.actor_name, NEW.action, NEW.subject_type, NEW.subject_id)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.at, OLD.actor_name, OLD.action, OLD.subject_type, OLD.subject_id)
        AND NEW."before"::text IS NOT DISTINCT FROM OLD."before"::text
        AND NEW."after"::text IS NOT DISTINCT FROM OLD."after"::text
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'audit_events is append-only (' || TG_OP || ' refused)',
        ERRCODE = 'restrict_violation';
END
$$
""".strip(),
        """
CREATE TRIGGER audit_events_append_only
BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
""".strip(),
    ],
    "sqlite": [
        """
CREATE TRIGGER audit_events_no_update
BEFORE UPDATE ON audit_events
WHEN NOT (
    OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_name IS OLD.actor_name
    AND NEW.action IS OLD.action AND NEW.subject_type IS OLD.subject_type
    AND NEW.subject_id IS OLD.subject_id
    AND NEW."before" IS OLD."before" AND NEW."after" IS OLD."after"
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only (UPDATE refused)');
END
""".strip(),
        """
CREATE TRIGGER audit_events_no_delete
BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only (DELETE refused)');
END
""".strip(),
    ],
}

DROP_APPEND_ONLY_TRIGGERS: dict[str, list[str]] = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
        "DROP FUNCTION IF EXISTS audit_events_append_only()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
    ],
}
