"""Copies handed out over the API are recorded before they leave (ICH E6(R3) 4.2).

A view that hands out a copy of data (a packet, a replay, a history, a report) says so with
:func:`handing_out`; once Flask has rendered the answer, its exact bytes are recorded in the
person's disclosure log, and only then sent. A copy that cannot be recorded is not sent: the
error answers instead.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, Response, g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.accounts import READERS_ONLY
from api.http.answers import answers
from api.http.auth import login_required
from api.http.store import get_store
from api.schemas.disclosures import DisclosureQuerySchema, DisclosureSchema, disclosure_view
from domain.disclosure import Scope
from domain.permissions import check_may_read_accounts
from infrastructure.application.disclosures import API
from infrastructure.views.study_reports import served_study

blp = Blueprint(
    "disclosures", __name__, url_prefix="/v1/disclosures", description="Copies handed out"
)


@blp.route("")
class Disclosures(MethodView):
    """The disclosure log: every copy of data handed out, to whom, and which."""

    @login_required
    @blp.arguments(DisclosureQuerySchema, location="query", unknown=ma.RAISE)
    @answers(
        blp,
        200,
        DisclosureSchema(many=True),
        READERS_ONLY | {404: "No such subject", 422: "Unknown study, or one must be named"},
    )
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Copies of the study's data handed out, oldest first: to one person (``user_id``),
        or holding one subject's data (``subject``) (administrators, auditors)."""
        check_may_read_accounts(g.account)
        copies = get_store().disclosures.listed(
            served_study(query.get("study")),
            user_id=query.get("user_id"),
            subject=query.get("subject"),
        )
        return [disclosure_view(copy) for copy in copies]


def handing_out(what: str, scope: Scope) -> None:
    """Mark the answer to this request as a copy of ``scope`` to record as it leaves."""
    g.handing_out = (what, scope)


def register(app: Flask) -> None:
    """Record every successful answer a view marked as a copy, before it is sent."""

    @app.after_request
    def record_copy(response: Response) -> Response:
        marked = g.pop("handing_out", None)
        if marked is not None and response.status_code == 200 and request.method != "HEAD":
            what, scope = marked
            get_store().disclosures.hand_out(
                g.account.user_id, what, scope, response.get_data(), API
            )
        return response
