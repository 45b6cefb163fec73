"""Signing in to the pages: a session cookie over the same sessions as the API's tokens.

The cookie (Flask's signed session, HttpOnly, SameSite=Strict, Secure over TLS) holds the person's
user id and the id of a session of :class:`~infrastructure.application.access.AccessControl`,
opened by :func:`sign_in` after :meth:`~AccessControl.authenticate` with channel ``web``. Every
page resumes that session (:meth:`~AccessControl.resume_session`): the inactivity timeout,
logout and a lock end it exactly as they end a token's. The cookie is signed with the store's
page secret (:func:`~infrastructure.identity.server_key.page_secret`), which also signs the
forms' CSRF tokens (Flask-WTF).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import (
    Flask,
    Request,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.wording import worded
from domain.account import Account
from domain.actions import Action
from domain.errors import NotPermitted
from domain.permissions import check_role_may
from infrastructure.errors import AuthenticationFailed, SessionExpired
from infrastructure.identity.server_key import page_secret

F = TypeVar("F", bound=Callable[..., Any])

COOKIE = "sealtrail_session"
USER, SESSION = "user_id", "session_id"
MUST_CHANGE = "must_change_password"
"""The user id whose one-time or expired password opened only its own change (no session)."""
NEXT = "next"
"""Where to go once that password is changed and the person signed in."""
HOME = "web.landing"
"""Where a person goes once signed in, when no other page was asked for: ``/``, which sends
them on to the first page of the navigation their role opens (:func:`~api.web.navigation.
home_of`)."""

csrf = CSRFProtect()


class StoreKeyedSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, keyed by the page secret of the store being served.

    The key is read from the store on the request that needs it, not fixed when the app is
    made: the app is built before the store is opened (and tests serve several stores from one
    app). A request without the cookie opens an empty session without the store at all, so the
    API's requests and the docs never touch it.
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        return URLSafeTimedSerializer(
            page_secret(get_store().settings),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        # Secure whenever the page was served over TLS (behind a proxy, as ProxyFix says).
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def install_sessions(app: Flask) -> None:
    """The cookie's settings and CSRF protection, checked by the pages' own hook only (the
    API's requests carry bearer tokens, never this cookie)."""
    app.session_interface = StoreKeyedSessions()
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    csrf.init_app(app)


LARGER_FORMS: dict[str, int] = {}
"""Pages whose forms may be larger than the app's limit, by endpoint, in bytes: a page module
adds its own (a casebook signature's form names every record of the casebook)."""


def protect_forms() -> None:
    """Refuse a form of a page sent without this session's CSRF token (400, Flask-WTF).

    The form is read here, so a page's larger limit (:data:`LARGER_FORMS`) is set here first.
    """
    larger = LARGER_FORMS.get(request.endpoint or "")
    if larger is not None:
        request.max_content_length = larger
    config = current_app.config
    if config.get("WTF_CSRF_SECRET_KEY") is None:
        config["WTF_CSRF_SECRET_KEY"] = page_secret(get_store().settings)
    csrf.protect()


def sign_in(account: Account) -> None:
    """Open a session for a person who has just authenticated, in a cookie of its own.

    The old cookie's content (a CSRF token, a pending password change) is dropped and a session
    it held is ended: nothing of what the browser held before signing in carries over (no
    session fixation), and a copy of the old cookie opens nothing.
    """
    sign_out()
    language = session.get("language")
    session.clear()
    session[USER] = account.user_id
    session[SESSION] = get_store().access.open_session(account)
    if language is not None:
        session["language"] = language


def sign_out() -> None:
    """End the session (its cookie then opens nothing, even if kept) and forget the cookie."""
    session_id = session.get(SESSION)
    if session_id is not None:
        get_store().access.end_session(str(session_id))
    language = session.get("language")
    session.clear()
    if language is not None:
        session["language"] = language


def signed_in_person() -> Account | None:
    """The person of this browser's live session, its inactivity clock restarted; None when no
    one is signed in, or the session ended (then the cookie is emptied, and a message says why).
    """
    if "account" in g:
        return cast(Account | None, g.account)
    user_id, session_id = session.get(USER), session.get(SESSION)
    account = None
    if user_id is not None and session_id is not None:
        try:
            account = get_store().access.resume_session(str(session_id), str(user_id))
        except (SessionExpired, AuthenticationFailed) as ended:
            session.pop(USER, None)
            session.pop(SESSION, None)
            flash(worded(ended), "ended")
    g.account = account
    return account


def page_for(action: Action | None, *or_else: Action) -> Callable[[F], F]:
    """Serve the page to a signed-in person whose role in force does ``action``, or one of
    ``or_else`` (anywhere: which sites the page then shows, and what it offers, is the page's
    business); ``None`` for a page of every signed-in person (their own account).

    Anyone not signed in is sent to ``/login?next=<this page>``; a person whose role does none
    of the actions is answered 403 with an HTML page saying why (of ``action``). ``g.account``
    is the person.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def page(*args: Any, **kwargs: Any) -> Any:
            account = signed_in_person()
            if account is None:
                return to_sign_in()
            if action is not None and not any(role_may(account, a) for a in or_else):
                try:
                    check_role_may(account, action)
                except NotPermitted as refused:
                    abort(403, description=worded(refused))
            return view(*args, **kwargs)

        return cast(F, page)

    return decorate


def role_may(account: Account, action: Action) -> bool:
    """Whether ``account``'s role in force does ``action`` at some site."""
    try:
        check_role_may(account, action)
    except NotPermitted:
        return False
    return True


def to_sign_in() -> Response:
    """Redirect to the sign-in page, which brings the person back here once signed in."""
    here = request.full_path if request.query_string else request.path
    return redirect(url_for("web.login", next=here))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only, never another origin.

    A browser reads ``//host``, ``/\\host`` and a path with a tab or line break in it
    (``/<TAB>/host``, which it strips to ``//host``) as another origin: none is followed.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and all(" " < character != "\x7f" for character in target)
    ):
        return target
    return url_for(HOME)
