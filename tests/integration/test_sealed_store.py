"""The sealed event store, the same contract on SQLite and PostgreSQL.

Every save takes one path; these tests try to get something past it and fail.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from api.schemas.submissions import submission_from
from domain.authorship import Authorship, authored
from domain.errors import VersionConflict
from domain.subject import Subject
from domain.wire import instant_to_wire
from infrastructure.application.commands import RecordEvent, RevokeKey
from infrastructure.bootstrap import Store
from infrastructure.errors import IdempotencyKeyReused, UnsignedEventRefused
from signatures.errors import (
    ChainBroken,
    ContentMismatch,
    KeyNotValid,
    SignatureInvalid,
    SigningTimeInvalid,
    UnknownKey,
)
from signatures.receipts import verify_receipt
from tests.conftest import Person, PersonFactory, consent, haemoglobin, screening


class UnsignedNote(Aggregate):
    """An aggregate that is not a SignedAggregate: its events carry no signature."""


@pytest.mark.requirement("P11-11.30-1")
def test_a_signed_event_is_stored_and_the_receipt_is_signed_by_the_server(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    receipt = coordinator.record(store, "RP-101", "Screened", screening())

    assert receipt["subject"] == "RP-101"
    assert receipt["version"] == 1
    assert receipt["position"] > 0
    verify_receipt(store.app.server_key.public_key, receipt)


def test_each_event_commits_to_the_hash_of_the_one_before(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    first = coordinator.record(store, "RP-101", "Screened", screening())
    second = coordinator.record(store, "RP-101", "ConsentObtained", consent())

    assert second["previous_hash"] == first["event_hash"]
    assert store.verifier().verify().findings == []


@pytest.mark.requirement("P11-11.10h-1")
def test_an_event_with_a_forged_signature_is_refused_and_nothing_is_stored(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    body = coordinator.body("RP-101", "Screened", screening())
    forged = base64.b64encode(bytes(64)).decode()

    with pytest.raises(SignatureInvalid):
        store.records.record(
            RecordEvent(submission=submission_from(body, forged), actor_id="coord1")
        )
    assert store.app.find_subject("NCT01297972/RP-101") is None


@pytest.mark.requirement("P11-11.10h-1")
def test_an_event_signed_with_an_unregistered_key_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    stranger = person_in(store, "coord2", printed_name="Bruno Lima")
    body = coordinator.body("RP-101", "Screened", screening(), key_id=stranger.key_id)

    with pytest.raises(UnknownKey):
        store.records.record(
            RecordEvent(submission=submission_from(body, stranger.sign(body)), actor_id="coord1")
        )


@pytest.mark.requirement("P11-11.10h-1")
def test_a_key_revoked_before_the_write_is_refused(store: Store, person_in: PersonFactory) -> None:
    coordinator = person_in(store)
    store.administration.revoke_key(
        RevokeKey(
            user_id="coord1",
            key_id=coordinator.key_id,
            revoked_at=datetime.now(UTC) - timedelta(seconds=1),
            reason="laptop stolen",
        )
    )

    with pytest.raises(KeyNotValid):
        coordinator.record(store, "RP-101", "Screened", screening())


@pytest.mark.requirement("P11-11.50-1")
def test_a_printed_name_other_than_the_accounts_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    body = coordinator.body("RP-101", "Screened", screening())
    body["signer"]["printed_name"] = "Someone Else"

    with pytest.raises(ContentMismatch):
        store.records.record(
            RecordEvent(submission=submission_from(body, coordinator.sign(body)), actor_id="coord1")
        )


@pytest.mark.requirement("P11-11.30-1")
def test_an_event_whose_fields_differ_from_the_signed_body_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    body = coordinator.body("RP-101", "Screened", screening(age=34))
    submission = submission_from(body, coordinator.sign(body))
    altered = replace(submission, fields={**submission.fields, "age": 35})

    with pytest.raises(ContentMismatch):
        store.records.record(RecordEvent(submission=altered, actor_id="coord1"))


def test_an_unsigned_event_cannot_be_saved_through_the_application(
    store: Store, person_in: PersonFactory
) -> None:
    with pytest.raises(UnsignedEventRefused):
        store.app.save(UnsignedNote())


def test_an_event_linked_to_the_wrong_predecessor_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening())
    subject = store.app.find_subject("NCT01297972/RP-101")
    assert subject is not None
    subject.chain_head = "00" * 32  # as if the writer had skipped an event
    body = coordinator.body("RP-101", "ConsentObtained", consent())
    with authored(
        Authorship(submission_from(body, "").authorship.signed_body, coordinator.sign(body))
    ):
        subject.obtain_consent(tcle_version="2.0", consented_on=subject.screening["screened_on"])

    with pytest.raises(ChainBroken):
        store.app.save(subject)


def test_a_write_to_a_stale_version_is_a_conflict(store: Store, person_in: PersonFactory) -> None:
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening())

    with pytest.raises(VersionConflict):
        coordinator.record(store, "RP-101", "ConsentObtained", consent(), expected_version=0)


def test_two_writers_racing_for_one_version_never_fork_the_chain(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening())
    consent_now = store.app.find_subject("NCT01297972/RP-101")
    lab_now = store.app.find_subject("NCT01297972/RP-101")
    assert consent_now is not None and lab_now is not None
    coordinator.record(store, "RP-101", "ConsentObtained", consent())
    # The second writer saw version 1, so signs for version 2, which the first one took.
    body = coordinator.body("RP-101", "ConsentObtained", consent(), version=2)
    with authored(
        Authorship(submission_from(body, "").authorship.signed_body, coordinator.sign(body))
    ):
        lab_now.obtain_consent(tcle_version="2.0", consented_on=lab_now.screening["screened_on"])

    with pytest.raises(IntegrityError):
        store.app.save(lab_now)
    assert store.verifier().verify().findings == []


def test_a_retry_with_the_same_idempotency_key_returns_the_first_receipt_and_appends_nothing(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    body = coordinator.body("RP-101", "Screened", screening())
    signature = coordinator.sign(body)
    first = store.records.record(
        RecordEvent(
            submission=submission_from(body, signature, idempotency_key="k-1"), actor_id="coord1"
        )
    )
    second = store.records.record(
        RecordEvent(
            submission=submission_from(body, signature, idempotency_key="k-1"), actor_id="coord1"
        )
    )

    assert second == first
    subject = store.app.find_subject("NCT01297972/RP-101")
    assert subject is not None and subject.version == 1


def test_an_idempotency_key_reused_for_another_body_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening(), idempotency_key="k-1")

    with pytest.raises(IdempotencyKeyReused):
        coordinator.record(store, "RP-101", "ConsentObtained", consent(), idempotency_key="k-1")


def test_history_lists_every_event_with_its_log_position(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    receipts = [
        coordinator.record(store, "RP-101", "Screened", screening()),
        coordinator.record(store, "RP-101", "ConsentObtained", consent()),
        coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin()),
    ]
    history = store.reads.history("NCT01297972/RP-101")

    assert [record.position for record in history] == [r["position"] for r in receipts]
    assert isinstance(history[2].event, Subject.BloodCountRecorded)


def test_a_signature_dated_after_the_write_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    tomorrow = instant_to_wire(datetime.now(UTC) + timedelta(days=1))
    body = coordinator.body("RP-101", "Screened", screening(), signed_at=tomorrow)

    with pytest.raises(SigningTimeInvalid):
        store.records.record(
            RecordEvent(submission=submission_from(body, coordinator.sign(body)), actor_id="coord1")
        )
    assert store.app.find_subject("NCT01297972/RP-101") is None


# -- a refused write leaves the subject the store holds in memory as the log has it ---------------

AGE_CORRECTION = {
    "entry": 1,
    "entry_kind": "Screened",
    "changes": {"age": {"old": 34, "new": 35}},
    "reason": "transcription error",
}
COUNT_VOID = {"entry": 3, "entry_kind": "BloodCountRecorded", "reason": "entered twice"}


def refused_write(store: Store, person: Person, kind: str, data: dict[str, object]) -> None:
    """A submission whose command runs and whose save the store refuses (forged signature)."""
    body = person.body("RP-101", kind, data)
    forged = base64.b64encode(bytes(64)).decode()
    with pytest.raises(SignatureInvalid):
        store.records.record(
            RecordEvent(submission=submission_from(body, forged), actor_id=person.user_id)
        )


def as_the_log_has_it(store: Store) -> Subject:
    """The subject folded afresh from its stored events, bypassing every cache."""
    current = store.app.find_subject("NCT01297972/RP-101")
    assert current is not None
    return store.app.subject_at(current.id, current.version)


def test_a_refused_correction_leaves_the_corrected_entry_as_it_was(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening())
    coordinator.record(store, "RP-101", "ConsentObtained", consent())
    before = store.app.find_subject("NCT01297972/RP-101")

    refused_write(store, coordinator, "EntryCorrected", AGE_CORRECTION)
    after = store.app.find_subject("NCT01297972/RP-101")

    assert before is not None and after is not None
    assert after.version == before.version == 2
    assert after.age == 34 and after.screening.corrected_by == []
    assert [e.version for e in after.live(Subject.Screened)] == [1]
    assert after.entries == as_the_log_has_it(store).entries


def test_a_refused_void_leaves_the_entry_counting(store: Store, person_in: PersonFactory) -> None:
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening())
    coordinator.record(store, "RP-101", "ConsentObtained", consent())
    coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin())
    coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin("7.4"))

    refused_write(store, coordinator, "EntryVoided", COUNT_VOID)
    after = store.app.find_subject("NCT01297972/RP-101")

    assert after is not None and after.version == 4
    assert after.entries[3].voided_by is None
    assert [e.version for e in after.live(Subject.BloodCountRecorded)] == [3, 4]


def test_corrections_and_voids_after_a_refusal_reach_the_state_a_fresh_fold_gives(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening())
    coordinator.record(store, "RP-101", "ConsentObtained", consent())
    coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin())
    coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin("7.4"))
    refused_write(store, coordinator, "EntryCorrected", AGE_CORRECTION)
    refused_write(store, coordinator, "EntryVoided", COUNT_VOID)

    coordinator.record(store, "RP-101", "EntryCorrected", AGE_CORRECTION)
    coordinator.record(store, "RP-101", "EntryVoided", COUNT_VOID)
    after = store.app.find_subject("NCT01297972/RP-101")
    fresh = as_the_log_has_it(store)

    assert after is not None and after.version == 6
    assert after.age == 35 and after.screening.corrected_by == [5]
    assert after.entries == fresh.entries
    assert [e.version for e in after.live(Subject.BloodCountRecorded)] == [4]
    assert after.live(Subject.BloodCountRecorded) == fresh.live(Subject.BloodCountRecorded)


def test_a_retried_key_refused_in_a_save_is_not_remembered(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening())
    body = coordinator.body("RP-101", "ConsentObtained", consent())
    forged = base64.b64encode(bytes(64)).decode()
    with pytest.raises(SignatureInvalid):
        store.records.record(
            RecordEvent(
                submission=submission_from(body, forged, idempotency_key="retry-1"),
                actor_id="coord1",
            )
        )

    subject = store.app.find_subject("NCT01297972/RP-101")
    receipt = store.records.record(
        RecordEvent(
            submission=submission_from(body, coordinator.sign(body), idempotency_key="retry-1"),
            actor_id="coord1",
        )
    )

    assert subject is not None and subject.version_for_idempotency_key("retry-1") is None
    assert receipt["version"] == 2


def test_an_actor_account_given_for_another_user_id_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    other = person_in(store, "coord2", printed_name="Bruno Lima")
    body = coordinator.body("RP-101", "Screened", screening())

    with pytest.raises(ValueError, match="coord2"):
        store.records.record(
            RecordEvent(
                submission=submission_from(body, coordinator.sign(body)), actor_id="coord1"
            ),
            actor=store.app.account(other.user_id),
        )
    assert store.app.find_subject("NCT01297972/RP-101") is None
