"""A protocol is data: the shipped TOML loads, a second study's file makes the domain keep its
rules, and a missing or mistyped setting is refused by name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from importlib import resources

import pytest

from domain.errors import (
    EligibilityNotMet,
    InfusionOutOfSequence,
    InfusionTooSoon,
    ProtocolDefinitionInvalid,
    UnknownStudy,
)
from domain.protocol import (
    NCT01297972,
    PROTOCOLS,
    StudyProtocol,
    load_protocol,
    protocol_for,
    serve_protocol,
)
from tests.unit.subjects import (
    ASSESSED_ON,
    ELIGIBLE,
    ENROLLED_ON,
    FIRST_INFUSION,
    consented,
    infusion,
)

SHIPPED = resources.files("domain.protocols").joinpath("NCT01297972.toml").read_text("utf-8")
SECOND_STUDY = "NCT09999999"
SECOND_CRITERIA = {"INC-A": True, "INC-B": True, "EXC-A": False}


pytestmark = pytest.mark.usefixtures("someone_signs")


RP_ZONE = (
    "[audit_review.sites.RP]\n# Hospital das Clínicas de Ribeirão Preto, its research unit's "
    'office hours.\ntime_zone = "America/Sao_Paulo"'
)
DAYS = "dormant_days = 90\nworking_days = "
"""Where the protocol file's audit review settings are edited (each occurs once)."""


def working_hours(start: str, end: str) -> str:
    """The study's working hours in the protocol file (the line before a blank one)."""
    return f'working_hours = {{ start = "{start}", end = "{end}" }}\n\n'


