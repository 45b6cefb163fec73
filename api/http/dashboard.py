"""Read-only views of the study, computed from the events: dashboard, weekly tables, audit index.

Study-wide views name no site, so only roles that read every site (auditors, sponsor data
managers) may read them; a subject's weekly table and audit index are read at the subject's
site, like the subject itself.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.auth import login_required
from api.http.store import get_store
from api.http.subjects import readable_subject
from api.schemas.dashboard import (
    AuditIndexSchema,
    DashboardSchema,
    StudyWeeklySchema,
    SubjectWeeklySchema,
)
from api.schemas.outcomes import OutcomeQuerySchema
from domain.permissions import Action, check_may
from infrastructure.views.study_reports import served_study

blp = Blueprint("dashboard", __name__, url_prefix="/v1", description="Study views")


@blp.route("/study/dashboard")
class StudyDashboard(MethodView):
    """Where the study stands."""

    @login_required
    @blp.arguments(OutcomeQuerySchema, location="query")
    @blp.response(200, DashboardSchema)
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(403, description="Only roles that read every site")
    @blp.alt_response(422, description="Unknown study, or one must be named")
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Enrolment, infusions, adverse events, deaths, responses and SAE notification clocks.

        Overdue notifications are judged against today's date at the site.
        """
        check_may(g.account, Action.READ_CLINICAL_DATA, None)
        return get_store().views.dashboard(served_study(query.get("study")))


@blp.route("/study/weekly")
class StudyWeekly(MethodView):
    """The study's weekly outcome table."""

    @login_required
    @blp.arguments(OutcomeQuerySchema, location="query")
    @blp.response(200, StudyWeeklySchema)
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(403, description="Only roles that read every site")
    @blp.alt_response(422, description="Unknown study, or one must be named")
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Cytopenias, transfusions, infections and febrile neutropenia by week from the first
        MSC infusion (week 1 starts on its day, week 0 is the week before), to month 6."""
        check_may(g.account, Action.READ_CLINICAL_DATA, None)
        return get_store().views.study_weekly(served_study(query.get("study")))


@blp.route("/studies/<study>/subjects/<subject>/weekly")
class SubjectWeekly(MethodView):
    """A subject's weekly outcome table."""

    @login_required
    @blp.response(200, SubjectWeeklySchema)
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(403, description="Not allowed for this role or site")
    @blp.alt_response(404, description="No such subject")
    def get(self, study: str, subject: str) -> dict[str, Any]:
        """The subject's weeks from the first MSC infusion (empty before it)."""
        views = get_store().views
        table: dict[str, Any] = readable_subject(
            study, subject, views.subject_weekly, lambda found: found["site"]
        )
        return table


@blp.route("/studies/<study>/subjects/<subject>/audit")
class SubjectAudit(MethodView):
    """A subject's audit index."""

    @login_required
    @blp.response(200, AuditIndexSchema)
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(403, description="Not allowed for this role or site")
    @blp.alt_response(404, description="No such subject")
    def get(self, study: str, subject: str) -> dict[str, Any]:
        """Every record with its versions (original and corrections, old -> new, who, when,
        why), its void, and the signature manifestation of each (21 CFR 11.10(e), 11.50)."""
        views = get_store().views
        index: dict[str, Any] = readable_subject(
            study, subject, views.audit, lambda found: found["site"]
        )
        return index
