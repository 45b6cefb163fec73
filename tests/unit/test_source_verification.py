"""Source data verification (ICH E6(R3) 3.11.4.5.4): the rules of a monitor's verification, what a
later correction or void does to it, and the coverage counted from them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain.errors import (
    EntryNotFound,
    ProtocolDefinitionInvalid,
    SourceVerificationRefused,
    SourceVerificationStale,
)
from domain.protocol import NCT01297972, load_protocol
from domain.subject import Subject
from domain.subject.source_verification import risk_based_kinds, verifications_of
from projections.source_verification import ALL, study_coverage, subject_coverage
from signatures.errors import SignatureNotLinked
from tests.unit.subjects import enrolled, events_of, infusion, with_query

ELIGIBILITY = 3  # screened, consented, assessed, enrolled


pytestmark = pytest.mark.usefixtures("someone_signs")


def verify(subject: Subject, number: int, item: str | None = None, **overrides: Any) -> None:
    """Verify an entry against source as it stands now (or as ``overrides`` say)."""
    target = subject.entries[number]
    fields = {"entry": number, "entry_kind": target.kind, "record_hash": target.record_hash}
    subject.verify_source(**{**fields, **overrides}, item=item)


def infused() -> Subject:
    """Enrolled, and the first MSC infusion given (entry 5)."""
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    return subject


def test_a_verification_names_the_record_as_it_stands() -> None:
    subject = infused()
    verify(subject, ELIGIBILITY)
    held = verifications_of(subject)[ELIGIBILITY]
    assert held.whole and held.verified_in == (6,)


def test_a_record_changed_since_it_was_read_is_stale() -> None:
    subject = infused()
    read = subject.entries[5].record_hash
    subject.correct_entry(
        entry=5,
        entry_kind="MscInfusionGiven",
        changes={"donor_code": {"old": "D-07", "new": "D-08"}},
        reason="Transcription error",
    )
    with pytest.raises(SourceVerificationStale, match="changed since it was read"):
        verify(subject, 5, record_hash=read)
    assert not verifications_of(subject)


def test_a_correction_unverifies_the_record() -> None:
    subject = infused()
    verify(subject, 5)
    assert subject_coverage(subject)["verified"] == 1
    subject.correct_entry(
        entry=5,
        entry_kind="MscInfusionGiven",
        changes={"donor_code": {"old": "D-07", "new": "D-08"}},
        reason="Transcription error",
    )
    coverage = subject_coverage(subject)
    assert verifications_of(subject) == {}
    assert coverage["verified"] == 0
    assert [(r["entry"], r["changed_since_verified"]) for r in coverage["not_verified"]] == [
        (ELIGIBILITY, False),
        (5, True),
    ]
    verify(subject, 5)  # verified again, as corrected
    assert subject_coverage(subject)["verified"] == 1


def test_a_voided_record_is_not_verified_and_stops_counting() -> None:
    subject = infused()
    subject.void_entry(entry=5, entry_kind="MscInfusionGiven", reason="Entered twice")
    with pytest.raises(SourceVerificationRefused, match="voided"):
        verify(subject, 5)
    assert subject_coverage(subject)["total"] == 1  # the eligibility assessment alone


def test_a_record_about_records_is_not_verified() -> None:
    subject = with_query()  # entry 5 is the query
    with pytest.raises(SourceVerificationRefused, match="verify the record it is about"):
        verify(subject, 5)
    verify(subject, ELIGIBILITY)
    with pytest.raises(SourceVerificationRefused, match="verify the record it is about"):
        verify(subject, 6)  # the verification itself


@pytest.mark.parametrize(
    ("overrides", "refusal", "match"),
    [
        ({"item": "colour"}, SourceVerificationRefused, "no field 'colour'"),
        ({"entry_kind": "Enrolled"}, SourceVerificationRefused, "not a Enrolled"),
        ({"entry": 99}, EntryNotFound, "no entry 99"),
        ({"record_hash": "0" * 64}, SourceVerificationStale, "changed since"),
        ({"record_hash": "RP-50\n"}, SourceVerificationStale, "changed since"),
    ],
)
def test_a_verification_that_does_not_fit_its_record_is_refused(
    overrides: dict[str, Any], refusal: type[Exception], match: str
) -> None:
    subject = infused()
    item = overrides.pop("item", None)
    with pytest.raises(refusal, match=match):
        verify(subject, ELIGIBILITY, item, **overrides)
    assert len(events_of(subject)) == 5  # nothing recorded


def test_fields_verified_one_by_one_cover_the_record_once_each_is() -> None:
    subject = infused()
    verify(subject, ELIGIBILITY, "assessed_on")
    assert subject_coverage(subject)["not_verified"][0]["fields_verified"] == ["assessed_on"]
    verify(subject, ELIGIBILITY, "criteria")
    assert subject_coverage(subject)["verified"] == 1


def test_a_record_verified_as_it_stands_is_not_verified_again() -> None:
    subject = infused()
    verify(subject, ELIGIBILITY, "assessed_on")
    with pytest.raises(SourceVerificationRefused, match="already for assessed_on"):
        verify(subject, ELIGIBILITY, "assessed_on")
    verify(subject, ELIGIBILITY)
    with pytest.raises(SourceVerificationRefused, match="verified as it stands already"):
        verify(subject, ELIGIBILITY, "criteria")


def test_coverage_counts_the_protocols_subset_or_every_record() -> None:
    subject = infused()
    verify(subject, ELIGIBILITY)
    risk_based = subject_coverage(subject)
    assert (risk_based["verified"], risk_based["total"]) == (1, 2)
    every = subject_coverage(subject, ALL)
    assert (every["verified"], every["total"]) == (1, 5)
    assert every["kinds"] is None and "MscInfusionGiven" in risk_based["kinds"]


def test_study_coverage_adds_up_its_sites_and_subjects() -> None:
    one, two = infused(), enrolled()
    verify(one, ELIGIBILITY)
    verify(one, 5)
    study = study_coverage("NCT01297972", [one, two], site="RP")
    assert (study["verified"], study["total"]) == (2, 3)
    assert study["sites"] == [{"site": "RP", "verified": 2, "total": 3}]
    assert [s["verified"] for s in study["subjects"]] == [2, 0]


def test_the_store_refuses_a_verification_of_a_record_hash_the_stream_never_had() -> None:
    subject = infused()
    verify(subject, ELIGIBILITY)
    events = events_of(subject)
    forged = replace(events[-1], record_hash="0" * 64)  # type: ignore[type-var]
    with pytest.raises(SignatureNotLinked, match="the source verification covers"):
        forged.check_against_stream(lambda: events[:-1])
    events[-1].check_against_stream(lambda: events[:-1])  # the true one passes


def test_the_protocol_names_the_risk_based_kinds() -> None:
    kinds = risk_based_kinds(NCT01297972)
    assert kinds is not None and {"EligibilityAssessed", "MscInfusionGiven"} <= kinds
    assert risk_based_kinds(replace(NCT01297972, source_verification=())) is None
    with pytest.raises(ProtocolDefinitionInvalid, match="'QueryRaised' is not a kind of record"):
        risk_based_kinds(replace(NCT01297972, source_verification=("QueryRaised",)))


@pytest.mark.parametrize(
    "table",
    [
        'source_verification = "all"',
        "[source_verification]\nkinds = [1]",
        '[source_verification]\nkinds = ["Enrolled", "Enrolled"]',
        '[source_verification]\nkinds = ["Enrolled\\n"]',
        "[source_verification]",
    ],
)
def test_a_protocol_file_with_a_bad_source_verification_table_is_refused(table: str) -> None:
    from importlib import resources

    text = resources.files("domain.protocols").joinpath("NCT01297972.toml").read_text()
    without = (
        text.split("[source_verification]")[0] + "[publication]" + text.split("[publication]")[1]
    )
    with pytest.raises(ProtocolDefinitionInvalid, match="source_verification"):
        load_protocol(table + "\n" + without)
    assert load_protocol(without).source_verification == ()
