"""Corrections and voids (21 CFR 11.10(e)): a later event names an entry; the state reads the
entry as corrected, the original event stays as it was, and a correction cannot bring in what
the protocol refuses."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain.clinical import SeriousnessCriterion
from domain.errors import (
    CorrectionInvalid,
    DatedAfterDeath,
    DatedInTheFuture,
    DeathRecordDisagrees,
    DomainError,
    DuplicateRecord,
    EntryNotFound,
    InfusionOutOfSequence,
    InfusionTooSoon,
    RatgDayOutOfCourse,
    SeriousnessCriterionMissing,
    UnitNotAccepted,
    ValueOutOfRange,
)
from domain.subject import Subject
from domain.vocabulary import AdverseEventOutcome, ChimerismMethod, EndOfStudyReason, Status
from tests.unit.subjects import (
    FIRST_INFUSION,
    blood_count,
    chimerism,
    cyclosporine_adjustment,
    cyclosporine_start,
    dead,
    died_of_an_adverse_event,
    end_of_study,
    enrolled,
    events_of,
    infusion,
    q,
    ratg_dose,
    response,
    serious,
    today_plus,
    transfusion,
    with_adverse_event,
)

pytestmark = pytest.mark.usefixtures("someone_signs")


def with_transfusion() -> Subject:
    """Enrolled (entries 1-4) and transfused 2 units of red cells (entry 5)."""
    subject = enrolled()
    subject.give_transfusion(**transfusion(units=2))
    return subject


def correct(
    subject: Subject,
    entry: int,
    kind: str,
    why: str = "transcription error",
    **changes: tuple[Any, Any],
) -> None:
    subject.correct_entry(
        entry=entry,
        entry_kind=kind,
        changes={name: {"old": old, "new": new} for name, (old, new) in changes.items()},
        reason=why,
    )


def refused_correction(
    subject: Subject,
    error: type[DomainError],
    match: str,
    entry: int,
    kind: str,
    **changes: tuple[Any, Any],
) -> None:
    before = subject.version
    with pytest.raises(error, match=match):
        correct(subject, entry, kind, "transcription error", **changes)
    assert subject.version == before


# -- a correction ----------------------------------------------------------------------------


@pytest.mark.requirement("P11-11.10e-2")
def test_a_corrected_field_reads_its_new_value_and_the_original_event_is_unchanged() -> None:
    subject = with_transfusion()

    correct(subject, 5, "TransfusionGiven", units=(2, 3))

    assert subject.entries[5]["units"] == 3
    assert subject.entries[5].corrected_by == [6]
    assert subject.entries[6].kind == "EntryCorrected"
    events = events_of(subject)
    assert events[4].kind() == "TransfusionGiven"
    assert events[4].signed_data()["units"] == 2
    assert events[5].signed_data()["changes"] == {"units": {"old": 2, "new": 3}}


def test_a_field_is_corrected_again_from_its_corrected_value() -> None:
    subject = with_transfusion()
    correct(subject, 5, "TransfusionGiven", units=(2, 3))

    refused_correction(
        subject, CorrectionInvalid, "reads 3, not 2", 5, "TransfusionGiven", units=(2, 4)
    )
    correct(subject, 5, "TransfusionGiven", units=(3, 4))

    assert subject.entries[5]["units"] == 4
    assert subject.entries[5].corrected_by == [6, 7]


def test_several_fields_are_corrected_at_once() -> None:
    subject = with_transfusion()

    correct(
        subject, 5, "TransfusionGiven", units=(2, 1), given_on=(date(2011, 3, 2), date(2011, 3, 3))
    )

    assert (subject.entries[5]["units"], subject.entries[5]["given_on"]) == (1, date(2011, 3, 3))


def test_a_correction_of_the_screening_age_changes_eligibility() -> None:
    subject = enrolled()
    correct(subject, 1, "Screened", age=(34, 35))
    assert subject.age == 35


def test_a_correction_of_a_quantity_compares_as_written() -> None:
    subject = enrolled()
    subject.record_blood_count(**blood_count(haemoglobin=q("7.2", "g/dL")))

    correct(
        subject,
        5,
        "BloodCountRecorded",
        results=({"haemoglobin": q("7.2", "g/dL")}, {"haemoglobin": q("7.4", "g/dL")}),
    )

    assert subject.entries[5]["results"] == {"haemoglobin": q("7.4", "g/dL")}


def test_a_stale_old_value_is_refused() -> None:
    refused_correction(
        with_transfusion(), CorrectionInvalid, "reads 2, not 4", 5, "TransfusionGiven", units=(4, 3)
    )


def test_an_unknown_field_is_refused() -> None:
    refused_correction(
        with_transfusion(),
        CorrectionInvalid,
        "'colour' is not a correctable field of a TransfusionGiven",
        5,
        "TransfusionGiven",
        colour=("red", "blue"),
    )


@pytest.mark.parametrize(
    ("setup", "entry", "kind", "field", "old", "new"),
    [
        ("screened", 1, "Screened", "site", "RP", "SP"),
        ("infused", 5, "MscInfusionGiven", "infusion_number", 1, 2),
        ("adverse", 5, "AdverseEventReported", "adverse_event", "AE-01", "AE-02"),
    ],
)
def test_a_field_that_addresses_other_records_is_not_corrected(
    setup: str, entry: int, kind: str, field: str, old: Any, new: Any
) -> None:
    subject = with_adverse_event() if setup == "adverse" else enrolled()
    if setup == "infused":
        subject.give_msc_infusion(**infusion(1))
    refused_correction(
        subject,
        CorrectionInvalid,
        f"'{field}' is not a correctable field",
        entry,
        kind,
        **{field: (old, new)},
    )


def test_a_correction_to_the_same_value_is_refused() -> None:
    refused_correction(
        with_transfusion(),
        CorrectionInvalid,
        "the new value is the old one",
        5,
        "TransfusionGiven",
        units=(2, 2),
    )


@pytest.mark.requirement("P11-11.10e-2")
@pytest.mark.parametrize("reason", ["", "   ", "\u200b", "\u2060\u3164"])
def test_a_correction_without_a_reason_is_refused(reason: str) -> None:
    subject = with_transfusion()
    with pytest.raises(CorrectionInvalid, match="a reason is given for every change"):
        correct(subject, 5, "TransfusionGiven", why=reason, units=(2, 3))
    with pytest.raises(CorrectionInvalid, match="a reason is given for every change"):
        subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason=reason)
    assert subject.version == 5


def test_a_correction_naming_the_wrong_kind_is_refused() -> None:
    refused_correction(
        with_transfusion(),
        CorrectionInvalid,
        "entry 5 is a TransfusionGiven, not a BloodCountRecorded",
        5,
        "BloodCountRecorded",
        units=(2, 3),
    )


def test_a_correction_of_an_entry_that_does_not_exist_is_refused() -> None:
    refused_correction(
        with_transfusion(),
        EntryNotFound,
        "RP-101 has no entry 9",
        9,
        "TransfusionGiven",
        units=(2, 3),
    )


def test_a_correction_that_changes_nothing_is_refused() -> None:
    subject = with_transfusion()
    with pytest.raises(CorrectionInvalid, match="at least one field"):
        subject.correct_entry(entry=5, entry_kind="TransfusionGiven", changes={}, reason="x")


@pytest.mark.requirement("P11-11.10e-2")
def test_a_change_gives_exactly_old_and_new() -> None:
    subject = with_transfusion()
    with pytest.raises(CorrectionInvalid, match="exactly old and new"):
        subject.correct_entry(
            entry=5, entry_kind="TransfusionGiven", changes={"units": {"new": 3}}, reason="x"
        )


def test_a_correction_is_not_itself_corrected() -> None:
    subject = with_transfusion()
    correct(subject, 5, "TransfusionGiven", units=(2, 3))
    refused_correction(
        subject,
        CorrectionInvalid,
        "a EntryCorrected is not corrected",
        6,
        "EntryCorrected",
        reason=("transcription error", "typo"),
    )


def test_a_voided_entry_is_not_corrected() -> None:
    subject = with_transfusion()
    subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="wrong subject")
    refused_correction(
        subject,
        CorrectionInvalid,
        "entry 5 was voided by entry 6",
        5,
        "TransfusionGiven",
        units=(2, 3),
    )


# -- a correction is checked as the record it leaves -------------------------------------------


@pytest.mark.parametrize(("units", "error"), [(0, ValueOutOfRange), (-2, ValueOutOfRange)])
def test_a_correction_to_an_impossible_value_is_refused(
    units: int, error: type[DomainError]
) -> None:
    refused_correction(
        with_transfusion(),
        error,
        "a transfusion is 1-50 units",
        5,
        "TransfusionGiven",
        units=(2, units),
    )


def test_a_correction_to_a_negative_count_is_refused() -> None:
    subject = enrolled()
    subject.record_blood_count(**blood_count(platelets=q("12", "10^9/L")))
    refused_correction(
        subject,
        ValueOutOfRange,
        "platelets cannot be negative",
        5,
        "BloodCountRecorded",
        results=({"platelets": q("12", "10^9/L")}, {"platelets": q("-12", "10^9/L")}),
    )


def test_a_correction_to_another_unit_is_refused() -> None:
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    refused_correction(
        subject,
        UnitNotAccepted,
        "cells/kg",
        5,
        "MscInfusionGiven",
        dose=(q("2.7", "10^6 cells/kg"), q("2.7", "cells/kg")),
    )


def test_a_correction_to_a_future_date_is_refused() -> None:
    refused_correction(
        with_transfusion(),
        DatedInTheFuture,
        "after today",
        5,
        "TransfusionGiven",
        given_on=(date(2011, 3, 2), today_plus(2)),
    )


def test_a_correction_moving_an_infusion_2_days_after_another_is_refused() -> None:
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    subject.give_msc_infusion(**infusion(2))
    second = FIRST_INFUSION + timedelta(days=7)
    refused_correction(
        subject,
        InfusionTooSoon,
        "infusion 1 was 2 days",
        6,
        "MscInfusionGiven",
        given_at=(second, FIRST_INFUSION + timedelta(days=2)),
    )


def test_a_correction_moving_an_infusion_keeps_its_own_date_out_of_the_interval() -> None:
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    moved = FIRST_INFUSION + timedelta(days=1)
    correct(subject, 5, "MscInfusionGiven", given_at=(FIRST_INFUSION, moved))
    assert subject.infusions[0]["given_at"] == moved


def test_a_correction_breaking_the_rATG_course_is_refused() -> None:
    subject = enrolled()
    subject.give_ratg_dose(**ratg_dose(1))
    subject.give_ratg_dose(**ratg_dose(2))
    refused_correction(
        subject,
        RatgDayOutOfCourse,
        "falls on 2011-02-22",
        6,
        "RatgDoseGiven",
        given_on=(date(2011, 2, 22), date(2011, 2, 24)),
    )
    refused_correction(
        subject, RatgDayOutOfCourse, "day 1 is recorded", 6, "RatgDoseGiven", day=(2, 1)
    )


def test_a_correction_after_death_may_not_date_a_record_after_it() -> None:
    subject = enrolled()
    subject.give_transfusion(**transfusion(given_on=date(2011, 5, 20)))
    subject.record_death(died_on=date(2011, 6, 1), cause="Heart failure")
    refused_correction(
        subject,
        DatedAfterDeath,
        "died on 2011-06-01",
        5,
        "TransfusionGiven",
        given_on=(date(2011, 5, 20), date(2011, 6, 5)),
    )


def test_an_adverse_event_report_is_checked_with_its_follow_ups() -> None:
    subject = with_adverse_event()
    subject.follow_up_adverse_event(
        adverse_event="AE-01",
        followed_up_on=date(2011, 3, 20),
        changes={"outcome": AdverseEventOutcome.RECOVERED, "resolved_on": date(2011, 3, 19)},
    )
    # Alone, the report with this onset is fine; with its follow-up, it ends before it begins.
    refused_correction(
        subject,
        ValueOutOfRange,
        "ended on 2011-03-19, before its onset",
        5,
        "AdverseEventReported",
        onset_on=(date(2011, 3, 12), date(2011, 3, 25)),
        learned_on=(date(2011, 3, 12), date(2011, 3, 25)),
    )
    correct(subject, 5, "AdverseEventReported", onset_on=(date(2011, 3, 12), date(2011, 3, 11)))
    assert subject.adverse_events()["AE-01"]["onset_on"] == date(2011, 3, 11)


def test_a_correction_of_a_report_may_not_break_its_seriousness() -> None:
    subject = with_adverse_event(**serious())
    refused_correction(
        subject,
        SeriousnessCriterionMissing,
        "at least one criterion",
        5,
        "AdverseEventReported",
        seriousness=((SeriousnessCriterion.HOSPITALISATION,), ()),
    )


def test_a_follow_up_is_checked_with_the_report_it_updates() -> None:
    subject = with_adverse_event()
    subject.follow_up_adverse_event(
        adverse_event="AE-01", followed_up_on=date(2011, 3, 20), changes={"grade": 3}
    )
    refused_correction(
        subject,
        ValueOutOfRange,
        "grade 7",
        6,
        "AdverseEventFollowedUp",
        changes=({"grade": 3}, {"grade": 7}),
    )
    correct(subject, 6, "AdverseEventFollowedUp", changes=({"grade": 3}, {"grade": 1}))
    assert subject.adverse_events()["AE-01"]["grade"] == 1


def test_a_correction_of_a_grade_5_adverse_event_keeps_it_on_the_date_of_death() -> None:
    subject = died_of_an_adverse_event()
    refused_correction(
        subject,
        DeathRecordDisagrees,
        "ends on the date of death",
        5,
        "AdverseEventReported",
        resolved_on=(date(2011, 6, 1), date(2011, 5, 31)),
    )


def test_a_correction_may_not_clear_a_required_field() -> None:
    subject = with_adverse_event(
        outcome=AdverseEventOutcome.RECOVERED, resolved_on=date(2011, 3, 14)
    )
    refused_correction(
        subject,
        ValueOutOfRange,
        "gives the date it ended",
        5,
        "AdverseEventReported",
        resolved_on=(date(2011, 3, 14), None),
    )


# -- voids -------------------------------------------------------------------------------------


def test_a_voided_record_stays_in_the_record_and_no_longer_counts() -> None:
    subject = with_transfusion()

    subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="entered twice")

    assert subject.entries[5].voided_by == 6
    assert not subject.entries[5].is_live
    assert subject.live(Subject.TransfusionGiven) == []
    assert events_of(subject)[4].kind() == "TransfusionGiven"


def test_a_voided_response_frees_its_month() -> None:
    subject = enrolled()
    subject.assess_response(**response(6))
    subject.void_entry(entry=5, entry_kind="ResponseAssessed", reason="wrong subject")
    subject.assess_response(**response(6))
    assert [e.version for e in subject.live(Subject.ResponseAssessed)] == [7]


def test_a_voided_death_no_longer_counts() -> None:
    subject = dead()
    subject.void_entry(entry=5, entry_kind="SubjectDied", reason="wrong subject")
    assert subject.status is Status.ENROLLED
    subject.give_transfusion(**transfusion(given_on=date(2011, 6, 10)))


def test_a_voided_adverse_event_no_longer_counts_with_its_follow_ups() -> None:
    subject = with_adverse_event()
    subject.follow_up_adverse_event(
        adverse_event="AE-01", followed_up_on=date(2011, 3, 20), changes={"grade": 3}
    )
    subject.void_entry(entry=5, entry_kind="AdverseEventReported", reason="wrong subject")
    assert subject.adverse_events() == {}


def test_a_voided_last_infusion_frees_its_number() -> None:
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    subject.give_msc_infusion(**infusion(2))
    subject.void_entry(entry=6, entry_kind="MscInfusionGiven", reason="not given: fever")

    subject.give_msc_infusion(**infusion(2, given_at=FIRST_INFUSION + timedelta(days=8)))

    assert [(e.version, e["infusion_number"]) for e in subject.infusions] == [(5, 1), (8, 2)]


def test_a_voided_earlier_infusion_does_not_free_its_number() -> None:
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    subject.give_msc_infusion(**infusion(2))
    subject.void_entry(entry=5, entry_kind="MscInfusionGiven", reason="entered in error")

    with pytest.raises(InfusionOutOfSequence, match="the next is 3"):
        subject.give_msc_infusion(**infusion(1))
    subject.give_msc_infusion(**infusion(3))
    assert [e["infusion_number"] for e in subject.infusions] == [2, 3]


def test_after_a_voided_earlier_infusion_the_fifth_is_still_the_last() -> None:
    subject = enrolled()
    for number in range(1, 6):
        subject.give_msc_infusion(**infusion(number))
    subject.void_entry(entry=5, entry_kind="MscInfusionGiven", reason="entered in error")

    with pytest.raises(InfusionOutOfSequence, match="at most 5"):
        subject.give_msc_infusion(**infusion(6))
    assert len(subject.infusions) == 4


def test_a_voided_infusion_no_longer_sets_the_interval() -> None:
    subject = enrolled()
    subject.give_msc_infusion(**infusion(1))
    subject.give_msc_infusion(**infusion(2))
    subject.void_entry(entry=6, entry_kind="MscInfusionGiven", reason="not given")
    subject.give_msc_infusion(**infusion(2, given_at=FIRST_INFUSION + timedelta(days=5)))
    assert len(subject.infusions) == 2


@pytest.mark.parametrize(
    ("entry", "kind"),
    [(1, "Screened"), (2, "ConsentObtained"), (3, "EligibilityAssessed"), (4, "Enrolled")],
)
def test_screening_consent_eligibility_and_enrolment_are_not_voided(entry: int, kind: str) -> None:
    subject = enrolled()
    with pytest.raises(CorrectionInvalid, match=f"a {kind} is not voided"):
        subject.void_entry(entry=entry, entry_kind=kind, reason="entered in error")
    assert subject.version == 4


def test_a_void_is_not_voided() -> None:
    subject = with_transfusion()
    subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="entered twice")
    with pytest.raises(CorrectionInvalid, match="a EntryVoided is not voided"):
        subject.void_entry(entry=6, entry_kind="EntryVoided", reason="undo")


def test_an_entry_is_voided_once() -> None:
    subject = with_transfusion()
    subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="entered twice")
    with pytest.raises(CorrectionInvalid, match="was voided by entry 6"):
        subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="again")


def test_a_void_naming_the_wrong_kind_or_no_entry_is_refused() -> None:
    subject = with_transfusion()
    with pytest.raises(CorrectionInvalid, match="is a TransfusionGiven, not a BloodCountRecorded"):
        subject.void_entry(entry=5, entry_kind="BloodCountRecorded", reason="x")
    with pytest.raises(EntryNotFound):
        subject.void_entry(entry=42, entry_kind="TransfusionGiven", reason="x")
    assert subject.version == 5


# -- what the death record must keep, whatever is corrected -------------------------------------


def test_a_death_date_corrected_to_a_later_day_is_accepted() -> None:
    subject = dead(date(2011, 6, 1))
    correct(subject, 5, "SubjectDied", died_on=(date(2011, 6, 1), date(2011, 6, 3)))
    assert subject.death is not None and subject.death["died_on"] == date(2011, 6, 3)


def test_a_death_date_corrected_to_before_existing_records_is_refused() -> None:
    subject = enrolled()
    subject.give_transfusion(**transfusion(given_on=date(2011, 5, 20)))
    subject.record_death(died_on=date(2011, 6, 1), cause="Heart failure")
    refused_correction(
        subject,
        DatedAfterDeath,
        "2011-05-20",
        6,
        "SubjectDied",
        died_on=(date(2011, 6, 1), date(2011, 5, 10)),
    )


def test_a_death_date_corrected_away_from_its_grade_5_adverse_event_is_refused() -> None:
    subject = died_of_an_adverse_event()
    refused_correction(
        subject,
        DeathRecordDisagrees,
        "2011-06-01",
        6,
        "SubjectDied",
        died_on=(date(2011, 6, 1), date(2011, 5, 31)),
    )


def test_a_follow_up_may_not_take_the_adverse_event_named_by_the_death_off_grade_5() -> None:
    subject = died_of_an_adverse_event()
    with pytest.raises(DeathRecordDisagrees):
        subject.follow_up_adverse_event(
            adverse_event="AE-09",
            followed_up_on=date(2011, 6, 5),
            changes={
                "grade": 4,
                "outcome": AdverseEventOutcome.RECOVERED,
                "seriousness": (SeriousnessCriterion.LIFE_THREATENING,),
            },
        )
    assert subject.version == 6


def test_the_end_of_study_reason_corrected_away_from_death_is_refused() -> None:
    subject = dead(date(2011, 6, 1))
    subject.end_study(**end_of_study(EndOfStudyReason.DEATH))
    refused_correction(
        subject,
        DeathRecordDisagrees,
        "exactly when a death",
        6,
        "EndOfStudyRecorded",
        reason=(EndOfStudyReason.DEATH, EndOfStudyReason.COMPLETED),
    )


def test_a_response_corrected_onto_a_month_already_recorded_is_refused() -> None:
    subject = enrolled()
    subject.assess_response(**response(3))
    subject.assess_response(**response(6))
    refused_correction(
        subject,
        DuplicateRecord,
        "month-6 response is recorded",
        5,
        "ResponseAssessed",
        month=(3, 6),
    )


def test_a_chimerism_corrected_onto_a_day_and_method_already_recorded_is_refused() -> None:
    subject = enrolled()
    subject.assess_chimerism(**chimerism(30, ChimerismMethod.FISH))
    subject.assess_chimerism(**chimerism(30, ChimerismMethod.VNTR))
    refused_correction(
        subject,
        DuplicateRecord,
        "FISH on study day 30 is recorded",
        6,
        "ChimerismAssessed",
        method=(ChimerismMethod.VNTR, ChimerismMethod.FISH),
    )


def test_a_cyclosporine_adjustment_corrected_to_before_the_start_is_refused() -> None:
    subject = enrolled()
    subject.start_cyclosporine(**cyclosporine_start())
    subject.adjust_cyclosporine_dose(**cyclosporine_adjustment())
    refused_correction(
        subject,
        ValueOutOfRange,
        "before cyclosporine started",
        6,
        "CyclosporineDoseAdjusted",
        effective_on=(date(2011, 3, 1), date(2011, 2, 20)),
    )
