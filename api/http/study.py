"""``GET /v1/study/outcomes``: the publication's outcome table, computed from the events."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.auth import login_required
from api.http.store import get_store
from api.schemas.outcomes import OutcomeQuerySchema, OutcomeTableSchema
from domain.permissions import Action, check_may
from infrastructure.views.study_reports import study_outcomes

blp = Blueprint("study", __name__, url_prefix="/v1/study", description="Study outcomes")


@blp.route("/outcomes")
class StudyOutcomes(MethodView):
    """The outcome measures, each figure with the records it came from."""

    @login_required
    @blp.arguments(OutcomeQuerySchema, location="query")
    @blp.response(200, OutcomeTableSchema)
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(403, description="Only roles that read every site")
    @blp.alt_response(422, description="Unknown study, or one must be named")
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The outcome table (every site; auditors and sponsor data managers)."""
        check_may(g.account, Action.READ_CLINICAL_DATA)
        return study_outcomes(get_store().views, query.get("study"))
