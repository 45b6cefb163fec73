"""A source verification names its record by hash: the store refuses one whose hash is not the
record's as it stands, and ``verify`` finds one written past the store (signed with the real
monitor's key, chained correctly) that names a hash its record never had."""

from __future__ import annotations

import pytest

from api.schemas.submissions import submission_from
from domain.account import Role
from domain.authorship import authored
from domain.subject import Subject
from infrastructure.bootstrap import Store
from signatures.errors import SignatureNotLinked
from tests.conftest import Person, PersonFactory
from tests.integration.test_signature_linking import as_stored, hash_of
from tests.integration.test_tamper_suite import (
    RP101,
    RP102,
    cohort,
    findings_of,
    insert_raw,
    last_position,
)


def verified(entry: int, record_hash: str) -> dict[str, object]:
    return {"entry": entry, "entry_kind": "BloodCountRecorded", "record_hash": record_hash}


def monitor_of(store: Store, person_in: PersonFactory) -> Person:
    return person_in(store, "mon1", printed_name="Caio Reis", role=Role.MONITOR)


def test_a_store_with_source_verifications_verifies_clean(
    store: Store, person_in: PersonFactory
) -> None:
    cohort(store, person_in)
    monitor = monitor_of(store, person_in)
    monitor.record(store, "RP-101", "SourceVerified", verified(3, hash_of(store, RP101, 3)))
    monitor.record(store, "RP-102", "SourceVerified", verified(4, hash_of(store, RP102, 4)))

    assert findings_of(store) == []


def forged_verification(store: Store, monitor: Person) -> Subject:
    """RP-101 with a pending verification of its entry 4, signed with the monitor's real key,
    naming the hash of RP-102's entry 3 (the same data: only the record hash tells them apart),
    made past ``verify_source``, whose check would refuse it."""
    body = monitor.body("RP-101", "SourceVerified", verified(4, hash_of(store, RP102, 3)))
    submission = submission_from(body, monitor.sign(body))
    aggregate = store.app.find_subject(RP101)
    assert aggregate is not None
    with authored(submission.authorship):
        aggregate.trigger_event(Subject.SourceVerified, **submission.fields)
    return aggregate


@pytest.mark.requirement("E6-3.11.4-1")
def test_a_verification_of_another_subjects_record_hash_is_refused_and_found_not_linked(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    store = sqlite_store
    cohort(store, person_in)
    monitor = monitor_of(store, person_in)

    with pytest.raises(SignatureNotLinked, match="the source verification covers record hash"):
        store.app.save(forged_verification(store, monitor))
    insert_raw(store, as_stored(store, forged_verification(store, monitor)))

    forged = last_position(store)
    assert findings_of(store) == [
        (forged, RP101, 5, "leaf-missing"),
        (forged, RP101, 5, "signature-not-linked"),
    ]
