"""Signature linking (21 CFR 11.70): a signature over records cannot be moved to other records.

Each ``RecordsSigned`` names its records by entry and record hash (docs/signing.md). The store
refuses one whose hashes are not those of its subject's records as they stand, and ``verify``
names one found in the log (``signature-not-linked``), even when it is validly signed by a real
investigator key and chained correctly, as a forger holding that key, or the owner's SQL prompt,
could make it. The cohort is the tamper suite's (two subjects, their events interleaved): in
it, RP-101 entry 4 holds the same data as RP-102 entry 3, so only the record hash tells them
apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from eventsourcing.persistence import StoredEvent

from api.console import main
from api.schemas.submissions import submission_from
from domain.account import Role
from domain.authorship import Authorship, authored
from domain.signed import stream_id
from domain.subject import Subject
from infrastructure.application.commands import RecordEvent
from infrastructure.bootstrap import Store
from signatures.canonical import canonicalize
from signatures.errors import SignatureNotLinked
from tests.conftest import STUDY, Person, PersonFactory
from tests.integration.test_tamper_suite import (
    RP101,
    RP102,
    Cohort,
    cohort,
    findings_of,
    insert_raw,
    last_position,
    stored_state,
)


@dataclass
class Signed:
    """The tamper suite's cohort, an investigator, and the positions of their signatures."""

    cohort: Cohort
    investigator: Person
    positions: dict[tuple[str, int], int]


def hash_of(store: Store, stream: str, entry: int) -> str:
    subject = store.app.find_subject(stream)
    assert subject is not None
    return subject.entries[entry].record_hash


def signature_body(
    investigator: Person, subject: str, covered: dict[int, str], meaning: str = "review"
) -> dict[str, Any]:
    entries = [{"entry": n, "record_hash": h} for n, h in covered.items()]
    return investigator.body(subject, "RecordsSigned", {"entries": entries}, meaning=meaning)


def sign(store: Store, investigator: Person, subject: str, *entries: int) -> dict[str, Any]:
    """Sign entries of a subject through the records service (the API adds the ceremony)."""
    stream = f"{STUDY}/{subject}"
    body = signature_body(investigator, subject, {n: hash_of(store, stream, n) for n in entries})
    receipt: dict[str, Any] = store.records.record_signature(
        RecordEvent(
            submission=submission_from(body, investigator.sign(body)), actor_id=investigator.user_id
        )
    )
    return receipt


def signed_cohort(store: Store, person_in: PersonFactory) -> Signed:
    made = cohort(store, person_in)
    investigator = person_in(store, "inv1", printed_name="Rita Lima", role=Role.INVESTIGATOR)
    positions = {}
    for subject, entries in (("RP-101", (3, 4)), ("RP-102", (3,))):
        receipt = sign(store, investigator, subject, *entries)
        positions[(f"{STUDY}/{subject}", receipt["version"])] = receipt["position"]
    return Signed(made, investigator, positions)


def forged_signature(
    store: Store, investigator: Person, subject: str, covered: dict[int, str]
) -> Subject:
    """The subject with a pending ``RecordsSigned`` signed by the real investigator key, over
    hashes of the forger's choosing: made past ``sign_records``, whose check would refuse it."""
    body = signature_body(investigator, subject, covered)
    submission = submission_from(body, investigator.sign(body))
    aggregate = store.app.find_subject(f"{STUDY}/{subject}")
    assert aggregate is not None
    with authored(submission.authorship):
        aggregate.trigger_event(Subject.RecordsSigned, **submission.fields)
    return aggregate


def as_stored(store: Store, aggregate: Subject) -> StoredEvent:
    (event,) = aggregate.collect_events()
    return store.app.mapper.to_stored_event(event)


# -- on the way in ---------------------------------------------------------------------------------


def test_signatures_over_records_of_both_subjects_verify_clean(
    store: Store, person_in: PersonFactory
) -> None:
    signed_cohort(store, person_in)

    report = store.verifier().verify()

    assert report.findings == []
    assert report.events == 16 + 5 + 2  # the cohort, the investigator's account, 2 signatures


