"""Error pages in the page's language, for people and for htmx alike. Never a bare 500."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from artisan_market.extensions import htmx
from artisan_market.media.storage import StorageUnavailable

MESSAGES = {
    400: (_l("Something in the request was wrong"), _l("Go back, reload the page and try again.")),
    403: (
        _l("This page is not for your account"),
        _l("If you think it should be, ask a coordinator."),
    ),
    404: (_l("We could not find this page"), _l("The link may be old or mistyped.")),
    405: (_l("This action is not possible here"), _l("Go back and use the buttons on the page.")),
    413: (
        _l("The file is too big"),
        _l("Choose a smaller photo (under %(mb)d MB) and try again."),
    ),
    429: (
        _l("Too many attempts"),
        _l("Wait a few minutes, then try again. This protects your account."),
    ),
    500: (_l("Something went wrong on our side"), _l("We have been told. Please try again soon.")),
    503: (
        _l("The site is busy for a moment"),
        _l("Nothing was saved. Wait a few seconds, then send it again."),
    ),
}
PHOTOS_UNAVAILABLE = _l(
    "Photos cannot be saved at the moment, so nothing was saved. Please try again in a few minutes."
)


# Both languages, no template, no database: for when even the error page cannot render.
FALLBACK_500 = (
    '<!doctype html><html lang="ar" dir="rtl"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>خطأ · Error</title><h1>حدث خطأ عندنا، حاولي مرة أخرى بعد قليل.</h1>"
    '<p lang="en" dir="ltr">Something went wrong on our side. Please try again soon.</p>'
    '<p><a href="/">الصفحة الرئيسية · Home</a></p></html>'
)


def render_error(code: int, *, detail: str | None = None, keep_page: bool = False):
    """The error page in the page's language; for htmx, a message for the page's message
    area (a whole page swapped into a photo list would be nonsense). `keep_page`: a boosted
    form gets the message too, above the form, which keeps what she typed."""
    title, message = MESSAGES.get(code, MESSAGES[500])
    if detail is None:
        mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        detail = str(message) % {"mb": mb} if code == 413 else str(message)
    if htmx and (keep_page or not htmx.boosted):
        page = render_template("errors/_error.html", title=title, message=detail)
        headers = {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML show:#messages:top"}
        return page, code, {**headers, "Vary": "HX-Request"}
    # A 5xx page shows no account menu: loading the account may be what failed.
    try:
        page = render_template(
            "errors/error.html", code=code, title=title, message=detail, plain=code >= 500
        )
    except Exception:  # the error page itself failed: answer with the plainest page there is
        if code < 500:
            raise
        current_app.logger.exception("error page failed to render")
        page = FALLBACK_500
    return page, code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, detail=str(_l("This form has expired. Reload the page and send it again."))
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        return render_error(500)

    @app.errorhandler(StorageUnavailable)
    def photos_unavailable(error):
        # The request's transaction is rolled back (a 503), and the files it wrote before
        # the failing one are removed with it (media.services.save_photo).
        current_app.logger.warning("photo storage unavailable: %s", error)
        return render_error(503, detail=str(PHOTOS_UNAVAILABLE), keep_page=True)

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        # A database that is restarting, locked past its timeout or out of connections: the
        # request's transaction is rolled back, and she is told to send it again.
        current_app.logger.warning("database unavailable: %s", error.orig)
        return render_error(503)
