"""Times are stored in UTC, always timezone-aware in Python."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

EGYPT = ZoneInfo("Africa/Cairo")


def today_in_egypt() -> date:
    """The day it is where the artisans and buyers are (dates they type are Cairo days)."""
    return datetime.now(EGYPT).date()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and read back timezone-aware on every database.

    SQLite has no time zones and returns naive values; PostgreSQL's timestamptz does.
    This type makes both give the same aware UTC datetime.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC time (timeutil.utcnow())")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_migration_item(type_: str, obj, autogen_context) -> str | bool:
    """Alembic writes UTCDateTime as a plain timestamptz, so revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
