"""Account pages. Thin: parse the form, call a rule in services, commit, redirect (303)."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from artisan_market.accounts import bp, services
from artisan_market.accounts.forms import (
    ArtisanSignupForm,
    ChangePasswordForm,
    EmptyForm,
    LoginForm,
    OnBehalfArtisanForm,
    SetPasswordForm,
    SignupForm,
)
from artisan_market.accounts.models import ArtisanProfile, PasswordLinkPurpose, Role, User
from artisan_market.accounts.phones import display_phone, whatsapp_url
from artisan_market.database import end_transaction
from artisan_market.extensions import client_address, db, limiter, login_manager
from artisan_market.forms import show_rule_error
from artisan_market.i18n import current_locale
from artisan_market.media.pipeline import PhotoRejected
from artisan_market.media.services import delete_photo, prepare_photo
from artisan_market.security import roles_required, safe_next

STAFF = (Role.COORDINATOR, Role.ADMIN)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user whose id *and* session nonce match: a changed nonce ends old sessions."""
    user_id, _sep, nonce = session_id.partition(".")
    if not user_id.isdigit() or not nonce:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_nonce != nonce:
        return None
    return user


@login_manager.unauthorized_handler
def ask_to_log_in():
    flash(_("Log in to continue."), "info")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")), 303)


def _start_session(user: User) -> None:
    """A fresh session for a fresh log-in: nothing from before survives (no fixation)."""
    session.clear()
    login_user(user)
    session.permanent = True


def _invalid(template: str, **context):
    """The form again, with its errors and what she typed, as 422."""
    return render_template(template, **context), 422


def _login_account_key() -> str:
    """The account a log-in attempt is aimed at (every spelling of it), hashed so no phone
    number sits in Redis."""
    key = services.login_key((request.form.get("login") or "")[:254])
    return "acct:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _signup_limit() -> str:
    return current_app.config["SIGNUP_LIMIT_PER_ADDRESS"]


def _failed_login(response) -> bool:
    return response.status_code == 422


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    key_func=client_address,
    methods=["POST"],
    deduct_when=_failed_login,
    scope="login-address",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed_login,
    scope="login-account",
)
def login():
    """Log in with a phone number (any common form) or an email.

    Failed attempts count per account and per address; past the limit, 429 with the form.
    """
    if current_user.is_authenticated:
        return redirect(url_for("main.home"), 303)
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.login.data, form.password.data)
        if user is not None:
            db.session.commit()
            _start_session(user)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(safe_next(request.args.get("next"), url_for("main.home")), 303)
        form.password.errors.append(_("The phone number, email or password is not right."))
    if request.method == "POST":
        return _invalid("accounts/login.html", form=form)
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    """End her sessions (a GET cannot log anyone out: CSRF).

    Sessions live in a signed cookie, so a copy of the cookie would outlive a plain
    logout; a new session nonce makes every copy (on any phone) worthless.
    """
    if current_user.is_authenticated:
        current_user.end_all_sessions()
        db.session.commit()
        logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.home"), 303)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, key_func=client_address, methods=["POST"], scope="signup")
def signup():
    """A buyer's account. Refuses a phone or email already used (form error, 422)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"), 303)
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = services.register(
                name=form.name.data,
                phone=form.phone.e164,
                email=form.email.data or None,
                password=form.password.data,
                locale=current_locale(),
            )
        except services.AccountError as error:
            db.session.rollback()
            show_rule_error(form, error)
        else:
            db.session.commit()
            _start_session(user)
            flash(_("Your account is ready. Welcome, %(name)s.", name=user.name), "success")
            return redirect(url_for("main.home"), 303)
    if request.method == "POST":
        return _invalid("accounts/signup.html", form=form)
    return render_template("accounts/signup.html", form=form)


def _create_artisan(form, *, password, locale, created_by=None, before_commit=None) -> User | None:
    """An artisan's account, profile and photo, all or nothing.

    Returns None, with the reason on the form, when the photo or a rule refuses. The photo
    is re-encoded before any database work and its files are removed if the commit fails,
    so a refusal leaves neither half an account nor an orphan file.
    """
    photo = None
    upload = form.photo.data
    if upload and getattr(upload, "filename", ""):
        end_transaction()  # re-encoding takes a while: hold no database lock meanwhile
        try:
            photo = prepare_photo(upload.stream)
        except PhotoRejected as rejected:
            form.photo.errors = [*form.photo.errors, str(rejected.message)]
            return None
    try:
        user = services.register_artisan(
            name=form.name.data,
            phone=form.phone.e164,
            email=form.email.data or None,
            password=password,
            details=_artisan_details(form),
            created_by=created_by,
            locale=locale,
            photo=photo,
        )
        if before_commit:
            before_commit(user)
    except services.AccountError as error:
        db.session.rollback()
        show_rule_error(form, error)
        return None
    record = user.artisan_profile.photo
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        delete_photo(record)
        raise
    return user


def _artisan_details(form) -> services.ArtisanDetails:
    return services.ArtisanDetails(
        display_name=form.display_name.data or form.name.data,
        governorate=form.governorate.data,
        village=form.village.data,
        craft=form.craft.data,
        story=form.story.data or "",
    )


@bp.route("/signup/artisan", methods=["GET", "POST"])
@limiter.limit(_signup_limit, key_func=client_address, methods=["POST"], scope="signup")
def signup_artisan():
    """An artisan's account and profile, waiting for a coordinator's verification."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"), 303)
    form = ArtisanSignupForm()
    if form.validate_on_submit():
        user = _create_artisan(form, password=form.password.data, locale=current_locale())
        if user is not None:
            _start_session(user)
            flash(
                _(
                    "Welcome, %(name)s. A coordinator will call you to verify your account; "
                    "then your products can be shown to buyers.",
                    name=user.name,
                ),
                "success",
            )
            return redirect(url_for("accounts.account"), 303)
    if request.method == "POST":
        return _invalid("accounts/signup_artisan.html", form=form)
    return render_template("accounts/signup_artisan.html", form=form)


