"""SDTMIG DM, Demographics: one row per screened subject, built from several record kinds.

Its values come from the subject's screening, consent, enrolment, death, withdrawal and end of
study, and from its EX rows (the first and last day of study treatment).
"""

from __future__ import annotations

from datetime import date

from domain.subject import Subject
from domain.subject.disposition import EndOfStudyRecorded, SubjectWithdrawn
from domain.subject.enrolment import ConsentObtained, Enrolled, Screened, ScreenFailed
from domain.subject.record import Record
from domain.subject.safety import SubjectDied
from projections.sdtm.codes import (
    ARM,
    ARM_CODE,
    ISO_3166_ALPHA_3,
    NOT_ASSIGNED,
    NOT_TREATED,
    SCREEN_FAILURE,
)
from projections.sdtm.declared import declared_origin, origin
from projections.sdtm.dictionary import Dataset, Variable, identifiers
from projections.sdtm.ex import exposures
from projections.sdtm.rows import Row, day, identity, local_instant, row

REFERENCE_END: tuple[tuple[type[Record], str], ...] = (
    (EndOfStudyRecorded, "ended_on"),
    (SubjectDied, "died_on"),
    (SubjectWithdrawn, "withdrawn_on"),
)
"""Where RFENDTC comes from: the first of these records that counts, and its date."""
ARM_ORIGIN = f"{Enrolled.kind()}; {ScreenFailed.kind()}"
"""The records deciding a subject's arm."""


DM = Dataset(
    "DM",
    "Demographics",
    "One record per screened subject, sorted by USUBJID. DM has no --SPID: its values come "
    f"from the {Screened.kind()} entry (entry 1 of the subject's stream) and from the records "
    "the subject's DS and EX rows name.",
    (
        *identifiers("DM"),
        Variable(
            "SUBJID",
            "Subject Identifier for the Study",
            "Char",
            origin=f"{Screened.kind()}: subject",
        ),
        Variable(
            "RFSTDTC",
            "Subject Reference Start Date/Time",
            "Char",
            "ISO 8601",
            f"{declared_origin('DM', 'RFSTDTC')}; else {origin(Enrolled, 'enrolled_on')}",
            "The first MSC infusion that counts (the investigational product), in the site's "
            "local time; for a subject enrolled but never infused, the enrolment date; empty "
            "when not enrolled.",
        ),
        Variable(
            "RFENDTC",
            "Subject Reference End Date/Time",
            "Char",
            "ISO 8601",
            "; else ".join(origin(kind, name) for kind, name in REFERENCE_END),
            "The end of study; without one, the date of death, else of withdrawal; empty while "
            "the subject is in the study and for subjects not enrolled.",
        ),
        Variable(
            "RFXSTDTC",
            "Date/Time of First Study Treatment",
            "Char",
            "ISO 8601",
            "EX: EXSTDTC",
            "The earliest day of any EX row of the subject (rATG, cyclosporine or MSC).",
        ),
        Variable(
            "RFXENDTC",
            "Date/Time of Last Study Treatment",
            "Char",
            "ISO 8601",
            "EX: EXENDTC, else EXSTDTC",
            "The latest day of any EX row of the subject (its end, else its start).",
        ),
        Variable(
            "RFICDTC",
            "Date/Time of Informed Consent",
            "Char",
            "ISO 8601",
            declared_origin("DM", "RFICDTC"),
            "The earliest consent that counts (a re-consent does not move it).",
        ),
        Variable(
            "DTHDTC", "Date/Time of Death", "Char", "ISO 8601", declared_origin("DM", "DTHDTC")
        ),
        Variable(
            "DTHFL",
            "Subject Death Flag",
            "Char",
            "Y or empty",
            SubjectDied.kind(),
            "Y when a death record counts.",
        ),
        Variable("SITEID", "Study Site Identifier", "Char", origin=declared_origin("DM", "SITEID")),
        Variable(
            "AGE", "Age", "Num", origin=declared_origin("DM", "AGE"), derivation="Age at screening."
        ),
        Variable("AGEU", "Age Units", "Char", "YEARS", "Assigned"),
        Variable("SEX", "Sex", "Char", "F, M, U", declared_origin("DM", "SEX")),
        Variable(
            "ARMCD",
            "Planned Arm Code",
            "Char",
            f"{ARM_CODE}, {SCREEN_FAILURE[0]}, {NOT_ASSIGNED[0]}",
            ARM_ORIGIN,
            f"{ARM_CODE} when enrolled; {SCREEN_FAILURE[0]} after a screen failure; "
            f"{NOT_ASSIGNED[0]} otherwise (screened or consented, not yet enrolled).",
        ),
        Variable(
            "ARM",
            "Description of Planned Arm",
            "Char",
            f"{ARM}; {SCREEN_FAILURE[1]}; {NOT_ASSIGNED[1]}",
            ARM_ORIGIN,
            "The description of ARMCD.",
        ),
        Variable(
            "ACTARMCD",
            "Actual Arm Code",
            "Char",
            f"{ARM_CODE}, {SCREEN_FAILURE[0]}, {NOT_ASSIGNED[0]}, {NOT_TREATED[0]}",
            f"{ARM_ORIGIN}; EX",
            f"ARMCD, except {NOT_TREATED[0]} for an enrolled subject with no EX row.",
        ),
        Variable(
            "ACTARM",
            "Description of Actual Arm",
            "Char",
            f"{ARM}; {SCREEN_FAILURE[1]}; {NOT_ASSIGNED[1]}; {NOT_TREATED[1]}",
            f"{ARM_ORIGIN}; EX",
            "The description of ACTARMCD.",
        ),
        Variable(
            "COUNTRY",
            "Country",
            "Char",
            "ISO 3166-1 alpha-3",
            "Study protocol: study.country",
            "The protocol's ISO 3166-1 alpha-2 code as alpha-3 (BR -> BRA).",
        ),
    ),
)


