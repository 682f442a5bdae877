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
    VerificationStatus,
)
from artisan_market.accounts.passwords import hash_password, needs_rehash, verify_password
from artisan_market.accounts.phones import normalise_phone
from artisan_market.database import read_only
from artisan_market.extensions import db
from artisan_market.forms import clean_text
from artisan_market.media.pipeline import ProcessedPhoto
from artisan_market.media.services import save_photo
from artisan_market.rules import RuleError
from artisan_market.timeutil import utcnow


class AccountError(RuleError):
    """An account rule refused (a phone already used, a wrong current password, …)."""


@dataclass(frozen=True)
class ArtisanDetails:
    display_name: str
    governorate: str
    village: str
    craft: str
    story: str = ""


def login_key(identifier: str) -> str:
    """One spelling for every way of typing the same log-in name.

    An email lower-cased, a phone number as E.164, anything else cleaned and lower-cased.
    It finds the account and it names the log-in limit's counter, so no variant of the
    same name (spaces, case, control characters, 0020 or ٠١٠) gets a counter of its own.
    """
    text = clean_text(identifier or "").strip()
    if "@" in text:
        return text.lower()
    return normalise_phone(text) or text.lower()


def find_by_login(identifier: str) -> User | None:
    """The account a log-in name points to: an email if it has an @, else a phone number."""
    key = login_key(identifier)
    if "@" in key:
        return db.session.scalar(sa.select(User).where(User.email == key))
    if key.startswith("+"):
        return db.session.scalar(sa.select(User).where(User.phone == key))
    return None


def authenticate(identifier: str, password: str) -> User | None:
    """The active account whose password matches, else None (same time either way).

    The look-up reads without the write lock, and the slow hash check holds no transaction
    at all (`passwords`), so log-ins do not queue behind each other.
    """
    with read_only():
        user = find_by_login(identifier)
        user_id = user.id if user else None
        stored = user.password_hash if user else None
        active = bool(user and user.is_active)
    if not (verify_password(stored, password) and active):
        return None
    new_hash = hash_password(password) if needs_rehash(stored) else None
    user = db.session.get(User, user_id)
    if new_hash:
        user.password_hash = new_hash
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
    # Hashed before the first query, so no transaction is open while argon2 works.
    password_hash = hash_password(password) if password else None
    email = email.lower() if email else None
    _check_free(phone, email)
    user = User(
        name=name,
        phone=phone,
        email=email,
        role=role,
        locale=locale,
        password_hash=password_hash,
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
    photo: ProcessedPhoto | None = None,
) -> User:
    """An artisan's account and profile, waiting for a coordinator's verification.

    With `created_by`, a coordinator made it on her behalf and she has no password yet.
    `photo` (already re-encoded) is written to storage last; its files go again if the
    transaction rolls back.
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
    if photo is not None:
        profile.photo = save_photo(photo)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Refuses (AccountError on "current_password") when the current password is wrong.

    Both hash computations hold no transaction (see `authenticate`).
    """
    stored = user.password_hash
    if not verify_password(stored, current):
        raise AccountError(_l("This is not your current password."), "current_password")
    _store_password(user, hash_password(new))


def set_password(user: User, new: str) -> None:
    """New hash and a new session nonce: every other session of hers ends."""
    _store_password(user, hash_password(new))


def _store_password(user: User, password_hash: str) -> None:
    user.password_hash = password_hash
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
    link = SetPasswordLink(
        user=user,
        token_hash=_token_hash(token),
        purpose=purpose,
        created_by=created_by,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(link)
    db.session.flush()
    from artisan_market.audit.services import record

    # Who handed out a way into her account, and when (never the token itself).
    record(
        created_by,
        "password_link.issued",
        "user",
        user.id,
        after={"purpose": purpose.value, "expires_at": link.expires_at.isoformat()},
    )
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
    link_id, user_id = link.id, link.user_id
    password_hash = hash_password(password)  # before any write: it holds no transaction
    spent = db.session.execute(
        sa.update(SetPasswordLink)
        .where(SetPasswordLink.id == link_id, SetPasswordLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:
        raise AccountError(
            _l("This link has already been used. Ask your coordinator for a new one.")
        )
    user = db.session.get(User, user_id)
    _store_password(user, password_hash)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


# --- Verification: a coordinator vouches for an artisan ------------------------------------


def verify_artisan(profile: ArtisanProfile, *, coordinator: User, organisation) -> None:
    """Pending or declined → verified, vouched for by a coalition member organisation.

    Refuses (AccountError) an artisan already verified or a missing organisation.
    """
    if profile.verification is VerificationStatus.VERIFIED:
        raise AccountError(_l("She is already verified."))
    if organisation is None:
        raise AccountError(_l("Choose the organisation that vouches for her."), "organisation")
    before = _verification_snapshot(profile)
    profile.verification = VerificationStatus.VERIFIED
    profile.verified_by = coordinator
    profile.verified_at = utcnow()
    profile.organisation = organisation
    profile.decline_reason = ""
    db.session.flush()
    _record_verification(coordinator, "artisan.verified", profile, before)
    from artisan_market.notifications.services import notify

    notify(profile.user, "artisan_verified", link="/studio")


def decline_artisan(profile: ArtisanProfile, *, coordinator: User, reason: str) -> None:
    """Pending → declined, with a reason said in plain words. Refuses an empty reason."""
    if profile.verification is not VerificationStatus.PENDING:
        raise AccountError(_l("Only an artisan waiting for verification can be declined."))
    if not reason.strip():
        raise AccountError(_l("Write the reason, so she knows what to do."), "reason")
    before = _verification_snapshot(profile)
    profile.verification = VerificationStatus.DECLINED
    profile.verified_by = coordinator
    profile.verified_at = utcnow()
    profile.decline_reason = reason.strip()
    db.session.flush()
    _record_verification(coordinator, "artisan.declined", profile, before)
    from artisan_market.notifications.services import notify

    notify(profile.user, "artisan_declined", link="/account", reason=profile.decline_reason)


def _verification_snapshot(profile: ArtisanProfile) -> dict:
    return {
        "verification": profile.verification.value,
        "organisation_id": profile.organisation_id,
        "decline_reason": profile.decline_reason,
    }


def _record_verification(actor: User, action: str, profile: ArtisanProfile, before: dict) -> None:
    from artisan_market.audit.services import record

    record(
        actor, action, "artisan", profile.id, before=before, after=_verification_snapshot(profile)
    )
