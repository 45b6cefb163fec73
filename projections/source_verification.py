"""Source data verification coverage: of a subject's, a site's or the study's records, how many
a monitor verified against source as they stand, and which are still to verify.

Counted over every live clinical record, or over the risk-based subset the protocol names
(``[source_verification] kinds``). A record corrected or voided since it was verified no longer
counts as verified (its record hash changed); it is listed with ``changed_since_verified``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.protocol import protocol_for
from domain.subject import Subject
from domain.subject.source_verification import (
    SourceVerified,
    risk_based_kinds,
    verifiable,
    verifications_of,
)

ALL, RISK_BASED = "all", "risk-based"
RECORD_SETS = (RISK_BASED, ALL)
"""Which records coverage is counted over: the protocol's risk-based subset, or every one."""

Coverage = dict[str, Any]


def subject_coverage(subject: Subject, records: str = RISK_BASED) -> Coverage:
    """One subject's coverage: verified and total records, and each record not verified (with
    the fields verified one by one, if any)."""
    kinds = _kinds(subject.study_id, records)
    held = verifications_of(subject)
    once_verified = {entry["entry"] for entry in subject.live(SourceVerified)}
    counted = verifiable(subject, kinds)
    missing = []
    for record in counted:
        verification = held.get(record.version)
        if verification is not None and verification.covers(record):
            continue
        missing.append(
            {
                "entry": record.version,
                "kind": record.kind,
                "record_hash": record.record_hash,
                "fields_verified": list(verification.fields) if verification else [],
                "changed_since_verified": record.version in once_verified and verification is None,
            }
        )
    return {
        "study": subject.study_id,
        "subject": subject.subject_code,
        "site": subject.site,
        **_counted_over(records, kinds),
        "verified": len(counted) - len(missing),
        "total": len(counted),
        "not_verified": missing,
    }


def study_coverage(
    study: str, subjects: Iterable[Subject], *, site: str | None, records: str = RISK_BASED
) -> Coverage:
    """The coverage of a study's subjects (of ``site``'s, when named): in total, by site and
    by subject, each subject with its records not verified."""
    each = [subject_coverage(subject, records) for subject in subjects]
    by_site: dict[str, dict[str, Any]] = {}
    for coverage in each:
        counts = by_site.setdefault(
            coverage["site"], {"site": coverage["site"], "verified": 0, "total": 0}
        )
        counts["verified"] += coverage["verified"]
        counts["total"] += coverage["total"]
    return {
        "study": study,
        "site": site,
        **_counted_over(records, _kinds(study, records)),
        "verified": sum(c["verified"] for c in each),
        "total": sum(c["total"] for c in each),
        "sites": [by_site[name] for name in sorted(by_site)],
        "subjects": [{k: v for k, v in c.items() if k != "study"} for c in each],
    }


def _kinds(study: str, records: str) -> frozenset[str] | None:
    if records not in RECORD_SETS:
        raise ValueError(f"coverage is counted over {' or '.join(RECORD_SETS)}, not {records!r}")
    return risk_based_kinds(protocol_for(study)) if records == RISK_BASED else None


def _counted_over(records: str, kinds: frozenset[str] | None) -> dict[str, Any]:
    return {"records": records, "kinds": None if kinds is None else sorted(kinds)}
