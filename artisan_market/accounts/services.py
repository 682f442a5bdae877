"""Account rules: sign-up, log-in, set-password links. No requests, no commits here.

Each function changes models and flushes; the view or CLI command commits once or rolls back.
A rule that says no raises AccountError with a message for the person in front of the form.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from artisan_market.accounts.models import (
    ArtisanProfile,
    PasswordLinkPurpose,
    Role,
    SetPasswordLink,
    User,
)
from artisan_market.accounts.passwords import hash_password, needs_rehash, verify_password
from artisan_market.accounts.phones import normalise_phone
from artisan_market.extensions import db
from artisan_market.timeutil import utcnow


class AccountError(Exception):
    """A rule refused; `field` names the form field the message belongs to, if any."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass(frozen=True)
class ArtisanDetails:
    display_name: str
    governorate: str
    village: str
    craft: str
    story: str = ""


def find_by_login(identifier: str) -> User | None:
    """The account a log-in name points to: an email if it has an @, else a phone number."""
    identifier = (identifier or "").strip()
    if "@" in identifier:
        return db.session.scalar(sa.select(User).where(User.email == identifier.lower()))
    phone = normalise_phone(identifier)
    if phone is None:
        return None
    return db.session.scalar(sa.select(User).where(User.phone == phone))


def authenticate(identifier: str, password: str) -> User | None:
    """The active account whose password matches, else None (same time either way)."""
    user = find_by_login(identifier)
    ok = verify_password(user.password_hash if user else None, password)
    if not (ok and user and user.is_active):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def _check_free(phone: str | None, email: str | None) -> None:
    if phone and db.session.scalar(sa.select(User.id).where(User.phone == phone)):
        raise AccountError(_l("An account with this phone number already exists."), "phone")
    if email and db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise AccountError(_l("An account with this email already exists."), "email")


def _add_user(user: User) -> User:
    """Insert, turning a lost race for the same phone or email into an AccountError."""
    try:
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError as error:
        raise AccountError(
            _l("An account with this phone number or email already exists.")
        ) from error
    return user


def register(
    *,
    name: str,
    phone: str | None,
    email: str | None,
    password: str | None,
    role: Role = Role.BUYER,
    locale: str | None = None,
) -> User:
    """A new account. `phone` is E.164 and `email` lower-cased already (the forms do that).

    Refuses (AccountError) a phone or email that another account has.
    """
    email = email.lower() if email else None
    _check_free(phone, email)
    user = User(
        name=name,
        phone=phone,
        email=email,
        role=role,
        locale=locale,
        password_hash=hash_password(password) if password else None,
    )
    return _add_user(user)


def register_artisan(
    *,
    name: str,
    phone: str,
    email: str | None,
    password: str | None,
    details: ArtisanDetails,
    created_by: User | None = None,
    locale: str | None = None,
) -> User:
    """An artisan's account and profile, waiting for a coordinator's verification.

    With `created_by`, a coordinator made it on her behalf and she has no password yet.
    """
    user = register(
        name=name, phone=phone, email=email, password=password, role=Role.ARTISAN, locale=locale
    )
    profile = ArtisanProfile(
        user=user,
        display_name=details.display_name or name,
        governorate=details.governorate,
        village=details.village,
        craft=details.craft,
        story=details.story,
        created_by=created_by,
    )
    db.session.add(profile)
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Refuses (AccountError on "current_password") when the current password is wrong."""
    if not verify_password(user.password_hash, current):
        raise AccountError(_l("This is not your current password."), "current_password")
    set_password(user, new)


def set_password(user: User, new: str) -> None:
    """New hash and a new session nonce: every other session of hers ends."""
    user.password_hash = hash_password(new)
    user.end_all_sessions()
    db.session.flush()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_password_link(
    user: User, *, purpose: PasswordLinkPurpose, created_by: User | None, days: int
) -> str:
    """A new one-time token for `user`; earlier unused links of hers stop working.

    Only coordinators and admins may call this for artisans; the view checks who asks.
    Returns the raw token, which is shown once and never stored.
    """
    now = utcnow()
    db.session.execute(
        sa.update(SetPasswordLink)
        .where(SetPasswordLink.user_id == user.id, SetPasswordLink.used_at.is_(None))
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        SetPasswordLink(
            user=user,
            token_hash=_token_hash(token),
            purpose=purpose,
            created_by=created_by,
            expires_at=now + timedelta(days=days),
        )
    )
    db.session.flush()
    return token


def find_password_link(token: str) -> SetPasswordLink | None:
    """The link for `token` if it is unused, unexpired and its account active; else None."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(
        sa.select(SetPasswordLink).where(SetPasswordLink.token_hash == _token_hash(token))
    )
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    if not link.user.is_active:
        return None
    return link


def redeem_password_link(link: SetPasswordLink, password: str) -> User:
    """Set her password and spend the link, at most once even if two tabs submit together.

    Refuses (AccountError) when the link was spent meanwhile.
    """
    spent = db.session.execute(
        sa.update(SetPasswordLink)
        .where(SetPasswordLink.id == link.id, SetPasswordLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:
        raise AccountError(
            _l("This link has already been used. Ask your coordinator for a new one.")
        )
    set_password(link.user, password)
    link.user.last_login_at = utcnow()
    db.session.flush()
    return link.user
