"""Errors on the pages answer as HTML pages, never as the API's JSON: a refusal (403), a page or
record not found (404), a form that failed its CSRF check (400), a store that cannot be reached
(503) and a fault (500), each with the status the API gives the same error (:mod:`api.statuses`).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from api.statuses import STATUS_OF, status_of
from api.web.wording import gettext as _
from api.web.wording import worded
from infrastructure.store.outage import STORE_OUTAGES

TITLES = {
    400: "The request could not be read",
    401: "Sign in first",
    403: "Not permitted",
    404: "Page not found",
    405: "Not a way to ask for this page",
    409: "Not possible now",
    413: "Too large",
    422: "Not accepted",
    500: "Something went wrong",
    503: "The store cannot be reached now",
}
"""What each status's page is titled (the phrase is translated on the page)."""

FORM_EXPIRED = (
    "The form was not sent from a page of this site, or it was open too long. Go back, reload "
    "the page and send the form again."
)


def error_page(status: int, detail: str) -> tuple[str, int]:
    """The HTML page of an error: its title, what went wrong, a way on."""
    title = TITLES.get(status) or TITLES[500 if status >= 500 else 400]
    return render_template("error.html", status=status, title=title, detail=detail), status


def install(blueprint: Blueprint) -> None:
    """Answer the blueprint's errors as pages: Flask asks a blueprint's handlers before the
    app's, so the API's problem+json handlers never answer a page."""
    blueprint.register_error_handler(CSRFError, form_expired)
    blueprint.register_error_handler(HTTPException, http_error)
    blueprint.register_error_handler(InternalServerError, fault)
    for family, _status in STATUS_OF:
        blueprint.register_error_handler(family, typed)
    for outage in STORE_OUTAGES:
        blueprint.register_error_handler(outage, unreachable)


def form_expired(error: CSRFError) -> tuple[str, int]:
    """A form without this session's CSRF token, or with an old one."""
    return error_page(400, _(FORM_EXPIRED))


def http_error(error: HTTPException) -> tuple[str, int]:
    """A page not found (404), refused (403, from :func:`abort`), a wrong method (405)..."""
    return error_page(error.code or 500, str(error.description or ""))


def typed(error: Exception) -> tuple[str, int]:
    """A typed error of the domain or the store, at the status the API gives it."""
    status = status_of(error) or 500
    if status >= 500:
        current_app.logger.error("%s on a page: %s", type(error).__name__, error)
    return error_page(status, worded(error))


def fault(error: InternalServerError) -> tuple[str, int]:
    """An error no family names: a fault, logged with its traceback, told in general terms."""
    current_app.logger.error("fault on a page", exc_info=error.original_exception or error)
    return error_page(500, _("The fault was logged. Try again later."))


def unreachable(error: Exception) -> tuple[str, int]:
    """The database could not be reached: try again in a few seconds."""
    current_app.logger.error("store unavailable on a page: %s", error)
    return error_page(
        503, _("The store's database cannot be reached now; try again in a few seconds.")
    )
