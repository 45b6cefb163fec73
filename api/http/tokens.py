"""Authentication: a token for a user id and password, a password change, and logout."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.answers import answers
from api.http.auth import issue_token, login_required
from api.rate_limits import TOO_MANY_SIGN_INS, sign_in_limited
from api.schemas.accounts import PasswordChangeSchema
from api.schemas.resources import TokenRequestSchema, TokenSchema
from api.store import get_store

blp = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Authentication")


@blp.route("/token")
class Token(MethodView):
    """Bearer tokens."""

    @sign_in_limited
    @blp.arguments(TokenRequestSchema)
    @answers(
        blp,
        200,
        TokenSchema,
        {
            401: "Wrong user id or password, or the account is locked",
            403: "The password has expired or is one-time: change it",
            429: TOO_MANY_SIGN_INS,
        },
    )
    def post(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """Exchange a user id and password for a bearer token; it opens a session.

        Every attempt is recorded; too many failures in a row lock the account, and too many
        from one address (``SEALTRAIL_SIGN_IN_RATE_LIMIT``, shared with ``/login``) are refused
        429 for a while.
        """
        access = get_store().access
        account = access.authenticate(
            credentials["username"], credentials["password"], channel="token"
        )
        token, lifetime = issue_token(account.user_id, access.open_session(account))
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}


@blp.route("/password")
class Password(MethodView):
    """Your own password."""

    @sign_in_limited
    @blp.arguments(PasswordChangeSchema)
    @answers(
        blp,
        204,
        None,
        {
            401: "Wrong user id or current password",
            422: "The new password breaks a password rule",
            429: TOO_MANY_SIGN_INS,
        },
    )
    def post(self, change: dict[str, Any]) -> None:
        """Change your password, proving the current one (expired or one-time included).

        A wrong current password counts as a failed sign-in of the address (429 past
        ``SEALTRAIL_SIGN_IN_RATE_LIMIT``): it answers the same question a token request does.
        """
        get_store().access.change_password(
            change["username"], change["password"], change["new_password"]
        )


@blp.route("/session")
class CurrentSession(MethodView):
    """Your session."""

    @login_required
    @answers(blp, 204)
    def delete(self) -> None:
        """End your session: its tokens stop working at once."""
        get_store().access.end_session(g.session_id)