def edited(text: str, old: str, new: str) -> str:
    """``text`` with one setting rewritten (the setting must be there)."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def second_study_text() -> str:
    """Another study: its own id, ages 40-75, three criteria, at most 3 infusions 10 days apart."""
    text = edited(SHIPPED, 'id = "NCT01297972"', f'id = "{SECOND_STUDY}"')
    text = edited(text, "min_age = 18", "min_age = 40")
    text = edited(text, "max_age = 65", "max_age = 75")
    text = re.sub(
        r"inclusion = \[.*?\]\nexclusion = \[.*?\]\n",
        'inclusion = [\n    { code = "INC-A", text = "Myelodysplastic syndrome, low risk" },\n'
        '    { code = "INC-B", text = "Transfusion dependent" },\n]\n'
        'exclusion = [\n    { code = "EXC-A", text = "Active infection" },\n]\n',
        text,
        count=1,
        flags=re.DOTALL,
    )
    text = edited(text, "max_infusions = 5", "max_infusions = 3")
    return edited(text, "min_days_between = 5", "min_days_between = 10")


@pytest.fixture
def second_study() -> Iterator[StudyProtocol]:
    """The second study served for the test only."""
    served = dict(PROTOCOLS)
    protocol = load_protocol(second_study_text())
    serve_protocol(protocol)
    try:
        yield protocol
    finally:
        PROTOCOLS.clear()
        PROTOCOLS.update(served)


def test_the_shipped_protocol_loads_as_the_registry_record_says() -> None:
    protocol = load_protocol(SHIPPED)

    assert protocol == NCT01297972
    assert protocol_for("NCT01297972") is NCT01297972
    assert (protocol.min_age, protocol.max_age) == (18, 65)
    assert [c.code for c in protocol.inclusion] == ["IN1", "IN2", "IN3"]
    assert [c.code for c in protocol.exclusion] == [f"EX{n}" for n in range(1, 10)]
    assert protocol.criteria_codes == frozenset(ELIGIBLE)
    assert (protocol.ratg.days, protocol.ratg.daily_dose) == (5, Decimal("3.5"))
    assert (protocol.msc.max_infusions, protocol.msc.min_days_between) == (5, 5)
    assert protocol.msc.dose_unit == "10^6 cells/kg"
    assert protocol.lab_units["haemoglobin"] == "g/dL"
    assert protocol.schedule.chimerism_days == (30, 90, 180)
    assert protocol.schedule.response_months == (3, 6)
    assert str(protocol.time_zone) == "America/Sao_Paulo"


def test_a_study_the_store_does_not_serve_is_unknown() -> None:
    with pytest.raises(UnknownStudy, match="NCT09999999"):
        protocol_for(SECOND_STUDY)


def test_a_second_studys_protocol_is_served_and_removed_again(
    second_study: StudyProtocol,
) -> None:
    assert protocol_for(SECOND_STUDY) is second_study
    assert second_study.msc.max_infusions == 3
    assert protocol_for("NCT01297972") is NCT01297972


def test_a_second_study_enrols_by_its_own_criteria_and_ages(second_study: StudyProtocol) -> None:
    subject = consented(70, protocol=second_study, code="SP-201")
    assert subject.stream == f"{SECOND_STUDY}/SP-201"

    with pytest.raises(EligibilityNotMet, match="not in the protocol: EX1"):
        subject.assess_eligibility(criteria=ELIGIBLE, assessed_on=ASSESSED_ON)
    subject.assess_eligibility(criteria=SECOND_CRITERIA, assessed_on=ASSESSED_ON)
    subject.enrol(enrolled_on=ENROLLED_ON)

    assert subject.enrolment is not None


def test_a_second_study_refuses_by_its_own_criteria(second_study: StudyProtocol) -> None:
    subject = consented(39, protocol=second_study, code="SP-202")
    subject.assess_eligibility(criteria={**SECOND_CRITERIA, "EXC-A": True}, assessed_on=ASSESSED_ON)

    with pytest.raises(EligibilityNotMet) as refusal:
        subject.enrol(enrolled_on=ENROLLED_ON)
    assert refusal.value.failures == [
        "age 39 is outside 40-75 years",
        "exclusion EXC-A applies (Active infection)",
    ]


def test_a_second_study_allows_its_own_number_of_infusions_and_interval(
    second_study: StudyProtocol,
) -> None:
    subject = consented(50, protocol=second_study, code="SP-203")
    subject.assess_eligibility(criteria=SECOND_CRITERIA, assessed_on=ASSESSED_ON)
    subject.enrol(enrolled_on=ENROLLED_ON)
    subject.give_msc_infusion(**infusion(1))
    with pytest.raises(InfusionTooSoon, match="at least 10 days apart"):
        subject.give_msc_infusion(**infusion(2))  # 7 days later, weekly in NCT01297972
    for number in (2, 3):
        subject.give_msc_infusion(
            **infusion(number, given_at=FIRST_INFUSION + timedelta(days=14 * (number - 1)))
        )

    with pytest.raises(InfusionOutOfSequence, match="at most 3"):
        subject.give_msc_infusion(**infusion(4, given_at=FIRST_INFUSION + timedelta(days=42)))
    assert [e["infusion_number"] for e in subject.infusions] == [1, 2, 3]


def test_the_first_study_keeps_its_rules_while_a_second_is_served(
    second_study: StudyProtocol,
) -> None:
    subject = consented(70)
    subject.assess_eligibility(criteria=ELIGIBLE, assessed_on=ASSESSED_ON)
    with pytest.raises(EligibilityNotMet, match="age 70 is outside 18-65"):
        subject.enrol(enrolled_on=ENROLLED_ON)


# -- a definition that is wrong is refused by name -------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("max_infusions = 5\n", "", "msc.max_infusions: missing"),
        ('id = "NCT01297972"\n', "", "study.id: missing"),
        ("[ratg]\n", "[atg]\n", "ratg: missing"),
        ("max_infusions = 5", 'max_infusions = "five"', "msc.max_infusions: a whole number"),
        ("max_infusions = 5", "max_infusions = -5", "msc.max_infusions: a whole number"),
        ("max_infusions = 5", "max_infusions = true", "msc.max_infusions: a whole number"),
        ("\ndays = 5", "\ndays = 5.0", "ratg.days: a whole number"),
        ("min_age = 18", 'min_age = "18"', "eligibility.min_age: a whole number"),
        ('dose_unit = "mg/kg"', "dose_unit = 3", "ratg.dose_unit: non-empty text"),
        ('dose_unit = "mg/kg"', 'dose_unit = "  "', "ratg.dose_unit: non-empty text"),
        (
            'country = "BR"\ntime_zone = "America/Sao_Paulo"',
            'country = "BR"\ntime_zone = "Brazil/Ribeirao"',
            "study.time_zone: 'Brazil/Ribeirao' is not an IANA time zone",
        ),
        (RP_ZONE, "[audit_review.sites.RP]\n", "audit_review.sites.RP.time_zone: missing"),
        ("entry_lag_days = 30", "entry_lag_days = -1", "audit_review.entry_lag_days: a whole"),
        ('void_rate_percent = "5"', "void_rate_percent = 5.0", "audit_review.void_rate_percent"),
        (DAYS + '["Mon", "Tue", "Wed", "Thu", "Fri"]', DAYS + '["Mo"]', "working_days: a list"),
        *[
            (working_hours("07:00", "19:00"), working_hours(start, end), f"audit_review.{named}")
            for start, end, named in [
                ("19:00", "07:00", "working_hours: start 19:00:00 is not before end"),
                ("7h", "19:00", 'working_hours.start: a time of day written "HH:MM"'),
                ("25:00", "19:00", 'working_hours.start: a time of day written "HH:MM"'),
            ]
        ],
        (
            "chimerism_days = [30, 90, 180]",
            'chimerism_days = [30, "90"]',
            "schedule.chimerism_days: a list of positive whole numbers",
        ),
        (
            "partial_requires_transfusion_independence = true",
            'partial_requires_transfusion_independence = "yes"',
            "response.partial_requires_transfusion_independence: true or false",
        ),
        ('daily_dose = "3.5"', 'daily_dose = "3,5"', "ratg.daily_dose: '3,5' is not a decimal"),
        ('daily_dose = "3.5"', 'daily_dose = "NaN"', "ratg.daily_dose: 'NaN' is not a finite"),
        (
            'plausible = { low = "0.5", high = "10" }',
            'plausible = { low = "10", high = "0.5" }',
            "ratg.plausible: low 10 is above high 0.5",
        ),
        (
            'plausible = { low = "0.5", high = "10" }',
            'plausible = { low = "0.5" }',
            "ratg.plausible.high: missing",
        ),
        (
            'in_force_from = "2015-02-20"',
            'in_force_from = "20/02/2015"',
            r"reporting.rule_sets\[0\].in_force_from: a date",
        ),
        (
            '{ code = "IN1", text',
            '{ cod = "IN1", text',
            r"eligibility.inclusion\[0\].code: missing",
        ),
    ],
)
def test_a_missing_or_mistyped_setting_is_refused_by_name(old: str, new: str, named: str) -> None:
    with pytest.raises(ProtocolDefinitionInvalid, match=named):
        load_protocol(edited(SHIPPED, old, new))


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('daily_dose = "3.5"', "daily_dose = 3.5", "ratg.daily_dose"),
        ('neutrophils_below = "0.5"', "neutrophils_below = 0.5", "severity.neutrophils_below"),
        (
            'trough_target = { low = "150", high = "250" }',
            'trough_target = { low = 150, high = "250" }',
            "cyclosporine.trough_target.low",
        ),
    ],
)
def test_a_float_where_a_decimal_string_is_expected_is_refused(
    old: str, new: str, named: str
) -> None:
    with pytest.raises(ProtocolDefinitionInvalid, match=f"{named}: a decimal written as a string"):
        load_protocol(edited(SHIPPED, old, new))


def test_text_that_is_not_toml_is_refused() -> None:
    with pytest.raises(ProtocolDefinitionInvalid, match="not TOML"):
        load_protocol("[study\nid = ")


def test_further_assessments_are_scheduled_by_name_from_screening_on() -> None:
    assert PROTOCOLS["NCT01297972"].schedule.assessment_months == {"performance_status": (0, 3, 6)}
    text = edited(SHIPPED, "performance_status = [0, 3, 6]", "frailty = [0, 12]")

    assert load_protocol(text).schedule.assessment_months == {"frailty": (0, 12)}


@pytest.mark.parametrize("months", ["[0, -3]", '["3"]', "3"])
def test_an_assessments_months_that_are_no_visits_are_refused_by_name(months: str) -> None:
    text = edited(SHIPPED, "performance_status = [0, 3, 6]", f"performance_status = {months}")

    with pytest.raises(ProtocolDefinitionInvalid, match=r"schedule\.assessment_months: lists"):
        load_protocol(text)
