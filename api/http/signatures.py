"""``POST /v1/signatures``: an investigator signs records, re-entering their password.

The electronic signature of 21 CFR 11.50 and 11.200: a signed ``RecordsSigned`` event naming
each record by entry and record hash, recorded only after the signing ceremony (the password,
and the user id too for the first signing of a session and after the inactivity timeout).
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.answers import answers
from api.http.auth import login_required
from api.http.headers import one_signed_event, signed_submission
from api.schemas.records import SignatureRequestSchema
from api.schemas.resources import SignatureReceiptSchema
from api.store import get_store
from domain.subject import Subject
from domain.wire import recorded_instant
from infrastructure.application.commands import SignRecords

MAX_BODY = 256 * 1024 + Subject.CasebookSigned.MAX_RECORDS * 160
"""The largest signing request: what any write carries, and a casebook signature naming its
most records (about 100 bytes of JSON each; 160 leaves room for spacing and long numbers)."""

LIMITS = (
    f"A ``{Subject.RecordsSigned.__name__}`` covers 1 to "
    f"{Subject.RecordsSigned.MAX_RECORDS:,} records, a ``{Subject.CasebookSigned.__name__}`` "
    f"1 to {Subject.CasebookSigned.MAX_RECORDS:,} (every live record of the subject); a body "
    f"over {MAX_BODY:,} bytes is 413."
)

blp = Blueprint(
    "signatures",
    __name__,
    url_prefix="/v1/signatures",
    description="Electronic signatures over records (21 CFR 11.50, 11.200)",
)


@blp.route("")
class Signatures(MethodView):
    """The signing ceremony."""

    @login_required
    @blp.arguments(SignatureRequestSchema)
    @answers(
        blp,
        201,
        SignatureReceiptSchema,
        {
            401: "Not authenticated, password wrong, or user id needed",
            403: "Not an investigator of the subject's site",
            404: "Subject not screened",
            409: "Stale expected version, or the subject's records locked",
        },
    )
    @one_signed_event(blp, 'The subject version the signer saw, e.g. "7".')
    @blp.doc(
        description="Each record is named by its entry and its ``record_hash`` from the "
        "subject's history; an unknown entry is 422, as for a correction; a hash that is not "
        "the record's as it stands (it was corrected since it was read) is 422 too. " + LIMITS
    )
    def post(self, request_body: dict[str, Any]) -> Any:
        """Sign records of a subject (see docs/signing.md for the record hash)."""
        receipt, signing = get_store().records.sign(
            SignRecords(
                signed_submission(request_body["signature"]),
                actor_id=g.account.user_id,
                session_id=g.session_id,
                password=request_body["password"],
                user_id=request_body.get("user_id"),
            )
        )
        ceremony = {
            "components": list(signing.components),
            "authenticated_at": recorded_instant(signing.authenticated_at),
        }
        return {"receipt": receipt, "ceremony": ceremony}, 201
