"""Safety: adverse events (CTCAE v5), their follow-ups and notification, and death."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.clinical import SeriousnessCriterion
from domain.delegation import Task
from domain.errors import (
    AdverseEventNotFound,
    DatedAfterDeath,
    DeathRecordDisagrees,
    DuplicateRecord,
    SeriousnessCriterionMissing,
    ValueOutOfRange,
)
from domain.protocol import StudyProtocol
from domain.record_rules import check_adverse_event
from domain.subject.declaration import Sdtm, ValueType, item
from domain.subject.record import DECLARED, Record, Requirement
from domain.vocabulary import AdverseEventCategory, AdverseEventOutcome, Pathogen, Relatedness

if TYPE_CHECKING:
    from domain.subject.aggregate import Subject

ADDRESSED = frozenset({"adverse_event"})
"""An adverse event keeps its id: records about it name it."""


def _ae(variable: str) -> Sdtm:
    return Sdtm("AE", variable)


class AdverseEventReported(Record):
    """An adverse event (CTCAE v5), its seriousness, relatedness to each product, outcome."""

    DELEGATED_TASK = Task.AE_ASSESSMENT

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
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        """Reported under the site's own identifier (e.g. ``AE-03``), once."""
        subject.check_consent_obtained()
        name = fields["adverse_event"]
        if name in subject.adverse_events():
            raise DuplicateRecord(
                "adverse event %(name)s is reported; follow it up instead", name=name
            )

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        check_as_it_would_stand(subject, fields, besides=besides)

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        check_adverse_event(fields)


class AboutAnAdverseEvent(Record):
    """A record about an adverse event already reported, which it names: making it is assessing
    the adverse event (the task delegated for its report too), it may come after the end of the
    study, and a correction does not move it to another adverse event."""

    DELEGATED_TASK = Task.AE_ASSESSMENT
    MAY_FOLLOW_THE_END = True
    FIXED: ClassVar[frozenset[str]] = ADDRESSED


REPORTED_ONLY = frozenset({"adverse_event", "term", "category", "onset_on"})
"""The fields of an adverse event only its report gives (a correction changes them)."""
FOLLOWED_UP = tuple(
    declared.name for declared in AdverseEventReported.items() if declared.name not in REPORTED_ONLY
)
"""The fields of an adverse event a follow-up may change."""


class AdverseEventFollowedUp(AboutAnAdverseEvent):
    """New information on an adverse event: grade, seriousness, outcome, end date..."""

    DATED_BY = "followed_up_on"
    COMMAND = "follow_up_adverse_event"
    adverse_event: str = item("The site's id of the adverse event", value=ValueType.CODE)
    followed_up_on: date = item("The day of the follow-up")
    changes: Mapping[str, Any] = item(
        "Field name -> new value, written as in the report (null clears an optional one)",
        follows=AdverseEventReported,
        names=FOLLOWED_UP,
    )

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """The adverse event, as it stands with this follow-up, still holds."""
        adverse_event(subject, fields["adverse_event"])
        check_as_it_would_stand(subject, fields, besides=besides)

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        if not fields["changes"]:
            raise ValueOutOfRange("a follow-up changes at least one field of the adverse event")
        fixed = sorted(set(fields["changes"]) & REPORTED_ONLY)
        if fixed:
            raise ValueOutOfRange(
                "a follow-up does not change %(join)s: correct the report instead",
                join=", ".join(fixed),
            )


class SeriousAdverseEventNotified(AboutAnAdverseEvent):
    """A serious adverse event was notified (to CONEP/CEP or Anvisa), initial or follow-up."""

    DATED_BY = "notified_on"
    COMMAND = "notify_serious_adverse_event"
    adverse_event: str = item("The site's id of the adverse event", value=ValueType.CODE)
    notified_on: date = item("The day it was notified")
    recipient: str = item("Who was notified", max_length=100, example="CONEP")
    follow_up: bool = item("A follow-up notification (not the initial one)")

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """A serious adverse event, notified once the site learned of it."""
        name, notified_on = fields["adverse_event"], fields["notified_on"]
        current = adverse_event(subject, name)
        if not current["serious"]:
            raise SeriousnessCriterionMissing(
                "adverse event %(name)s is not serious; it is not notified as one", name=name
            )
        if notified_on < current["learned_on"]:
            raise ValueOutOfRange(
                "notified on %(notified_on)s, before the site learned of it (%(learned_on)s)",
                notified_on=notified_on,
                learned_on=current["learned_on"],
            )


