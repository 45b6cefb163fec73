"""``GET /v1/disclosures``: the disclosure log, who took which copy of what (ICH E6(R3) 4.2).

Reading it is itself a copy handed out (it names people and what they took): see
:mod:`api.http.handing_out`.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.accounts import READERS_ONLY
from api.http.answers import answers
from api.http.auth import login_required
from api.http.handing_out import handing_out
from api.schemas.disclosures import DisclosureQuerySchema, DisclosureSchema, disclosure_view
from api.store import get_store
from domain.disclosure import DISCLOSURE_LOG, Scope
from domain.permissions import check_may_read_accounts
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
        study = served_study(query.get("study"))
        copies = get_store().disclosures.listed(
            study,
            user_id=query.get("user_id"),
            subject=query.get("subject"),
        )
        handing_out(DISCLOSURE_LOG, Scope(study))
        return [disclosure_view(copy) for copy in copies]