@bp.get("/account")
@login_required
def account():
    """Her own account: details, language, password; an artisan also sees her profile."""
    return render_template(
        "accounts/account.html",
        profile=current_user.artisan_profile,
        phone=display_phone(current_user.phone),
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"user:{current_user.id}",
    methods=["POST"],
    deduct_when=_failed_login,
    scope="password-change",
)
def change_password():
    """Refuses a wrong current password (422). Ends her other sessions; keeps this one."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except services.AccountError as error:
            db.session.rollback()
            show_rule_error(form, error)
        else:
            db.session.commit()
            _start_session(current_user._get_current_object())
            flash(_("Your password is changed."), "success")
            return redirect(url_for("accounts.account"), 303)
    if request.method == "POST":
        return _invalid("accounts/change_password.html", form=form)
    return render_template("accounts/change_password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """The one-time link a coordinator gave her. An unknown, used or expired link is a 404."""
    link = services.find_password_link(token)
    if link is None:
        abort(404)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.redeem_password_link(link, form.password.data)
        except services.AccountError:
            db.session.rollback()
            abort(404)
        db.session.commit()
        _start_session(user)
        flash(_("Your password is set. You are logged in."), "success")
        return redirect(url_for("accounts.account"), 303)
    context = {"form": form, "user": link.user}
    if request.method == "POST":
        return _invalid("accounts/set_password.html", **context)
    return render_template("accounts/set_password.html", **context)


# --- Coordinators: artisans' accounts on their behalf -------------------------------------


@bp.get("/coordinator/artisans")
@roles_required(*STAFF)
def artisans():
    """Every artisan, newest first, with her phone (coordinators may see it)."""
    profiles = db.session.scalars(
        sa.select(ArtisanProfile)
        .join(ArtisanProfile.user)
        .options(sa.orm.contains_eager(ArtisanProfile.user))
        .order_by(ArtisanProfile.created_at.desc(), ArtisanProfile.id.desc())
        .limit(200)
    ).all()
    return render_template(
        "accounts/artisans.html",
        profiles=profiles,
        display_phone=display_phone,
        whatsapp_url=whatsapp_url,
        form=EmptyForm(),
    )


@bp.route("/coordinator/artisans/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_artisan():
    """Create an artisan's account for her and show the one-time link to hand her."""
    form = OnBehalfArtisanForm()
    if form.validate_on_submit():
        coordinator = current_user._get_current_object()
        tokens: list[str] = []

        def invite(user: User) -> None:
            tokens.append(
                services.issue_password_link(
                    user,
                    purpose=PasswordLinkPurpose.INVITE,
                    created_by=coordinator,
                    days=current_app.config["SET_PASSWORD_LINK_DAYS"],
                )
            )

        user = _create_artisan(
            form, password=None, locale="ar", created_by=coordinator, before_commit=invite
        )
        if user is not None:
            return _show_link(user, tokens[0], PasswordLinkPurpose.INVITE)
    if request.method == "POST":
        return _invalid("accounts/new_artisan.html", form=form)
    return render_template("accounts/new_artisan.html", form=form)


@bp.post("/coordinator/artisans/<id:user_id>/password-link")
@roles_required(*STAFF)
def password_link(user_id: int):
    """A new one-time link for an artisan who forgot her password; 404 for non-artisans."""
    user = db.session.get(User, user_id)
    if user is None or user.role != Role.ARTISAN:
        abort(404)
    token = services.issue_password_link(
        user,
        purpose=PasswordLinkPurpose.RESET,
        created_by=current_user._get_current_object(),
        days=current_app.config["SET_PASSWORD_LINK_DAYS"],
    )
    db.session.commit()
    return _show_link(user, token, PasswordLinkPurpose.RESET)


def _show_link(user: User, token: str, purpose: PasswordLinkPurpose):
    """The link is shown once, never stored: the page must not be cached."""
    link = url_for("accounts.set_password", token=token, _external=True)
    message = _(
        "Hello %(name)s, open this link to choose your password for Artisan Market: %(link)s",
        name=user.name,
        link=link,
    )
    response = current_app.make_response(
        render_template(
            "accounts/password_link.html",
            user=user,
            link=link,
            purpose=purpose,
            days=current_app.config["SET_PASSWORD_LINK_DAYS"],
            whatsapp=whatsapp_url(user.phone) + "?" + urlencode({"text": message})
            if user.phone
            else None,
            phone=display_phone(user.phone),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(429)
def too_many_attempts(error):
    """Past a limit on these pages: the form again, with what she typed and the reason."""
    if request.endpoint != "accounts.login":
        from artisan_market.errors import render_error

        return render_error(429)
    form = LoginForm(meta={"csrf": False})
    form.password.errors = [_("Too many log-in attempts. Wait a few minutes, then try again.")]
    return render_template("accounts/login.html", form=form), 429
