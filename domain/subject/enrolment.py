"""Screening, informed consent, eligibility and enrolment: the records that open a subject."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from domain.errors import ValueOutOfRange
from domain.protocol import StudyProtocol
from domain.signed import SignedAggregate
from domain.subject.declaration import Sdtm, ValueType, item
from domain.subject.record import Record
from domain.vocabulary import Sex

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
            raise ValueOutOfRange(f"age {age} is not a possible age in years")


class ScreenFailed(Record):
    """The subject was not enrolled; the reason is recorded."""

    DATED_BY = "failed_on"
    COMMAND = "fail_screening"
    failed_on: date = item("The day the subject failed screening", sdtm=Sdtm("DS", "DSSTDTC"))
    reason: str = item("Why the subject will not be enrolled", sdtm=DS_TERM)


class ConsentObtained(Record):
    """Free and informed consent (TCLE) signed, in a given version; again for re-consent."""

    DATED_BY = "consented_on"
    COMMAND = "obtain_consent"
    MAY_PRECEDE_CONSENT = True
    VOIDABLE = False
    tcle_version: str = item("The version of the TCLE signed", max_length=40, sdtm=DS_TERM)
    consented_on: date = item(
        "The day the TCLE was signed", sdtm=(Sdtm("DS", "DSSTDTC"), Sdtm("DM", "RFICDTC"))
    )


class EligibilityAssessed(Record):
    """Every inclusion and exclusion criterion of the protocol answered yes or no."""

    DATED_BY = "assessed_on"
    COMMAND = "assess_eligibility"
    VOIDABLE = False
    criteria: Mapping[str, bool] = item(
        "Each criterion's code (IN1-IN3, EX1-EX9 for NCT01297972) and whether it holds"
    )
    assessed_on: date = item("The day eligibility was assessed")


class Enrolled(Record):
    """The subject, found eligible, was enrolled."""

    DATED_BY = "enrolled_on"
    COMMAND = "enrol"
    VOIDABLE = False
    enrolled_on: date = item("The day the subject was enrolled", sdtm=Sdtm("DS", "DSSTDTC"))
