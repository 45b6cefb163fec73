"""What one signed write asks of the database, counted as benchmarks/append.py counts it
(benchmarks/round_trips.py): issue 21's cut kept. One transaction a write; the actor's account
and the subject read together before it, in one statement; inside it, on PostgreSQL, three
round trips (the lock and the admission's reads, the insert, the tree and the commit)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.schemas.submissions import submission_from
from benchmarks import round_trips
from infrastructure.application.commands import RecordEvent
from infrastructure.bootstrap import Store, open_store
from infrastructure.errors import AccountNotFound
from tests.conftest import STUDY, PersonFactory, consent, haemoglobin, screening, store_on

SUBJECT = "RP-101"


@pytest.fixture
def counted_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A fresh store opened once the counting is installed (it wraps ``sqlite3.connect``)."""
    round_trips.install()
    try:
        with store_on(backend, tmp_path, request) as opened:
            yield opened
    finally:
        round_trips.uninstall()


def count_one_lab(store: Store, person_in: PersonFactory, version: int) -> round_trips.Tally:
    """Screen a subject, record its consent, then count the write of one blood count."""
    person = person_in(store)
    person.record(store, SUBJECT, "Screened", screening())
    person.record(store, SUBJECT, "ConsentObtained", consent())
    body = person.body(SUBJECT, "BloodCountRecorded", haemoglobin("7.1"), version=version)
    submission = submission_from(body, person.sign(body))
    with round_trips.counted() as tally:
        store.records.record(RecordEvent(submission=submission, actor_id=person.user_id))
    return tally


def test_a_signed_write_is_one_transaction_after_one_read(
    counted_store: Store, person_in: PersonFactory, backend: str
) -> None:
    tally = count_one_lab(counted_store, person_in, version=3)

    texts = tally.texts
    assert texts["BEGIN"] == 1 and texts["COMMIT"] == 1 and texts["ROLLBACK"] == 0
    reads_before = [t for t in texts if t.startswith("SELECT") and "originator_id, " in t]
    assert len(reads_before) == 1 and texts[reads_before[0]] == 1  # account and subject at once
    assert not [t for t in texts if t.startswith("SELECT merkle_nodes")]  # the frontier was kept
    if backend == "postgres":
        # The read before, then BEGIN + lock + reads, the insert, the tree + COMMIT.
        assert tally.round_trips == 4, texts
    else:
        # BEGIN, the insert, the signer's account after its version, the tree's size, the leaf,
        # COMMIT; and a node per level the leaf completes.
        nodes = sum(times for text, times in texts.items() if "merkle_nodes" in text)
        assert tally.statements - nodes == 7, texts


def test_a_write_sees_what_another_process_wrote_since_it_last_read(
    store: Store, person_in: PersonFactory
) -> None:
    person = person_in(store)
    person.record(store, SUBJECT, "Screened", screening())
    person.record(store, SUBJECT, "ConsentObtained", consent())  # this process keeps version 2
    other = open_store(store.settings)
    try:
        person.record(other, SUBJECT, "BloodCountRecorded", haemoglobin("7.1"))  # version 3
    finally:
        other.close()

    body = person.body(SUBJECT, "BloodCountRecorded", haemoglobin("7.2"), version=4)
    receipt = store.records.record(
        RecordEvent(submission=submission_from(body, person.sign(body)), actor_id=person.user_id)
    )

    assert receipt["version"] == 4
    subject = store.app.find_subject(f"{STUDY}/{SUBJECT}")
    assert subject is not None and subject.version == 4


def test_a_write_in_the_name_of_no_account_is_refused_and_records_nothing(
    store: Store, person_in: PersonFactory
) -> None:
    person = person_in(store)
    body = person.body(SUBJECT, "Screened", screening(), version=1)
    before = store.app.recorder.max_notification_id()

    with pytest.raises(AccountNotFound):
        store.records.record(
            RecordEvent(submission=submission_from(body, person.sign(body)), actor_id="nobody")
        )
    assert store.app.recorder.max_notification_id() == before
    assert store.app.find_subject(f"{STUDY}/{SUBJECT}") is None
