"""A notification is kept as a kind and its parameters, and worded when it is read.

So she reads it in the language she uses now, not the one the coordinator used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from artisan_market.extensions import db
from artisan_market.timeutil import UTCDateTime, utcnow


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # A key of services.MESSAGES: "listing_approved", "artisan_verified", …
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # A path inside the site ("/studio/products/12"), never a full URL.
    link: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Serves both "her notifications" (user_id first) and the header's unread count.
    __table_args__ = (sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class OutgoingEmail(db.Model):
    """An email to send, written in the transaction of the change it tells of (an outbox).

    The change is never kept without its email, whatever happens to the job queue: a queue
    that could not be reached, or a worker killed while it sent, leaves the row waiting, and
    `queue_waiting_emails` queues it again once `due_at` has passed. Sent ones are kept a
    week (for support: "did she get it?"), then deleted with their addresses.
    """

    __tablename__ = "outgoing_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    # How the log names her ("order 7", "user 12"), never by her address.
    log_as: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When it may be queued again if it is still not sent; None once sent or given up.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.Index("ix_outgoing_emails_due_at", "due_at"),)

    def __repr__(self) -> str:
        return f"<OutgoingEmail {self.id} {self.log_as} sent={self.sent_at is not None}>"
