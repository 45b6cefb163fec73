"""Study-level reports computed from the projections (the API and the CLI share them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any, TypeVar

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
from projections.study_dashboard import Dashboard
from projections.study_outcomes import outcome_table
from projections.unsigned_records import UnsignedReport, unsigned_report
from projections.weekly_outcomes import WeeklyTable, first_infusion_day

Row = TypeVar("Row")


def served_study(study: str | None) -> str:
    """``study`` if this store serves it; with none named, the one study it serves."""
    if study is not None:
        return protocol_for(study).study_id
    if len(PROTOCOLS) != 1:
        raise UnknownStudy(
            "name the study: this store serves %(join)s", join=", ".join(sorted(PROTOCOLS))
        )
    (only,) = PROTOCOLS
    return only


def study_outcomes(
    views: SubjectSummaryView, reads: Reads, study: str | None = None
) -> dict[str, Any]:
    """The outcome table of a study, from the summaries of its subjects (read from the log).

    Raises:
        ViewNotVerified: a subject of the log has no summary row (removed in the database).
    """
    study_id = served_study(study)
    summaries = [
        view_row(views.get, subject, "subject summary")
        for subject in site_subjects(reads, study_id, None)
    ]
    return outcome_table(study_id, summaries, protocol_for(study_id).publication)


def study_dashboard(
    views: SubjectSummaryView,
    reads: Reads,
    study: str,
    sites: Collection[str] | None = None,
) -> Dashboard:
    """The study dashboard (of ``sites`` alone, when named), once it counts at each site the
    subjects the log screened there.

    The dashboard is recomputed from the subject summary rows whenever a subject's event
    arrives: a summary row removed in the database leaves that subject out of it, sealed. Of
    some sites only, it is computed on the spot from their subjects' summaries, the same way.

    Raises:
        ViewNotVerified: the dashboard counts fewer subjects at a site than the log screened.
    """
    # The log first: the views then catch up at least as far (a subject screened in between
    # is counted by the dashboard, not missing from it).
    screened = Counter(
        subject.site
        for subject in site_subjects(reads, study, None)
        if sites is None or subject.site in sites
    )
    shown = views.dashboard(study, sites=sites)
    if any(shown["by_site"].get(site, 0) < n for site, n in screened.items()):
        raise ViewNotVerified(
            "the dashboard of %(study)s counts subjects %(by_site)s per site, "
            "the log %(items)s: run 'sealtrail verify', then 'sealtrail rebuild'",
            study=study,
            by_site=shown["by_site"],
            items=dict(sorted(screened.items())),
        )
    return shown


def study_weekly(views: SubjectSummaryView, reads: Reads, study: str) -> WeeklyTable:
    """The study's weekly table, once it covers every subject the log shows infused.

    Raises:
        ViewNotVerified: a subject with an MSC infusion in the log is missing from the table
            (its weekly row removed in the database).
    """
    infused = [  # the log first, as for the dashboard
        subject.subject_code
        for subject in site_subjects(reads, study, None)
        if first_infusion_day(subject) is not None
    ]
    shown = views.study_weekly(study)
    if not set(infused) <= set(shown["subjects"]):
        raise ViewNotVerified(
            "the weekly table of %(study)s covers %(subjects)s, the log's "
            "infused subjects are %(infused)s: run 'sealtrail verify', then "
            "'sealtrail rebuild'",
            study=study,
            subjects=shown["subjects"],
            infused=infused,
        )
    return shown


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
                "the latest review covers up to %(today)s: nothing recorded since to review",
                today=today,
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
    return unsigned_records_of(views, study_id, site, site_subjects(reads, study_id, site))


def unsigned_records_of(
    views: SubjectSummaryView, study_id: str, site: str | None, subjects: list[Subject]
) -> UnsignedReport:
    """:func:`unsigned_records` of ``subjects``, the study's (or ``site``'s) as read from the
    log by a caller that also needs them otherwise (the ``/sign`` page, for their milestones).

    Raises:
        ViewNotVerified: a subject has no audit index row (removed in the database).
    """
    indices = [view_row(views.audit, subject, "audit index") for subject in subjects]
    return unsigned_report(study_id, site, indices)


def source_verification(
    reads: Reads, study: str | None, site: str | None, records: str
) -> dict[str, Any]:
    """The source data verification coverage of a study's subjects (``site``'s, when named),
    each folded from its events."""
    study_id = served_study(study)
    subjects = site_subjects(reads, study_id, site)
    return study_coverage(study_id, subjects, site=site, records=records)


def view_row(read: Callable[[str], Row | None], subject: Subject, view: str) -> Row:
    """``subject``'s row of a view (``read`` by its stream), which the log says must be there.

    Raises:
        ViewNotVerified: the row is missing (removed in the database).
    """
    row = read(subject.stream)
    if row is None:
        raise ViewNotVerified(
            "the row %(stream)r of the %(view)s is missing from the database: "
            "run 'sealtrail verify', then 'sealtrail rebuild'",
            stream=subject.stream,
            view=view,
        )
    return row


def site_subjects(reads: Reads, study_id: str, site: str | None) -> list[Subject]:
    """A study's subjects (``site``'s, when named), by subject code, read from the log rather
    than the views, so that a view row removed in the database hides none of them."""
    return [s for s in reads.subjects_of(study_id) if site is None or s.site == site]
