"""Replay through the application on SQLite and PostgreSQL: the state as it stood then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from api.schemas.submissions import submission_from
from domain.account import Role
from domain.errors import SubjectNotFound
from domain.signed import stream_id
from domain.wire import instant_from_wire
from infrastructure.application.commands import RecordEvent
from infrastructure.errors import SubjectNotYetRecorded
from infrastructure.views.replay import SubjectReplayer, replay_cache, replayer_for
from projections.subject_summary import summarise
from tests.conftest import Person, PersonFactory
from tests.replay.conftest import STREAM, SUBJECT, Corrected, blood_count


def haemoglobin_in(summary: dict[str, Any]) -> str:
    return str(summary["latest_blood_count"]["results"]["haemoglobin"]["value"])


def test_as_of_a_time_before_a_correction_the_old_value_shows_and_after_it_the_new(
    corrected: Corrected,
) -> None:
    replayer = replayer_for(corrected.store)

    before = replayer.replay(STREAM, as_of=instant_from_wire(corrected.second_after("count")))
    after = replayer.replay(STREAM, as_of=instant_from_wire(corrected.second_after("corrected")))

    assert (before.version, haemoglobin_in(before.summary())) == (3, "6.8")
    assert before.summary()["corrected"] == []
    assert (after.version, haemoglobin_in(after.summary())) == (4, "8.6")
    assert after.summary()["corrected"] == [
        {"entry": 3, "kind": "BloodCountRecorded", "corrected_by": [4]}
    ]
    assert before.position == corrected.position("count")
    assert after.position == corrected.position("corrected")


def test_as_of_a_position_counts_the_subjects_events_stored_at_or_before_it(
    corrected: Corrected,
) -> None:
    replayer = replayer_for(corrected.store)

    # RP-102's screening lies between RP-101's first two events.
    at_other = replayer.replay(STREAM, position=corrected.position("other screened"))
    at_count = replayer.replay(STREAM, position=corrected.position("count"))
    just_before_correction = replayer.replay(STREAM, position=corrected.position("corrected") - 1)

    assert (at_other.version, at_other.position) == (1, corrected.position("screened"))
    assert at_other.summary()["status"] == "screened"
    assert (at_count.version, at_count.summary()["status"]) == (3, "consented")
    assert haemoglobin_in(just_before_correction.summary()) == "6.8"


def test_replayed_as_of_now_it_equals_the_current_summary(corrected: Corrected) -> None:
    current = corrected.store.views.get(STREAM)

    replayed = replayer_for(corrected.store).replay(STREAM, position=10**12)

    assert current is not None
    assert replayed.summary() == {k: v for k, v in current.items() if k != "position"}
    assert current["position"] == replayed.position


def test_before_the_subject_existed_it_was_not_recorded_yet(corrected: Corrected) -> None:
    replayer = replayer_for(corrected.store)

    with pytest.raises(SubjectNotYetRecorded, match="was first recorded at"):
        replayer.replay(STREAM, as_of=instant_from_wire(corrected.second_before("screened")))
    with pytest.raises(SubjectNotYetRecorded, match="first recorded at log position"):
        replayer.replay(STREAM, position=corrected.position("screened") - 1)
    with pytest.raises(SubjectNotFound, match="has not been screened"):
        replayer.replay("NCT01297972/RP-999", position=10**12)


def long_record(corrected: Corrected, counts: int) -> None:
    coordinator: Person = corrected.coordinator
    for day in range(counts):
        value = f"{7 + day % 5}.{day % 10}"
        collected_on = f"2011-03-{1 + day % 28:02d}"
        coordinator.record(
            corrected.store, SUBJECT, "BloodCountRecorded", blood_count(value, collected_on)
        )


def test_a_long_record_replays_from_the_sealed_cache_as_the_full_fold_does(
    corrected: Corrected,
) -> None:
    long_record(corrected, 21)  # versions 5-25
    store = corrected.store
    replayer = SubjectReplayer(store.app, store.engine, interval=5)
    originator_id = stream_id(STREAM)
    first = replayer.replay(STREAM, position=10**12)  # folds everything, caches 5, 10, ... 25

    again = {v: replayer.subject_at(originator_id, v) for v in (4, 5, 9, 12, 25)}

    assert (first.events_folded, first.cached_version) == (25, None)
    assert {v: (folded, cached) for v, (_, folded, cached) in again.items()} == {
        4: (4, None),
        5: (0, 5),
        9: (4, 5),
        12: (2, 10),
        25: (0, 25),
    }
    for version, (subject, _, _) in again.items():
        assert summarise(subject) == summarise(store.app.subject_at(originator_id, version))


def test_the_version_at_each_recording_time_and_between_two_is_found_in_a_long_record(
    corrected: Corrected,
) -> None:
    long_record(corrected, 40)  # versions 5-44: searched fifteen versions per query
    store = corrected.store
    replayer = SubjectReplayer(store.app, store.engine)
    events = list(store.app.events.get(stream_id(STREAM)))
    tick = timedelta(microseconds=1)

    at_each = [replayer.replay(STREAM, as_of=e.timestamp).version for e in events]
    just_before = [replayer.replay(STREAM, as_of=e.timestamp - tick).version for e in events[1:]]

    assert at_each == list(range(1, 45))
    assert just_before == list(range(1, 44))


def test_a_replayer_reuses_the_states_it_checked_without_decoding_them_again(
    corrected: Corrected,
) -> None:
    long_record(corrected, 6)  # versions 5-10
    store = corrected.store
    replayer = SubjectReplayer(store.app, store.engine, interval=5)
    originator_id = stream_id(STREAM)
    replayer.replay(STREAM, position=10**12)  # folds everything and keeps rows 5 and 10
    with store.engine.begin() as connection:
        connection.execute(update(replay_cache).values(state=b"not a state"))

    subject, folded, cached = replayer.subject_at(originator_id, 10)
    first, _, _ = replayer.subject_at(originator_id, 7)
    second, _, _ = replayer.subject_at(originator_id, 7)

    assert (folded, cached) == (0, 10)  # its own checked state: the row is not read again
    assert summarise(subject) == summarise(store.app.subject_at(originator_id, 10))
    assert first.entries == second.entries == store.app.subject_at(originator_id, 7).entries
    assert first.entries is not second.entries  # each fold had a copy of its own


def test_a_state_kept_in_memory_is_used_only_while_the_log_holds_its_chain_hash(
    corrected: Corrected,
) -> None:
    long_record(corrected, 6)
    store = corrected.store
    replayer = SubjectReplayer(store.app, store.engine, interval=5)
    originator_id = stream_id(STREAM)
    replayer.replay(STREAM, position=10**12)  # keeps states 5 and 10
    # As if the log no longer held the chain hash state 10 was checked against, and row 10
    # named another one too: neither the memory nor the row may be used.
    kept_chain, kept_state = replayer._states[(originator_id, 10)]
    replayer._states[(originator_id, 10)] = ("0" * 64, kept_state)
    with store.engine.begin() as connection:
        connection.execute(
            update(replay_cache).where(replay_cache.c.version == 10).values(chain_head="0" * 64)
        )

    subject, folded, cached = replayer.subject_at(originator_id, 10)

    assert kept_chain != "0" * 64
    assert (folded, cached) == (5, 5)
    assert summarise(subject) == summarise(store.app.subject_at(originator_id, 10))


def test_a_tampered_cache_row_is_ignored_and_the_state_folded_from_the_events(
    corrected: Corrected,
) -> None:
    long_record(corrected, 6)  # versions 5-10
    store = corrected.store
    replayer = SubjectReplayer(store.app, store.engine, interval=5)
    originator_id = stream_id(STREAM)
    replayer.replay(STREAM, position=10**12)
    with store.engine.begin() as connection:
        state = (
            connection.execute(replay_cache.select().where(replay_cache.c.version == 10))
            .one()
            .state
        )
        connection.execute(
            update(replay_cache)
            .where(replay_cache.c.version == 10)
            .values(state=bytes(state).replace(b'"RP"', b'"XX"'))
        )

    # Another process (a replayer that has not checked row 10 itself) reads the row.
    elsewhere = SubjectReplayer(store.app, store.engine, interval=5)
    subject, folded, cached = elsewhere.subject_at(originator_id, 10)

    assert (folded, cached) == (5, 5)  # row 10 refused: folded from row 5
    assert subject.site == "RP"
    assert summarise(subject) == summarise(store.app.subject_at(originator_id, 10))
    # The cache is not evidence: verification reads the events, never the cache.
    assert store.verifier(workers=1).verify().ok


def test_a_signature_folded_onto_a_kept_state_does_not_reach_back_into_it(
    corrected: Corrected, person_in: PersonFactory
) -> None:
    long_record(corrected, 6)  # versions 5-10
    store = corrected.store
    investigator = person_in(store, "inv1", printed_name="Rita Lima", role=Role.INVESTIGATOR)
    current = store.app.find_subject(STREAM)
    assert current is not None
    covered = [{"entry": 1, "record_hash": current.entries[1].record_hash}]
    body = investigator.body(SUBJECT, "RecordsSigned", {"entries": covered}, meaning="review")
    store.records.record_signature(
        RecordEvent(
            submission=submission_from(body, investigator.sign(body)), actor_id=investigator.user_id
        )
    )
    replayer = SubjectReplayer(store.app, store.engine, interval=5)
    originator_id = stream_id(STREAM)
    replayer.replay(STREAM, as_of=datetime.now(UTC) + timedelta(days=1))  # folds all 11

    signed, _, from_ten = replayer.subject_at(originator_id, 11)
    before, _, _ = replayer.subject_at(originator_id, 10)

    assert from_ten == 10
    assert [s.user_id for s in signed.entries[1].signatures] == ["inv1"]
    assert before.entries[1].signatures == []
    assert before.entries == store.app.subject_at(originator_id, 10).entries
