"""Which records no current signature covers: what is left for the investigator to sign.

A record (not a correction, void, signature or query about others) that is live is *signed*
while a signature over it, over chosen records (``RecordsSigned``) or over the whole casebook
(``CasebookSigned``), still covers its current value; a correction or void since the signing
makes the signature no longer cover it (:mod:`signatures.record_hash`). Computed from each
subject's audit index (:mod:`projections.audit_index`), which folds the same record hashes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.subject import ABOUT_RECORDS
from projections.audit_index import AuditIndex

UnsignedReport = dict[str, Any]


def unsigned_of_subject(index: AuditIndex) -> dict[str, Any]:
    """One subject's records that no current signature covers, by entry."""
    records = [
        record
        for record in index["records"]
        if record["kind"] not in ABOUT_RECORDS and record.get("voided") is None
    ]
    unsigned = [
        {"entry": record["entry"], "kind": record["kind"]}
        for record in records
        if not any(s.get("covers_current_value") for s in record.get("signatures", []))
    ]
    return {
        "subject": index["subject"],
        "site": index["site"],
        "records": len(records),
        "unsigned": unsigned,
    }


def unsigned_report(study: str, site: str | None, indices: Iterable[AuditIndex]) -> UnsignedReport:
    """For each subject of the study (of ``site``, when one is named), its unsigned records."""
    subjects = [
        unsigned_of_subject(index) for index in indices if site is None or index["site"] == site
    ]
    return {
        "study": study,
        "site": site,
        "subjects": subjects,
        "unsigned": sum(len(subject["unsigned"]) for subject in subjects),
        "fully_signed": sum(1 for subject in subjects if not subject["unsigned"]),
    }
