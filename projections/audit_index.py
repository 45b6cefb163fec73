"""The audit index of a subject: every record with its versions, its void and its signatures.

For each record (entry) of a subject: the original as its author signed it, then each
correction (the fields changed, old -> new, and the reason), and the void if there was one;
each with the signature manifestation of 21 CFR 11.50 read from the event's signed body (user
id, printed name, key id, when it was signed and what the signature means), the log position
of the event and the server's recording time. Corrections and voids are entries of their own
too, so they are listed both as a version of the record they change and by their own number.
Each record also lists the electronic signatures over it (``RecordsSigned``), each saying
whether it still covers the record's current value: a correction or void after the signature
changes the record's hash (:mod:`signatures.record_hash`), and the signature no longer does.

The index is a fold over the subject's events (:func:`index_event`), so it is built
incrementally and a rebuild from the log gives the same document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.attribution import signer_of
from domain.subject import Subject
from domain.wire import recorded_instant, to_wire
from signatures.record_hash import record_hash, record_hash_after

AuditIndex = dict[str, Any]


def audit_index(events: Iterable[tuple[Subject.Event, int]]) -> AuditIndex | None:
    """The audit index of one subject from its events, oldest first, with their positions."""
    index: AuditIndex | None = None
    for event, position in events:
        index = index_event(index, event, position)
    return index


def index_event(index: AuditIndex | None, event: Subject.Event, position: int) -> AuditIndex:
    """The index after one more event of the subject (``index`` is None before the first).

    The argument is not changed; a new document is returned.
    """
    study, subject = event.stream.split("/", 1)
    records: list[dict[str, Any]] = [] if index is None else list(index["records"])
    version = event.originator_version
    evidence = {
        "entry": version,
        "position": position,
        "recorded_at": recorded_instant(event.recorded_at),
        "signature": _manifestation(event),
    }
    if isinstance(event, Subject.EntryCorrected | Subject.EntryVoided):
        target = dict(records[event.entry - 1])  # entry n is the n-th event of the stream
        if isinstance(event, Subject.EntryCorrected):
            target["versions"] = [
                *target["versions"],
                {
                    **evidence,
                    "version": len(target["versions"]) + 1,
                    "change": "corrected",
                    "changes": {
                        name: {"old": to_wire(change["old"]), "new": to_wire(change["new"])}
                        for name, change in sorted(event.changes.items())
                    },
                    "reason": event.reason,
                },
            ]
        else:
            target["voided"] = {**evidence, "reason": event.reason}
        _rehash(target, event.event_hash)
        records[event.entry - 1] = target
    if isinstance(event, Subject.RecordsSigned):
        for number, signed_hash in event.covered().items():
            if not 1 <= number <= len(records):
                continue  # only a tampered log names a missing entry: verify says so
            signed = dict(records[number - 1])
            signed["signatures"] = [
                *signed.get("signatures", []),
                {
                    **evidence,
                    "record_hash": signed_hash,
                    "covers_current_value": signed_hash == signed.get("record_hash"),
                },
            ]
            records[number - 1] = signed
    records.append(
        {
            "entry": version,
            "kind": event.kind(),
            "versions": [
                {**evidence, "version": 1, "change": "original", "data": event.signed_data()}
            ],
            "voided": None,
            "record_hash": record_hash(event.event_hash),
            "signatures": [],
        }
    )
    return {
        "study": study,
        "subject": subject,
        "site": records[0]["versions"][0]["data"].get("site") if index is None else index["site"],
        "version": version,
        "records": records,
    }


def _rehash(record: dict[str, Any], change_hash: str) -> None:
    """The record's hash after a correction or void, and its signatures' coverage with it."""
    if "record_hash" not in record:  # an index made before record hashes: rebuild it
        return
    record["record_hash"] = record_hash_after(record["record_hash"], change_hash)
    record["signatures"] = [
        {**signature, "covers_current_value": signature["record_hash"] == record["record_hash"]}
        for signature in record.get("signatures", [])
    ]


def _manifestation(event: Subject.Event) -> dict[str, str]:
    signer = signer_of(event.authorship.body())
    return {
        "user_id": signer.user_id,
        "printed_name": signer.printed_name,
        "key_id": signer.key_id,
        "signed_at": signer.signed_at,
        "meaning": signer.meaning,
    }
