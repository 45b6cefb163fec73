"""``/``, ``/login`` and ``/logout``: signing in with the API's accounts, and out."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded
from werkzeug.wrappers import Response

from api.rate_limits import SIGN_IN_FAILED, sign_in_limited
from api.store import get_store
from api.web.blueprint import web
from api.web.errors import error_page
from api.web.forms import SignInForm, SignOutForm
from api.web.navigation import home_of
from api.web.sessions import (
    MUST_CHANGE,
    NEXT,
    page_for,
    safe_next,
    sign_in,
    sign_out,
    signed_in_person,
)
from api.web.wording import gettext as _
from api.web.wording import worded
from infrastructure.errors import AccountLockedOut, AuthenticationFailed, PasswordExpired

CHANNEL = "web"
"""How the authentication log names a sign-in on the pages (the API's is ``token``)."""


@web.get("/")
def landing() -> Response:
    """The first page a signed-in person's role opens (``/study`` for those who read clinical
    data, their account for an administrator), the sign-in page for anyone else."""
    person = signed_in_person()
    if person is None:
        return redirect(url_for("web.login"))
    return redirect(home_of(person))


@web.route("/login", methods=["GET", "POST"])
@sign_in_limited
def login() -> Response | str:
    """Sign in: every attempt is in the authentication log, as the token endpoint's are;
    a one-time or expired password leads to its change on ``/account``. Failed attempts count
    against the address's budget, shared with the token endpoint (:func:`too_many_sign_ins`)."""
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if signed_in_person() is not None:
            return redirect(safe_next(form.next.data))
    if form.validate_on_submit():
        username, password = str(form.username.data), str(form.password.data)
        try:
            account = get_store().access.authenticate(username, password, channel=CHANNEL)
        except PasswordExpired as expired:
            sign_out()  # a session this browser held ends too; only the change is pending
            session[MUST_CHANGE] = username
            session[NEXT] = safe_next(form.next.data)
            flash(worded(expired), "must-change")
            return redirect(url_for("web.account"))
        except AccountLockedOut as locked:
            g.setdefault(SIGN_IN_FAILED, True)
            form.form_errors.append(worded(locked))
        except AuthenticationFailed:
            g.setdefault(SIGN_IN_FAILED, True)
            form.form_errors.append(_("The user id or the password is wrong"))
        else:
            sign_in(account)
            return redirect(safe_next(form.next.data))
    return render_template("login.html", form=form)


@web.errorhandler(RateLimitExceeded)
def too_many_sign_ins(error: RateLimitExceeded) -> tuple[str, int]:
    """Too many failed sign-ins from this address: the sign-in page again, 429, the user id as
    typed kept (never the password), saying why and that it passes; any other page breaching a
    limit, the error page."""
    if request.endpoint != "web.login":
        return error_page(429, str(error.description or ""))
    form = SignInForm()
    form.form_errors.append(
        _("Too many failed sign-ins from this address. Wait a few minutes, then sign in again.")
    )
    return render_template("login.html", form=form), 429


@web.route("/logout", methods=["GET", "POST"])
@page_for(None)
def logout() -> Response | str:
    """Sign out: the session ends for good (a kept cookie opens nothing)."""
    form = SignOutForm()
    if form.validate_on_submit():
        sign_out()
        flash(_("You are signed out."), "done")
        return redirect(url_for("web.login"))
    return render_template("logout.html", form=form)
