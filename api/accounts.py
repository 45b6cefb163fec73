"""Who am I, and which key does the server sign with."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import login_required
from api.schemas.resources import AccountSchema, ServerKeySchema
from api.store import get_store
from domain.wire import instant_to_wire
from signatures.keys import public_key_to_text

blp = Blueprint("accounts", __name__, url_prefix="/v1", description="Accounts and keys")


@blp.route("/me")
class Me(MethodView):
    """The authenticated person."""

    @login_required
    @blp.response(200, AccountSchema)
    @blp.alt_response(401, description="Not authenticated")
    def get(self) -> dict[str, Any]:
        """Your account: printed name, role, sites and registered keys."""
        account = g.account
        return {
            "user_id": account.user_id,
            "printed_name": account.printed_name,
            "role": account.role.value,
            "sites": list(account.sites),
            "keys": [
                {
                    "key_id": key.key_id,
                    "valid_from": instant_to_wire(key.effective_from),
                    "revoked_at": key.revoked_at and instant_to_wire(key.revoked_at),
                }
                for key in account.keys.values()
            ],
        }


@blp.route("/server-key")
class ServerKey(MethodView):
    """The server's public key."""

    @blp.response(200, ServerKeySchema)
    def get(self) -> dict[str, Any]:
        """The key that signs receipts (no authentication needed)."""
        server_key = get_store().app.server_key
        return {
            "key_id": server_key.key_id,
            "public_key": public_key_to_text(server_key.public_key),
        }
