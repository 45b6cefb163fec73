"""Read-only views of the study, computed from the events: dashboard, weekly tables, audit index.

Study-wide views name no site, so only roles that read every site (auditors, sponsor data
managers) may read them; a subject's weekly table and audit index are read at the subject's
site, like the subject itself.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.answers import answers
from api.http.auth import login_required
from api.http.handing_out import handing_out
from api.http.study import study_wide_view
from api.http.subjects import SUBJECT_REFUSALS, readable_subject
from api.schemas.dashboard import (
    AuditIndexSchema,
    DashboardSchema,
    StudyWeeklySchema,
    SubjectWeeklySchema,
)
from api.store import get_store
from domain.disclosure import AUDIT_INDEX, DASHBOARD, WEEKLY, Scope
from infrastructure.views.study_reports import study_dashboard, study_weekly

blp = Blueprint("dashboard", __name__, url_prefix="/v1", description="Study views")


@blp.route("/study/dashboard")
class StudyDashboard(MethodView):
    """Where the study stands."""

    @study_wide_view(blp, DashboardSchema)
    def get(self, study: str) -> dict[str, Any]:
        """Enrolment, infusions, adverse events, deaths, responses and SAE notification clocks.

        Overdue notifications are judged against today's date at the site.
        """
        handing_out(DASHBOARD, Scope(study))
        return study_dashboard(get_store().views, get_store().reads, study)


@blp.route("/study/weekly")
class StudyWeekly(MethodView):
    """The study's weekly outcome table."""

    @study_wide_view(blp, StudyWeeklySchema)
    def get(self, study: str) -> dict[str, Any]:
        """Cytopenias, transfusions, infections and febrile neutropenia by week from the first
        MSC infusion (week 1 starts on its day, week 0 is the week before), to month 6."""
        handing_out(WEEKLY, Scope(study))
        return study_weekly(get_store().views, get_store().reads, study)


@blp.route("/studies/<study>/subjects/<subject>/weekly")
class SubjectWeekly(MethodView):
    """A subject's weekly outcome table."""

    @login_required
    @answers(blp, 200, SubjectWeeklySchema, SUBJECT_REFUSALS)
    def get(self, study: str, subject: str) -> dict[str, Any]:
        """The subject's weeks from the first MSC infusion (empty before it)."""
        views = get_store().views
        table: dict[str, Any] = readable_subject(
            study, subject, views.subject_weekly, lambda found: found["site"]
        )
        handing_out(WEEKLY, Scope(study, subject=subject))
        return table


@blp.route("/studies/<study>/subjects/<subject>/audit")
class SubjectAudit(MethodView):
    """A subject's audit index."""

    @login_required
    @answers(blp, 200, AuditIndexSchema, SUBJECT_REFUSALS)
    def get(self, study: str, subject: str) -> dict[str, Any]:
        """Every record with its versions (original and corrections, old -> new, who, when,
        why), its void, and the signature manifestation of each (21 CFR 11.10(e), 11.50)."""
        views = get_store().views
        index: dict[str, Any] = readable_subject(
            study, subject, views.audit, lambda found: found["site"]
        )
        handing_out(AUDIT_INDEX, Scope(study, subject=subject))
        return index
