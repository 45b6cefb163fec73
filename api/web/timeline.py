"""A subject's timeline as the pages show it: every record of its audit index, in order.

The audit index (:mod:`projections.audit_index`, the API's ``.../audit``) holds each record as
its author signed it, each correction (old -> new, with the reason), the void and the signatures
over it, each with its signature manifestation and the server's recording time. This module only
turns that document into rows a template walks: instants as datetimes, values as text (as the
audit trail writes them, :func:`projections.audit_trail.value_text`), and a
record that names another (a correction, a void, a signing) pointing at it. It computes nothing
the index does not say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from projections.audit_index import AuditIndex
from projections.audit_trail import value_text

HELD_ELSEWHERE = {"changes", "entries"}
"""Fields shown on the records they concern (a correction's old -> new values, the records a
signing covers), not as text of their own."""


@dataclass(frozen=True)
class Manifestation:
    """Who signed, when, and what the signature means (21 CFR 11.50)."""

    user_id: str
    printed_name: str
    meaning: str
    signed_at: datetime | None
    key_id: str


@dataclass(frozen=True)
class Evidence:
    """An event of the log: its entry, position, recording time and signer."""

    entry: int
    position: int
    recorded_at: datetime
    signer: Manifestation


@dataclass(frozen=True)
class Change:
    """A correction of the record (each field's old and new value) or its void, and why."""

    evidence: Evidence
    reason: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineRow:
    """One record of the subject, as it stands."""

    entry: int
    kind: str
    evidence: Evidence
    fields: list[tuple[str, str]]
    """The record's fields as its author signed them, as text."""
    about: list[int]
    """The entries this record is about: corrects, voids, queries, verifies or signs."""
    corrections: list[Change]
    void: Change | None
    """The void: the record stops counting and stays in the record, struck through."""
    signatures: list[tuple[Evidence, bool]]
    """Each electronic signature over the record, and whether it still covers its value."""


def timeline(index: AuditIndex) -> list[TimelineRow]:
    """The rows of the subject's audit index, oldest first."""
    return [_row(record) for record in index["records"]]


def _row(record: dict[str, Any]) -> TimelineRow:
    original, *corrections = record["versions"]
    data: dict[str, Any] = original["data"]
    about: list[int] = []
    if isinstance(data.get("entry"), int) and "entry_kind" in data:
        # A correction, a void, a query, a source verification: about one earlier record.
        about = [data["entry"]]
    elif isinstance(data.get("entries"), list):
        # A signing (of records, of the casebook): the records it covers.
        about = [int(item["entry"]) for item in data["entries"] if isinstance(item, dict)]
    shown = {name: value for name, value in data.items() if name not in HELD_ELSEWHERE}
    voided = record.get("voided")
    return TimelineRow(
        entry=record["entry"],
        kind=record["kind"],
        evidence=_evidence(original),
        fields=[(name, value_text(value)) for name, value in shown.items()],
        about=about,
        corrections=[
            Change(
                _evidence(version),
                version["reason"],
                [
                    (name, value_text(change["old"]), value_text(change["new"]))
                    for name, change in version["changes"].items()
                ],
            )
            for version in corrections
        ],
        void=None if voided is None else Change(_evidence(voided), voided["reason"]),
        signatures=[
            (_evidence(signed), bool(signed["covers_current_value"]))
            for signed in record.get("signatures", [])
        ],
    )


def _evidence(event: dict[str, Any]) -> Evidence:
    signer = event["signature"]
    signed_at = signer.get("signed_at")
    return Evidence(
        entry=event["entry"],
        position=event["position"],
        recorded_at=datetime.fromisoformat(event["recorded_at"]),
        signer=Manifestation(
            user_id=signer["user_id"],
            printed_name=signer["printed_name"],
            meaning=signer["meaning"],
            signed_at=None if not signed_at else datetime.fromisoformat(signed_at),
            key_id=signer["key_id"],
        ),
    )