class SubjectDied(Record):
    """The subject died: date and cause, and the grade-5 adverse event if there is one."""

    DATED_BY = "died_on"
    COMMAND = "record_death"
    REQUIRES = Requirement.CONSENT
    ONCE = "the death"
    died_on: date = item("The day of death", sdtm=(Sdtm("DM", "DTHDTC"), Sdtm("DS", "DSSTDTC")))
    cause: str = item("The cause of death", max_length=200, sdtm=Sdtm("DS", "DSTERM"))
    adverse_event: str | None = item(
        "The grade-5 adverse event, if there is one", optional=True, value=ValueType.CODE
    )

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """Nothing is dated after death, and the grade-5 adverse events end on its date."""
        died_on: date = fields["died_on"]
        later = [
            f"{e.kind} (entry {e.version}, {subject.dated_on(e)})"
            for e in subject.entries.values()
            if e.is_live
            and e.version != besides
            and not DECLARED[e.kind].MAY_FOLLOW_THE_END
            and e.kind != cls.kind()
            and (subject.dated_on(e) or died_on) > died_on
        ]
        if later:
            raise DatedAfterDeath(
                "records are dated after %(died_on)s: %(later)s",
                died_on=died_on,
                later="; ".join(later),
            )
        for name, event in subject.adverse_events().items():
            if event["grade"] == 5 and event.get("resolved_on") != died_on:
                raise DeathRecordDisagrees(
                    "grade-5 adverse event %(name)s ended on %(resolved_on)s, the death "
                    "is dated %(died_on)s",
                    name=name,
                    resolved_on=event.get("resolved_on"),
                    died_on=died_on,
                )
        named = fields.get("adverse_event")
        if named is not None and adverse_event(subject, named)["grade"] != 5:
            raise DeathRecordDisagrees(
                "the death names adverse event %(named)s, which is grade %(grade)s, "
                "not 5; follow it up to grade 5 first",
                named=named,
                grade=adverse_event(subject, named)["grade"],
            )


def adverse_event(subject: Subject, name: str) -> dict[str, Any]:
    """An adverse event of the subject as it stands (its report and follow-ups)."""
    current = subject.adverse_events().get(name)
    if current is None:
        raise AdverseEventNotFound(
            "%(subject_code)s has no adverse event %(name)r",
            subject_code=subject.subject_code,
            name=name,
        )
    return current


def check_as_it_would_stand(
    subject: Subject, fields: Mapping[str, Any], *, besides: int | None
) -> None:
    """The adverse event a report or follow-up names, with this record in place (a new one
    added, a corrected one instead of its entry), still holds and agrees with the death."""
    reported = subject.adverse_events().get(fields["adverse_event"])
    if reported is None:  # a new report
        updated = dict(fields)
    else:
        versions = (reported["reported_in"], *reported["follow_ups"])
        report, *follow_ups = [
            fields if v == besides else subject.entries[v].fields for v in versions
        ]
        if besides is None:
            follow_ups.append(fields)
        updated = dict(report)
        for follow_up in follow_ups:
            updated.update(follow_up["changes"])
    check_adverse_event(updated)
    _check_against_death(subject, updated)


def _check_against_death(subject: Subject, event: Mapping[str, Any]) -> None:
    """A grade-5 event ends on the date of death; the event the death names stays grade 5."""
    death = subject.death
    if death is None:
        return
    named = death["adverse_event"]
    if named is not None and named == event.get("adverse_event") and event["grade"] != 5:
        raise DeathRecordDisagrees(
            "the death names adverse event %(named)s: it stays grade 5", named=named
        )
    if event["grade"] == 5 and event.get("resolved_on") != death["died_on"]:
        raise DeathRecordDisagrees(
            "a grade-5 adverse event ends on the date of death (%(died_on)s), not %(resolved_on)s",
            died_on=death["died_on"],
            resolved_on=event.get("resolved_on"),
        )
