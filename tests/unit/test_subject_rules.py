"""The protocol's rules, kept by the Subject aggregate (no database, no signatures checked)."""

from __future__ import annotations

import base64
import contextvars
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.authorship import Authorship, authored
from domain.errors import (
    AlreadyEnrolled,
    AuthorshipMissing,
    ConsentRequired,
    EligibilityNotMet,
    InfusionOutOfSequence,
    NotEnrolled,
    UnitNotAccepted,
    ValueOutOfRange,
)
from domain.protocol import NCT01297972
from domain.quantities import Quantity
from domain.subject import Relatedness, Sex, Status, Subject
from signatures.chain import GENESIS_HASH

ELIGIBLE = {**{f"IN{n}": True for n in range(1, 4)}, **{f"EX{n}": False for n in range(1, 10)}}
CELLS = "10^6 cells/kg"


@pytest.fixture(autouse=True)
def signed_by_someone() -> Iterator[None]:
    """Domain tests do not check signatures; the store does (tests/integration)."""
    with authored(Authorship("{}", base64.b64encode(bytes(64)).decode())):
        yield


def screened(age: int = 34) -> Subject:
    return Subject.screen(
        protocol=NCT01297972,
        subject_code="RP-101",
        site="RP",
        sex=Sex.FEMALE,
        age=age,
        screened_on=date(2011, 2, 14),
    )


def consented(age: int = 34) -> Subject:
    subject = screened(age)
    subject.obtain_consent(tcle_version="2.0", consented_on=date(2011, 2, 14))
    return subject


def enrolled() -> Subject:
    subject = consented()
    subject.enrol(eligibility=ELIGIBLE, enrolled_on=date(2011, 2, 21))
    return subject


def infuse(subject: Subject, number: int, dose: str = "2.7", unit: str = CELLS) -> None:
    subject.give_msc_infusion(
        infusion_number=number,
        dose=Quantity(Decimal(dose), unit),
        product_lot="MSC-2011-014",
        given_at=datetime(2011, 3, 10, 10, 30, tzinfo=UTC),
    )


def test_an_eligible_consented_subject_is_enrolled() -> None:
    subject = enrolled()

    assert subject.status is Status.ENROLLED
    assert subject.version == 3
    assert subject.stream == "NCT01297972/RP-101"


def test_enrolment_before_consent_is_refused() -> None:
    with pytest.raises(ConsentRequired):
        screened().enrol(eligibility=ELIGIBLE, enrolled_on=date(2011, 2, 21))


@pytest.mark.parametrize("age", [17, 66])
def test_enrolment_outside_ages_18_to_65_is_refused(age: int) -> None:
    with pytest.raises(EligibilityNotMet, match=f"age {age}"):
        consented(age).enrol(eligibility=ELIGIBLE, enrolled_on=date(2011, 2, 21))


@pytest.mark.parametrize("age", [18, 65])
def test_the_age_limits_themselves_are_eligible(age: int) -> None:
    subject = consented(age)
    subject.enrol(eligibility=ELIGIBLE, enrolled_on=date(2011, 2, 21))
    assert subject.status is Status.ENROLLED


def test_an_inclusion_criterion_not_met_refuses_enrolment_and_names_it() -> None:
    with pytest.raises(EligibilityNotMet, match="inclusion IN3 not met"):
        consented().enrol(eligibility={**ELIGIBLE, "IN3": False}, enrolled_on=date(2011, 2, 21))


def test_an_exclusion_criterion_that_applies_refuses_enrolment_and_names_it() -> None:
    with pytest.raises(EligibilityNotMet, match="exclusion EX7 applies"):
        consented().enrol(eligibility={**ELIGIBLE, "EX7": True}, enrolled_on=date(2011, 2, 21))


def test_every_criterion_must_be_answered() -> None:
    answers = {code: value for code, value in ELIGIBLE.items() if code != "EX9"}
    with pytest.raises(EligibilityNotMet, match="not answered: EX9"):
        consented().enrol(eligibility=answers, enrolled_on=date(2011, 2, 21))


def test_a_criterion_the_protocol_does_not_have_is_refused() -> None:
    with pytest.raises(EligibilityNotMet, match="not in the protocol: EX10"):
        consented().enrol(eligibility={**ELIGIBLE, "EX10": False}, enrolled_on=date(2011, 2, 21))


