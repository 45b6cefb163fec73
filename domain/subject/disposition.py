"""Outcomes and disposition: the response and performance status assessments, deviations,
withdrawal and the end."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any

from domain.clinical import ResponseCategory
from domain.errors import DeathRecordDisagrees, ValueOutOfRange
from domain.protocol import StudyProtocol
from domain.record_rules import check_scheduled
from domain.subject.declaration import Sdtm, item
from domain.subject.record import Record, Requirement
from domain.vocabulary import DeviationCategory, EndOfStudyReason, WithdrawalDecidedBy

if TYPE_CHECKING:
    from domain.subject.aggregate import Subject


class ResponseAssessed(Record):
    """The investigator's hematologic response assessment at month 3 or 6."""

    DATED_BY = "assessed_on"
    COMMAND = "assess_response"
    REQUIRES = Requirement.ENROLMENT
    ONCE = "the month-{month} response"
    month: int = item("The scheduled month: 3 or 6", unit="months")
    response: ResponseCategory = item("The investigator's assessment")
    assessed_on: date = item("The day of the assessment")

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        months = protocol.schedule.response_months
        check_scheduled(fields["month"], months, "response is assessed", "at month")


class ProtocolDeviationRecorded(Record):
    """A departure from the protocol, as the site recorded it."""

    DATED_BY = "occurred_on"
    COMMAND = "record_protocol_deviation"
    occurred_on: date = item("The day it occurred")
    category: DeviationCategory = item("What kind of deviation")
    description: str = item("What happened", multiline=True)
    major: bool = item("A major deviation")


class SubjectWithdrawn(Record):
    """The subject left the study early, with the reason and who decided."""

    DATED_BY = "withdrawn_on"
    COMMAND = "withdraw"
    ONCE = "the withdrawal"
    withdrawn_on: date = item("The day of withdrawal", sdtm=Sdtm("DS", "DSSTDTC"))
    reason: str = item("Why the subject withdrew", sdtm=Sdtm("DS", "DSTERM"))
    decided_by: WithdrawalDecidedBy = item("Who decided", sdtm=Sdtm("DS", "DSDECOD"))

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        """No treatment is recorded after it (see :meth:`Subject.check_date`)."""
        subject.check_enrolled()


class EndOfStudyRecorded(Record):
    """The subject's participation ended (completed, death, withdrawal, lost)."""

    DATED_BY = "ended_on"
    COMMAND = "end_study"
    REQUIRES = Requirement.CONSENT
    ONCE = "the end of study"
    MAY_FOLLOW_THE_END = True
    ended_on: date = item(
        "The day participation ended", sdtm=(Sdtm("DS", "DSSTDTC"), Sdtm("DM", "RFENDTC"))
    )
    reason: EndOfStudyReason = item("Why it ended", sdtm=Sdtm("DS", "DSDECOD"))

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """The reason fits the record, and the study ends no earlier than a death."""
        ended_on: date = fields["ended_on"]
        reason: EndOfStudyReason = fields["reason"]
        death, withdrawal = subject.death, subject.withdrawal
        if (reason is EndOfStudyReason.DEATH) != (death is not None):
            raise DeathRecordDisagrees(
                "the end of study gives death as its reason exactly when a death is recorded"
            )
        if reason is EndOfStudyReason.WITHDRAWAL and withdrawal is None:
            raise ValueOutOfRange("record the withdrawal before ending the study for it")
        if death is not None and ended_on < death["died_on"]:
            raise ValueOutOfRange(
                "ended on %(ended_on)s, before the death (%(died_on)s)",
                ended_on=ended_on,
                died_on=death["died_on"],
            )


class PerformanceScale(Enum):
    """The scale a performance status is given on."""

    ECOG = "ECOG"
    KARNOFSKY = "KARNOFSKY"


PERFORMANCE_TESTS: Mapping[str, tuple[str, str]] = {
    PerformanceScale.ECOG.value: ("ECOG101", "ECOG1-Performance Status"),
    PerformanceScale.KARNOFSKY.value: ("KPS101", "KPS1-Karnofsky Performance Status"),
}
"""The CDISC RSTESTCD and RSTEST of each scale (Clinical Classifications, SDTMIG 3.3 RS)."""
PERFORMANCE_SCORES: Mapping[PerformanceScale, range] = {
    # ECOG 5 is death, recorded as a SubjectDied; Karnofsky goes by tens.
    PerformanceScale.ECOG: range(0, 5),
    PerformanceScale.KARNOFSKY: range(0, 101, 10),
}
PERFORMANCE_SCHEDULE = "performance_status"
"""The protocol's name for its visits (``[schedule.assessment_months]``)."""


class PerformanceStatusRecorded(Record):
    """A performance status, ECOG 0-4 or Karnofsky 0-100, at screening or a follow-up visit."""

    DATED_BY = "assessed_on"
    COMMAND = "record_performance_status"
    REQUIRES = Requirement.CONSENT
    ONCE = "the month-{month} {scale} status"  # both scales may be given at a visit
    DESCRIBED_WHEN_RECORDED = True
    month: int = item(
        "The visit: 0 at screening, else the follow-up month",
        unit="months",
        sdtm=Sdtm("RS", "VISITNUM"),
    )
    scale: PerformanceScale = item(
        "The scale: ECOG or Karnofsky", sdtm=Sdtm("RS", "RSCAT", test_codes=PERFORMANCE_TESTS)
    )
    score: int = item(
        "ECOG grade 0-4, or Karnofsky 0-100 in steps of 10", sdtm=Sdtm("RS", "RSORRES")
    )
    assessed_on: date = item("The day of the assessment", sdtm=Sdtm("RS", "RSDTC"))

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        months = protocol.schedule.assessment_months.get(PERFORMANCE_SCHEDULE, ())
        check_scheduled(fields["month"], months, "performance status is assessed", "at month")
        scale, score = fields["scale"], fields["score"]
        scores = PERFORMANCE_SCORES[scale]
        if score not in scores:
            if scores.step > 1:
                raise ValueOutOfRange(
                    "the %(scale)s scale runs %(first)s-%(last)s in steps of %(step)s, not "
                    "%(score)s",
                    scale=scale.value,
                    first=scores.start,
                    last=scores[-1],
                    step=scores.step,
                    score=score,
                )
            raise ValueOutOfRange(
                "the %(scale)s scale runs %(first)s-%(last)s, not %(score)s",
                scale=scale.value,
                first=scores.start,
                last=scores[-1],
                score=score,
            )
