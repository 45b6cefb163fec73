"""The clinical facts the store derives from a subject's records, on worked examples.

Severity (Camitta), hematologic response (NIH) beside the investigator's, serious adverse
event notification clocks, and lab flags; every threshold checked on both sides.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TypedDict

import pytest

from domain.clinical import (
    Agreement,
    BloodCount,
    CamittaCriterion,
    ClockStatus,
    CyclosporineTroughTarget,
    LabFlag,
    MarrowExam,
    PlausibleRange,
    ReferenceRange,
    ReportingClocks,
    ReportingRuleSet,
    ResponseCategory,
    ResponseCriteria,
    ResponseFinding,
    ReticulocyteMethod,
    SeriousnessCriterion,
    Severity,
    SeverityCriteria,
    Transfusion,
    TransfusionProduct,
    camitta_severity,
    compare_with_investigator,
    flag_trough,
    flag_value,
    hematologic_response,
    meets_severe_blood_criteria,
    notification_clock,
)
from domain.errors import ValueOutOfRange

MANUAL = ReticulocyteMethod.MANUAL
AUTOMATED = ReticulocyteMethod.AUTOMATED
SEVERITY = SeverityCriteria()
RESPONSE = ResponseCriteria()
DIAGNOSED = date(2011, 2, 14)


def blood(
    collected_on: date = DIAGNOSED,
    *,
    hb: str | None = "8.0",
    anc: str | None = "0.3",
    plt: str | None = "10",
    retic: str | None = "15",
    method: ReticulocyteMethod = MANUAL,
) -> BloodCount:
    """A blood count; by default that of a subject with severe (not very severe) disease."""
    return BloodCount(
        collected_on=collected_on,
        haemoglobin=None if hb is None else Decimal(hb),
        neutrophils=None if anc is None else Decimal(anc),
        platelets=None if plt is None else Decimal(plt),
        reticulocytes=None if retic is None else Decimal(retic),
        reticulocyte_method=method,
    )


def marrow(cellularity: str = "10") -> MarrowExam:
    return MarrowExam(
        examined_on=DIAGNOSED - timedelta(days=3), cellularity_percent=Decimal(cellularity)
    )


# --- the records ---------------------------------------------------------------------------


def test_a_negative_neutrophil_count_is_refused() -> None:
    with pytest.raises(ValueOutOfRange):
        blood(anc="-0.1")


def test_a_count_given_as_a_float_is_refused() -> None:
    with pytest.raises(ValueOutOfRange):
        BloodCount(DIAGNOSED, 8.0, None, None, None, MANUAL)  # type: ignore[arg-type]


def test_a_marrow_cellularity_above_100_percent_is_refused_but_100_is_accepted() -> None:
    assert marrow("100").cellularity_percent == 100
    with pytest.raises(ValueOutOfRange):
        marrow("100.1")


def test_a_transfusion_of_no_units_is_refused() -> None:
    with pytest.raises(ValueOutOfRange):
        Transfusion(DIAGNOSED, TransfusionProduct.RED_CELLS, 0)


# --- Camitta severity ------------------------------------------------------------------------


def test_the_default_severity_criteria_are_the_camitta_thresholds_of_the_protocol() -> None:
    defaults = SeverityCriteria()

    assert defaults == SeverityCriteria(
        cellularity_below_percent=Decimal(25),
        neutrophils_below=Decimal("0.5"),
        platelets_below=Decimal(20),
        reticulocytes_below_manual=Decimal(20),
        reticulocytes_below_automated=Decimal(60),
        blood_criteria_required=2,
        very_severe_neutrophils_below=Decimal("0.2"),
    )


def test_hypocellular_marrow_with_all_three_counts_low_is_severe() -> None:
    assessment = camitta_severity(blood(), marrow("10"), SEVERITY)

    assert assessment.severity is Severity.SEVERE
    assert assessment.criteria_met == {
        CamittaCriterion.MARROW_CELLULARITY,
        CamittaCriterion.NEUTROPHILS,
        CamittaCriterion.PLATELETS,
        CamittaCriterion.RETICULOCYTES,
    }
    assert assessment.count_collected_on == DIAGNOSED
    assert assessment.marrow_examined_on == date(2011, 2, 11)
    assert assessment.reasons[-1].startswith("severe:")


def test_the_reasons_state_each_criterion_with_its_value_and_threshold_in_protocol_units() -> None:
    assessment = camitta_severity(
        blood(anc="0.3", plt="20", retic="45", method=AUTOMATED), marrow("20"), SEVERITY
    )

    assert "ANC 0.3 \u00d7 10^9/L is below 0.5 \u00d7 10^9/L" in assessment.reasons
    assert "platelets 20 \u00d7 10^9/L is not below 20 \u00d7 10^9/L" in assessment.reasons
    assert (
        "reticulocytes (automated count) 45 \u00d7 10^9/L is below 60 \u00d7 10^9/L"
        in assessment.reasons
    )
    assert "marrow cellularity (examined 2011-02-11) 20% is below 25%" in assessment.reasons
    assert "2 of 3 blood-count criteria met (at least 2 required)" in assessment.reasons


@pytest.mark.parametrize(
    ("cellularity", "expected"),
    [("24.9", Severity.SEVERE), ("25", Severity.NON_SEVERE), ("25.1", Severity.NON_SEVERE)],
)
def test_marrow_cellularity_of_exactly_25_percent_is_not_hypocellular_enough(
    cellularity: str, expected: Severity
) -> None:
    assert camitta_severity(blood(), marrow(cellularity), SEVERITY).severity is expected


@pytest.mark.parametrize(("anc", "met"), [("0.49", True), ("0.5", False), ("0.50", False)])
def test_neutrophils_of_exactly_0_5_are_not_below_the_severe_threshold(anc: str, met: bool) -> None:
    # Platelets low, reticulocytes not: the neutrophils decide whether two criteria are met.
    count = blood(anc=anc, plt="10", retic="30")

    assert meets_severe_blood_criteria(count, SEVERITY) is met
    expected = Severity.SEVERE if met else Severity.NON_SEVERE
    assert camitta_severity(count, marrow(), SEVERITY).severity is expected


@pytest.mark.parametrize(("plt", "met"), [("19.9", True), ("20", False), ("20.1", False)])
def test_platelets_of_exactly_20_are_not_below_the_severe_threshold(plt: str, met: bool) -> None:
    count = blood(anc="0.3", plt=plt, retic="30")

    assert meets_severe_blood_criteria(count, SEVERITY) is met
    assessment = camitta_severity(count, marrow(), SEVERITY)
    assert (CamittaCriterion.PLATELETS in assessment.criteria_met) is met


@pytest.mark.parametrize(("retic", "met"), [("19.9", True), ("20", False)])
def test_manually_counted_reticulocytes_of_exactly_20_are_not_below_the_threshold(
    retic: str, met: bool
) -> None:
    count = blood(anc="0.3", plt="50", retic=retic, method=MANUAL)

    assert meets_severe_blood_criteria(count, SEVERITY) is met


@pytest.mark.parametrize(("retic", "met"), [("59.9", True), ("60", False)])
def test_automated_reticulocytes_of_exactly_60_are_not_below_the_threshold(
    retic: str, met: bool
) -> None:
    count = blood(anc="0.3", plt="50", retic=retic, method=AUTOMATED)

    assert meets_severe_blood_criteria(count, SEVERITY) is met


def test_reticulocytes_of_45_meet_the_criterion_when_automated_but_not_when_manual() -> None:
    automated = blood(anc="0.3", plt="50", retic="45", method=AUTOMATED)
    manual = blood(anc="0.3", plt="50", retic="45", method=MANUAL)

    assert camitta_severity(automated, marrow(), SEVERITY).severity is Severity.SEVERE
    assert camitta_severity(manual, marrow(), SEVERITY).severity is Severity.NON_SEVERE


def test_one_low_count_with_hypocellular_marrow_is_not_severe() -> None:
    assessment = camitta_severity(blood(anc="0.3", plt="50", retic="30"), marrow("5"), SEVERITY)

    assert assessment.severity is Severity.NON_SEVERE
    assert "1 of 3 blood-count criteria met, fewer than the 2 required" in assessment.reasons


@pytest.mark.parametrize(
    ("anc", "expected"),
    [("0.19", Severity.VERY_SEVERE), ("0.2", Severity.SEVERE), ("0.21", Severity.SEVERE)],
)
def test_neutrophils_below_0_2_make_severe_disease_very_severe(
    anc: str, expected: Severity
) -> None:
    assessment = camitta_severity(blood(anc=anc), marrow(), SEVERITY)

    assert assessment.severity is expected
    assert (CamittaCriterion.VERY_SEVERE_NEUTROPHILS in assessment.criteria_met) is (
        expected is Severity.VERY_SEVERE
    )


def test_neutrophils_below_0_2_without_hypocellular_marrow_are_not_severe_disease() -> None:
    assessment = camitta_severity(blood(anc="0.1"), marrow("40"), SEVERITY)

    assert assessment.severity is Severity.NON_SEVERE
    assert CamittaCriterion.VERY_SEVERE_NEUTROPHILS not in assessment.criteria_met


def test_severe_counts_without_a_marrow_examination_are_not_assessable() -> None:
    assessment = camitta_severity(blood(), None, SEVERITY)

    assert assessment.severity is Severity.NOT_ASSESSABLE
    assert "marrow cellularity not recorded (no marrow examination)" in assessment.reasons
    assert assessment.marrow_examined_on is None


def test_normal_counts_are_not_severe_even_without_a_marrow_examination() -> None:
    count = blood(anc="2.0", plt="150", retic="80")

    assert camitta_severity(count, None, SEVERITY).severity is Severity.NON_SEVERE


def test_a_cellular_marrow_is_not_severe_even_without_a_blood_count() -> None:
    assessment = camitta_severity(None, marrow("40"), SEVERITY)

    assert assessment.severity is Severity.NON_SEVERE
    assert assessment.count_collected_on is None


def test_a_missing_platelet_count_that_could_decide_severity_makes_it_not_assessable() -> None:
    count = blood(anc="0.3", plt=None, retic="30")

    assert meets_severe_blood_criteria(count, SEVERITY) is None
    assessment = camitta_severity(count, marrow(), SEVERITY)
    assert assessment.severity is Severity.NOT_ASSESSABLE
    assert "platelets not recorded" in assessment.reasons


def test_a_missing_platelet_count_does_not_matter_when_the_other_two_criteria_are_met() -> None:
    count = blood(anc="0.3", plt=None, retic="15")

    assert meets_severe_blood_criteria(count, SEVERITY) is True
    assert camitta_severity(count, marrow(), SEVERITY).severity is Severity.SEVERE


def test_a_missing_neutrophil_count_leaves_severe_and_very_severe_untold() -> None:
    assessment = camitta_severity(blood(anc=None), marrow(), SEVERITY)

    assert assessment.severity is Severity.NOT_ASSESSABLE
    assert "severe and very severe cannot be told apart" in assessment.reasons[-1]


def test_without_a_marrow_examination_the_reasons_still_say_anc_would_make_it_very_severe() -> None:
    assessment = camitta_severity(blood(anc="0.1"), None, SEVERITY)

    assert assessment.severity is Severity.NOT_ASSESSABLE
    assert CamittaCriterion.VERY_SEVERE_NEUTROPHILS in assessment.criteria_met
    assert (
        "for very severe disease, ANC 0.1 \u00d7 10^9/L is below 0.2 \u00d7 10^9/L"
        in assessment.reasons
    )


def test_a_protocol_requiring_all_three_counts_is_not_met_by_two() -> None:
    strict = SeverityCriteria(blood_criteria_required=3)
    count = blood(anc="0.3", plt="10", retic="30")

    assert camitta_severity(count, marrow(), SEVERITY).severity is Severity.SEVERE
    assert camitta_severity(count, marrow(), strict).severity is Severity.NON_SEVERE


def test_severity_criteria_requiring_four_of_three_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="between 1 and 3"):
        SeverityCriteria(blood_criteria_required=4)


# --- hematologic response -------------------------------------------------------------------

START = date(2011, 3, 1)
MONTH_6 = date(2011, 8, 28)  # 180 days after START


class Counts(TypedDict, total=False):
    """Values of a blood count by name, as :func:`blood` takes them."""

    anc: str | None
    hb: str | None
    plt: str | None
    retic: str | None


COMPLETE_COUNTS: Counts = {"anc": "1.2", "hb": "10.5", "plt": "120", "retic": "80"}
PARTIAL_COUNTS: Counts = {"anc": "0.8", "hb": "8.5", "plt": "35", "retic": "70"}
SEVERE_COUNTS: Counts = {"anc": "0.3", "hb": "7.5", "plt": "12", "retic": "15"}


def response(
    counts: list[BloodCount],
    transfusions: list[Transfusion] | None = None,
    died_on: date | None = None,
    criteria: ResponseCriteria = RESPONSE,
    month: int = 6,
) -> ResponseFinding:
    return hematologic_response(
        month, START, counts, transfusions or [], died_on, criteria, SEVERITY
    )


def red_cells(days_before: int, count_on: date = MONTH_6) -> Transfusion:
    return Transfusion(count_on - timedelta(days=days_before), TransfusionProduct.RED_CELLS, 2)


def test_month_6_is_180_days_after_the_treatment_start() -> None:
    assert RESPONSE.timepoint(6, START) == MONTH_6
    assert response([]).timepoint == MONTH_6


def test_counts_at_every_complete_threshold_are_a_complete_response() -> None:
    finding = response([blood(MONTH_6, anc="1.0", hb="10", plt="100", retic="80")])

    assert finding.category is ResponseCategory.COMPLETE
    assert finding.count_used_on == MONTH_6
    assert finding.transfusion_independent is True
    assert finding.reasons[-1].startswith("complete response")


@pytest.mark.parametrize("short_of_complete", [{"anc": "0.99"}, {"hb": "9.9"}, {"plt": "99"}])
def test_one_count_just_short_of_its_complete_threshold_is_a_partial_response(
    short_of_complete: Counts,
) -> None:
    values: Counts = {**COMPLETE_COUNTS, **short_of_complete}

    assert response([blood(MONTH_6, **values)]).category is ResponseCategory.PARTIAL


def test_counts_no_longer_severe_without_transfusion_are_a_partial_response() -> None:
    finding = response([blood(MONTH_6, **PARTIAL_COUNTS)], [red_cells(90)])

    assert finding.category is ResponseCategory.PARTIAL
    assert finding.transfusion_independent is True
    assert finding.last_transfusion_on == MONTH_6 - timedelta(days=90)


def test_counts_still_meeting_the_severe_criteria_are_no_response() -> None:
    finding = response([blood(MONTH_6, **SEVERE_COUNTS)])

    assert finding.category is ResponseCategory.NONE
    assert "still meet the criteria of severe disease" in finding.reasons[-1]


@pytest.mark.parametrize(
    ("days_before", "independent", "expected"),
    [
        (55, False, ResponseCategory.NONE),
        (56, True, ResponseCategory.PARTIAL),
        (57, True, ResponseCategory.PARTIAL),
    ],
)
def test_a_transfusion_less_than_56_days_before_the_count_denies_a_partial_response(
    days_before: int, independent: bool, expected: ResponseCategory
) -> None:
    finding = response([blood(MONTH_6, **PARTIAL_COUNTS)], [red_cells(days_before)])

    assert finding.transfusion_independent is independent
    assert finding.category is expected


def test_a_platelet_transfusion_counts_against_independence_as_red_cells_do() -> None:
    platelets = Transfusion(MONTH_6 - timedelta(days=10), TransfusionProduct.PLATELETS, 1)

    finding = response([blood(MONTH_6, **PARTIAL_COUNTS)], [platelets])

    assert finding.transfusion_independent is False
    assert finding.category is ResponseCategory.NONE


def test_a_transfusion_on_the_day_of_the_count_denies_independence() -> None:
    finding = response([blood(MONTH_6, **PARTIAL_COUNTS)], [red_cells(0)])

    assert finding.transfusion_independent is False


def test_a_transfusion_after_the_count_assessed_does_not_count_against_it() -> None:
    count_on = MONTH_6 - timedelta(days=5)
    finding = response([blood(count_on, **PARTIAL_COUNTS)], [red_cells(0)])

    assert finding.transfusion_independent is True
    assert finding.category is ResponseCategory.PARTIAL


def test_without_the_independence_setting_a_transfused_subject_can_respond_partially() -> None:
    lenient = ResponseCriteria(partial_requires_transfusion_independence=False)

    finding = response([blood(MONTH_6, **PARTIAL_COUNTS)], [red_cells(10)], criteria=lenient)

    assert finding.transfusion_independent is False
    assert finding.category is ResponseCategory.PARTIAL


def test_complete_counts_after_a_transfusion_are_complete_unless_the_protocol_says_otherwise() -> (
    None
):
    counts = [blood(MONTH_6, **COMPLETE_COUNTS)]
    strict = ResponseCriteria(complete_requires_transfusion_independence=True)

    assert response(counts, [red_cells(10)]).category is ResponseCategory.COMPLETE
    assert response(counts, [red_cells(10)], criteria=strict).category is ResponseCategory.NONE


@pytest.mark.parametrize(
    ("offset", "evaluable"), [(-15, False), (-14, True), (14, True), (15, False)]
)
def test_the_count_assessed_is_within_14_days_either_side_of_the_timepoint(
    offset: int, evaluable: bool
) -> None:
    collected_on = MONTH_6 + timedelta(days=offset)

    finding = response([blood(collected_on, **PARTIAL_COUNTS)])

    if evaluable:
        assert finding.category is ResponseCategory.PARTIAL
        assert finding.count_used_on == collected_on
    else:
        assert finding.category is ResponseCategory.NOT_EVALUABLE
        assert finding.count_used_on is None
        assert finding.reasons[-1] == (
            "not evaluable: no blood count between 2011-08-14 and 2011-09-11"
        )


def test_the_last_count_in_the_window_is_the_one_assessed() -> None:
    earlier = blood(MONTH_6 - timedelta(days=10), **COMPLETE_COUNTS)
    later = blood(MONTH_6 + timedelta(days=5), **SEVERE_COUNTS)
    outside = blood(MONTH_6 + timedelta(days=20), **COMPLETE_COUNTS)

    finding = response([later, earlier, outside])

    assert finding.count_used_on == MONTH_6 + timedelta(days=5)
    assert finding.category is ResponseCategory.NONE


def test_of_two_counts_on_the_same_day_the_one_recorded_later_is_assessed() -> None:
    first = blood(MONTH_6, **SEVERE_COUNTS)
    correction = blood(MONTH_6, **PARTIAL_COUNTS)

    assert response([first, correction]).category is ResponseCategory.PARTIAL
    assert response([correction, first]).category is ResponseCategory.NONE


@pytest.mark.parametrize(
    ("died", "expected"),
    [
        (MONTH_6 - timedelta(days=1), ResponseCategory.NOT_EVALUABLE),
        (MONTH_6, ResponseCategory.NOT_EVALUABLE),
        (MONTH_6 + timedelta(days=1), ResponseCategory.PARTIAL),
    ],
)
def test_a_subject_who_died_on_or_before_the_timepoint_is_not_evaluable(
    died: date, expected: ResponseCategory
) -> None:
    counts = [blood(MONTH_6 - timedelta(days=3), **PARTIAL_COUNTS)]

    assert response(counts, died_on=died).category is expected


def test_the_reason_for_not_evaluable_names_the_death() -> None:
    finding = response([], died_on=date(2011, 6, 2))

    assert finding.reasons[-1] == "not evaluable: died on 2011-06-02, on or before the timepoint"


def test_a_missing_haemoglobin_that_could_make_the_response_complete_is_not_evaluable() -> None:
    values: Counts = {**COMPLETE_COUNTS, "hb": None}

    finding = response([blood(MONTH_6, **values)])

    assert finding.category is ResponseCategory.NOT_EVALUABLE
    assert finding.count_used_on is None
    assert "for a complete response, haemoglobin not recorded" in finding.reasons


def test_a_missing_haemoglobin_does_not_matter_when_the_counts_are_still_severe() -> None:
    values: Counts = {**SEVERE_COUNTS, "hb": None}

    finding = response([blood(MONTH_6, **values)])

    assert finding.category is ResponseCategory.NONE


def test_the_reasons_name_the_count_and_the_transfusion_that_decided_independence() -> None:
    finding = response([blood(MONTH_6, **PARTIAL_COUNTS)], [red_cells(55)])

    assert "blood count of 2011-08-28 assessed (the last in the window)" in finding.reasons
    assert (
        "not transfusion-independent: last transfusion 2 unit(s) of red cells on 2011-07-04, "
        "55 days before the count, within the 56 transfusion-free days required"
    ) in finding.reasons


def test_a_response_before_month_1_is_refused() -> None:
    with pytest.raises(ValueError, match="month 1 or later"):
        response([], month=0)


# --- beside the investigator's assessment ---------------------------------------------------


def test_the_same_category_from_the_investigator_is_an_agreement() -> None:
    finding = response([blood(MONTH_6, **PARTIAL_COUNTS)])

    comparison = compare_with_investigator(finding, ResponseCategory.PARTIAL)

    assert comparison.agreement is Agreement.AGREE
    assert not comparison.flagged
    assert comparison.summary == "month 6: computed partial; investigator agrees"


def test_a_different_category_from_the_investigator_is_a_flagged_disagreement() -> None:
    finding = response([blood(MONTH_6, **SEVERE_COUNTS)])

    comparison = compare_with_investigator(finding, ResponseCategory.PARTIAL)

    assert comparison.agreement is Agreement.DISAGREE
    assert comparison.flagged
    assert comparison.summary == "month 6: DISAGREEMENT: computed none, investigator partial"


def test_an_investigator_response_the_store_could_not_evaluate_is_a_disagreement() -> None:
    comparison = compare_with_investigator(response([]), ResponseCategory.PARTIAL)

    assert comparison.flagged


def test_no_investigator_assessment_is_shown_as_such_and_not_flagged() -> None:
    comparison = compare_with_investigator(response([]), None)

    assert comparison.agreement is Agreement.NO_INVESTIGATOR_ASSESSMENT
    assert not comparison.flagged


# --- serious adverse event notification clocks ----------------------------------------------

OLD_RULES = ReportingRuleSet("old rules", date(2011, 1, 1))
NEW_RULES = ReportingRuleSet(
    "new rules", date(2012, 6, 1), fatal_or_life_threatening_days=5, other_serious_days=10
)
CLOCKS = ReportingClocks((NEW_RULES, OLD_RULES))
LEARNED = date(2011, 5, 2)


def test_the_default_clocks_are_7_days_for_death_or_life_threat_and_15_otherwise() -> None:
    assert OLD_RULES.fatal_or_life_threatening_days == 7
    assert OLD_RULES.other_serious_days == 15


@pytest.mark.requirement("ANVISA-RDC506-1")
def test_a_rule_set_applies_from_the_day_it_comes_into_force() -> None:
    assert CLOCKS.rule_set_on(date(2012, 6, 1)) is NEW_RULES
    assert CLOCKS.rule_set_on(date(2012, 5, 31)) is OLD_RULES


@pytest.mark.requirement("ANVISA-RDC506-1")
def test_before_the_earliest_rule_set_the_earliest_applies_and_the_clock_says_so() -> None:
    learned = date(2010, 12, 31)
    assert CLOCKS.rule_set_on(learned) is OLD_RULES

    clock = notification_clock(True, frozenset({"death"}), learned, [], learned, CLOCKS)

    assert clock is not None
    assert clock.rule_set_name == "old rules"
    assert clock.reasons[0] == (
        "learned of on 2010-12-31, before the earliest rule set (old rules, in force from "
        "2011-01-01); its clocks are applied"
    )


@pytest.mark.requirement("ANVISA-RDC506-1")
def test_the_rule_set_in_force_on_the_day_the_sponsor_learned_sets_the_clock() -> None:
    clock = notification_clock(
        True, frozenset({"hospitalisation"}), date(2012, 6, 1), [], date(2012, 6, 1), CLOCKS
    )

    assert clock is not None
    assert clock.rule_set_name == "new rules"
    assert clock.days_allowed == 10


@pytest.mark.parametrize(
    ("criteria", "days"),
    [
        ({"death"}, 7),
        ({"life_threatening"}, 7),
        ({"hospitalisation", "life_threatening"}, 7),
        ({"hospitalisation"}, 15),
        ({"disability"}, 15),
        ({"congenital_anomaly"}, 15),
        ({"important_medical_event"}, 15),
    ],
)
def test_death_or_a_threat_to_life_is_notified_within_7_days_anything_else_within_15(
    criteria: set[str], days: int
) -> None:
    clock = notification_clock(True, frozenset(criteria), LEARNED, [], LEARNED, CLOCKS)

    assert clock is not None
    assert clock.days_allowed == days
    assert clock.due_on == LEARNED + timedelta(days=days)


def test_the_seriousness_criteria_are_accepted_as_enum_members_too() -> None:
    clock = notification_clock(
        True, frozenset({SeriousnessCriterion.DEATH}), LEARNED, [], LEARNED, CLOCKS
    )

    assert clock is not None
    assert clock.due_on == date(2011, 5, 9)


def test_a_notification_on_the_due_date_meets_the_clock() -> None:
    clock = notification_clock(
        True, frozenset({"death"}), LEARNED, [date(2011, 5, 9)], date(2011, 6, 1), CLOCKS
    )

    assert clock is not None
    assert clock.status is ClockStatus.MET
    assert clock.days_late == 0
    assert clock.first_notified_on == date(2011, 5, 9)


def test_a_notification_one_day_after_the_due_date_is_late_by_one_day() -> None:
    clock = notification_clock(
        True, frozenset({"death"}), LEARNED, [date(2011, 5, 10)], date(2011, 6, 1), CLOCKS
    )

    assert clock is not None
    assert clock.status is ClockStatus.LATE
    assert clock.days_late == 1


def test_the_first_notification_is_the_one_that_counts_not_the_follow_ups() -> None:
    notified = [date(2011, 5, 20), date(2011, 5, 6), date(2011, 5, 30)]

    clock = notification_clock(
        True, frozenset({"death"}), LEARNED, notified, date(2011, 6, 1), CLOCKS
    )

    assert clock is not None
    assert clock.first_notified_on == date(2011, 5, 6)
    assert clock.status is ClockStatus.MET


def test_an_event_not_notified_past_its_due_date_is_overdue_by_the_days_since() -> None:
    clock = notification_clock(
        True, frozenset({"hospitalisation"}), LEARNED, [], date(2011, 5, 20), CLOCKS
    )

    assert clock is not None
    assert clock.due_on == date(2011, 5, 17)
    assert clock.status is ClockStatus.OVERDUE
    assert clock.days_late == 3
    assert clock.first_notified_on is None


def test_an_event_not_yet_notified_on_its_due_date_is_still_pending() -> None:
    clock = notification_clock(
        True, frozenset({"hospitalisation"}), LEARNED, [], date(2011, 5, 17), CLOCKS
    )

    assert clock is not None
    assert clock.status is ClockStatus.PENDING
    assert clock.days_late == 0


def test_a_non_serious_adverse_event_has_no_notification_clock() -> None:
    assert notification_clock(False, frozenset(), LEARNED, [], LEARNED, CLOCKS) is None


def test_a_serious_event_without_a_criterion_gets_the_15_day_clock() -> None:
    clock = notification_clock(True, frozenset(), LEARNED, [], LEARNED, CLOCKS)

    assert clock is not None
    assert clock.days_allowed == 15


def test_an_unknown_seriousness_code_is_refused() -> None:
    with pytest.raises(ValueOutOfRange, match="hospitalization"):
        notification_clock(True, frozenset({"hospitalization"}), LEARNED, [], LEARNED, CLOCKS)


def test_seriousness_criteria_on_an_event_not_marked_serious_are_refused() -> None:
    with pytest.raises(ValueOutOfRange, match="not marked serious"):
        notification_clock(False, frozenset({"death"}), LEARNED, [], LEARNED, CLOCKS)


def test_two_rule_sets_coming_into_force_on_the_same_day_are_refused() -> None:
    with pytest.raises(ValueError, match="same day"):
        ReportingClocks((OLD_RULES, ReportingRuleSet("rival", OLD_RULES.in_force_from)))


def test_a_protocol_without_reporting_rules_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ReportingClocks(())


# --- lab flags -------------------------------------------------------------------------------

PLATELET_REFERENCE = ReferenceRange(Decimal(150), Decimal(450))
PLATELET_PLAUSIBLE = PlausibleRange(Decimal(0), Decimal(2000))


@pytest.mark.parametrize(
    ("value", "flags"),
    [
        ("149", ("low",)),
        ("150", ()),
        ("450", ()),
        ("451", ("high",)),
        ("2000", ("high",)),
        ("2001", ("high", "implausible")),
    ],
)
def test_a_value_is_flagged_outside_the_reference_range_and_beyond_the_plausible(
    value: str, flags: tuple[str, ...]
) -> None:
    assert flag_value(Decimal(value), PLATELET_REFERENCE, PLATELET_PLAUSIBLE) == flags


def test_a_value_below_the_plausible_range_is_both_low_and_implausible() -> None:
    plausible = PlausibleRange(Decimal(2), Decimal(25))
    reference = ReferenceRange(Decimal("12.0"), Decimal("17.5"))

    assert flag_value(Decimal("1.9"), reference, plausible) == (
        LabFlag.LOW,
        LabFlag.IMPLAUSIBLE,
    )
    assert flag_value(Decimal(2), reference, plausible) == (LabFlag.LOW,)


def test_an_open_ended_reference_range_flags_only_its_closed_end() -> None:
    at_most = ReferenceRange(None, Decimal(5))

    assert flag_value(Decimal(-100), at_most, None) == ()
    assert flag_value(Decimal("5.1"), at_most, None) == ("high",)


def test_a_reference_range_with_its_low_above_its_high_is_refused() -> None:
    with pytest.raises(ValueError, match="above its high"):
        ReferenceRange(Decimal(10), Decimal(5))


@pytest.mark.parametrize(
    ("level", "flags"),
    [
        ("149.9", ("below target",)),
        ("150", ()),
        ("250", ()),
        ("250.1", ("above target",)),
    ],
)
def test_a_cyclosporine_trough_between_150_and_250_is_on_target(
    level: str, flags: tuple[str, ...]
) -> None:
    assert flag_trough(Decimal(level), CyclosporineTroughTarget()) == flags
