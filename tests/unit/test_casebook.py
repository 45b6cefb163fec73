"""Casebook sign-off (ICH E6(R3) 2.12, 21 CFR 11.50, 11.70): one signature over a subject's state
and every live record at a milestone; the refusals; when it stops being current."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from domain.authorship import authored
from domain.errors import (
    CasebookChanged,
    MilestoneNotReached,
    SignatureRefused,
    SignedRecordChanged,
)
from domain.subject import ABOUT_RECORDS, Subject
from domain.subject.casebook import current_casebook_signature, milestones_to_sign
from domain.vocabulary import EndOfStudyReason, Milestone
from infrastructure.verification.log_checks import EventFacts, check_streams, record_facts
from signatures.errors import SignatureNotLinked
from signatures.record_hash import RecordHashes
from tests.unit.subjects import (
    QUESTION,
    cyclosporine_start,
    end_of_study,
    enrolled,
    events_of,
    response,
    transfusion,
    withdrawn,
)
from tests.unit.test_record_signatures import as_investigator

pytestmark = pytest.mark.usefixtures("someone_signs")


def records_of(subject: Subject) -> list[dict[str, object]]:
    """Every live record the casebook holds, with its record hash now."""
    return [
        {"entry": number, "record_hash": entry.record_hash}
        for number, entry in subject.entries.items()
        if entry.is_live and entry.kind not in ABOUT_RECORDS
    ]


def sign_casebook(
    subject: Subject,
    milestone: str = "month_6",
    *,
    meaning: str = "responsibility",
    state_hash: str | None = None,
    entries: list[dict[str, object]] | None = None,
) -> None:
    with authored(as_investigator(meaning)):
        subject.sign_casebook(
            milestone=milestone,
            state_hash=subject.chain_head if state_hash is None else state_hash,
            entries=records_of(subject) if entries is None else entries,
            meaning=meaning,
        )


def at_month_6() -> Subject:
    """Enrolled, a transfusion (entry 5) and the month-6 response (entry 6) on record."""
    subject = enrolled()
    subject.give_transfusion(**transfusion())
    subject.assess_response(**response(6))
    return subject


def test_the_casebook_is_signed_over_its_state_and_every_live_record() -> None:
    subject = at_month_6()
    state = subject.chain_head
    sign_casebook(subject)

    current = current_casebook_signature(subject)
    assert current is not None
    assert current.signed_in == 7
    assert current.milestone is Milestone.MONTH_6
    assert current.state_hash == state
    assert sorted(current.covers) == [1, 2, 3, 4, 5, 6]
    assert current.signer.meaning == "responsibility"
    assert current.signer.printed_name == "Rita Lima"
    # Each record carries the signature as a signature over records does.
    assert all(subject.entries[n].signatures[-1].signed_in == 7 for n in range(1, 7))
    assert isinstance(events_of(subject)[-1], Subject.CasebookSigned)


def test_a_correction_after_sign_off_makes_the_signature_no_longer_current() -> None:
    subject = at_month_6()
    sign_casebook(subject)
    subject.correct_entry(
        entry=5, entry_kind="TransfusionGiven", changes={"units": {"old": 2, "new": 3}}, reason="x"
    )

    assert current_casebook_signature(subject) is None

    sign_casebook(subject)
    again = current_casebook_signature(subject)
    assert again is not None and again.signed_in == 9


def test_a_later_record_or_void_makes_it_no_longer_current_a_query_does_not() -> None:
    subject = at_month_6()
    sign_casebook(subject)
    subject.raise_query(**QUESTION)
    assert current_casebook_signature(subject) is not None

    subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="wrong subject")
    assert current_casebook_signature(subject) is None

    sign_casebook(subject)
    assert current_casebook_signature(subject) is not None
    subject.give_transfusion(**transfusion())
    assert current_casebook_signature(subject) is None


def test_no_casebook_signature_is_none() -> None:
    assert current_casebook_signature(at_month_6()) is None


@pytest.mark.parametrize(
    ("milestone", "missing"),
    [
        ("month_6", "month-6 response is not recorded"),
        ("end_of_treatment", "cyclosporine is not recorded as stopped"),
        ("end_of_study", "still in the study"),
    ],
)
def test_a_milestone_not_reached_is_refused(milestone: str, missing: str) -> None:
    subject = enrolled()
    subject.assess_response(**response(3))

    with pytest.raises(MilestoneNotReached, match=missing):
        sign_casebook(subject, milestone)
    assert subject.version == 5


def test_milestones_reached_by_the_records_or_by_leaving_the_study() -> None:
    treated = enrolled()
    treated.start_cyclosporine(**cyclosporine_start())
    treated.stop_cyclosporine(stopped_on=date(2011, 8, 21), reason="Six months completed")
    sign_casebook(treated, "end_of_treatment")
    left = withdrawn()
    sign_casebook(left, "month_6")
    ended = enrolled()
    ended.end_study(**end_of_study(EndOfStudyReason.COMPLETED))
    sign_casebook(ended, "end_of_study")

    assert all(current_casebook_signature(s) for s in (treated, left, ended))


def test_the_milestones_to_sign_are_those_reached_and_not_yet_signed_at() -> None:
    subject = enrolled()
    assert milestones_to_sign(subject) == []

    subject.assess_response(**response(6))
    assert milestones_to_sign(subject) == [Milestone.MONTH_6]
    sign_casebook(subject, "month_6")
    assert milestones_to_sign(subject) == []

    # A record since does not bring month 6 back (the record is unsigned). Once the subject has
    # left the study, the end of study awaits, not the milestones passed on the way.
    subject.end_study(**end_of_study(EndOfStudyReason.COMPLETED))
    assert current_casebook_signature(subject) is None
    assert milestones_to_sign(subject) == [Milestone.END_OF_STUDY]
    sign_casebook(subject, "end_of_study")
    assert milestones_to_sign(subject) == []

    treated = enrolled()
    treated.start_cyclosporine(**cyclosporine_start())
    treated.stop_cyclosporine(stopped_on=date(2011, 8, 21), reason="Six months completed")
    assert milestones_to_sign(treated) == [Milestone.END_OF_TREATMENT]


def test_an_unknown_milestone_is_refused() -> None:
    with pytest.raises(SignatureRefused, match="'month_7' is not a milestone"):
        sign_casebook(at_month_6(), "month_7")


def test_a_stale_state_hash_is_refused_and_nothing_recorded() -> None:
    subject = at_month_6()
    read = subject.chain_head
    subject.raise_query(**QUESTION)

    with pytest.raises(CasebookChanged, match="changed since it was read"):
        sign_casebook(subject, state_hash=read)
    assert subject.version == 7


def test_a_stale_record_hash_is_refused() -> None:
    subject = at_month_6()
    stale = records_of(subject)
    subject.correct_entry(
        entry=5, entry_kind="TransfusionGiven", changes={"units": {"old": 2, "new": 3}}, reason="x"
    )

    with pytest.raises(SignedRecordChanged, match="entry 5 hashes to"):
        sign_casebook(subject, entries=stale)


def test_a_record_left_out_is_refused() -> None:
    subject = at_month_6()
    with pytest.raises(SignatureRefused, match="leaves out entries 5"):
        sign_casebook(subject, entries=[r for r in records_of(subject) if r["entry"] != 5])


def test_a_query_named_as_a_record_is_refused() -> None:
    subject = at_month_6()
    subject.raise_query(**QUESTION)
    query = {"entry": 7, "record_hash": subject.entries[7].record_hash}

    with pytest.raises(SignatureRefused, match="entry 7 is a QueryRaised"):
        sign_casebook(subject, entries=[*records_of(subject), query])


def test_a_casebook_signature_over_more_records_than_its_limit_is_refused_by_the_domain() -> None:
    subject = at_month_6()
    limit = Subject.CasebookSigned.MAX_RECORDS
    too_many = records_of(subject) * (limit // len(records_of(subject)) + 1)

    with pytest.raises(SignatureRefused, match=f"covers at most {limit:,} records, not"):
        sign_casebook(subject, entries=too_many)
    assert subject.version == 6


def test_review_is_not_a_meaning_of_a_casebook_signature() -> None:
    with pytest.raises(SignatureRefused, match="means approval, responsibility, not 'review'"):
        sign_casebook(at_month_6(), meaning="review")


# -- the store's check against the stream (the one verify makes) ---------------------------------


def stream_before(events: list[Subject.Event]) -> RecordHashes:
    records = RecordHashes()
    for event in events:
        records.add(
            event.originator_version,
            event.event_hash,
            event.changed_entry(),
            record=not event.ABOUT_RECORDS,
            voids=isinstance(event, Subject.EntryVoided),
        )
    return records


def test_the_store_links_a_casebook_signature_to_the_stream_it_was_made_over() -> None:
    subject = at_month_6()
    subject.raise_query(**QUESTION)
    sign_casebook(subject)
    *before, signature = events_of(subject)
    assert isinstance(signature, Subject.CasebookSigned)
    signature.check_against_stream(lambda: before)
    records = stream_before(before)
    covered = signature.covered()

    with pytest.raises(SignatureNotLinked, match="the stream stood at"):
        records.check_casebook(covered, before[-2].event_hash)
    with pytest.raises(SignatureNotLinked, match="leaves out entries 5, live records"):
        records.check_casebook({n: h for n, h in covered.items() if n != 5}, signature.state_hash)
    with pytest.raises(SignatureNotLinked, match="covers entries 7, no live records"):
        records.check_casebook({**covered, 7: "0" * 64}, signature.state_hash)


def test_a_voided_record_is_no_longer_one_the_casebook_covers() -> None:
    subject = at_month_6()
    subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="wrong subject")
    sign_casebook(subject)
    *before, signature = events_of(subject)

    assert sorted(signature.covered()) == [1, 2, 3, 4, 6]
    signature.check_against_stream(lambda: before)


def test_verify_names_a_casebook_signature_over_another_state_as_the_store_would() -> None:
    subject = at_month_6()
    sign_casebook(subject)
    events = events_of(subject)
    facts = [
        EventFacts(
            n,
            UUID(int=1),
            e.originator_version,
            None,
            e.previous_hash,
            e.event_hash,
            None,
            *record_facts(e),
        )
        for n, e in enumerate(events, 1)
    ]
    assert check_streams(facts) == []
    moved = facts[-1]._replace(casebook_state=events[-3].event_hash)

    (finding,) = check_streams([*facts[:-1], moved])

    assert (finding.kind, finding.version) == ("signature-not-linked", 7)
