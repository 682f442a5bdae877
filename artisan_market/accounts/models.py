"""People: accounts with one role each, artisans' profiles, and one-time set-password links."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from artisan_market.extensions import db, enum_column
from artisan_market.timeutil import UTCDateTime, utcnow


class Role(enum.StrEnum):
    BUYER = "buyer"
    ARTISAN = "artisan"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


# The people who run the site for the coalition: coordinators, and admins who can do all
# they can. The one place "staff" is spelled.
STAFF = frozenset({Role.COORDINATOR, Role.ADMIN})

ROLE_LABELS = {
    Role.BUYER: _l("Buyer"),
    Role.ARTISAN: _l("Artisan"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.ADMIN: _l("Administrator"),
}


class VerificationStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return str(VERIFICATION_LABELS[self])


VERIFICATION_LABELS = {
    VerificationStatus.PENDING: _l("Waiting for a coordinator to verify"),
    VerificationStatus.VERIFIED: _l("Verified"),
    VerificationStatus.DECLINED: _l("Not verified"),
}


def _new_session_nonce() -> str:
    return secrets.token_urlsafe(16)


class User(db.Model):
    """An account. She logs in with her phone number or her email; at least one is set."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # E.164 (+201012345678); unique when present.
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    # Lower-cased; unique when present.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    # None until she sets one through a set-password link (accounts made on her behalf).
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.BUYER)
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Part of the session's user id: changing it (new password, reset) ends every session.
    session_nonce: Mapped[str] = mapped_column(sa.String(32), default=_new_session_nonce)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    artisan_profile: Mapped[ArtisanProfile | None] = relationship(
        back_populates="user", foreign_keys="ArtisanProfile.user_id"
    )

    __table_args__ = (
        sa.CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name="has_login"),
    )

    # Flask-Login's user protocol. The id it keeps in the session carries the nonce, so an
    # old cookie stops working when the nonce changes.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_nonce}"

    def end_all_sessions(self) -> None:
        self.session_nonce = _new_session_nonce()

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Organisation(db.Model):
    """A member of the coalition; one of them vouches for each verified artisan."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_ar: Mapped[str] = mapped_column(sa.String(200), unique=True)
    name_en: Mapped[str] = mapped_column(sa.String(200))
    governorate: Mapped[str | None] = mapped_column(sa.String(3))

    def name(self, locale: str) -> str:
        return self.name_ar if locale == "ar" else self.name_en


class ArtisanProfile(db.Model):
    """What an artisan tells about herself. Phone and village are private (coordinators only)."""

    __tablename__ = "artisan_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    governorate: Mapped[str] = mapped_column(sa.String(3), index=True)
    village: Mapped[str] = mapped_column(sa.String(120))
    craft: Mapped[str] = mapped_column(sa.String(20))
    story: Mapped[str] = mapped_column(sa.Text, default="")
    # Her photo's derivatives as the media pipeline made them:
    # [{"key": "…-320.webp", "kind": "webp", "width": 320, "height": 427}, …]; None if no photo.
    photo: Mapped[list[dict] | None] = mapped_column(sa.JSON)
    verification: Mapped[VerificationStatus] = mapped_column(
        enum_column(VerificationStatus),
        default=VerificationStatus.PENDING,
        index=True,
    )
    # The coordinator who created the account on her behalf, if one did.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Verification: who decided, when, and the coalition member that vouches for her.
    verified_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    decline_reason: Mapped[str] = mapped_column(sa.Text, default="")

    user: Mapped[User] = relationship(back_populates="artisan_profile", foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    organisation: Mapped[Organisation | None] = relationship()

    @property
    def is_verified(self) -> bool:
        return self.verification == VerificationStatus.VERIFIED

    def __repr__(self) -> str:
        return f"<ArtisanProfile {self.id} {self.display_name!r}>"


class PasswordLinkPurpose(enum.StrEnum):
    INVITE = "invite"
    RESET = "reset"


class SetPasswordLink(db.Model):
    """A one-time link a coordinator hands an artisan to set her password.

    Only a SHA-256 of the token is stored: a copy of the database cannot be used to log in.
    """

    __tablename__ = "set_password_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    purpose: Mapped[PasswordLinkPurpose] = mapped_column(enum_column(PasswordLinkPurpose))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
