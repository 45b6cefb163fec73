"""Safety: adverse events (CTCAE v5), their follow-ups and notification, and death."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from domain.clinical import SeriousnessCriterion
from domain.errors import ValueOutOfRange
from domain.protocol import StudyProtocol
from domain.record_rules import check_adverse_event
from domain.subject.declaration import Sdtm, ValueType, item
from domain.subject.record import Record
from domain.vocabulary import AdverseEventCategory, AdverseEventOutcome, Pathogen, Relatedness

ADDRESSED = frozenset({"adverse_event"})
"""An adverse event keeps its id: records about it name it."""


def _ae(variable: str) -> Sdtm:
    return Sdtm("AE", variable)


class AdverseEventReported(Record):
    """An adverse event (CTCAE v5), its seriousness, relatedness to each product, outcome."""

    DATED_BY = "onset_on"
    COMMAND = "report_adverse_event"
    FIXED: ClassVar[frozenset[str]] = ADDRESSED
    adverse_event: str = item(
        "The site's id, e.g. AE-01", value=ValueType.CODE, sdtm=_ae("AEREFID")
    )
    term: str = item("CTCAE v5 term", max_length=200, sdtm=_ae("AETERM"))
    category: AdverseEventCategory = item("What kind of adverse event", sdtm=_ae("AECAT"))
    grade: int = item("CTCAE v5 grade, 1-5", sdtm=_ae("AETOXGR"))
    serious: bool = item("Serious by ICH E2A", sdtm=_ae("AESER"))
    seriousness: tuple[SeriousnessCriterion, ...] = item(
        "Why it is serious (none when not serious)",
        sdtm=tuple(
            _ae(flag) for flag in ("AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESMIE")
        ),
    )
    relatedness_msc: Relatedness = item("Relatedness to the MSC infusions", sdtm=_ae("AEREL"))
    relatedness_ratg: Relatedness = item("Relatedness to rATG")
    relatedness_cyclosporine: Relatedness = item("Relatedness to cyclosporine")
    expected: bool = item("Expected by the investigator's brochure")
    onset_on: date = item("The day it began", sdtm=_ae("AESTDTC"))
    learned_on: date = item("When the site learned")
    outcome: AdverseEventOutcome = item("Its outcome (ICH E2B, in words)", sdtm=_ae("AEOUT"))
    resolved_on: date | None = item(
        "When it ended (or the date of death)", optional=True, sdtm=_ae("AEENDTC")
    )
    pathogen: Pathogen | None = item("For infections", optional=True)

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        check_adverse_event(fields)


REPORTED_ONLY = frozenset({"adverse_event", "term", "category", "onset_on"})
"""The fields of an adverse event only its report gives (a correction changes them)."""
FOLLOWED_UP = tuple(
    declared.name for declared in AdverseEventReported.items() if declared.name not in REPORTED_ONLY
)
"""The fields of an adverse event a follow-up may change."""


class AdverseEventFollowedUp(Record):
    """New information on an adverse event: grade, seriousness, outcome, end date..."""

    DATED_BY = "followed_up_on"
    COMMAND = "follow_up_adverse_event"
    MAY_FOLLOW_THE_END = True
    FIXED: ClassVar[frozenset[str]] = ADDRESSED
    adverse_event: str = item("The site's id of the adverse event", value=ValueType.CODE)
    followed_up_on: date = item("The day of the follow-up")
    changes: Mapping[str, Any] = item(
        "Field name -> new value, written as in the report",
        follows=AdverseEventReported,
        names=FOLLOWED_UP,
    )

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        if not fields["changes"]:
            raise ValueOutOfRange("a follow-up changes at least one field of the adverse event")
        fixed = sorted(set(fields["changes"]) & REPORTED_ONLY)
        if fixed:
            raise ValueOutOfRange(
                f"a follow-up does not change {', '.join(fixed)}: correct the report instead"
            )


class SeriousAdverseEventNotified(Record):
    """A serious adverse event was notified (to CONEP/CEP or Anvisa), initial or follow-up."""

    DATED_BY = "notified_on"
    COMMAND = "notify_serious_adverse_event"
    MAY_FOLLOW_THE_END = True
    FIXED: ClassVar[frozenset[str]] = ADDRESSED
    adverse_event: str = item("The site's id of the adverse event", value=ValueType.CODE)
    notified_on: date = item("The day it was notified")
    recipient: str = item("Who was notified", max_length=100, example="CONEP")
    follow_up: bool = item("A follow-up notification (not the initial one)")


class SubjectDied(Record):
    """The subject died: date and cause, and the grade-5 adverse event if there is one."""

    DATED_BY = "died_on"
    COMMAND = "record_death"
    died_on: date = item("The day of death", sdtm=(Sdtm("DM", "DTHDTC"), Sdtm("DS", "DSSTDTC")))
    cause: str = item("The cause of death", max_length=200, sdtm=Sdtm("DS", "DSTERM"))
    adverse_event: str | None = item(
        "The grade-5 adverse event, if there is one", optional=True, value=ValueType.CODE
    )
