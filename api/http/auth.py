"""Bearer tokens: short-lived, signed by the server's token secret (itsdangerous, Flask's own).

A token names a person and a session. The token expires after ``TOKEN_LIFETIME_SECONDS``
whatever happens; the session ends sooner if it is left inactive longer than the policy's
timeout, on logout, or when the account is locked (21 CFR 11.300(d)).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from api.store import get_store
from domain.account import Account
from infrastructure.errors import AuthenticationFailed
from infrastructure.identity.server_key import token_secret

SALT = "sealtrail-bearer-token"

F = TypeVar("F", bound=Callable[..., Any])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(token_secret(get_store().settings), salt=SALT)


def issue_token(user_id: str, session_id: str) -> tuple[str, int]:
    """A bearer token for ``user_id`` in ``session_id`` and its lifetime in seconds."""
    lifetime = int(current_app.config["TOKEN_LIFETIME_SECONDS"])
    return str(_serializer().dumps({"sub": user_id, "sid": session_id})), lifetime


def authenticated_account() -> Account:
    """The account behind the request's bearer token; ``g.session_id`` is its session.

    Raises:
        AuthenticationFailed: no token, a malformed, forged or expired one, no such account,
            or a session that has ended (logout, inactivity, lockout).
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed("send 'Authorization: Bearer <token>' (POST /v1/auth/token)")
    try:
        claims = _serializer().loads(
            token.strip(), max_age=int(current_app.config["TOKEN_LIFETIME_SECONDS"])
        )
    except SignatureExpired:
        raise AuthenticationFailed("the token has expired; ask for a new one") from None
    except BadSignature:
        raise AuthenticationFailed("the token is not one this server issued") from None
    if not isinstance(claims, dict):
        raise AuthenticationFailed("the token is not one this server issued")
    user_id, session_id = str(claims.get("sub")), str(claims.get("sid"))
    # The session check loads the account (and refuses a session without one): once per request.
    account = get_store().access.resume_session(session_id, user_id)
    g.session_id = session_id
    return account


def login_required(view: F) -> F:
    """Run the view only for an authenticated request; ``g.account`` is the person."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g.account = authenticated_account()
        return view(*args, **kwargs)

    return cast(F, wrapped)