def test_the_verifier_checks_linking_across_worker_processes_too(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    signed_cohort(sqlite_store, person_in)

    report = sqlite_store.verifier(workers=2, range_size=5).verify()

    assert report.findings == []


@pytest.mark.requirement("P11-11.70-1")
def test_the_store_refuses_a_signature_moved_onto_a_record_with_the_same_data(
    store: Store, person_in: PersonFactory
) -> None:
    c = signed_cohort(store, person_in)
    # RP-102's entry 3 (haemoglobin 7.9), signed as if it were RP-101's entry 4 (also 7.9).
    forged = forged_signature(store, c.investigator, "RP-101", {4: hash_of(store, RP102, 3)})

    with pytest.raises(SignatureNotLinked, match="entry 4 of this stream hashed to"):
        store.app.save(forged)

    subject = store.app.find_subject(RP101)
    assert subject is not None and subject.version == 5


def test_the_store_refuses_a_signature_naming_an_entry_its_subject_lacks(
    store: Store, person_in: PersonFactory
) -> None:
    c = signed_cohort(store, person_in)
    forged = forged_signature(store, c.investigator, "RP-102", {9: hash_of(store, RP101, 3)})

    with pytest.raises(SignatureNotLinked, match="names entry 9, which the stream lacks"):
        store.app.save(forged)


# -- in the log ----------------------------------------------------------------------------------


@pytest.mark.requirement("P11-11.70-1")
def test_a_signature_moved_onto_other_records_is_found_not_linked(
    store: Store, person_in: PersonFactory
) -> None:
    c = signed_cohort(store, person_in)
    stored = as_stored(
        store,
        forged_signature(store, c.investigator, "RP-101", {4: hash_of(store, RP102, 3)}),
    )
    insert_raw(store, stored)  # past the sealed store, as the owner's SQL prompt could
    forged = last_position(store)

    # Validly signed, by a key valid then, chained onto the stream's head: only the link fails.
    assert findings_of(store) == [
        (forged, RP101, 6, "leaf-missing"),
        (forged, RP101, 6, "signature-not-linked"),
    ]


@pytest.mark.requirement("P11-11.70-1")
def test_a_signature_lifted_onto_another_subjects_stream_is_found_not_linked(
    store: Store, person_in: PersonFactory
) -> None:
    signed_cohort(store, person_in)
    # RP-102's own signature (its version 5, over its entry 3), copied whole as RP-101's next.
    lifted = json.loads(stored_state(store, RP102, 5))
    insert_raw(
        store,
        StoredEvent(
            originator_id=stream_id(RP101),
            originator_version=6,
            topic=f"{Subject.RecordsSigned.__module__}:{Subject.RecordsSigned.__qualname__}",
            state=json.dumps(lifted).encode(),
        ),
    )
    moved = last_position(store)

    # RP-102's own signature, where it was made, still links: only the copy is named.
    assert findings_of(store) == [
        (moved, RP101, 6, "chain-broken"),
        (moved, RP101, 6, "content-mismatch"),
        (moved, RP101, 6, "leaf-missing"),
        (moved, RP101, 6, "signature-not-linked"),
    ]


def test_a_signature_whose_entries_cannot_be_read_is_found_not_linked(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """Signed with the real key over a body whose entries are not records: nothing is linked."""
    c = signed_cohort(sqlite_store, person_in)
    body = c.investigator.body("RP-101", "RecordsSigned", {"entries": ["3"]}, meaning="review")
    # Made by hand: the API's schema would refuse these entries before anything is signed.
    authorship = Authorship(canonicalize(body).decode(), c.investigator.sign(body))
    aggregate = sqlite_store.app.find_subject(RP101)
    assert aggregate is not None
    with authored(authorship):
        aggregate.trigger_event(Subject.RecordsSigned, entries=("3",))
    insert_raw(sqlite_store, as_stored(sqlite_store, aggregate))
    forged = last_position(sqlite_store)

    assert findings_of(sqlite_store) == [
        (forged, RP101, 6, "leaf-missing"),
        (forged, RP101, 6, "signature-not-linked"),
    ]


def test_sealtrail_verify_names_a_moved_signature_and_exits_1(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    c = signed_cohort(sqlite_store, person_in)
    forged = forged_signature(
        sqlite_store, c.investigator, "RP-101", {4: hash_of(sqlite_store, RP102, 3)}
    )
    insert_raw(sqlite_store, as_stored(sqlite_store, forged))
    env = {
        "SEALTRAIL_HOME": str(sqlite_store.settings.home),
        "SEALTRAIL_DATABASE_URL": sqlite_store.settings.database_url.render_as_string(False),
    }

    done = CliRunner().invoke(main, ["verify", "--json", "--workers", "1"], env=env)

    assert done.exit_code == 1
    report = json.loads(done.stdout)
    assert sorted((f["stream"], f["version"], f["kind"]) for f in report["findings"]) == [
        (RP101, 6, "leaf-missing"),
        (RP101, 6, "signature-not-linked"),
    ]
