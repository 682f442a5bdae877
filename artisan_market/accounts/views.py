"""Account pages. Thin: parse the form, call a rule in services, render or redirect (303);
the request's one commit point keeps or drops what the rules changed."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from artisan_market.accounts import bp, services
from artisan_market.accounts.forms import (
    MAX_LOGIN_LENGTH,
    ArtisanSignupForm,
    ChangePasswordForm,
    LoginForm,
    OnBehalfArtisanForm,
    SetPasswordForm,
    SignupForm,
)
from artisan_market.accounts.models import (
    STAFF,
    ArtisanProfile,
    PasswordLinkPurpose,
    Role,
    User,
)
from artisan_market.accounts.phones import whatsapp_url
from artisan_market.extensions import client_address, db, limiter
from artisan_market.forms import EmptyForm, show_rule_error
from artisan_market.i18n import LOCALE_NAMES, LOCALES, current_locale, remember_locale
from artisan_market.media.pipeline import PhotoRejected
from artisan_market.media.services import prepare_photo
from artisan_market.policy import can
from artisan_market.security import page_or_none, staff_required
from artisan_market.urls import url_int


def load_user(session_id: str) -> User | None:
    """The user whose id *and* session nonce match: a changed nonce ends old sessions."""
    user_id, _sep, nonce = session_id.partition(".")
    number = url_int(user_id, minimum=1)
    if number is None or not nonce:
        return None
    user = db.session.get(User, number)
    if user is None or not user.is_active or user.session_nonce != nonce:
        return None
    return user


def ask_to_log_in():
    """To the log-in page, coming back afterwards to a page: this one if it is a page (a
    GET), else the page the form was sent from (a session that expired before a button was
    pressed), else the start page for her role."""
    flash(_("Log in to continue."), "info")
    if request.method == "GET":
        back = request.full_path.rstrip("?")
    else:
        back = page_or_none(_same_site_referrer())
    return redirect(url_for("accounts.login", next=back), 303)


def _same_site_referrer() -> str | None:
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


# What a visitor keeps when she logs in: the pieces she put in her cart.
KEPT_ON_LOG_IN = ("cart",)


def _start_session(user: User) -> None:
    """A fresh session for a fresh log-in: nothing from before survives (no fixation) but her
    cart, which is only product ids and quantities."""
    kept = {key: session[key] for key in KEPT_ON_LOG_IN if key in session}
    session.clear()
    session.update(kept)
    login_user(user)
    session.permanent = True


def _start_page(user: User) -> str:
    """Where her work is: the studio for an artisan, the review queue for staff."""
    if user.role is Role.ARTISAN:
        return url_for("studio.index")
    if user.role in STAFF:
        return url_for("review.listings_queue")
    return url_for("main.home")


def _invalid(template: str, form, **context):
    """The form again, with its errors and what she typed, as 422; with the way to log in
    when a rule found that her phone number or email already has an account."""
    refused = getattr(form, "rule_error", None)
    known = isinstance(refused, services.AccountError) and refused.field in ("phone", "email")
    return render_template(template, form=form, known_account=known, **context), 422


def _login_name() -> str:
    return request.form.get("login") or ""


def _login_account_key() -> str:
    """The account a log-in attempt is aimed at, in the one spelling of it that finds the
    account (padding, case, control characters and digits of any script make no new
    counter), hashed so no phone number sits in Redis."""
    key = services.login_key(_login_name())
    return "acct:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _overlong_login() -> bool:
    """Longer than any phone number or email, as sent: refused by the form before anything
    else, and never counted (else anyone could make counters without end)."""
    return len(_login_name()) > MAX_LOGIN_LENGTH


def _signup_limit() -> str:
    return current_app.config["SIGNUP_LIMIT_PER_ADDRESS"]


def _failed_login(response) -> bool:
    return response.status_code == 422


def _failed_login_to_count(response) -> bool:
    """A failed log-in, counted against the account it names (not an over-long name)."""
    return _failed_login(response) and not _overlong_login()


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
    deduct_when=_failed_login_to_count,
    scope="login-account",
)
def login():
    """Log in with a phone number (any common form) or an email.

    Failed attempts count per account and per address; past the limit, 429 with the form.
    Then to `next` if it is a page of this site, else to the start page for her role.
    """
    if current_user.is_authenticated:
        return redirect(url_for("main.home"), 303)
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.login.data, form.password.data)
        if user is not None:
            _start_session(user)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(page_or_none(request.args.get("next")) or _start_page(user), 303)
        form.password.errors.append(_("The phone number, email or password is not right."))
    if request.method == "POST":
        return _invalid("accounts/login.html", form)
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    """End her sessions (a GET cannot log anyone out: CSRF).

    Sessions live in a signed cookie, so a copy of the cookie would outlive a plain
    logout; a new session nonce makes every copy (on any phone) worthless.
    """
    if current_user.is_authenticated:
        current_user.end_all_sessions()
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
            show_rule_error(form, error)
        else:
            _start_session(user)
            flash(_("Your account is ready. Welcome, %(name)s.", name=user.name), "success")
            return redirect(url_for("main.home"), 303)
    if request.method == "POST":
        return _invalid("accounts/signup.html", form)
    return render_template("accounts/signup.html", form=form)


def _create_artisan(form, *, password, locale, created_by=None) -> User | None:
    """An artisan's account, profile and photo, all or nothing.

    Returns None, with the reason on the form, when the photo or a rule refuses. The photo
    is re-encoded before any database work (holding no transaction meanwhile), and its files
    go again if the request's transaction rolls back.
    """
    photo = None
    upload = form.photo.data
    if upload and getattr(upload, "filename", ""):
        try:
            photo = prepare_photo(upload.stream)
        except PhotoRejected as rejected:
            form.photo.errors = [*form.photo.errors, str(rejected.message)]
            return None
    try:
        # No attempt(): the rule refuses before it writes, and it hashes her password, which
        # must not happen inside a savepoint's transaction.
        return services.register_artisan(
            name=form.name.data,
            phone=form.phone.e164,
            email=form.email.data or None,
            password=password,
            details=_artisan_details(form),
            created_by=created_by,
            locale=locale,
            photo=photo,
        )
    except services.AccountError as error:
        show_rule_error(form, error)
        return None


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
        return _invalid("accounts/signup_artisan.html", form)
    return render_template("accounts/signup_artisan.html", form=form)


@bp.get("/account")
@login_required
def account():
    """Her own account: details, the language of her messages, password; an artisan also
    sees her profile."""
    return render_template(
        "accounts/account.html",
        profile=current_user.artisan_profile,
        language_form=EmptyForm(),
    )


@bp.post("/account/language")
@login_required
def messages_language():
    """The language of her notifications and emails (and of the site on a new phone).

    The switch in the header changes only this browser's pages, not her messages.
    An unknown language is ignored.
    """
    form = EmptyForm()
    locale = request.form.get("locale")
    response = redirect(url_for("accounts.account"), 303)
    if form.validate_on_submit() and locale in LOCALES:
        current_user.locale = locale
        remember_locale(response, locale)
        with force_locale(locale):
            flash(_("Your messages will come in %(language)s.", language=LOCALE_NAMES[locale]))
    return response


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
            show_rule_error(form, error)
        else:
            _start_session(current_user._get_current_object())
            flash(_("Your password is changed."), "success")
            return redirect(url_for("accounts.account"), 303)
    if request.method == "POST":
        return _invalid("accounts/change_password.html", form)
    return render_template("accounts/change_password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """The one-time link a coordinator gave her. An unknown, used or expired link is a 404.

    The page carries a way into her account: no browser or proxy may keep a copy.
    """
    link = services.find_password_link(token)
    if link is None:
        abort(404)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.redeem_password_link(link, form.password.data)
        except services.AccountError:
            abort(404)
        _start_session(user)
        flash(_("Your password is set. You are logged in."), "success")
        return redirect(url_for("accounts.account"), 303)
    context = {"form": form, "user": link.user}
    status = 422 if request.method == "POST" else 200
    response = current_app.make_response(
        (render_template("accounts/set_password.html", **context), status)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Coordinators: artisans' accounts on their behalf -------------------------------------


@bp.get("/coordinator/artisans")
@staff_required
def artisans():
    """Every artisan, newest first, with her phone (coordinators may see it)."""
    profiles = db.session.scalars(
        sa.select(ArtisanProfile)
        .join(ArtisanProfile.user)
        .options(sa.orm.contains_eager(ArtisanProfile.user))
        .order_by(ArtisanProfile.created_at.desc(), ArtisanProfile.id.desc())
        .limit(200)
    ).all()
    return render_template("accounts/artisans.html", profiles=profiles, form=EmptyForm())


@bp.route("/coordinator/artisans/new", methods=["GET", "POST"])
@staff_required
def new_artisan():
    """Create an artisan's account for her and show the one-time link to hand her."""
    form = OnBehalfArtisanForm()
    if form.validate_on_submit():
        coordinator = current_user._get_current_object()
        user = _create_artisan(form, password=None, locale="ar", created_by=coordinator)
        if user is not None:
            token = services.issue_password_link(
                user,
                purpose=PasswordLinkPurpose.INVITE,
                created_by=coordinator,
                days=current_app.config["SET_PASSWORD_LINK_DAYS"],
            )
            return _show_link(user, token, PasswordLinkPurpose.INVITE)
    if request.method == "POST":
        return _invalid("accounts/new_artisan.html", form)
    return render_template("accounts/new_artisan.html", form=form)


