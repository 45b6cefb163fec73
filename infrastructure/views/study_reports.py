"""Study-level reports computed from the projections (the API and the CLI share them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.errors import UnknownStudy
from domain.protocol import PROTOCOLS, protocol_for
from domain.review_settings import check_review_period
from infrastructure.application.reads import Reads
from infrastructure.views.tables import SubjectSummaryView
from projections.audit_review import AuditReview, review_audit_trail
from projections.audit_trail import Period
from projections.study_outcomes import outcome_table


def served_study(study: str | None) -> str:
    """``study`` if this store serves it; with none named, the one study it serves."""
    if study is not None:
        return protocol_for(study).study_id
    if len(PROTOCOLS) != 1:
        raise UnknownStudy(f"name the study: this store serves {', '.join(sorted(PROTOCOLS))}")
    (only,) = PROTOCOLS
    return only


def study_outcomes(views: SubjectSummaryView, study: str | None = None) -> dict[str, Any]:
    """The outcome table of a study, from its subjects' summaries."""
    study_id = served_study(study)
    return outcome_table(study_id, views.of_study(study_id), protocol_for(study_id).publication)


def audit_review(
    reads: Reads, study: str | None, first: date | None, last: date | None, site: str | None
) -> AuditReview:
    """The audit-trail review of a study (or one site) for the recording dates ``first`` to
    ``last`` (inclusive; None is open), computed from the whole log.

    Raises:
        UnknownStudy: no such study, or one must be named.
        AuditReviewInvalid: ``first`` is after ``last``.
    """
    study_id = served_study(study)
    check_review_period(first, last)
    period = Period(first, last)
    today = datetime.now(protocol_for(study_id).time_zone).date()
    return review_audit_trail(reads.log(), study=study_id, period=period, today=today, site=site)


def access_review(reads: Reads, now: datetime) -> dict[str, Any]:
    """The user access review report as of ``now``, on the period and warning of the protocol
    of the study this store serves."""
    return reads.access_review(now, protocol_for(served_study(None)).access_review)
