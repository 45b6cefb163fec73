"""``POST /v1/auth/token``: a short-lived bearer token for a user id and password."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import issue_token
from api.schemas.resources import TokenRequestSchema, TokenSchema
from api.store import get_store

blp = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Authentication")


@blp.route("/token")
class Token(MethodView):
    """Bearer tokens."""

    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong user id or password")
    def post(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """Exchange a user id and password for a bearer token."""
        get_store().credentials.authenticate(credentials["username"], credentials["password"])
        token, lifetime = issue_token(credentials["username"])
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}
