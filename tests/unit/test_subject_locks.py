"""Freezing, locking and unlocking a subject: what each state refuses and takes, and the two
signatures an unlock needs."""

from __future__ import annotations

import pytest

from domain.authorship import authored
from domain.errors import CasebookNotSigned, LockStepRefused, RecordsFrozen, RecordsLocked
from domain.subject import Subject
from domain.subject.locks import LockScope, LockState, pending_unlock_request
from domain.vocabulary import EndOfStudyReason
from tests.unit.subjects import (
    blood_count,
    casebook_signed,
    correct_units,
    end_of_study,
    events_of,
    signed_as,
    transfusion,
    with_query,
)

pytestmark = pytest.mark.usefixtures("someone_signs")


def frozen() -> Subject:
    """Enrolled, with a query (entry 5), a transfusion (entry 6) and the end of study (entry 7),
    then frozen (entry 8)."""
    subject = with_query()
    subject.give_transfusion(**transfusion())
    subject.end_study(**end_of_study(EndOfStudyReason.COMPLETED))
    subject.freeze_records(reason="cleaning before the analysis")
    return subject


def locked() -> Subject:
    """As :func:`frozen`, then its casebook signed (entry 9, a freeze allows it) and locked
    (entry 10)."""
    subject = casebook_signed(frozen())
    subject.lock_records(scope=LockScope.SUBJECT, reason="end of study")
    return subject


def request_unlock(subject: Subject, by: str = "dm1") -> int:
    with authored(signed_as(by)):
        subject.request_unlock(reason="a transfusion was entered twice")
    return subject.version


def sign_the_transfusion(subject: Subject) -> None:
    """The investigator reviews the transfusion (entry 6) as it stands."""
    with authored(signed_as("inv1", "review")):
        subject.sign_records(
            entries=[{"entry": 6, "record_hash": subject.entries[6].record_hash}],
            meaning="review",
        )


@pytest.mark.requirement("E6-4.2.6-1")
def test_a_frozen_subject_refuses_a_new_record_a_correction_and_a_void() -> None:
    subject = frozen()
    with pytest.raises(RecordsFrozen, match="RP-101 is frozen"):
        subject.record_blood_count(**blood_count())
    with pytest.raises(RecordsFrozen):
        correct_units(subject, 6)
    with pytest.raises(RecordsFrozen):
        subject.void_entry(entry=6, entry_kind="TransfusionGiven", reason="twice")
    assert subject.version == 8


def test_a_frozen_subject_refuses_a_correction_checked_as_a_record() -> None:
    """The refusal is part of check_record, which every correction runs."""
    subject = frozen()
    with pytest.raises(RecordsFrozen):
        subject.check_record(Subject.TransfusionGiven, transfusion(units=3), besides=6)


@pytest.mark.requirement("E6-4.2.6-1")
def test_a_frozen_subject_takes_queries_answers_closings_and_signatures() -> None:
    subject = frozen()
    subject.answer_query(query=5, answer="Checked against the chart")
    subject.close_query(query=5, resolution="The answer resolves it")
    subject.raise_query(entry=6, entry_kind="TransfusionGiven", question="Two units?", item=None)
    sign_the_transfusion(subject)
    assert subject.lock_state is LockState.FROZEN
    assert [e.kind() for e in events_of(subject)][-4:] == [
        "QueryAnswered",
        "QueryClosed",
        "QueryRaised",
        "RecordsSigned",
    ]


@pytest.mark.requirement("E6-4.2.6-1")
def test_a_locked_subject_refuses_everything_but_the_unlock_steps() -> None:
    subject = locked()
    with pytest.raises(RecordsLocked, match="RP-101 is locked"):
        subject.record_blood_count(**blood_count())
    with pytest.raises(RecordsLocked):
        correct_units(subject, 6)
    with pytest.raises(RecordsLocked):
        subject.answer_query(query=5, answer="Checked")
    with pytest.raises(RecordsLocked):
        subject.raise_query(entry=6, entry_kind="TransfusionGiven", question="?", item=None)
    with pytest.raises(RecordsLocked):
        subject.freeze_records(reason="again")
    with pytest.raises(RecordsLocked):
        sign_the_transfusion(subject)
    with pytest.raises(RecordsLocked):
        casebook_signed(subject)
    assert subject.version == 10


def test_a_second_freeze_or_lock_is_refused() -> None:
    subject = frozen()
    with pytest.raises(LockStepRefused, match="frozen already"):
        subject.freeze_records(reason="again")
    casebook_signed(subject).lock_records(scope=LockScope.SITE, reason="site lock")
    with pytest.raises(RecordsLocked):
        subject.lock_records(scope=LockScope.STUDY, reason="again")