@bp.post("/coordinator/artisans/<id:user_id>/password-link")
@staff_required
def password_link(user_id: int):
    """A new one-time link for an artisan who forgot her password.

    Only someone who may act for her (policy "act_for_artisan": her coordinator, or an
    admin) may make one: a link is a way into her account. 404 for anyone else, and for
    accounts that are not an artisan's.
    """
    user = db.session.get(User, user_id)
    if user is None or user.artisan_profile is None:
        abort(404)
    if not can(current_user, "act_for_artisan", user.artisan_profile):
        abort(404)
    token = services.issue_password_link(
        user,
        purpose=PasswordLinkPurpose.RESET,
        created_by=current_user._get_current_object(),
        days=current_app.config["SET_PASSWORD_LINK_DAYS"],
    )
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
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(429)
def too_many_attempts(error):
    """Past a limit on these pages: the form again, with what she typed, the reason, and
    when to try again (Retry-After)."""
    limit = limiter.current_limit
    retry_after = max(1, limit.reset_at - int(time.time())) if limit else 60
    if request.endpoint != "accounts.login":
        from artisan_market.errors import render_error

        body, status = render_error(429)
    else:
        form = LoginForm(meta={"csrf": False})
        form.password.errors = [_("Too many log-in attempts. Wait a few minutes, then try again.")]
        body, status = render_template("accounts/login.html", form=form), 429
    return body, status, {"Retry-After": str(retry_after)}
