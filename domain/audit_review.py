"""What a recorded audit-trail review must say (ICH E6(R3), EMA guideline on computerised
systems, 2023, section 6.2: the audit trail is reviewed, and the review is documented).

A reviewer (an auditor or a sponsor data manager) records their review as a signed
``AuditTrailReviewed`` on their own account: the study and site reviewed (none: every site),
the recording dates reviewed, how many findings they saw and the SHA-256 of those findings
(the digest ``sealtrail report audit-review`` and ``GET /v1/study/audit-review`` print), and
their conclusion. The next review's period begins the day after the latest one ended.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from domain.errors import AuditReviewInvalid
from domain.protocol import protocol_for
from domain.review_settings import check_review_period
from domain.text import says_nothing

SHA256 = re.compile(r"[0-9a-f]{64}")
SITE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CONCLUSION_LIMIT = 4000


def check_audit_review(
    *,
    study: str,
    site: str | None,
    reviewed_from: date | None,
    reviewed_to: date,
    findings: int,
    findings_sha256: str,
    conclusion: str,
) -> None:
    """A review of a study this store serves, over days already recorded, that says what it
    saw and what it concluded.

    Raises:
        UnknownStudy: the store serves no such study.
        AuditReviewInvalid: a site that is no site code, a period that ends before it begins
            or after today at the study, a count below zero, a digest that is not SHA-256
            hex, or an empty, overlong or unprintable conclusion.
    """
    today = datetime.now(protocol_for(study).time_zone).date()
    if site is not None and not SITE_CODE.fullmatch(site):
        raise AuditReviewInvalid("%(site)r is not a site code", site=site)
    check_review_period(reviewed_from, reviewed_to)
    if reviewed_to > today:
        raise AuditReviewInvalid(
            "the period ends on %(reviewed_to)s, after today (%(today)s)",
            reviewed_to=reviewed_to,
            today=today,
        )
    if findings < 0:
        raise AuditReviewInvalid("the findings seen are counted from 0")
    if not SHA256.fullmatch(findings_sha256):
        raise AuditReviewInvalid("findings_sha256 is the 64 lowercase hex digits of a SHA-256")
    if says_nothing(conclusion):
        raise AuditReviewInvalid("a review says what the reviewer concluded")
    if len(conclusion) > CONCLUSION_LIMIT:
        raise AuditReviewInvalid(
            "a conclusion is at most %(conclusion_limit)s characters",
            conclusion_limit=CONCLUSION_LIMIT,
        )
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in conclusion):
        raise AuditReviewInvalid("a conclusion holds no control characters")


class RecordedReview(Protocol):
    """What the next review's period reads of a recorded one."""

    study: str
    site: str | None
    reviewed_to: date


def next_review_starts(
    reviews: Iterable[RecordedReview], study: str, site: str | None
) -> date | None:
    """The day after the latest review of ``study`` that covered ``site`` (a review of every
    site covers each); None when none did."""
    ends = [
        review.reviewed_to
        for review in reviews
        if review.study == study and (review.site is None or review.site == site)
    ]
    return max(ends) + timedelta(days=1) if ends else None


def review_fields(**fields: Any) -> dict[str, Any]:
    """An ``AuditTrailReviewed``'s fields as signed: an optional one left empty is not signed."""
    return {name: value for name, value in fields.items() if value is not None}
