"""``GET /v1/study/outcomes``: the publication's outcome table, computed from the events;
``GET /v1/study/unsigned-records``: the records no current signature covers, per subject; and
what every view of the whole study shares (:func:`study_wide_view`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.answers import answers
from api.http.auth import login_required
from api.http.handing_out import handing_out
from api.schemas.audit_review import AuditReviewQuerySchema, AuditReviewSchema
from api.schemas.outcomes import OutcomeQuerySchema, OutcomeTableSchema
from api.schemas.unsigned import UnsignedQuerySchema, UnsignedReportSchema
from api.store import get_store
from domain.actions import Action
from domain.disclosure import AUDIT_REVIEW, OUTCOMES, UNSIGNED, Scope
from domain.permissions import check_may
from infrastructure.views.study_reports import (
    audit_review,
    served_study,
    study_outcomes,
    unsigned_records,
)

StudyView = Callable[[Any, str], dict[str, Any]]

STUDY_WIDE_REFUSALS = {
    403: "Only roles that read every site",
    422: "Unknown study, or one must be named",
}


def study_wide_view(blp: Blueprint, schema: Any) -> Callable[[StudyView], Any]:
    """A view of the whole study: it names no site, so only roles that read every site may
    read it. The view is given the study named by the query (or, with none named, the one
    this store serves) once the signed-in person may read it."""

    def document(view: StudyView) -> Any:
        @wraps(view)
        def authorised(self: Any, query: dict[str, Any]) -> dict[str, Any]:
            check_may(g.account, Action.READ_CLINICAL_DATA)
            return view(self, served_study(query.get("study")))

        answered = answers(blp, 200, schema, STUDY_WIDE_REFUSALS)(authorised)
        return login_required(blp.arguments(OutcomeQuerySchema, location="query")(answered))

    return document


blp = Blueprint("study", __name__, url_prefix="/v1/study", description="Study outcomes")


@blp.route("/outcomes")
class StudyOutcomes(MethodView):
    """The outcome measures, each figure with the records it came from."""

    @study_wide_view(blp, OutcomeTableSchema)
    def get(self, study: str) -> dict[str, Any]:
        """The outcome table (every site; auditors and sponsor data managers)."""
        handing_out(OUTCOMES, Scope(study))
        return study_outcomes(get_store().views, get_store().reads, study)


@blp.route("/audit-review")
class StudyAuditReview(MethodView):
    """What a reviewer of the audit trail must look at, per site and person."""

    @login_required
    @blp.arguments(AuditReviewQuerySchema, location="query", unknown=ma.RAISE)
    @answers(
        blp,
        200,
        AuditReviewSchema,
        {
            403: "Only auditors and sponsor data managers",
            422: "Unknown study, or a period that ends before it begins",
        },
    )
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Entries outside working hours, late or backdated; correction and void rates; SAEs
        past their clock; dormant logins; records changed after a signature (every site)."""
        check_may(g.account, Action.REVIEW_AUDIT_TRAIL)
        review = audit_review(
            get_store().reads, query.get("study"), query.get("first"), query.get("last"),
            query.get("site"),
        )  # fmt: skip
        handing_out(AUDIT_REVIEW, Scope(review.study, site=review.site))
        return review.as_dict()


@blp.route("/unsigned-records")
class UnsignedRecords(MethodView):
    """What is left for the investigator to sign."""

    @login_required
    @blp.arguments(UnsignedQuerySchema, location="query")
    @answers(
        blp,
        200,
        UnsignedReportSchema,
        {
            403: "Not a reader of that site's data (or no site named by a role of its own sites)",
            422: "Unknown study, or one must be named",
        },
    )
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """For each subject (of one site, when ``site`` is named), its live records that no
        current signature covers: never signed, or corrected or voided since."""
        site = query.get("site")
        check_may(g.account, Action.READ_CLINICAL_DATA, site)
        report = unsigned_records(get_store().views, get_store().reads, query.get("study"), site)
        handing_out(UNSIGNED, Scope(report["study"], site=site))
        return report