def test_a_refused_enrolment_records_nothing() -> None:
    subject = consented()
    with pytest.raises(EligibilityNotMet):
        subject.enrol(eligibility={**ELIGIBLE, "IN1": False}, enrolled_on=date(2011, 2, 21))
    assert subject.version == 2
    assert subject.status is Status.CONSENTED


def test_a_subject_is_enrolled_once() -> None:
    with pytest.raises(AlreadyEnrolled):
        enrolled().enrol(eligibility=ELIGIBLE, enrolled_on=date(2011, 2, 22))


def test_infusions_need_an_enrolled_subject() -> None:
    with pytest.raises(NotEnrolled):
        infuse(consented(), 1)


def test_infusions_are_numbered_in_order_up_to_five() -> None:
    subject = enrolled()
    for number in range(1, 6):
        infuse(subject, number)
    with pytest.raises(InfusionOutOfSequence, match="at most 5"):
        infuse(subject, 6)
    assert len(subject.infusions) == 5


def test_an_infusion_out_of_sequence_is_refused() -> None:
    subject = enrolled()
    with pytest.raises(InfusionOutOfSequence):
        infuse(subject, 2)


def test_an_msc_dose_in_another_unit_is_refused() -> None:
    with pytest.raises(UnitNotAccepted, match="10\\^6 cells/kg"):
        infuse(enrolled(), 1, unit="cells")


def test_a_negative_dose_is_refused() -> None:
    with pytest.raises(ValueOutOfRange):
        infuse(enrolled(), 1, dose="-1")


def test_doses_stay_exact_decimals() -> None:
    subject = enrolled()
    infuse(subject, 1, dose="2.7")
    assert subject.infusions[0].dose.value == Decimal("2.7")
    assert str(subject.infusions[0].dose) == "2.7 10^6 cells/kg"


def test_a_lab_result_before_consent_is_refused() -> None:
    with pytest.raises(ConsentRequired):
        screened().record_lab_result(
            analyte="haemoglobin",
            result=Quantity(Decimal("7.2"), "g/dL"),
            collected_at=datetime(2011, 2, 21, tzinfo=UTC),
        )


def test_a_lab_result_in_the_wrong_unit_is_refused() -> None:
    with pytest.raises(UnitNotAccepted, match="g/dL"):
        consented().record_lab_result(
            analyte="haemoglobin",
            result=Quantity(Decimal("72"), "g/L"),
            collected_at=datetime(2011, 2, 21, tzinfo=UTC),
        )


def test_an_analyte_the_protocol_does_not_record_is_refused() -> None:
    with pytest.raises(UnitNotAccepted, match="not an analyte"):
        consented().record_lab_result(
            analyte="glucose",
            result=Quantity(Decimal("5"), "mmol/L"),
            collected_at=datetime(2011, 2, 21, tzinfo=UTC),
        )


@pytest.mark.parametrize("grade", [0, 6])
def test_an_adverse_event_grade_outside_ctcae_1_to_5_is_refused(grade: int) -> None:
    with pytest.raises(ValueOutOfRange):
        consented().report_adverse_event(
            term="Nausea",
            grade=grade,
            serious=False,
            relatedness=Relatedness.UNRELATED,
            onset_on=date(2011, 3, 1),
        )


def test_each_event_carries_the_previous_events_hash() -> None:
    subject = enrolled()
    events = subject.collect_events()

    assert events[0].previous_hash == GENESIS_HASH
    assert [e.previous_hash for e in events[1:]] == [e.event_hash for e in events[:-1]]
    assert subject.chain_head == events[-1].event_hash


def test_no_event_is_made_without_a_signed_authorship() -> None:
    subject = consented()

    def record_unsigned() -> None:
        subject.record_lab_result(
            analyte="haemoglobin",
            result=Quantity(Decimal("7.2"), "g/dL"),
            collected_at=datetime(2011, 2, 21, tzinfo=UTC),
        )

    # A fresh context has no authorship in force, as outside any command.
    with pytest.raises(AuthorshipMissing):
        contextvars.Context().run(record_unsigned)
    assert subject.version == 2
