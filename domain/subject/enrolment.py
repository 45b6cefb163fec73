"""Screening, informed consent, eligibility and enrolment: the records that open a subject."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.delegation import Task
from domain.errors import AlreadyEnrolled, EligibilityNotMet, ValueOutOfRange
from domain.protocol import StudyProtocol
from domain.signed import SignedAggregate
from domain.subject.declaration import Sdtm, ValueType, item
from domain.subject.record import Record
from domain.vocabulary import Sex

if TYPE_CHECKING:
    from domain.subject.aggregate import Subject

DS_TERM = Sdtm("DS", "DSTERM")


class Screened(Record, SignedAggregate.Created):
    """The subject was screened for the study at a site."""

    DATED_BY = "screened_on"
    MAY_PRECEDE_CONSENT = True
    VOIDABLE = False
    FIXED: ClassVar[frozenset[str]] = frozenset({"site"})
    site: str = item("The site's code, e.g. RP", value=ValueType.CODE, sdtm=Sdtm("DM", "SITEID"))
    sex: Sex = item("CDISC SEX: F, M or U", sdtm=Sdtm("DM", "SEX"))
    age: int = item("Age in years at screening", unit="years", sdtm=Sdtm("DM", "AGE"))
    screened_on: date = item("The day the subject was screened")
    synthetic: bool | None = item(
        "true for demonstration data (no person behind the record)", optional=True
    )
    """True for demonstration data: no person stands behind this record."""

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        age = fields["age"]
        if not 0 <= age <= 130:
            raise ValueOutOfRange("age %(age)s is not a possible age in years", age=age)


class ScreenFailed(Record):
    """The subject was not enrolled; the reason is recorded."""

    DATED_BY = "failed_on"
    COMMAND = "fail_screening"
    ONCE = "the screen failure"
    failed_on: date = item("The day the subject failed screening", sdtm=Sdtm("DS", "DSSTDTC"))
    reason: str = item("Why the subject will not be enrolled", sdtm=DS_TERM)

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        if subject.enrolment is not None:
            raise AlreadyEnrolled(
                "%(subject_code)s is enrolled; record a withdrawal instead",
                subject_code=subject.subject_code,
            )


class ConsentObtained(Record):
    """Free and informed consent (TCLE) signed, in a given version; again for re-consent."""

    DELEGATED_TASK = Task.CONSENT

    DATED_BY = "consented_on"
    COMMAND = "obtain_consent"
    MAY_PRECEDE_CONSENT = True
    VOIDABLE = False
    tcle_version: str = item("The version of the TCLE signed", max_length=40, sdtm=DS_TERM)
    consented_on: date = item(
        "The day the TCLE was signed", sdtm=(Sdtm("DS", "DSSTDTC"), Sdtm("DM", "RFICDTC"))
    )

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """A re-consent is never dated before the consent it follows, nor after the next."""
        on: date = fields["consented_on"]
        place = besides or subject.version + 1
        others = subject.others(cls, besides)
        before = [e["consented_on"] for e in others if e.version < place]
        after = [e["consented_on"] for e in others if e.version > place]
        if before and on < before[-1]:
            raise ValueOutOfRange(
                "re-consent on %(on)s is before the consent in force (%(before)s)",
                on=on,
                before=before[-1],
            )
        if after and after[0] < on:
            raise ValueOutOfRange(
                "consent on %(on)s is after the re-consent of %(after)s", on=on, after=after[0]
            )


class EligibilityAssessed(Record):
    """Every inclusion and exclusion criterion of the protocol answered yes or no."""

    DATED_BY = "assessed_on"
    COMMAND = "assess_eligibility"
    VOIDABLE = False
    criteria: Mapping[str, bool] = item(
        "Each criterion's code (IN1-IN3, EX1-EX9 for NCT01297972) and whether it holds",
        named_in="criteria",
    )
    assessed_on: date = item("The day eligibility was assessed")

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        subject.check_consent_obtained()
        if subject.enrolment is not None:
            raise AlreadyEnrolled(
                "%(subject_code)s is already enrolled", subject_code=subject.subject_code
            )

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        """Every criterion of the protocol is answered, and none other."""
        criteria = fields["criteria"]
        unanswered = sorted(protocol.criteria_codes - criteria.keys())
        unknown = sorted(criteria.keys() - protocol.criteria_codes)
        problems = []
        if unanswered:
            problems.append("criteria not answered: " + ", ".join(unanswered))
        if unknown:
            problems.append("criteria not in the protocol: " + ", ".join(unknown))
        if problems:
            raise EligibilityNotMet(problems)


class Enrolled(Record):
    """The subject, found eligible, was enrolled."""

    DATED_BY = "enrolled_on"
    COMMAND = "enrol"
    VOIDABLE = False
    enrolled_on: date = item("The day the subject was enrolled", sdtm=Sdtm("DS", "DSSTDTC"))

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        """Consented, not enrolled yet, still in the study, and eligible by the latest
        assessment."""
        subject.check_consent_obtained()
        if subject.enrolment is not None:
            raise AlreadyEnrolled(
                "%(subject_code)s is already enrolled", subject_code=subject.subject_code
            )
        subject.check_in_study("enrolment")
        failures = eligibility_failures(subject)
        if failures:
            raise EligibilityNotMet(failures)

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """Enrolment follows the eligibility assessment."""
        assessment = subject.eligibility
        enrolled_on: date = fields["enrolled_on"]
        if assessment is not None and enrolled_on < assessment["assessed_on"]:
            raise ValueOutOfRange(
                "enrolled on %(enrolled_on)s, before eligibility was assessed (%(assessed_on)s)",
                enrolled_on=enrolled_on,
                assessed_on=assessment["assessed_on"],
            )


def eligibility_failures(subject: Subject) -> list[str]:
    """Why the subject may not be enrolled (empty when eligible)."""
    protocol = subject.protocol
    assessment = subject.eligibility
    if assessment is None:
        return ["eligibility has not been assessed"]
    answers: Mapping[str, bool] = assessment["criteria"]
    failures: list[str] = []
    if not protocol.min_age <= subject.age <= protocol.max_age:
        failures.append(f"age {subject.age} is outside {protocol.min_age}-{protocol.max_age} years")
    failures += [
        f"inclusion {c.code} not met ({c.text})"
        for c in protocol.inclusion
        if answers.get(c.code) is not True
    ]
    failures += [
        f"exclusion {c.code} applies ({c.text})"
        for c in protocol.exclusion
        if answers.get(c.code) is not False
    ]
    return failures
