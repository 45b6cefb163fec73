"""A trial subject's life in the study, as a signed, chained event stream.

Methods are the trial's language (``subject.enrol``, ``subject.give_msc_infusion``); each checks
the protocol's rules in a ``check_*`` method and then records one event. Nothing clinical is
recorded before informed consent (the TCLE), nothing is given before enrolment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from domain.errors import (
    AlreadyEnrolled,
    ConsentRequired,
    EligibilityNotMet,
    InfusionOutOfSequence,
    NotEnrolled,
    UnitNotAccepted,
    ValueOutOfRange,
)
from domain.protocol import StudyProtocol, protocol_for
from domain.quantities import Quantity
from domain.signed import SignedAggregate


class Sex(Enum):
    """Sex as CDISC SDTM codes it (DM.SEX)."""

    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class Relatedness(Enum):
    """Causal relation of an adverse event to the study product (WHO-UMC scale)."""

    UNRELATED = "unrelated"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    PROBABLE = "probable"
    DEFINITE = "definite"


class Status(Enum):
    """Where a subject stands in the study."""

    SCREENED = "screened"
    CONSENTED = "consented"
    ENROLLED = "enrolled"


@dataclass(frozen=True)
class MscInfusion:
    """One mesenchymal stromal cell infusion as the subject's state remembers it."""

    number: int
    dose: Quantity
    product_lot: str
    given_at: datetime


def subject_stream(study_id: str, subject_code: str) -> str:
    """A subject's stream name: ``<study>/<subject code>``."""
    return f"{study_id}/{subject_code}"


