"""Every kind of record a subject has, accepted by the domain with its fields as recorded;
implausible values accepted with a flag for the monitor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from domain.protocol import NCT01297972
from domain.subject import EVENT_CLASSES, RECORDERS, SIGNED_IN_CEREMONY, Subject
from domain.subject.disposition import PerformanceScale
from domain.subject.locks import LockScope
from domain.vocabulary import AdverseEventOutcome, EndOfStudyReason, Status
from tests.unit.subjects import (
    ELIGIBLE,
    QUESTION,
    SCREENED_ON,
    adverse_event,
    assessed,
    at_the_end_signed,
    blood_count,
    chimerism,
    consented,
    cyclosporine_adjustment,
    cyclosporine_start,
    dead,
    deviation,
    end_of_study,
    enrolled,
    events_of,
    infusion,
    locked,
    marrow,
    on_cyclosporine,
    q,
    ratg_dose,
    response,
    screened,
    serious,
    transfusion,
    trough,
    unlock_requested,
    with_adverse_event,
    with_query,
    with_serious_adverse_event,
    withdrawal,
)

pytestmark = pytest.mark.usefixtures("someone_signs")


# (kind, the subject it is recorded on, the typed fields of the record)
CASES: list[tuple[str, Callable[[], Subject], dict[str, Any]]] = [
    ("ScreenFailed", consented, {"failed_on": date(2011, 2, 18), "reason": "EX2 applies"}),
    ("ConsentObtained", enrolled, {"tcle_version": "3.0", "consented_on": date(2011, 5, 2)}),
    ("EligibilityAssessed", consented, {"criteria": ELIGIBLE, "assessed_on": date(2011, 2, 18)}),
    ("Enrolled", assessed, {"enrolled_on": date(2011, 2, 21)}),
    ("RatgDoseGiven", enrolled, ratg_dose()),
    ("CyclosporineStarted", enrolled, cyclosporine_start()),
    ("CyclosporineDoseAdjusted", on_cyclosporine, cyclosporine_adjustment()),
    (
        "CyclosporineStopped",
        on_cyclosporine,
        {"stopped_on": date(2011, 8, 20), "reason": "six months completed"},
    ),
    ("CyclosporineTroughMeasured", on_cyclosporine, trough()),
    ("MscInfusionGiven", enrolled, infusion()),
    (
        "MscInfusionGiven",
        enrolled,
        infusion(infusion_reaction=True, reaction_description="Chills, resolved in one hour"),
    ),
    ("BloodCountRecorded", enrolled, blood_count()),
    ("BoneMarrowExamined", consented, marrow()),
    ("TransfusionGiven", enrolled, transfusion()),
    ("ChimerismAssessed", enrolled, chimerism()),
    ("AdverseEventReported", enrolled, adverse_event()),
    ("AdverseEventReported", enrolled, adverse_event(**serious())),
    (
        "AdverseEventReported",
        enrolled,
        adverse_event(outcome=AdverseEventOutcome.RECOVERED, resolved_on=date(2011, 3, 14)),
    ),
    (
        "AdverseEventFollowedUp",
        with_adverse_event,
        {
            "adverse_event": "AE-01",
            "followed_up_on": date(2011, 3, 20),
            "changes": {"outcome": AdverseEventOutcome.RECOVERED, "resolved_on": date(2011, 3, 19)},
        },
    ),
    (
        "SeriousAdverseEventNotified",
        with_serious_adverse_event,
        {
            "adverse_event": "AE-01",
            "notified_on": date(2011, 3, 14),
            "recipient": "CONEP",
            "follow_up": False,
        },
    ),
    ("SubjectDied", enrolled, {"died_on": date(2011, 6, 1), "cause": "Heart failure"}),
    ("ResponseAssessed", enrolled, response(month=3)),
    ("ResponseAssessed", enrolled, response(month=6)),
    ("ProtocolDeviationRecorded", enrolled, deviation()),
    ("SubjectWithdrawn", enrolled, withdrawal()),
    ("EndOfStudyRecorded", enrolled, end_of_study(EndOfStudyReason.COMPLETED)),
    ("EndOfStudyRecorded", dead, end_of_study(EndOfStudyReason.DEATH)),
    (
        "PerformanceStatusRecorded",
        consented,
        {"month": 0, "scale": PerformanceScale.ECOG, "score": 1, "assessed_on": date(2011, 2, 15)},
    ),
    (
        "PerformanceStatusRecorded",
        enrolled,
        {
            "month": 3,
            "scale": PerformanceScale.KARNOFSKY,
            "score": 70,
            "assessed_on": date(2011, 5, 16),
        },
    ),
    (
        "EntryCorrected",
        enrolled,
        {
            "entry": 3,
            "entry_kind": "EligibilityAssessed",
            "changes": {"assessed_on": {"old": date(2011, 2, 18), "new": date(2011, 2, 17)}},
            "reason": "transcription error",
        },
    ),
    (
        "EntryVoided",
        with_adverse_event,
        {
            "entry": 5,
            "entry_kind": "AdverseEventReported",
            "reason": "entered on the wrong subject",
        },
    ),
    ("QueryRaised", enrolled, QUESTION),
    ("QueryRaised", enrolled, {**QUESTION, "item": "criteria"}),
    ("QueryAnswered", with_query, {"query": 5, "answer": "17 February on the source"}),
    ("QueryClosed", with_query, {"query": 5, "resolution": "answered; no change needed"}),
    ("SubjectFrozen", enrolled, {"reason": "cleaning before the analysis"}),
    ("SubjectLocked", at_the_end_signed, {"scope": LockScope.STUDY, "reason": "database lock"}),
    ("SubjectUnlockRequested", locked, {"reason": "a count entered twice"}),
    ("SubjectUnlocked", unlock_requested, {"request": 8}),
]


def test_every_kind_of_record_is_covered_here() -> None:
    recorded = {kind for kind, _, _ in CASES} | {"Screened"}
    # eventsourcing adds a ``Created`` class of its own to every aggregate; no author signs it.
    # A signature over records, or over a whole casebook, is made through the signing ceremony,
    # not as a record (tests/unit/test_record_signatures.py, tests/unit/test_casebook.py). A
    # source verification names the record hash of the record as it stands, which no record
    # given here can know (tests/unit/test_source_verification.py).
    assert recorded | {"SourceVerified"} == set(RECORDERS) | {"Screened"}
    assert recorded == set(EVENT_CLASSES) - {"Created", "SourceVerified"} - SIGNED_IN_CEREMONY
    assert {"RecordsSigned", "CasebookSigned"} == SIGNED_IN_CEREMONY


@pytest.mark.parametrize(
    ("kind", "subject_of", "record"), CASES, ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)]
)
def test_each_kind_is_recorded_with_its_fields_as_given(
    kind: str, subject_of: Callable[[], Subject], record: dict[str, Any]
) -> None:
    subject = subject_of()
    before = subject.version

    RECORDERS[kind](subject, **record)

    assert subject.version == before + 1
    event = events_of(subject)[-1]
    assert event.kind() == kind
    entry = subject.entries[subject.version]
    assert entry.kind == kind
    assert {name: entry[name] for name in record} == record
    assert {name: getattr(event, name) for name in record} == record


def test_a_screening_opens_the_record_with_sex_age_date_and_site() -> None:
    subject = screened(age=18)

    assert subject.version == 1
    assert subject.stream == "NCT01297972/RP-101"
    assert (subject.site, subject.age, subject.sex.value) == ("RP", 18, "F")
    assert subject.screening["screened_on"] == SCREENED_ON
    assert subject.status is Status.SCREENED


def test_a_synthetic_subject_says_so() -> None:
    subject = Subject.screen(
        protocol=NCT01297972,
        subject_code="RP-901",
        site="RP",
        sex=screened().sex,
        age=40,
        screened_on=SCREENED_ON,
        synthetic=True,
    )

    assert subject.synthetic is True
    assert screened().synthetic is False


@pytest.mark.parametrize(
    ("subject_of", "status"),
    [
        (screened, Status.SCREENED),
        (consented, Status.CONSENTED),
        (enrolled, Status.ENROLLED),
        (dead, Status.DIED),
    ],
)
def test_the_status_follows_the_records(subject_of: Callable[[], Subject], status: Status) -> None:
    assert subject_of().status is status


def test_a_withdrawn_subject_and_one_who_ended_the_study_read_so() -> None:
    subject = enrolled()
    subject.withdraw(**withdrawal())
    assert subject.status is Status.WITHDRAWN
    subject.end_study(**end_of_study(EndOfStudyReason.WITHDRAWAL))
    assert subject.status is Status.WITHDRAWN

    completed = enrolled()
    completed.end_study(**end_of_study(EndOfStudyReason.COMPLETED))
    assert completed.status is Status.COMPLETED

    lost = enrolled()
    lost.end_study(**end_of_study(EndOfStudyReason.LOST_TO_FOLLOW_UP))
    assert lost.status is Status.LOST_TO_FOLLOW_UP


def test_a_follow_up_updates_the_adverse_event_as_it_stands() -> None:
    subject = with_adverse_event()
    subject.follow_up_adverse_event(
        adverse_event="AE-01",
        followed_up_on=date(2011, 3, 20),
        changes={
            "grade": 3,
            "outcome": AdverseEventOutcome.RECOVERED,
            "resolved_on": date(2011, 3, 19),
        },
    )

    current = subject.adverse_events()["AE-01"]
    assert (current["grade"], current["outcome"]) == (3, AdverseEventOutcome.RECOVERED)
    assert current["follow_ups"] == [subject.version]
    assert subject.entries[current["reported_in"]]["grade"] == 2


# -- implausible values are accepted and flagged -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "record", "flags"),
    [
        (
            "BloodCountRecorded",
            blood_count(haemoglobin=q("31", "g/dL")),
            ("haemoglobin high", "haemoglobin implausible"),
        ),
        (
            "BloodCountRecorded",
            blood_count(platelets=q("12", "10^9/L"), neutrophils=q("0.3", "10^9/L")),
            ("neutrophils low", "platelets low"),
        ),
        ("MscInfusionGiven", infusion(dose=q("45", "10^6 cells/kg")), ("dose implausible",)),
        (
            "MscInfusionGiven",
            infusion(vital_signs_after={"temperature": q("43.5", "Cel")}),
            ("after: temperature implausible",),
        ),
        ("RatgDoseGiven", ratg_dose(dose="35"), ("dose implausible",)),
        ("CyclosporineTroughMeasured", trough("310"), ("above target",)),
        ("CyclosporineTroughMeasured", trough("95"), ("below target",)),
        ("CyclosporineTroughMeasured", trough("2500"), ("above target", "level implausible")),
        ("TransfusionGiven", transfusion(units=12), ("units implausible",)),
    ],
)
def test_an_implausible_value_is_accepted_and_flagged(
    kind: str, record: dict[str, Any], flags: tuple[str, ...]
) -> None:
    subject = on_cyclosporine()

    RECORDERS[kind](subject, **record)

    assert subject.entries[subject.version].kind == kind
    assert EVENT_CLASSES[kind].flags(subject.entries[subject.version].fields, NCT01297972) == flags


@pytest.mark.parametrize(
    ("kind", "record"),
    [
        ("BloodCountRecorded", blood_count(haemoglobin=q("13.5", "g/dL"))),
        ("MscInfusionGiven", infusion()),
        ("CyclosporineTroughMeasured", trough("200")),
        ("TransfusionGiven", transfusion(units=2)),
    ],
)
def test_an_unremarkable_value_has_no_flag(kind: str, record: dict[str, Any]) -> None:
    assert EVENT_CLASSES[kind].flags(record, NCT01297972) == ()


def test_an_infusion_reaction_is_flagged() -> None:
    record = infusion(infusion_reaction=True, reaction_description="Chills")

    assert Subject.MscInfusionGiven.flags(record, NCT01297972) == ("infusion reaction",)
