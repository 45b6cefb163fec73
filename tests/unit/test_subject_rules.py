"""The protocol's rules, kept by the Subject aggregate: each accepted, and each refused with a
typed error that says why (no database, no signatures checked)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.clinical import SeriousnessCriterion
from domain.errors import (
    AdverseEventNotFound,
    AlreadyEnrolled,
    AuthorshipMissing,
    ConsentRequired,
    CyclosporineNotStarted,
    DatedAfterDeath,
    DatedBeforeConsent,
    DatedInTheFuture,
    DeathRecordDisagrees,
    DomainError,
    DuplicateRecord,
    EligibilityNotMet,
    InfusionOutOfSequence,
    InfusionTooSoon,
    NotEnrolled,
    RatgDayOutOfCourse,
    SeriousnessCriterionMissing,
    SubjectNotInStudy,
    UnitNotAccepted,
    ValueOutOfRange,
)
from domain.protocol import NCT01297972
from domain.subject import RECORDERS, Subject
from domain.vocabulary import (
    AdverseEventOutcome,
    ChimerismMethod,
    EndOfStudyReason,
    Pathogen,
    Sex,
    Status,
)
from signatures.chain import GENESIS_HASH
from tests.unit.subjects import (
    ASSESSED_ON,
    ELIGIBLE,
    ENROLLED_ON,
    FIRST_INFUSION,
    adverse_event,
    assessed,
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
    fatal,
    infusion,
    marrow,
    on_cyclosporine,
    q,
    ratg_dose,
    response,
    screened,
    serious,
    today_plus,
    transfusion,
    trough,
    vitals,
    with_adverse_event,
    with_serious_adverse_event,
    withdrawal,
    withdrawn,
)

pytestmark = pytest.mark.usefixtures("someone_signs")


def refused(
    subject: Subject, error: type[DomainError], match: str, kind: str, **record: Any
) -> None:
    """Recording ``kind`` raises ``error`` (its message matching) and records nothing."""
    before = subject.version
    with pytest.raises(error, match=match):
        RECORDERS[kind](subject, **record)
    assert subject.version == before


# -- consent comes first -------------------------------------------------------------------------


CLINICAL: list[tuple[str, dict[str, Any]]] = [
    ("EligibilityAssessed", {"criteria": ELIGIBLE, "assessed_on": ASSESSED_ON}),
    ("Enrolled", {"enrolled_on": ENROLLED_ON}),
    ("RatgDoseGiven", ratg_dose()),
    ("CyclosporineStarted", cyclosporine_start()),
    ("CyclosporineDoseAdjusted", cyclosporine_adjustment()),
    ("CyclosporineTroughMeasured", trough()),
    ("MscInfusionGiven", infusion()),
    ("BloodCountRecorded", blood_count()),
    ("BoneMarrowExamined", marrow()),
    ("TransfusionGiven", transfusion()),
    ("ChimerismAssessed", chimerism()),
    ("AdverseEventReported", adverse_event()),
    ("SubjectDied", {"died_on": date(2011, 6, 1), "cause": "Heart failure"}),
    ("ResponseAssessed", response()),
    ("EndOfStudyRecorded", end_of_study(EndOfStudyReason.COMPLETED)),
]


@pytest.mark.requirement("P11-11.10f-1")
@pytest.mark.parametrize(("kind", "record"), CLINICAL, ids=[c[0] for c in CLINICAL])
def test_nothing_clinical_is_recorded_before_consent(kind: str, record: dict[str, Any]) -> None:
    refused(screened(), ConsentRequired, "no signed TCLE", kind, **record)


@pytest.mark.parametrize(
    ("kind", "record"),
    [
        ("RatgDoseGiven", ratg_dose()),
        ("CyclosporineStarted", cyclosporine_start()),
        ("MscInfusionGiven", infusion()),
        ("ChimerismAssessed", chimerism()),
        ("ResponseAssessed", response()),
        ("SubjectWithdrawn", withdrawal()),
    ],
)
def test_treatment_and_study_assessments_need_an_enrolled_subject(
    kind: str, record: dict[str, Any]
) -> None:
    refused(assessed(), NotEnrolled, "not enrolled", kind, **record)


def test_a_study_procedure_dated_before_the_tcle_is_refused() -> None:
    refused(
        consented(),
        DatedBeforeConsent,
        "before the TCLE was signed",
        "EligibilityAssessed",
        criteria=ELIGIBLE,
        assessed_on=date(2011, 2, 10),
    )


def test_a_baseline_blood_count_may_predate_the_tcle() -> None:
    subject = consented()
    subject.record_blood_count(**blood_count(collected_on=date(2011, 2, 10)))
    assert subject.entries[subject.version].kind == "BloodCountRecorded"


def test_a_re_consent_dated_before_the_consent_in_force_is_refused() -> None:
    subject = consented()
    subject.obtain_consent(tcle_version="3.0", consented_on=date(2011, 5, 2))
    refused(
        subject,
        ValueOutOfRange,
        "before the consent in force",
        "ConsentObtained",
        tcle_version="3.1",
        consented_on=date(2011, 4, 1),
    )
    assert subject.consent is not None and subject.consent["tcle_version"] == "3.0"


# -- eligibility and enrolment --------------------------------------------------------------------


def test_an_eligible_consented_subject_is_enrolled() -> None:
    subject = enrolled()

    assert subject.status is Status.ENROLLED
    assert subject.version == 4
    assert subject.eligibility_failures() == []


def test_an_unanswered_criterion_is_refused_at_assessment() -> None:
    answers = {code: value for code, value in ELIGIBLE.items() if code != "EX9"}
    refused(
        consented(),
        EligibilityNotMet,
        "not answered: EX9",
        "EligibilityAssessed",
        criteria=answers,
        assessed_on=ASSESSED_ON,
    )


def test_a_criterion_the_protocol_does_not_have_is_refused_at_assessment() -> None:
    refused(
        consented(),
        EligibilityNotMet,
        "not in the protocol: EX10",
        "EligibilityAssessed",
        criteria={**ELIGIBLE, "EX10": False},
        assessed_on=ASSESSED_ON,
    )


@pytest.mark.requirement("P11-11.10f-1")
def test_enrolment_without_an_eligibility_assessment_is_refused() -> None:
    refused(
        consented(), EligibilityNotMet, "not been assessed", "Enrolled", enrolled_on=ENROLLED_ON
    )


def test_an_inclusion_criterion_not_met_refuses_enrolment_and_names_it() -> None:
    subject = assessed(IN3=False)
    refused(
        subject, EligibilityNotMet, "inclusion IN3 not met", "Enrolled", enrolled_on=ENROLLED_ON
    )
    assert subject.status is Status.CONSENTED


def test_an_exclusion_criterion_that_applies_refuses_enrolment_and_names_it() -> None:
    subject = assessed(EX7=True)
    refused(
        subject,
        EligibilityNotMet,
        r"exclusion EX7 applies \(Pregnancy\)",
        "Enrolled",
        enrolled_on=ENROLLED_ON,
    )


def test_every_failure_is_named_at_once() -> None:
    with pytest.raises(EligibilityNotMet) as refusal:
        assessed(70, IN1=False, EX2=True).enrol(enrolled_on=ENROLLED_ON)
    assert refusal.value.failures == [
        "age 70 is outside 18-65 years",
        "inclusion IN1 not met (Diagnosis of acquired aplastic anemia)",
        "exclusion EX2 applies (Active or latent infectious disease)",
    ]


@pytest.mark.parametrize("age", [17, 66])
def test_enrolment_outside_ages_18_to_65_is_refused(age: int) -> None:
    refused(
        assessed(age),
        EligibilityNotMet,
        f"age {age} is outside 18-65",
        "Enrolled",
        enrolled_on=ENROLLED_ON,
    )


@pytest.mark.parametrize("age", [18, 65])
def test_the_age_limits_themselves_are_eligible(age: int) -> None:
    subject = assessed(age)
    subject.enrol(enrolled_on=ENROLLED_ON)
    assert subject.status is Status.ENROLLED


@pytest.mark.parametrize("age", [-1, 131])
def test_an_impossible_age_is_refused_at_screening(age: int) -> None:
    with pytest.raises(ValueOutOfRange, match="not a possible age"):
        screened(age)


def test_the_latest_assessment_decides() -> None:
    subject = assessed(EX2=True)
    subject.assess_eligibility(criteria=ELIGIBLE, assessed_on=date(2011, 2, 20))
    subject.enrol(enrolled_on=ENROLLED_ON)
    assert subject.status is Status.ENROLLED


def test_enrolment_dated_before_the_assessment_is_refused() -> None:
    refused(
        assessed(),
        ValueOutOfRange,
        "before eligibility was assessed",
        "Enrolled",
        enrolled_on=date(2011, 2, 17),
    )


def test_a_subject_is_enrolled_once() -> None:
    refused(enrolled(), AlreadyEnrolled, "already enrolled", "Enrolled", enrolled_on=ENROLLED_ON)


def test_an_enrolled_subject_is_not_assessed_again() -> None:
    refused(
        enrolled(),
        AlreadyEnrolled,
        "already enrolled",
        "EligibilityAssessed",
        criteria=ELIGIBLE,
        assessed_on=date(2011, 2, 25),
    )


def test_an_enrolled_subject_does_not_fail_screening() -> None:
    refused(
        enrolled(),
        AlreadyEnrolled,
        "record a withdrawal",
        "ScreenFailed",
        failed_on=date(2011, 2, 25),
        reason="changed mind",
    )


def test_a_subject_who_failed_screening_is_not_enrolled() -> None:
    subject = assessed()
    subject.fail_screening(failed_on=date(2011, 2, 19), reason="EX5 found on echocardiogram")
    refused(subject, SubjectNotInStudy, "failed screening", "Enrolled", enrolled_on=ENROLLED_ON)
    assert subject.status is Status.SCREEN_FAILED


# -- rATG --------------------------------------------------------------------------------------


def test_the_five_day_rATG_course_is_accepted() -> None:
    subject = enrolled()
    for day in range(1, 6):
        subject.give_ratg_dose(**ratg_dose(day))
    assert [e["day"] for e in subject.live(Subject.RatgDoseGiven)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("day", [0, 6])
def test_rATG_outside_days_1_to_5_is_refused(day: int) -> None:
    refused(
        enrolled(),
        RatgDayOutOfCourse,
        f"days 1-5, not day {day}",
        "RatgDoseGiven",
        **ratg_dose(day, given_on=date(2011, 2, 21)),
    )


def test_an_rATG_day_is_given_once() -> None:
    subject = enrolled()
    subject.give_ratg_dose(**ratg_dose(1))
    refused(subject, RatgDayOutOfCourse, "rATG day 1 is recorded", "RatgDoseGiven", **ratg_dose(1))


def test_rATG_days_fall_on_consecutive_dates() -> None:
    subject = enrolled()
    subject.give_ratg_dose(**ratg_dose(1))
    refused(
        subject,
        RatgDayOutOfCourse,
        "rATG day 2 falls on 2011-02-22",
        "RatgDoseGiven",
        **ratg_dose(2, given_on=date(2011, 2, 23)),
    )


@pytest.mark.parametrize(
    ("dose", "unit", "error"),
    [("-3.5", "mg/kg", ValueOutOfRange), ("3.5", "mg", UnitNotAccepted)],
)
def test_an_rATG_dose_negative_or_in_another_unit_is_refused(
    dose: str, unit: str, error: type[DomainError]
) -> None:
    refused(
        enrolled(), error, "rATG dose", "RatgDoseGiven", **{**ratg_dose(), "dose": q(dose, unit)}
    )


# -- cyclosporine --------------------------------------------------------------------------------


def test_cyclosporine_is_started_once() -> None:
    refused(
        on_cyclosporine(),
        DuplicateRecord,
        "cyclosporine start is recorded",
        "CyclosporineStarted",
        **cyclosporine_start(started_on=date(2011, 3, 1)),
    )


def test_a_cyclosporine_adjustment_without_a_start_is_refused() -> None:
    refused(
        enrolled(),
        CyclosporineNotStarted,
        "not started cyclosporine",
        "CyclosporineDoseAdjusted",
        **cyclosporine_adjustment(),
    )


def test_a_cyclosporine_adjustment_dated_before_the_start_is_refused() -> None:
    refused(
        on_cyclosporine(),
        ValueOutOfRange,
        "before cyclosporine started",
        "CyclosporineDoseAdjusted",
        **cyclosporine_adjustment(effective_on=date(2011, 2, 20)),
    )


def test_a_cyclosporine_adjustment_after_the_stop_is_refused() -> None:
    subject = on_cyclosporine()
    subject.stop_cyclosporine(stopped_on=date(2011, 4, 1), reason="renal toxicity")
    refused(
        subject,
        CyclosporineNotStarted,
        "cyclosporine was stopped",
        "CyclosporineDoseAdjusted",
        **cyclosporine_adjustment(effective_on=date(2011, 4, 5)),
    )


def test_cyclosporine_is_not_stopped_before_it_starts() -> None:
    refused(
        enrolled(),
        CyclosporineNotStarted,
        "not started",
        "CyclosporineStopped",
        stopped_on=date(2011, 4, 1),
        reason="renal toxicity",
    )


@pytest.mark.parametrize(
    ("kind", "record", "error", "match"),
    [
        (
            "CyclosporineStarted",
            cyclosporine_start(dose=q("-5", "mg/kg/day")),
            ValueOutOfRange,
            "negative",
        ),
        (
            "CyclosporineStarted",
            cyclosporine_start(dose=q("5", "mg/kg")),
            UnitNotAccepted,
            "mg/kg/day",
        ),
        ("CyclosporineTroughMeasured", trough("-1"), ValueOutOfRange, "negative"),
        ("CyclosporineTroughMeasured", trough("180", "mg/dL"), UnitNotAccepted, "ng/mL"),
    ],
)
def test_an_impossible_cyclosporine_value_is_refused(
    kind: str, record: dict[str, Any], error: type[DomainError], match: str
) -> None:
    subject = enrolled() if kind == "CyclosporineStarted" else on_cyclosporine()
    refused(subject, error, match, kind, **record)


# -- MSC infusions -------------------------------------------------------------------------------


def test_five_weekly_infusions_are_accepted_and_a_sixth_is_refused() -> None:
    subject = enrolled()
    for number in range(1, 6):
        subject.give_msc_infusion(**infusion(number))
    refused(subject, InfusionOutOfSequence, "at most 5", "MscInfusionGiven", **infusion(6))
    assert [e["infusion_number"] for e in subject.infusions] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("number", [0, 2])
def test_an_infusion_out_of_sequence_is_refused(number: int) -> None:
    refused(
        enrolled(),
        InfusionOutOfSequence,
        "the next is 1",
        "MscInfusionGiven",
        **infusion(number, given_at=FIRST_INFUSION),
    )


def test_infusions_less_than_5_days_apart_are_refused() -> None:
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    refused(
        subject,
        InfusionTooSoon,
        "at least 5 days apart; infusion 1 was 4 days",
        "MscInfusionGiven",
        **infusion(2, given_at=FIRST_INFUSION + timedelta(days=4)),
    )


def test_infusions_exactly_5_days_apart_are_accepted() -> None:
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    subject.give_msc_infusion(**infusion(2, given_at=FIRST_INFUSION + timedelta(days=5)))
    assert len(subject.infusions) == 2


def test_the_interval_counts_days_at_the_site_not_in_utc() -> None:
    # 23:30 in Ribeirão Preto on 14 March is already 15 March in UTC: still 4 days after 10 March.
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    late_evening = datetime(2011, 3, 15, 2, 30, tzinfo=UTC)
    refused(
        subject, InfusionTooSoon, "4 days", "MscInfusionGiven", **infusion(2, given_at=late_evening)
    )


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"dose": q("-1", "10^6 cells/kg")}, ValueOutOfRange, "MSC dose cannot be negative"),
        ({"dose": q("2.7", "cells/kg")}, UnitNotAccepted, r"10\^6 cells/kg, not cells/kg"),
        ({"viability": q("130", "%")}, ValueOutOfRange, "viability is a percentage"),
        ({"viability": q("-2", "%")}, ValueOutOfRange, "viability is a percentage"),
        ({"viability": q("0.95", "1")}, UnitNotAccepted, "viability is recorded in %"),
        (
            {"vital_signs_before": vitals(heart_rate=q("-80", "/min"))},
            ValueOutOfRange,
            "heart_rate cannot be negative",
        ),
        (
            {"vital_signs_after": vitals(temperature=q("98.6", "[degF]"))},
            UnitNotAccepted,
            "temperature is recorded in Cel",
        ),
        (
            {"vital_signs_after": {"pain_score": q("3", "1")}},
            UnitNotAccepted,
            "pain_score not measured",
        ),
        ({"infusion_reaction": True}, ValueOutOfRange, "reaction_description"),
        ({"reaction_description": "Chills"}, ValueOutOfRange, "infusion_reaction is false"),
    ],
)
def test_an_impossible_infusion_record_is_refused(
    overrides: dict[str, Any], error: type[DomainError], match: str
) -> None:
    refused(enrolled(), error, match, "MscInfusionGiven", **infusion(1, **overrides))


def test_doses_stay_exact_decimals() -> None:
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1, dose=q("2.70", "10^6 cells/kg")))
    assert str(subject.infusions[0]["dose"]) == "2.70 10^6 cells/kg"


# -- measurements --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "error", "match"),
    [
        (
            blood_count(neutrophils=q("-0.2", "10^9/L")),
            ValueOutOfRange,
            "neutrophils cannot be negative",
        ),
        (blood_count(haemoglobin=q("72", "g/L")), UnitNotAccepted, "recorded in g/dL, not g/L"),
        (blood_count(glucose=q("5", "mmol/L")), UnitNotAccepted, "glucose not measured"),
        ({**blood_count(), "results": {}}, ValueOutOfRange, "at least one result"),
    ],
)
def test_an_impossible_blood_count_is_refused(
    record: dict[str, Any], error: type[DomainError], match: str
) -> None:
    refused(enrolled(), error, match, "BloodCountRecorded", **record)


@pytest.mark.parametrize(
    ("cellularity", "unit", "error"),
    [("105", "%", ValueOutOfRange), ("-5", "%", ValueOutOfRange), ("0.1", "1", UnitNotAccepted)],
)
def test_a_marrow_cellularity_outside_0_to_100_percent_is_refused(
    cellularity: str, unit: str, error: type[DomainError]
) -> None:
    refused(enrolled(), error, "cellularity", "BoneMarrowExamined", **marrow(cellularity, unit))


@pytest.mark.parametrize("units", [0, -1, 51])
def test_a_transfusion_of_an_impossible_number_of_units_is_refused(units: int) -> None:
    refused(
        enrolled(),
        ValueOutOfRange,
        f"1-50 units, not {units}",
        "TransfusionGiven",
        **transfusion(units),
    )


@pytest.mark.parametrize("day", [0, 60, 181])
def test_chimerism_off_the_scheduled_days_is_refused(day: int) -> None:
    refused(
        enrolled(), ValueOutOfRange, "study days 30, 90, 180", "ChimerismAssessed", **chimerism(day)
    )


def test_chimerism_is_recorded_once_per_day_and_method() -> None:
    subject = enrolled()
    subject.assess_chimerism(**chimerism(30, ChimerismMethod.FISH))
    subject.assess_chimerism(**chimerism(30, ChimerismMethod.VNTR))
    subject.assess_chimerism(**chimerism(90, ChimerismMethod.FISH))
    refused(
        subject,
        DuplicateRecord,
        "FISH on study day 30 is recorded",
        "ChimerismAssessed",
        **chimerism(30, ChimerismMethod.FISH),
    )


# -- adverse events ------------------------------------------------------------------------------


@pytest.mark.parametrize("grade", [0, 6])
def test_an_adverse_event_grade_outside_ctcae_1_to_5_is_refused(grade: int) -> None:
    refused(
        enrolled(),
        ValueOutOfRange,
        f"grade {grade} is not one of 1-5",
        "AdverseEventReported",
        **adverse_event(grade=grade),
    )


def test_a_serious_adverse_event_names_a_seriousness_criterion() -> None:
    refused(
        enrolled(),
        SeriousnessCriterionMissing,
        "names at least one criterion",
        "AdverseEventReported",
        **adverse_event(**serious(seriousness=())),
    )


def test_a_non_serious_adverse_event_names_no_seriousness_criterion() -> None:
    refused(
        enrolled(),
        SeriousnessCriterionMissing,
        "given for a non-serious event",
        "AdverseEventReported",
        **adverse_event(seriousness=(SeriousnessCriterion.HOSPITALISATION,)),
    )


def test_an_infection_names_its_pathogen() -> None:
    refused(
        enrolled(),
        ValueOutOfRange,
        "names its pathogen",
        "AdverseEventReported",
        **adverse_event(**serious(pathogen=None)),
    )


def test_an_unknown_pathogen_is_an_answer() -> None:
    subject = enrolled()
    subject.report_adverse_event(**adverse_event(**serious(pathogen=Pathogen.UNKNOWN)))
    assert subject.adverse_events()["AE-01"]["pathogen"] is Pathogen.UNKNOWN


def test_a_pathogen_is_for_infections_only() -> None:
    refused(
        enrolled(),
        ValueOutOfRange,
        "infections only",
        "AdverseEventReported",
        **adverse_event(pathogen=Pathogen.VIRAL),
    )


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"learned_on": date(2011, 3, 10)}, "learned of on 2011-03-10, before its onset"),
        (
            {"outcome": AdverseEventOutcome.RECOVERED, "resolved_on": date(2011, 3, 1)},
            "before its onset",
        ),
        ({"outcome": AdverseEventOutcome.RECOVERED}, "gives the date it ended"),
    ],
)
def test_adverse_event_dates_that_cannot_be_are_refused(
    overrides: dict[str, Any], match: str
) -> None:
    refused(
        enrolled(), ValueOutOfRange, match, "AdverseEventReported", **adverse_event(**overrides)
    )


def test_an_adverse_event_id_is_reported_once() -> None:
    refused(
        with_adverse_event(),
        DuplicateRecord,
        "follow it up instead",
        "AdverseEventReported",
        **adverse_event(term="Vomiting"),
    )


def test_a_follow_up_of_an_unknown_adverse_event_is_refused() -> None:
    refused(
        enrolled(),
        AdverseEventNotFound,
        "no adverse event 'AE-07'",
        "AdverseEventFollowedUp",
        adverse_event="AE-07",
        followed_up_on=date(2011, 3, 20),
        changes={"grade": 3},
    )


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({}, ValueOutOfRange, "changes at least one field"),
        ({"term": "Vomiting"}, ValueOutOfRange, "does not change term"),
        ({"serious": True}, SeriousnessCriterionMissing, "at least one criterion"),
        ({"grade": 6}, ValueOutOfRange, "grade 6"),
        ({"grade": 5}, DeathRecordDisagrees, "grade 5 and a fatal outcome go together"),
    ],
)
def test_a_follow_up_that_leaves_the_adverse_event_impossible_is_refused(
    changes: dict[str, Any], error: type[DomainError], match: str
) -> None:
    refused(
        with_adverse_event(),
        error,
        match,
        "AdverseEventFollowedUp",
        adverse_event="AE-01",
        followed_up_on=date(2011, 3, 20),
        changes=changes,
    )


def test_only_a_serious_adverse_event_is_notified() -> None:
    refused(
        with_adverse_event(),
        SeriousnessCriterionMissing,
        "not serious",
        "SeriousAdverseEventNotified",
        adverse_event="AE-01",
        notified_on=date(2011, 3, 14),
        recipient="CONEP",
        follow_up=False,
    )


def test_a_notification_before_the_site_learned_of_the_event_is_refused() -> None:
    refused(
        with_serious_adverse_event(),
        ValueOutOfRange,
        "before the site learned of it",
        "SeriousAdverseEventNotified",
        adverse_event="AE-01",
        notified_on=date(2011, 3, 11),
        recipient="CONEP",
        follow_up=False,
    )


# -- death ---------------------------------------------------------------------------------------


def test_a_grade_5_adverse_event_is_fatal() -> None:
    record = {**fatal(date(2011, 6, 1)), "outcome": AdverseEventOutcome.NOT_RECOVERED}
    refused(
        enrolled(),
        DeathRecordDisagrees,
        "grade 5 and a fatal outcome go together",
        "AdverseEventReported",
        **record,
    )


def test_a_fatal_outcome_is_grade_5() -> None:
    record = {**fatal(date(2011, 6, 1)), "grade": 4}
    refused(
        enrolled(), DeathRecordDisagrees, "grade 4, outcome fatal", "AdverseEventReported", **record
    )


def test_a_grade_5_adverse_event_is_serious_by_the_criterion_death() -> None:
    record = {**fatal(date(2011, 6, 1)), "seriousness": (SeriousnessCriterion.HOSPITALISATION,)}
    refused(
        enrolled(), DeathRecordDisagrees, "by the criterion death", "AdverseEventReported", **record
    )


def test_a_death_and_its_grade_5_adverse_event_agree() -> None:
    subject = enrolled()
    subject.report_adverse_event(**fatal(date(2011, 6, 1)))
    subject.record_death(
        died_on=date(2011, 6, 1), cause="Invasive fungal infection", adverse_event="AE-09"
    )
    assert subject.status is Status.DIED
    assert subject.death is not None and subject.death["adverse_event"] == "AE-09"


def test_a_death_on_another_day_than_its_grade_5_adverse_event_ended_is_refused() -> None:
    subject = enrolled()
    subject.report_adverse_event(**fatal(date(2011, 6, 1)))
    refused(
        subject,
        DeathRecordDisagrees,
        "AE-09 ended on 2011-06-01, the death is dated 2011-06-02",
        "SubjectDied",
        died_on=date(2011, 6, 2),
        cause="Sepsis",
    )


def test_a_death_naming_an_adverse_event_that_is_not_grade_5_is_refused() -> None:
    refused(
        with_adverse_event(),
        DeathRecordDisagrees,
        "which is grade 2, not 5",
        "SubjectDied",
        died_on=date(2011, 6, 1),
        cause="Heart failure",
        adverse_event="AE-01",
    )


def test_a_death_naming_an_unknown_adverse_event_is_refused() -> None:
    refused(
        enrolled(),
        AdverseEventNotFound,
        "AE-44",
        "SubjectDied",
        died_on=date(2011, 6, 1),
        cause="Heart failure",
        adverse_event="AE-44",
    )


def test_a_grade_5_adverse_event_reported_after_the_death_ends_on_its_date() -> None:
    subject = dead(date(2011, 6, 1))
    refused(
        subject,
        DeathRecordDisagrees,
        "ends on the date of death",
        "AdverseEventReported",
        **{**fatal(date(2011, 6, 1)), "resolved_on": date(2011, 5, 31)},
    )
    subject.report_adverse_event(**fatal(date(2011, 6, 1)))
    assert "AE-09" in subject.adverse_events()


def test_a_follow_up_to_grade_5_after_the_death_ends_on_its_date() -> None:
    subject = with_adverse_event(**serious())
    subject.record_death(died_on=date(2011, 6, 1), cause="Sepsis")
    fatal_changes: dict[str, Any] = {
        "grade": 5,
        "outcome": AdverseEventOutcome.FATAL,
        "seriousness": (SeriousnessCriterion.DEATH,),
    }
    refused(
        subject,
        DeathRecordDisagrees,
        "ends on the date of death",
        "AdverseEventFollowedUp",
        adverse_event="AE-01",
        followed_up_on=date(2011, 6, 3),
        changes={**fatal_changes, "resolved_on": date(2011, 5, 30)},
    )
    subject.follow_up_adverse_event(
        adverse_event="AE-01",
        followed_up_on=date(2011, 6, 3),
        changes={**fatal_changes, "resolved_on": date(2011, 6, 1)},
    )
    assert subject.adverse_events()["AE-01"]["grade"] == 5


def test_a_death_dated_before_existing_records_is_refused() -> None:
    subject = enrolled()
    subject.record_blood_count(**blood_count(collected_on=date(2011, 6, 10)))
    refused(
        subject,
        DatedAfterDeath,
        r"records are dated after 2011-06-01: BloodCountRecorded",
        "SubjectDied",
        died_on=date(2011, 6, 1),
        cause="Heart failure",
    )


def test_a_death_is_recorded_once() -> None:
    refused(
        dead(),
        DuplicateRecord,
        "the death is recorded",
        "SubjectDied",
        died_on=date(2011, 6, 1),
        cause="Heart failure",
    )


@pytest.mark.parametrize(
    ("kind", "record", "error"),
    [
        ("BloodCountRecorded", blood_count(collected_on=date(2011, 6, 2)), DatedAfterDeath),
        ("TransfusionGiven", transfusion(given_on=date(2011, 6, 2)), DatedAfterDeath),
        (
            "AdverseEventReported",
            adverse_event(onset_on=date(2011, 6, 2), learned_on=date(2011, 6, 2)),
            DatedAfterDeath,
        ),
        (
            "ProtocolDeviationRecorded",
            {**deviation(), "occurred_on": date(2011, 6, 2)},
            DatedAfterDeath,
        ),
        (
            "MscInfusionGiven",
            infusion(1, given_at=datetime(2011, 6, 2, 13, tzinfo=UTC)),
            SubjectNotInStudy,
        ),
        ("RatgDoseGiven", ratg_dose(1, given_on=date(2011, 6, 2)), SubjectNotInStudy),
    ],
)
def test_nothing_is_dated_after_death(
    kind: str, record: dict[str, Any], error: type[DomainError]
) -> None:
    refused(dead(date(2011, 6, 1)), error, "2011-06-0|died", kind, **record)


def test_follow_up_notification_end_of_study_and_corrections_may_come_after_death() -> None:
    subject = with_adverse_event(**serious())
    subject.record_death(died_on=date(2011, 6, 1), cause="Heart failure")
    subject.follow_up_adverse_event(
        adverse_event="AE-01",
        followed_up_on=date(2011, 6, 20),
        changes={"outcome": AdverseEventOutcome.RECOVERED, "resolved_on": date(2011, 4, 2)},
    )
    subject.notify_serious_adverse_event(
        adverse_event="AE-01", notified_on=date(2011, 6, 21), recipient="CONEP", follow_up=True
    )
    subject.end_study(**end_of_study(EndOfStudyReason.DEATH, ended_on=date(2011, 6, 25)))
    subject.correct_entry(
        entry=5,
        entry_kind="AdverseEventReported",
        changes={"term": {"old": "Pneumonia", "new": "Lobar pneumonia"}},
        reason="term recoded",
    )
    subject.void_entry(entry=8, entry_kind="SeriousAdverseEventNotified", reason="duplicate")
    assert [e.kind for e in list(subject.entries.values())[-5:]] == [
        "AdverseEventFollowedUp",
        "SeriousAdverseEventNotified",
        "EndOfStudyRecorded",
        "EntryCorrected",
        "EntryVoided",
    ]


# -- the calendar --------------------------------------------------------------------------------


FUTURE: list[tuple[str, Callable[[], Subject], dict[str, Any]]] = [
    ("ConsentObtained", consented, {"tcle_version": "3.0", "consented_on": today_plus(2)}),
    ("BloodCountRecorded", enrolled, blood_count(collected_on=today_plus(2))),
    ("TransfusionGiven", enrolled, transfusion(given_on=today_plus(2))),
    ("MscInfusionGiven", enrolled, infusion(1, given_at=datetime.now(UTC) + timedelta(days=2))),
    (
        "AdverseEventReported",
        enrolled,
        adverse_event(onset_on=today_plus(2), learned_on=today_plus(2)),
    ),
    ("SubjectDied", enrolled, {"died_on": today_plus(2), "cause": "Heart failure"}),
    ("EndOfStudyRecorded", enrolled, end_of_study(EndOfStudyReason.COMPLETED, today_plus(2))),
    (
        "AdverseEventFollowedUp",
        with_adverse_event,
        {"adverse_event": "AE-01", "followed_up_on": today_plus(2), "changes": {"grade": 3}},
    ),
]


@pytest.mark.parametrize(("kind", "subject_of", "record"), FUTURE, ids=[c[0] for c in FUTURE])
def test_no_record_is_dated_in_the_future(
    kind: str, subject_of: Callable[[], Subject], record: dict[str, Any]
) -> None:
    refused(subject_of(), DatedInTheFuture, "after today at the site", kind, **record)


def test_a_screening_dated_in_the_future_is_refused() -> None:
    with pytest.raises(DatedInTheFuture):
        Subject.screen(
            protocol=NCT01297972,
            subject_code="RP-102",
            site="RP",
            sex=Sex.MALE,
            age=40,
            screened_on=today_plus(2),
        )


def test_today_is_not_the_future() -> None:
    subject = enrolled()
    subject.record_blood_count(**blood_count(collected_on=today_plus(-1)))
    assert subject.entries[subject.version].kind == "BloodCountRecorded"


# -- outcomes and disposition --------------------------------------------------------------------


def test_a_second_month_6_response_is_refused() -> None:
    subject = enrolled()
    subject.assess_response(**response(3))
    subject.assess_response(**response(6))
    refused(
        subject, DuplicateRecord, "month-6 response is recorded", "ResponseAssessed", **response(6)
    )


@pytest.mark.parametrize("month", [1, 12])
def test_a_response_off_the_scheduled_months_is_refused(month: int) -> None:
    refused(
        enrolled(), ValueOutOfRange, "months 3, 6, not month", "ResponseAssessed", **response(month)
    )


@pytest.mark.parametrize(
    ("kind", "record"),
    [
        ("RatgDoseGiven", ratg_dose(1, given_on=date(2011, 5, 3))),
        ("CyclosporineStarted", cyclosporine_start(started_on=date(2011, 5, 3))),
        ("MscInfusionGiven", infusion(1, given_at=datetime(2011, 5, 3, 13, tzinfo=UTC))),
        # Dated before the withdrawal but recorded after it: still refused.
        ("MscInfusionGiven", infusion(1)),
    ],
)
def test_treatment_after_withdrawal_is_refused(kind: str, record: dict[str, Any]) -> None:
    refused(withdrawn(), SubjectNotInStudy, "withdrew", kind, **record)


def test_a_cyclosporine_adjustment_after_withdrawal_is_refused() -> None:
    subject = on_cyclosporine()
    subject.withdraw(**withdrawal())
    refused(
        subject,
        SubjectNotInStudy,
        "withdrew",
        "CyclosporineDoseAdjusted",
        **cyclosporine_adjustment(effective_on=date(2011, 5, 10)),
    )


def test_measurements_continue_after_withdrawal() -> None:
    subject = withdrawn()
    subject.record_blood_count(**blood_count(collected_on=date(2011, 5, 20)))
    assert subject.entries[subject.version].kind == "BloodCountRecorded"


def test_a_withdrawal_is_recorded_once() -> None:
    refused(
        withdrawn(),
        DuplicateRecord,
        "withdrawal is recorded",
        "SubjectWithdrawn",
        **withdrawal(withdrawn_on=date(2011, 5, 3)),
    )


@pytest.mark.parametrize(
    ("subject_of", "reason", "error", "match"),
    [
        (enrolled, EndOfStudyReason.DEATH, DeathRecordDisagrees, "exactly when a death"),
        (dead, EndOfStudyReason.COMPLETED, DeathRecordDisagrees, "exactly when a death"),
        (dead, EndOfStudyReason.LOST_TO_FOLLOW_UP, DeathRecordDisagrees, "exactly when a death"),
        (enrolled, EndOfStudyReason.WITHDRAWAL, ValueOutOfRange, "record the withdrawal"),
    ],
)
def test_the_end_of_study_reason_must_fit_the_record(
    subject_of: Callable[[], Subject],
    reason: EndOfStudyReason,
    error: type[DomainError],
    match: str,
) -> None:
    refused(subject_of(), error, match, "EndOfStudyRecorded", **end_of_study(reason))


def test_the_end_of_study_is_not_before_the_death() -> None:
    refused(
        dead(date(2011, 6, 1)),
        ValueOutOfRange,
        "before the death",
        "EndOfStudyRecorded",
        **end_of_study(EndOfStudyReason.DEATH, ended_on=date(2011, 5, 30)),
    )


def test_the_end_of_study_is_recorded_once() -> None:
    subject = enrolled()
    subject.end_study(**end_of_study(EndOfStudyReason.COMPLETED))
    refused(
        subject,
        DuplicateRecord,
        "end of study is recorded",
        "EndOfStudyRecorded",
        **end_of_study(EndOfStudyReason.COMPLETED),
    )


def test_nothing_is_dated_after_the_end_of_study() -> None:
    subject = enrolled()
    subject.end_study(**end_of_study(EndOfStudyReason.COMPLETED, ended_on=date(2011, 8, 21)))
    refused(
        subject,
        SubjectNotInStudy,
        "left the study on 2011-08-21",
        "BloodCountRecorded",
        **blood_count(collected_on=date(2011, 8, 22)),
    )


# -- the chain and the signature -----------------------------------------------------------------


def test_each_event_carries_the_previous_events_hash() -> None:
    subject = enrolled()
    events = events_of(subject)

    assert events[0].previous_hash == GENESIS_HASH
    assert [e.previous_hash for e in events[1:]] == [e.event_hash for e in events[:-1]]
    assert subject.chain_head == events[-1].event_hash


def test_no_event_is_made_without_a_signed_authorship() -> None:
    subject = consented()

    def record_unsigned() -> None:
        subject.record_blood_count(**blood_count())

    # A fresh context has no authorship in force, as outside any command.
    with pytest.raises(AuthorshipMissing):
        contextvars.Context().run(record_unsigned)
    assert subject.version == 2
