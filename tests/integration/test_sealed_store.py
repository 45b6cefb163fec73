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

from api.submissions import submission_from
from domain.authorship import Authorship, authored
from domain.subject import Subject
from domain.wire import instant_to_wire
from infrastructure.application import IdempotencyKeyReused, VersionConflict
from infrastructure.bootstrap import Store
from infrastructure.event_store import UnsignedEventRefused
from signatures.errors import (
    ChainBroken,
    ContentMismatch,
    KeyNotValid,
    SignatureInvalid,
    SigningTimeInvalid,
    UnknownKey,
)
from signatures.receipts import verify_receipt
from tests.conftest import PersonFactory, consent, haemoglobin, screening


class UnsignedNote(Aggregate):
    """An aggregate that is not a SignedAggregate: its events carry no signature."""


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


def test_an_event_with_a_forged_signature_is_refused_and_nothing_is_stored(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    body = coordinator.body("RP-101", "Screened", screening())
    forged = base64.b64encode(bytes(64)).decode()

    with pytest.raises(SignatureInvalid):
        store.app.record(submission_from(body, forged), actor_id="coord1")
    assert store.app.find_subject("NCT01297972/RP-101") is None


def test_an_event_signed_with_an_unregistered_key_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    stranger = person_in(store, "coord2", printed_name="Bruno Lima")
    body = coordinator.body("RP-101", "Screened", screening(), key_id=stranger.key_id)

    with pytest.raises(UnknownKey):
        store.app.record(submission_from(body, stranger.sign(body)), actor_id="coord1")


def test_a_key_revoked_before_the_write_is_refused(store: Store, person_in: PersonFactory) -> None:
    coordinator = person_in(store)
    store.app.revoke_key(
        user_id="coord1",
        key_id=coordinator.key_id,
        revoked_at=datetime.now(UTC) - timedelta(seconds=1),
        reason="laptop stolen",
    )

    with pytest.raises(KeyNotValid):
        coordinator.record(store, "RP-101", "Screened", screening())


def test_a_printed_name_other_than_the_accounts_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    body = coordinator.body("RP-101", "Screened", screening())
    body["signer"]["printed_name"] = "Someone Else"

    with pytest.raises(ContentMismatch):
        store.app.record(submission_from(body, coordinator.sign(body)), actor_id="coord1")


def test_an_event_whose_fields_differ_from_the_signed_body_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    body = coordinator.body("RP-101", "Screened", screening(age=34))
    submission = submission_from(body, coordinator.sign(body))
    altered = replace(submission, fields={**submission.fields, "age": 35})

    with pytest.raises(ContentMismatch):
        store.app.record(altered, actor_id="coord1")


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
    body = coordinator.body("RP-101", "ConsentObtained", consent())
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
    first = store.app.record(
        submission_from(body, signature, idempotency_key="k-1"), actor_id="coord1"
    )
    second = store.app.record(
        submission_from(body, signature, idempotency_key="k-1"), actor_id="coord1"
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
    history = store.app.history("NCT01297972/RP-101")

    assert [record.position for record in history] == [r["position"] for r in receipts]
    assert isinstance(history[2].event, Subject.BloodCountRecorded)


def test_a_signature_dated_after_the_write_is_refused(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    tomorrow = instant_to_wire(datetime.now(UTC) + timedelta(days=1))
    body = coordinator.body("RP-101", "Screened", screening(), signed_at=tomorrow)

    with pytest.raises(SigningTimeInvalid):
        store.app.record(submission_from(body, coordinator.sign(body)), actor_id="coord1")
    assert store.app.find_subject("NCT01297972/RP-101") is None
