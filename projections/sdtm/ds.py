"""SDTMIG DS, Disposition: the subject's protocol milestones and disposition events.

The rules here are the decodes (who decided a withdrawal, an end of study that is or is not the
subject's disposition) and the category of each record kind.
"""

from __future__ import annotations

from domain.subject import EVENT_CLASSES, Entry, Record, Subject
from domain.subject.disposition import EndOfStudyRecorded, SubjectWithdrawn
from domain.subject.enrolment import ConsentObtained, Enrolled, ScreenFailed
from domain.subject.safety import SubjectDied
from domain.vocabulary import EndOfStudyReason, WithdrawalDecidedBy
from projections.sdtm.codes import (
    DISPOSITION_EVENT,
    END_DECODES,
    END_OF_STUDY,
    PROTOCOL_MILESTONE,
    WITHDRAWAL_DECODES,
)
from projections.sdtm.declared import declared_origin, origin, with_declared
from projections.sdtm.dictionary import Dataset, Variable, identifiers, sequence
from projections.sdtm.rows import Row, code, numbered, traced
from projections.sdtm.values import declared_rows, declared_values

READS: tuple[type[Record], ...] = (
    ConsentObtained,
    Enrolled,
    ScreenFailed,
    SubjectWithdrawn,
    SubjectDied,
    EndOfStudyRecorded,
)
"""The kinds the rule below reads."""
TERMS: tuple[tuple[type[Record], str], ...] = (
    (ConsentObtained, "tcle_version"),
    (ScreenFailed, "reason"),
    (SubjectWithdrawn, "reason"),
    (SubjectDied, "cause"),
    (EndOfStudyRecorded, "reason"),
)
"""The item each record kind's DSTERM is read from, in the dictionary's order."""


DS = with_declared(
    Dataset(
        "DS",
        "Disposition",
        "One record per consent, enrolment, screen failure, withdrawal, death and end of study, "
        "sorted by USUBJID, then DSSTDTC and the entry.",
        (
            *identifiers("DS"),
            *sequence("DS"),
            Variable(
                "DSTERM",
                "Reported Term for the Disposition Event",
                "Char",
                origin="; ".join(origin(kind, name) for kind, name in TERMS),
                derivation="The reason or cause as recorded; INFORMED CONSENT OBTAINED with the "
                "TCLE version; ENROLLED; END OF STUDY with its reason.",
            ),
            Variable(
                "DSDECOD",
                "Standardized Disposition Term",
                "Char",
                "INFORMED CONSENT OBTAINED, ENROLLED, SCREEN FAILURE, WITHDRAWAL BY SUBJECT, "
                "PHYSICIAN DECISION, STUDY TERMINATED BY SPONSOR, DEATH, COMPLETED, "
                "LOST TO FOLLOW-UP, END OF STUDY",
                f"Record kind; {declared_origin('DS', 'DSDECOD')}",
                "CDISC NCOMPLT and protocol milestone terms; ENROLLED and END OF STUDY are "
                "sponsor extensions (the study is single-arm: nobody is randomised). A withdrawal "
                "is decoded by who decided it (subject, investigator = PHYSICIAN DECISION, "
                "sponsor). An end of study for death or withdrawal is END OF STUDY, a milestone: "
                "the death or withdrawal row is already the subject's disposition.",
            ),
            Variable(
                "DSCAT",
                "Category for Disposition Event",
                "Char",
                f"{PROTOCOL_MILESTONE}, {DISPOSITION_EVENT}",
                f"Record kind; {origin(EndOfStudyRecorded, 'reason')}",
                f"{PROTOCOL_MILESTONE} for consent, enrolment and an end of study that follows a "
                f"death or withdrawal; {DISPOSITION_EVENT} for screen failure, withdrawal, death, "
                "completion and loss to follow-up.",
            ),
            Variable(
                "DSSTDTC",
                "Start Date/Time of Disposition Event",
                "Char",
                "ISO 8601",
                "consented_on; enrolled_on; failed_on; withdrawn_on; died_on; ended_on",
            ),
        ),
    ),
    READS,
)


def disposition(subject: Subject) -> list[Row]:
    """SDTMIG DS: the subject's protocol milestones and disposition events.

    Rules: consent and enrolment are protocol milestones; a screen failure, a withdrawal
    (decoded by who decided it), a death, a completion and a loss to follow-up are disposition
    events; an end of study given for a death or a withdrawal is a milestone, END OF STUDY,
    so that each disposition is counted once. A kind no rule here reads whose items map to DS
    adds its rows as declared.
    """
    found = declared_rows(subject, DS.domain, READS)
    time_zone = subject.protocol.time_zone

    def add(entry: Entry, decode: str, category: str, term: str | None = None) -> None:
        """The record's row: its items as declared (DSSTDTC, a DSTERM recorded as text), its
        decode and category, and the term the rule gives where none is recorded."""
        values = declared_values(DS.domain, EVENT_CLASSES[entry.kind], entry.fields, time_zone)
        values |= {"DSDECOD": decode, "DSCAT": category}
        if term is not None:
            values["DSTERM"] = term
        on = subject.dated_on(entry)
        assert on is not None  # every kind DS reads is dated
        found.append((on, entry.version, traced(entry), values))

    for entry in subject.live(ConsentObtained):
        consent = f"INFORMED CONSENT OBTAINED, TCLE VERSION {entry['tcle_version']}"
        add(entry, "INFORMED CONSENT OBTAINED", PROTOCOL_MILESTONE, term=consent)
    for entry in subject.live(Enrolled):
        add(entry, "ENROLLED", PROTOCOL_MILESTONE, term="ENROLLED")
    for entry in subject.live(ScreenFailed):
        add(entry, "SCREEN FAILURE", DISPOSITION_EVENT)
    for entry in subject.live(SubjectWithdrawn):
        decided_by = WithdrawalDecidedBy(code(entry["decided_by"]))
        add(entry, WITHDRAWAL_DECODES[decided_by], DISPOSITION_EVENT)
    for entry in subject.live(SubjectDied):
        add(entry, "DEATH", DISPOSITION_EVENT)
    for entry in subject.live(EndOfStudyRecorded):
        reason = EndOfStudyReason(code(entry["reason"]))
        if reason in END_DECODES:
            add(entry, END_DECODES[reason], DISPOSITION_EVENT, term=END_DECODES[reason])
        else:
            term = f"{END_OF_STUDY}: {reason.value.upper()}"
            add(entry, END_OF_STUDY, PROTOCOL_MILESTONE, term=term)
    found.sort(key=lambda row: row[:2])
    return numbered(subject, DS, [(entries, values) for *_, entries, values in found])
