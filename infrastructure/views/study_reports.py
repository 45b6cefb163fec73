"""Study-level reports computed from the projections (the API and the CLI share them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.audit_review import next_review_starts
from domain.errors import AuditReviewInvalid, UnknownStudy
from domain.protocol import PROTOCOLS, protocol_for
from domain.review_settings import check_review_period
from domain.subject import Subject
from infrastructure.application.reads import Reads
from infrastructure.errors import ViewNotVerified
from infrastructure.views.tables import SubjectSummaryView
from projections.audit_review import AuditReview, review_audit_trail
from projections.audit_trail import Period
from projections.source_verification import study_coverage
from projections.study_outcomes import outcome_table
from projections.unsigned_records import UnsignedReport, unsigned_report


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
    ``last`` (inclusive), computed from the whole log. Without ``first`` the period begins the
    day after the latest recorded review of the study that covered the site ended (from the
    start, before any); without ``last`` it ends today at the study.

    Raises:
        UnknownStudy: no such study, or one must be named.
        AuditReviewInvalid: ``first`` is after ``last``.
    """
    study_id = served_study(study)
    today = datetime.now(protocol_for(study_id).time_zone).date()
    if first is None:
        first = next_review_starts(reads.audit_trail_reviews(), study_id, site)
        if first is not None and last is None and first > today:
            raise AuditReviewInvalid(
                f"the latest review covers up to {today}: nothing recorded since to review"
            )
    last = today if last is None else last
    check_review_period(first, last)
    period = Period(first, last)
    return review_audit_trail(reads.log(), study=study_id, period=period, today=today, site=site)


def access_review(reads: Reads, now: datetime) -> dict[str, Any]:
    """The user access review report as of ``now``, on the period and warning of the protocol
    of the study this store serves."""
    return reads.access_review(now, protocol_for(served_study(None)).access_review)


def unsigned_records(
    views: SubjectSummaryView, reads: Reads, study: str | None = None, site: str | None = None
) -> UnsignedReport:
    """For each subject of a study (or of one of its sites), the records no current signature
    covers, from the subjects' audit indices.

    Raises:
        ViewNotVerified: a subject of the log has no audit index row (removed in the database).
    """
    study_id = served_study(study)
    indices = []
    for subject in site_subjects(reads, study_id, site):
        index = views.audit(subject.stream)
        if index is None:
            raise ViewNotVerified(
                f"the row {subject.stream!r} of the audit index is missing from the database: "
                "run 'sealtrail verify', then 'sealtrail rebuild'"
            )
        indices.append(index)
    return unsigned_report(study_id, site, indices)


def source_verification(
    reads: Reads, study: str | None, site: str | None, records: str
) -> dict[str, Any]:
    """The source data verification coverage of a study's subjects (``site``'s, when named),
    each folded from its events."""
    study_id = served_study(study)
    subjects = site_subjects(reads, study_id, site)
    return study_coverage(study_id, subjects, site=site, records=records)


def site_subjects(reads: Reads, study_id: str, site: str | None) -> list[Subject]:
    """A study's subjects (``site``'s, when named), by subject code, read from the log rather
    than the views, so that a view row removed in the database hides none of them."""
    return [s for s in reads.subjects_of(study_id) if site is None or s.site == site]