@pytest.mark.requirement("P11-11.10f-1")
def test_a_lock_needs_a_current_casebook_signature() -> None:
    subject = frozen()
    with pytest.raises(CasebookNotSigned, match="no current signature"):
        subject.lock_records(scope=LockScope.SUBJECT, reason="end of study")
    casebook_signed(subject)
    subject.request_unlock(reason="a transfusion to correct")
    subject.unlock_records(request=subject.version)
    correct_units(subject, 6)  # the casebook signature no longer covers the record as it stands
    with pytest.raises(CasebookNotSigned):
        subject.lock_records(scope=LockScope.SUBJECT, reason="end of study")
    casebook_signed(subject).lock_records(scope=LockScope.SUBJECT, reason="end of study")
    assert subject.lock_state is LockState.LOCKED


def test_a_freeze_or_lock_without_a_reason_is_refused() -> None:
    subject = with_query()
    with pytest.raises(LockStepRefused, match="a freeze says why"):
        subject.freeze_records(reason="  ")
    with pytest.raises(LockStepRefused, match="a lock says why"):
        subject.lock_records(scope=LockScope.SUBJECT, reason="")
    assert subject.lock_state is LockState.OPEN


INVISIBLE = ["\u200b", "\u2060\ufeff", "\u3164", "\u00a0\u200c\u2800"]
"""Reasons a reader sees as blank: zero-width and word-joining format characters, a Hangul
filler, a no-break space and a Braille blank."""


@pytest.mark.parametrize("reason", INVISIBLE)
def test_a_freeze_lock_or_unlock_whose_reason_shows_nothing_is_refused(reason: str) -> None:
    subject = casebook_signed(frozen())
    with pytest.raises(LockStepRefused, match="a freeze says why"):
        with_query().freeze_records(reason=reason)
    with pytest.raises(LockStepRefused, match="a lock says why"):
        subject.lock_records(scope=LockScope.SUBJECT, reason=reason)
    with pytest.raises(LockStepRefused, match="an unlock gives its reason"):
        subject.request_unlock(reason=reason)
    assert (subject.lock_state, pending_unlock_request(subject)) == (LockState.FROZEN, None)


def test_an_unlock_asked_by_a_data_manager_and_countersigned_by_the_investigator_opens() -> None:
    subject = locked()
    request = request_unlock(subject)
    assert subject.lock_state is LockState.LOCKED  # one signature is not enough
    with pytest.raises(RecordsLocked):
        subject.record_blood_count(**blood_count())
    with authored(signed_as("inv1")):
        subject.unlock_records(request=request)
    assert subject.lock_state is LockState.OPEN
    assert pending_unlock_request(subject) is None
    correct_units(subject, 6)
    assert subject.entries[6]["units"] == 3


def test_an_unlock_without_a_reason_is_refused() -> None:
    subject = locked()
    with pytest.raises(LockStepRefused, match="an unlock gives its reason"):
        subject.request_unlock(reason="\n")
    assert pending_unlock_request(subject) is None


@pytest.mark.requirement("E6-4.2.6-1")
def test_an_unlock_by_one_party_alone_is_refused() -> None:
    subject = locked()
    with authored(signed_as("inv1")), pytest.raises(LockStepRefused, match="asks first"):
        subject.unlock_records(request=10)  # no request: the investigator alone
    request = request_unlock(subject, by="dm1")
    with authored(signed_as("dm1")), pytest.raises(LockStepRefused, match="another person"):
        subject.unlock_records(request=request)  # the requester countersigning themselves
    with authored(signed_as("inv1")), pytest.raises(LockStepRefused, match="pending"):
        subject.unlock_records(request=request - 1)  # not the request
    assert subject.lock_state is LockState.LOCKED


@pytest.mark.requirement("P11-11.10f-1")
def test_an_unlock_of_an_open_subject_or_a_second_request_is_refused() -> None:
    with pytest.raises(LockStepRefused, match="neither frozen nor locked"):
        request_unlock(with_query())
    subject = frozen()
    request_unlock(subject)
    with pytest.raises(LockStepRefused, match="pending"):
        request_unlock(subject)


def test_a_lock_lets_an_earlier_unlock_request_lapse() -> None:
    subject = casebook_signed(frozen())
    request = request_unlock(subject)
    subject.lock_records(scope=LockScope.SUBJECT, reason="lock after all")
    with authored(signed_as("inv1")), pytest.raises(LockStepRefused):
        subject.unlock_records(request=request)


def test_a_subject_is_locked_after_the_end_of_study() -> None:
    subject = with_query()
    subject.end_study(**end_of_study(EndOfStudyReason.COMPLETED))
    casebook_signed(subject).lock_records(scope=LockScope.STUDY, reason="database lock")
    assert subject.lock_state is LockState.LOCKED


def verify_the_transfusion(subject: Subject) -> None:
    """A monitor verifies the transfusion (entry 6) against source, as it stands."""
    record_hash = subject.entries[6].record_hash
    subject.verify_source(entry=6, entry_kind="TransfusionGiven", record_hash=record_hash)


def test_source_verification_goes_on_while_frozen_and_stops_once_locked() -> None:
    subject = frozen()
    verify_the_transfusion(subject)
    assert subject.entries[subject.version].kind == "SourceVerified"
    subject = locked()
    with pytest.raises(RecordsLocked):
        verify_the_transfusion(subject)
