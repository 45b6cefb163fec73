"""Source data verification coverage: a subject's, a site's and the study's.

Read with the permission to read clinical data: a subject at its site, a site's subjects by a
person of that site, every site's by a role that reads them all. A verification itself is
written as any record is (``POST /v1/events``, kind ``SourceVerified``).
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.answers import answers
from api.http.auth import login_required
from api.http.handing_out import handing_out
from api.http.subjects import SUBJECT_REFUSALS, readable_subject
from api.schemas.source_verification import (
    StudyCoverageQuerySchema,
    StudyCoverageSchema,
    SubjectCoverageQuerySchema,
    SubjectCoverageSchema,
)
from api.store import get_store
from domain.actions import Action
from domain.disclosure import SOURCE_VERIFICATION, Scope
from domain.permissions import check_may
from infrastructure.views.study_reports import served_study, source_verification
from projections.source_verification import subject_coverage

blp = Blueprint(
    "source_verification", __name__, url_prefix="/v1", description="Source data verification"
)


@blp.route("/studies/<study>/subjects/<subject>/source-verification")
class SubjectSourceVerification(MethodView):
    """What a monitor verified of a subject's records."""

    @login_required
    @blp.arguments(SubjectCoverageQuerySchema, location="query")
    @answers(blp, 200, SubjectCoverageSchema, SUBJECT_REFUSALS | {422: "Unknown records"})
    def get(self, query: dict[str, Any], study: str, subject: str) -> dict[str, Any]:
        """Records verified against source as they stand, out of those counted, and each
        record still to verify."""
        store = get_store()
        found = readable_subject(study, subject, store.app.find_subject, lambda s: s.site)
        handing_out(SOURCE_VERIFICATION, Scope(study, subject=subject))
        return subject_coverage(found, query["records"])


@blp.route("/study/source-verification")
class StudySourceVerification(MethodView):
    """What monitors verified of a site's or the study's records."""

    @login_required
    @blp.arguments(StudyCoverageQuerySchema, location="query")
    @answers(
        blp,
        200,
        StudyCoverageSchema,
        {
            403: "Not a reader of this site (or, without site, of every site)",
            422: "Unknown study, or one must be named",
        },
    )
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Coverage in total, by site and by subject; with ``site``, that site's subjects only
        (a person of the site may read it)."""
        site = query.get("site")
        check_may(g.account, Action.READ_CLINICAL_DATA, site)
        store = get_store()
        study = served_study(query.get("study"))
        handing_out(SOURCE_VERIFICATION, Scope(study, site=site))
        return source_verification(store.reads, study, site, query["records"])