def demographics(subject: Subject) -> Row:
    """SDTMIG DM: the subject's one row.

    Rules: RFSTDTC is the first MSC infusion (the investigational product), else the enrolment
    date; RFENDTC the end of study, else death, else withdrawal; RFICDTC the first consent;
    ARMCD the single arm once enrolled, SCRNFAIL after a screen failure, NOTASSGN before;
    ACTARMCD as ARMCD, NOTTRT for an enrolled subject never given a study treatment.
    """
    enrolment, death = subject.enrolment, subject.death
    infusions = sorted(subject.infusions, key=lambda e: (e["given_at"], e.version))
    if infusions:
        reference_start = local_instant(subject, infusions[0]["given_at"])
    else:
        reference_start = "" if enrolment is None else day(enrolment["enrolled_on"])
    exposed = _exposure_days(subject)
    consents = [e["consented_on"] for e in subject.live(ConsentObtained)]
    if subject.latest(ScreenFailed) is not None:
        planned = actual = SCREEN_FAILURE
    elif enrolment is None:
        planned = actual = NOT_ASSIGNED
    else:
        planned = (ARM_CODE, ARM)
        actual = planned if exposed else NOT_TREATED
    return row(
        DM.columns,
        **identity(subject, "DM"),
        SUBJID=subject.subject_code,
        RFSTDTC=reference_start,
        RFENDTC="" if enrolment is None else _reference_end(subject),
        RFXSTDTC=day(min(exposed)) if exposed else "",
        RFXENDTC=day(max(exposed)) if exposed else "",
        RFICDTC=day(min(consents)) if consents else "",
        DTHDTC="" if death is None else day(death["died_on"]),
        DTHFL="" if death is None else "Y",
        SITEID=subject.site,
        AGE=str(subject.age),
        AGEU="YEARS",
        SEX=subject.sex.value,
        ARMCD=planned[0],
        ARM=planned[1],
        ACTARMCD=actual[0],
        ACTARM=actual[1],
        COUNTRY=ISO_3166_ALPHA_3[subject.protocol.country],
    )


def _reference_end(subject: Subject) -> str:
    for kind, name in REFERENCE_END:
        entry = subject.latest(kind)
        if entry is not None:
            return day(entry[name])
    return ""


def _exposure_days(subject: Subject) -> list[date]:
    """Every day an EX row of the subject starts or ends on."""
    days: list[date] = []
    for _, start, end, _ in exposures(subject):
        days.append(start)
        if end is not None:
            days.append(end)
    return days