class Subject(SignedAggregate):
    """A pseudonymous trial subject, known only by study code (LGPD: no identity in events)."""

    class Event(SignedAggregate.Event):
        """An event of a subject's stream; the signed body addresses it by study and code."""

        @staticmethod
        def stream_of(body: dict[str, Any]) -> str:
            return subject_stream(str(body.get("study")), str(body.get("subject")))

    class Screened(Event, SignedAggregate.Created):
        """The subject was screened for the study."""

        site: str
        sex: Sex
        age: int
        screened_on: date

    class ConsentObtained(Event):
        """Free and informed consent (TCLE) was signed, in a given version, on a given date."""

        tcle_version: str
        consented_on: date

        def apply(self, subject: Subject) -> None:
            subject.tcle_version = self.tcle_version
            subject.status = Status.CONSENTED

    class Enrolled(Event):
        """The subject met every eligibility criterion and was enrolled."""

        eligibility: Mapping[str, bool]
        enrolled_on: date

        def apply(self, subject: Subject) -> None:
            subject.status = Status.ENROLLED

    class MscInfusionGiven(Event):
        """An infusion of allogeneic bone-marrow mesenchymal stromal cells was given."""

        infusion_number: int
        dose: Quantity
        product_lot: str
        given_at: datetime

        def apply(self, subject: Subject) -> None:
            subject.infusions.append(
                MscInfusion(self.infusion_number, self.dose, self.product_lot, self.given_at)
            )

    class LabResultRecorded(Event):
        """A laboratory result, with its unit and the time the sample was collected."""

        analyte: str
        result: Quantity
        collected_at: datetime

        def apply(self, subject: Subject) -> None:
            subject.latest_results[self.analyte] = self.result

    class AdverseEventReported(Event):
        """An adverse event, graded by CTCAE v5, with seriousness and relatedness to the MSC."""

        term: str
        grade: int
        serious: bool
        relatedness: Relatedness
        onset_on: date

    def __init__(self, site: str, sex: Sex, age: int, screened_on: date) -> None:
        self.site = site
        self.sex = sex
        self.age = age
        self.screened_on = screened_on
        self.status = Status.SCREENED
        self.tcle_version: str | None = None
        self.infusions: list[MscInfusion] = []
        self.latest_results: dict[str, Quantity] = {}

    @property
    def study_id(self) -> str:
        """The study this subject takes part in."""
        return self.stream.split("/", 1)[0]

    @property
    def subject_code(self) -> str:
        """The pseudonymous study code, e.g. ``RP-101``."""
        return self.stream.split("/", 1)[1]

    @property
    def protocol(self) -> StudyProtocol:
        """The protocol whose rules this subject's records keep."""
        return protocol_for(self.study_id)

    @classmethod
    def screen(
        cls,
        *,
        protocol: StudyProtocol,
        subject_code: str,
        site: str,
        sex: Sex,
        age: int,
        screened_on: date,
    ) -> Subject:
        """Open a subject's record at screening. Any age may be screened; enrolment decides."""
        if age < 0 or age > 150:
            raise ValueOutOfRange(f"age {age} is not a possible age in years")
        subject: Subject = cls._create(
            cls.Screened,
            stream=subject_stream(protocol.study_id, subject_code),
            site=site,
            sex=sex,
            age=age,
            screened_on=screened_on,
        )
        return subject

    def obtain_consent(self, *, tcle_version: str, consented_on: date) -> None:
        """Record the signed TCLE."""
        self.trigger_event(
            self.ConsentObtained, tcle_version=tcle_version, consented_on=consented_on
        )

    def enrol(self, *, eligibility: Mapping[str, bool], enrolled_on: date) -> None:
        """Enrol the subject, with every eligibility criterion of the protocol answered."""
        self.check_consent_obtained()
        if self.status is Status.ENROLLED:
            raise AlreadyEnrolled(f"{self.subject_code} is already enrolled")
        self.check_eligible(eligibility)
        self.trigger_event(self.Enrolled, eligibility=dict(eligibility), enrolled_on=enrolled_on)

    def give_msc_infusion(
        self, *, infusion_number: int, dose: Quantity, product_lot: str, given_at: datetime
    ) -> None:
        """Record an MSC infusion, numbered in order up to the protocol's maximum."""
        self.check_enrolled()
        self.check_unit(dose, self.protocol.msc_dose_unit, "MSC dose")
        self.check_not_negative(dose, "MSC dose")
        expected = len(self.infusions) + 1
        if infusion_number != expected or infusion_number > self.protocol.max_msc_infusions:
            raise InfusionOutOfSequence(
                f"infusion {infusion_number} given; the next is {expected} "
                f"(at most {self.protocol.max_msc_infusions})"
            )
        self.trigger_event(
            self.MscInfusionGiven,
            infusion_number=infusion_number,
            dose=dose,
            product_lot=product_lot,
            given_at=given_at,
        )

    def record_lab_result(self, *, analyte: str, result: Quantity, collected_at: datetime) -> None:
        """Record a laboratory result in the unit the protocol records that analyte in."""
        self.check_consent_obtained()
        unit = self.protocol.lab_units.get(analyte)
        if unit is None:
            raise UnitNotAccepted(
                f"{analyte!r} is not an analyte of this protocol "
                f"(one of: {', '.join(sorted(self.protocol.lab_units))})"
            )
        self.check_unit(result, unit, analyte)
        self.check_not_negative(result, analyte)
        self.trigger_event(
            self.LabResultRecorded, analyte=analyte, result=result, collected_at=collected_at
        )

    def report_adverse_event(
        self, *, term: str, grade: int, serious: bool, relatedness: Relatedness, onset_on: date
    ) -> None:
        """Report an adverse event with its CTCAE v5 grade (1 mild ... 5 death)."""
        self.check_consent_obtained()
        if not 1 <= grade <= 5:
            raise ValueOutOfRange(f"CTCAE grade {grade} is not one of 1-5")
        self.trigger_event(
            self.AdverseEventReported,
            term=term,
            grade=grade,
            serious=serious,
            relatedness=relatedness,
            onset_on=onset_on,
        )

    def check_consent_obtained(self) -> None:
        """Nothing clinical is recorded before informed consent."""
        if self.tcle_version is None:
            raise ConsentRequired(f"{self.subject_code} has no signed TCLE on record")

    def check_enrolled(self) -> None:
        """Treatment is given to enrolled subjects only."""
        self.check_consent_obtained()
        if self.status is not Status.ENROLLED:
            raise NotEnrolled(f"{self.subject_code} is not enrolled")

    def check_eligible(self, eligibility: Mapping[str, bool]) -> None:
        """Every criterion answered, age in range, every inclusion met and no exclusion."""
        protocol = self.protocol
        failures: list[str] = []
        unanswered = sorted(protocol.criteria_codes - eligibility.keys())
        if unanswered:
            failures.append("criteria not answered: " + ", ".join(unanswered))
        unknown = sorted(eligibility.keys() - protocol.criteria_codes)
        if unknown:
            failures.append("criteria not in the protocol: " + ", ".join(unknown))
        if not protocol.min_age <= self.age <= protocol.max_age:
            failures.append(
                f"age {self.age} is outside {protocol.min_age}-{protocol.max_age} years"
            )
        failures += [
            f"inclusion {c.code} not met ({c.text})"
            for c in protocol.inclusion
            if eligibility.get(c.code) is False
        ]
        failures += [
            f"exclusion {c.code} applies ({c.text})"
            for c in protocol.exclusion
            if eligibility.get(c.code) is True
        ]
        if failures:
            raise EligibilityNotMet(failures)

    @staticmethod
    def check_unit(quantity: Quantity, unit: str, what: str) -> None:
        """A value is recorded in the protocol's unit for it."""
        if quantity.unit != unit:
            raise UnitNotAccepted(f"{what} is recorded in {unit}, not {quantity.unit}")

    @staticmethod
    def check_not_negative(quantity: Quantity, what: str) -> None:
        """Amounts and concentrations cannot be negative."""
        if quantity.value < Decimal(0):
            raise ValueOutOfRange(f"{what} cannot be negative ({quantity})")


RECORDERS: dict[str, Callable[..., None]] = {
    Subject.ConsentObtained.__name__: Subject.obtain_consent,
    Subject.Enrolled.__name__: Subject.enrol,
    Subject.MscInfusionGiven.__name__: Subject.give_msc_infusion,
    Subject.LabResultRecorded.__name__: Subject.record_lab_result,
    Subject.AdverseEventReported.__name__: Subject.report_adverse_event,
}
"""The command method that records each kind of event on an existing subject.

``Screened`` is not here: it opens a subject (:meth:`Subject.screen`).
"""
