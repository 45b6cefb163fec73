"""Outcomes and disposition: the response assessments, deviations, withdrawal and the end."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from domain.clinical import ResponseCategory
from domain.protocol import StudyProtocol
from domain.record_rules import check_scheduled
from domain.subject.declaration import Sdtm, item
from domain.subject.record import Record
from domain.vocabulary import DeviationCategory, EndOfStudyReason, WithdrawalDecidedBy


class ResponseAssessed(Record):
    """The investigator's hematologic response assessment at month 3 or 6."""

    DATED_BY = "assessed_on"
    COMMAND = "assess_response"
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
    withdrawn_on: date = item("The day of withdrawal", sdtm=Sdtm("DS", "DSSTDTC"))
    reason: str = item("Why the subject withdrew", sdtm=Sdtm("DS", "DSTERM"))
    decided_by: WithdrawalDecidedBy = item("Who decided", sdtm=Sdtm("DS", "DSDECOD"))


class EndOfStudyRecorded(Record):
    """The subject's participation ended (completed, death, withdrawal, lost)."""

    DATED_BY = "ended_on"
    COMMAND = "end_study"
    MAY_FOLLOW_THE_END = True
    ended_on: date = item(
        "The day participation ended", sdtm=(Sdtm("DS", "DSSTDTC"), Sdtm("DM", "RFENDTC"))
    )
    reason: EndOfStudyReason = item("Why it ended", sdtm=Sdtm("DS", "DSDECOD"))
