"""Study-level reports computed from the projections (the API and the CLI share them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from domain.audit_review import next_review_starts
from domain.errors import AuditReviewInvalid, UnknownStudy
from domain.protocol import PROTOCOLS, protocol_for
from domain.review_settings import check_review_period
from domain.subject import Subject, subject_stream
from infrastructure.application.reads import Reads
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
    views: SubjectSummaryView, study: str | None = None, site: str | None = None
) -> UnsignedReport:
    """For each subject of a study (or of one of its sites), the records no current signature
    covers, from the subjects' audit indices."""
    study_id = served_study(study)
    indices = (views.audit(stream) for stream in site_streams(views, study_id, site))
    return unsigned_report(study_id, site, (index for index in indices if index is not None))


def source_verification(
    views: SubjectSummaryView,
    find_subject: Callable[[str], Subject | None],
    study: str | None,
    site: str | None,
    records: str,
) -> dict[str, Any]:
    """The source data verification coverage of a study's subjects (``site``'s, when named),
    each folded from its events."""
    study_id = served_study(study)
    streams = site_streams(views, study_id, site)
    subjects = [found for found in map(find_subject, streams) if found is not None]
    return study_coverage(study_id, subjects, site=site, records=records)


def site_streams(views: SubjectSummaryView, study_id: str, site: str | None) -> list[str]:
    """The streams of a study's subjects (of ``site``'s, when named), by subject code."""
    return [
        subject_stream(study_id, summary["subject"])
        for summary in views.of_study(study_id)
        if site is None or summary["site"] == site
    ]
