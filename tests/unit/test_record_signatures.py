"""Electronic signatures over records (21 CFR 11.50, 11.70): the record hash, the signing rules,
and what a later correction or void does to a signature."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from domain.authorship import Authorship, authored
from domain.errors import CorrectionInvalid, EntryNotFound, SignatureRefused, SignedRecordChanged
from domain.subject import Subject
from projections.audit_index import audit_index
from projections.audit_trail import (
    COVERS,
    ELECTRONIC_SIGNATURE,
    NO_LONGER_COVERS,
    SIGNED,
    audit_rows,
    summary_counts,
)
from signatures.errors import SignatureNotLinked
from signatures.record_hash import (
    RecordHashes,
    check_signature_linked,
    record_hash,
    record_hash_after,
)
from tests.unit.subjects import (
    consented,
    correct_units,
    enrolled,
    events_of,
    transfusion,
)

# The chain hash of docs/signing.md's test vector, and the record hashes docs/signing.md gives.
VECTOR_EVENT_HASH = "11e8eae00058402452f93c2aeba702e45b042cbea77e5840559e1f4417d9e3e0"
VECTOR_RECORD_HASH = "92734d5697c85ee8dae1f1f069fd6249450626a6aa779989591a754617d64754"
VECTOR_AFTER_ZERO_CHANGE = "4c5b98f652a1155bec935f5164dc710af559cc4586969e716858d6c731243e09"


pytestmark = pytest.mark.usefixtures("someone_signs")


def as_investigator(meaning: str = "review") -> Authorship:
    """A body an investigator signs with ``meaning`` (the domain reads the manifestation)."""
    body = {
        "signer": {"user_id": "inv1", "printed_name": "Rita Lima"},
        "key_id": "ed25519:" + "0" * 32,
        "signed_at": "2011-03-01T09:30:00Z",
        "meaning": meaning,
    }
    return Authorship(json.dumps(body), base64.b64encode(bytes(64)).decode())


def sign(subject: Subject, *entries: int, meaning: str = "review", **hashes: str) -> None:
    """Sign entries with the record hash each has now (or as given, ``e3="..."``)."""
    with authored(as_investigator(meaning)):
        subject.sign_records(
            entries=[
                {"entry": n, "record_hash": hashes.get(f"e{n}", subject.entries[n].record_hash)}
                for n in entries
            ],
            meaning=meaning,
        )


def hash_of(subject: Subject, entry: int) -> str:
    """The record hash of an entry now (zeros for an entry the subject does not have)."""
    found = subject.entries.get(entry)
    return "0" * 64 if found is None else found.record_hash


# -- the record hash -------------------------------------------------------------------------------


@pytest.mark.requirement("P11-11.70-1")
def test_the_record_hash_is_the_documented_fold_of_chain_hashes() -> None:
    tag = b"sealtrail/record/v1"
    first = hashlib.sha256(tag + b"\x00" + bytes.fromhex(VECTOR_EVENT_HASH)).hexdigest()
    after = hashlib.sha256(tag + b"\x01" + bytes.fromhex(first) + bytes(32)).hexdigest()

    assert record_hash(VECTOR_EVENT_HASH) == first == VECTOR_RECORD_HASH
    assert record_hash_after(first, "00" * 32) == after == VECTOR_AFTER_ZERO_CHANGE


def test_each_entry_starts_with_the_hash_of_its_own_event() -> None:
    subject = enrolled()
    events = events_of(subject)

    for event in events:
        assert subject.entries[event.originator_version].record_hash == record_hash(
            event.event_hash
        )


def test_a_correction_and_a_void_each_move_the_record_hash_on() -> None:
    subject = enrolled()
    subject.give_transfusion(**transfusion())
    made = subject.entries[5].record_hash
    correct_units(subject)
    corrected = subject.entries[5].record_hash
    subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="wrong subject")
    correction, void = events_of(subject)[-2:]

    assert corrected == record_hash_after(made, correction.event_hash)
    assert subject.entries[5].record_hash == record_hash_after(corrected, void.event_hash)


# -- signing -------------------------------------------------------------------------------------


@pytest.mark.requirement("P11-11.50-1")
def test_an_investigator_signs_one_record_with_its_manifestation() -> None:
    subject = enrolled()

    sign(subject, 4, meaning="approval")

    (signature,) = subject.entries[4].signatures
    assert (signature.signed_in, signature.meaning) == (5, "approval")
    assert (signature.user_id, signature.printed_name) == ("inv1", "Rita Lima")
    assert signature.signed_at == "2011-03-01T09:30:00Z"
    assert signature.record_hash == subject.entries[4].record_hash
    assert subject.entries[4].covers_current_value(signature)
    assert subject.entries[5].kind == "RecordsSigned"


def test_one_signature_covers_several_records() -> None:
    subject = enrolled()

    sign(subject, 2, 3, 4, meaning="responsibility")

    (event,) = [e for e in events_of(subject) if isinstance(e, Subject.RecordsSigned)]
    assert event.covered() == {n: subject.entries[n].record_hash for n in (2, 3, 4)}
    assert event.signed_data() == {
        "entries": [{"entry": n, "record_hash": subject.entries[n].record_hash} for n in (2, 3, 4)]
    }
    for n in (2, 3, 4):
        assert [s.signed_in for s in subject.entries[n].signatures] == [5]


@pytest.mark.requirement("P11-11.70-2")
def test_a_correction_after_signing_leaves_the_signature_no_longer_covering_the_value() -> None:
    subject = enrolled()
    subject.give_transfusion(**transfusion())
    sign(subject, 4, 5)

    correct_units(subject)

    (over_transfusion,) = subject.entries[5].signatures
    (over_enrolment,) = subject.entries[4].signatures
    assert not subject.entries[5].covers_current_value(over_transfusion)
    assert subject.entries[4].covers_current_value(over_enrolment)


@pytest.mark.requirement("P11-11.70-2")
def test_a_void_after_signing_leaves_the_signature_no_longer_covering_the_value() -> None:
    subject = enrolled()
    subject.give_transfusion(**transfusion())
    sign(subject, 5)

    subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="another subject's")

    (signature,) = subject.entries[5].signatures
    assert not subject.entries[5].covers_current_value(signature)


def test_signing_the_corrected_record_again_covers_its_current_value() -> None:
    subject = enrolled()
    subject.give_transfusion(**transfusion())
    sign(subject, 5)
    correct_units(subject)

    sign(subject, 5)

    first, second = subject.entries[5].signatures
    assert [subject.entries[5].covers_current_value(s) for s in (first, second)] == [False, True]


# -- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "error", "message"),
    [
        ([], SignatureRefused, "at least one record"),
        ([9], EntryNotFound, "has no entry 9"),
        ([2, 2], SignatureRefused, "named twice"),
    ],
)
def test_a_signature_names_each_existing_record_once(
    entries: list[int], error: type[Exception], message: str
) -> None:
    subject = consented()

    with pytest.raises(error, match=message), authored(as_investigator()):
        subject.sign_records(
            entries=[{"entry": n, "record_hash": hash_of(subject, n)} for n in entries],
            meaning="review",
        )
    assert len(subject.entries) == 2


def test_a_voided_record_is_not_signed() -> None:
    subject = enrolled()
    subject.give_transfusion(**transfusion())
    subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="another subject's")

    with pytest.raises(SignatureRefused, match="voided by entry 6"):
        sign(subject, 5)


def test_a_correction_or_a_signature_is_not_signed_as_a_record() -> None:
    subject = enrolled()
    subject.give_transfusion(**transfusion())
    correct_units(subject)
    sign(subject, 5)

    with pytest.raises(SignatureRefused, match="is a EntryCorrected"):
        sign(subject, 6)
    with pytest.raises(SignatureRefused, match="is a RecordsSigned"):
        sign(subject, 7)


@pytest.mark.parametrize("meaning", ["authorship", "witness"])
def test_a_signature_over_records_means_review_approval_or_responsibility(meaning: str) -> None:
    subject = consented()

    with pytest.raises(SignatureRefused, match="review, approval, responsibility"):
        sign(subject, 2, meaning=meaning)


@pytest.mark.requirement("P11-11.50-1")
def test_the_meaning_is_the_one_the_signer_signed() -> None:
    subject = consented()

    with (
        pytest.raises(SignatureRefused, match="signed body's meaning is 'review'"),
        authored(as_investigator("review")),
    ):
        subject.sign_records(
            entries=[{"entry": 2, "record_hash": subject.entries[2].record_hash}],
            meaning="approval",
        )


def test_a_record_changed_since_it_was_read_is_not_signed_as_it_was() -> None:
    subject = enrolled()
    subject.give_transfusion(**transfusion())
    read = subject.entries[5].record_hash
    correct_units(subject)

    with pytest.raises(SignedRecordChanged, match="changed since it was read"):
        sign(subject, 5, e5=read)
    assert subject.entries[5].signatures == []


@pytest.mark.parametrize("how", ["correct", "void"])
def test_a_signature_is_neither_corrected_nor_voided(how: str) -> None:
    subject = consented()
    sign(subject, 2)

    with pytest.raises(CorrectionInvalid, match="a RecordsSigned is not"):
        if how == "void":
            subject.void_entry(entry=3, entry_kind="RecordsSigned", reason="mistake")
        else:
            changes: dict[str, Any] = {"entries": {"old": [], "new": []}}
            subject.correct_entry(
                entry=3, entry_kind="RecordsSigned", changes=changes, reason="mistake"
            )


# -- linking (what verify and the store check) -----------------------------------------------------


def test_a_signature_with_the_hashes_of_its_own_records_is_linked() -> None:
    subject = enrolled()
    sign(subject, 3, 4)
    events = events_of(subject)
    records = RecordHashes()
    for event in events[:-1]:
        records.add(event.originator_version, event.event_hash, event.changed_entry())

    signature = events[-1]
    assert isinstance(signature, Subject.RecordsSigned)
    records.check_signature(signature.covered())


def test_a_signature_moved_onto_another_subjects_records_is_not_linked() -> None:
    one = enrolled()
    # Another subject's records are signed bodies of their own (they name their subject).
    with authored(Authorship('{"subject": "RP-102"}', base64.b64encode(bytes(64)).decode())):
        other = enrolled()
    sign(one, 4)
    (signature,) = [e for e in events_of(one) if isinstance(e, Subject.RecordsSigned)]
    records = RecordHashes()
    for event in events_of(other):
        records.add(event.originator_version, event.event_hash, event.changed_entry())

    # The same kinds, data and versions: the other subject's entry 4 is another record.
    with pytest.raises(SignatureNotLinked, match="entry 4 of this stream hashed to"):
        records.check_signature(signature.covered())


def test_a_signature_naming_an_entry_the_stream_lacks_is_not_linked() -> None:
    with pytest.raises(SignatureNotLinked, match="names entry 7, which the stream lacks"):
        check_signature_linked({7: "0" * 64}, {1: "1" * 64})


# -- the human-readable views: audit trail and audit index ----------------------------------------


def signed_then_corrected() -> list[Subject.Event]:
    """Enrolled (1-4), transfused (5), entries 4 and 5 signed (6), entry 5 corrected (7)."""
    with authored(as_investigator("authorship")):
        subject = enrolled()
        subject.give_transfusion(**transfusion())
    sign(subject, 4, 5)
    with authored(as_investigator("authorship")):
        correct_units(subject)
    return events_of(subject)


def test_the_audit_trail_has_a_row_per_record_signed() -> None:
    events = signed_then_corrected()

    rows = [r for r in audit_rows(list(enumerate(events, 1))) if r.action == SIGNED]

    assert [(r.entry, r.kind, r.by_entry, r.field) for r in rows] == [
        (4, "Enrolled", 6, ELECTRONIC_SIGNATURE),
        (5, "TransfusionGiven", 6, ELECTRONIC_SIGNATURE),
    ]
    signature = events[5]
    assert isinstance(signature, Subject.RecordsSigned)
    assert [r.new for r in rows] == [f"review of record {h}" for h in signature.covered().values()]
    assert {(r.printed_name, r.meaning) for r in rows} == {("Rita Lima", "review")}
    assert summary_counts(rows)[SIGNED] == 2


def test_the_audit_trail_says_when_a_correction_leaves_a_signature_no_longer_covering() -> None:
    rows = audit_rows(list(enumerate(signed_then_corrected(), 1)))

    by_correction = [(r.entry, r.field, r.old, r.new, r.reason) for r in rows if r.by_entry == 7]

    assert by_correction == [
        (5, "signature of entry 6", COVERS, NO_LONGER_COVERS, "typo"),
        (5, "units", 2, 3, "typo"),
    ]


def test_the_audit_index_lists_each_records_signatures_and_their_coverage() -> None:
    index = audit_index(
        (event, position) for position, event in enumerate(signed_then_corrected(), 1)
    )

    assert index is not None
    enrolment, transfused = index["records"][3], index["records"][4]
    assert [(s["entry"], s["covers_current_value"]) for s in enrolment["signatures"]] == [(6, True)]
    assert [(s["entry"], s["covers_current_value"]) for s in transfused["signatures"]] == [
        (6, False)
    ]
    assert transfused["signatures"][0]["signature"]["printed_name"] == "Rita Lima"
    assert index["records"][0]["signatures"] == []
