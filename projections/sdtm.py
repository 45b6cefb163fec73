"""Tabular datasets in the shape of CDISC SDTM domains, and their data dictionary.

Five datasets derived by rules, each a pure function of the subjects as they stand (every
correction applied, voided entries left out), named and coded after the SDTM Implementation
Guide 3.1.3:

- ``DM.csv`` Demographics: one row per screened subject;
- ``EX.csv`` Exposure: one row per rATG dose, per cyclosporine dosing interval and per MSC
  infusion;
- ``LB.csv`` Laboratory Test Results: one row per analyte of a blood count, and one per
  cyclosporine trough;
- ``AE.csv`` Adverse Events: one row per adverse event, as its follow-ups left it;
- ``DS.csv`` Disposition: one row per consent, enrolment, screen failure, withdrawal, death
  and end of study.

and one more per domain that record kinds map their items to and no rule derives (RS for a
performance status), read from their declarations alone (:mod:`projections.sdtm_findings`)
and written when it has rows.

They are *shaped like* SDTM, not a validated submission: what sealtrail does not record (a
MedDRA code, a dose form it cannot know) is left empty rather than guessed, and what SDTM would
place in a supplemental qualifier dataset (relatedness to rATG and cyclosporine, the MSC donor
code) is not written. :func:`data_dictionary` says, for every variable, which record kind and
field it comes from and the rule that derives it.

Traceability: every row of EX, LB, AE and DS names in its ``--SPID`` the entries of the
subject's stream it comes from (``NCT01297972/<SUBJID>``, entry = the event's version), so an
auditor can open each signed event; DM's values come from the Screened entry (always entry 1)
and from the records the DS and EX rows name.

The bytes are deterministic: rows sorted by USUBJID, then by their date and entry, numbered
``--SEQ`` in that order; values as signed (decimals keep the author's digits, no float
formatting); dates in ISO 8601 in the site's calendar (an instant in the site's local time,
without offset); UTF-8 CSV written by :mod:`csv` with ``\\r\\n`` line ends, like the audit
trail's, but without its byte-order mark, because these files are read by programs (SAS, R,
pandas), which would take the mark into the first column's name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from domain.clinical import ReferenceRange, flag_trough, flag_value
from domain.clinical.lab_flags import LabFlag
from domain.quantities import Quantity
from domain.subject import EVENT_CLASSES, Entry, Subject
from domain.subject.disposition import EndOfStudyRecorded, SubjectWithdrawn
from domain.subject.enrolment import ConsentObtained, Enrolled, ScreenFailed
from domain.subject.measurements import LAB_TESTS, BloodCountRecorded
from domain.subject.safety import SubjectDied
from domain.subject.treatment import (
    CyclosporineDoseAdjusted,
    CyclosporineStarted,
    CyclosporineStopped,
    CyclosporineTroughMeasured,
    RatgDoseGiven,
)
from domain.vocabulary import AdverseEventOutcome, EndOfStudyReason, WithdrawalDecidedBy
from domain.wire import decimal_to_wire
from projections.csv_file import csv_bytes
from projections.sdtm_findings import DECLARED_DATASETS, finding, sources
from projections.sdtm_variables import (
    AE,
    ARM,
    ARM_CODE,
    CYCLOSPORINE,
    DATASETS,
    DICTIONARY_COLUMNS,
    DISPOSITION_EVENT,
    DM,
    DRUG_MONITORING,
    DS,
    END_DECODES,
    END_OF_STUDY,
    EX,
    HEMATOLOGY,
    INTRAVENOUS,
    ISO_3166_ALPHA_3,
    LB,
    MSC,
    NOT_ASSIGNED,
    NOT_TREATED,
    ORAL,
    OUTCOMES,
    PROTOCOL_MILESTONE,
    RATG,
    REFERENCE_INDICATOR,
    SCREEN_FAILURE,
    SERIOUSNESS_FLAGS,
    SUSPENSION,
    TROUGH_TEST,
    WITHDRAWAL_DECODES,
    Dataset,
)

Row = dict[str, str]
"""One dataset row: every column's value as text."""

EVERY_DATASET: tuple[Dataset, ...] = (*DATASETS, *DECLARED_DATASETS)
"""The datasets by rule, then those read from declarations, in the dictionary's order."""

# -- the public functions --------------------------------------------------------------------------


def sdtm_datasets(subjects: Sequence[Subject]) -> dict[str, bytes]:
    """The datasets of the subjects as they stand, as CSV files by name.

    Args:
        subjects: every subject to include, folded from their events (any order).

    Returns:
        ``{"DM.csv": ..., "EX.csv": ..., "LB.csv": ..., "AE.csv": ..., "DS.csv": ...}`` and
        a file per declared dataset that has rows (a domain nothing was recorded for is not
        submitted, as the FDA's Study Data Technical Conformance Guide asks); the same
        subjects always give the same bytes.
    """
    ordered = sorted(subjects, key=usubjid)
    builders: tuple[tuple[Dataset, Callable[[Subject], list[Row]]], ...] = (
        (DM, lambda subject: [demographics(subject)]),
        (EX, exposure),
        (LB, laboratory_results),
        (AE, adverse_events),
        (DS, disposition),
    )
    files = {
        dataset.file_name: _csv(dataset.columns, [row for s in ordered for row in build(s)])
        for dataset, build in builders
    }
    for dataset in DECLARED_DATASETS:
        rows = [row for subject in ordered for row in findings(subject, dataset.domain)]
        if rows:
            files[dataset.file_name] = _csv(dataset.columns, rows)
    return files


def data_dictionary(recorded: Collection[str] | None = None) -> bytes:
    """The data dictionary of the datasets as CSV: a row per dataset, then one per variable.

    A dataset's row has an empty ``variable`` and gives its structure and sort order; each
    variable's row gives its label, type, controlled terms or units, the sealtrail record
    kind and field it comes from, and the rule deriving it.

    Args:
        recorded: the record kinds a packet's log records: a dataset only kinds declared
            since packets were published fill (``Record.DESCRIBED_WHEN_RECORDED``) is described
            when one of them is recorded; ``None`` describes every dataset.
    """
    rows: list[Row] = []
    for dataset in (d for d in EVERY_DATASET if recorded is None or _described(d, recorded)):
        rows.append(
            _row(
                DICTIONARY_COLUMNS,
                dataset=dataset.file_name,
                label=dataset.label,
                origin=f"SDTMIG {dataset.sdtmig} domain {dataset.domain}",
                derivation=dataset.structure,
            )
        )
        for variable in dataset.variables:
            rows.append(
                _row(
                    DICTIONARY_COLUMNS,
                    dataset=dataset.file_name,
                    variable=variable.name,
                    label=variable.label,
                    type=variable.type,
                    controlled_terms_or_units=variable.terms,
                    origin=variable.origin,
                    derivation=variable.derivation,
                )
            )
    return _csv(DICTIONARY_COLUMNS, rows)


def _described(dataset: Dataset, recorded: Collection[str]) -> bool:
    """A dataset a packet's dictionary describes: ruled, or filled by a kind described."""
    if dataset not in DECLARED_DATASETS:
        return True
    return any(
        not source.kind.DESCRIBED_WHEN_RECORDED or source.kind.kind() in recorded
        for source in sources(dataset.domain)
    )


def usubjid(subject: Subject) -> str:
    """The subject's unique id across studies: ``<study>-<subject code>``."""
    return f"{subject.study_id}-{subject.subject_code}"


# -- DM --------------------------------------------------------------------------------------------


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
        reference_start = _local_instant(subject, infusions[0]["given_at"])
    else:
        reference_start = "" if enrolment is None else _day(enrolment["enrolled_on"])
    exposed = _exposure_days(subject)
    consents = [e["consented_on"] for e in subject.live(ConsentObtained)]
    if subject.latest(ScreenFailed) is not None:
        planned = actual = SCREEN_FAILURE
    elif enrolment is None:
        planned = actual = NOT_ASSIGNED
    else:
        planned = (ARM_CODE, ARM)
        actual = planned if exposed else NOT_TREATED
    return _row(
        DM.columns,
        **_identity(subject, "DM"),
        SUBJID=subject.subject_code,
        RFSTDTC=reference_start,
        RFENDTC="" if enrolment is None else _reference_end(subject),
        RFXSTDTC=_day(min(exposed)) if exposed else "",
        RFXENDTC=_day(max(exposed)) if exposed else "",
        RFICDTC=_day(min(consents)) if consents else "",
        DTHDTC="" if death is None else _day(death["died_on"]),
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
    for entry, name in (
        (subject.end_of_study, "ended_on"),
        (subject.death, "died_on"),
        (subject.withdrawal, "withdrawn_on"),
    ):
        if entry is not None:
            return _day(entry[name])
    return ""


def _exposure_days(subject: Subject) -> list[date]:
    """Every day an EX row of the subject starts or ends on."""
    days: list[date] = []
    for _, start, end, _ in _exposures(subject):
        days.append(start)
        if end is not None:
            days.append(end)
    return days


# -- EX --------------------------------------------------------------------------------------------


def exposure(subject: Subject) -> list[Row]:
    """SDTMIG EX: what the subject was given, one row per administration or dosing interval.

    Rules: an rATG dose and an MSC infusion are one row each, ending on their own day; each
    cyclosporine start or adjustment opens a dosing interval that ends the day before the next
    adjustment takes effect, or on the day cyclosporine stopped.
    """
    rows = sorted(_exposures(subject), key=lambda row: (row[1], row[3][0]))
    return _numbered(subject, "EX", [(entries, values) for values, _, _, entries in rows])


Exposure = tuple[dict[str, str], date, date | None, list[int]]
"""An EX row's values, its first and last day (None: not known) and its source entries."""


def _exposures(subject: Subject) -> list[Exposure]:
    """Every EX row of the subject, unsorted (DM reads their days, EX sorts them)."""
    found: list[Exposure] = []
    for entry in subject.live(RatgDoseGiven):
        day = _day(entry["given_on"])
        found.append(
            (
                _treatment(RATG, entry["dose"], "", INTRAVENOUS, day, day),
                entry["given_on"],
                entry["given_on"],
                _sources(entry),
            )
        )
    found += _cyclosporine_intervals(subject)
    for entry in subject.infusions:
        on = subject.dated_on(entry)
        assert on is not None  # an infusion is dated by given_at
        values = _treatment(
            MSC,
            entry["dose"],
            SUSPENSION,
            INTRAVENOUS,
            _local_instant(subject, entry["given_at"]),
            _day(on),
        )
        values["EXLOT"] = entry["product_lot"]
        found.append((values, on, on, _sources(entry)))
    return found


def _cyclosporine_intervals(subject: Subject) -> list[Exposure]:
    changes = sorted(
        subject.live(CyclosporineStarted, CyclosporineDoseAdjusted),
        key=lambda e: (subject.dated_on(e), e.version),
    )
    stopped = subject.latest(CyclosporineStopped)
    found: list[Exposure] = []
    for n, entry in enumerate(changes):
        start = subject.dated_on(entry)
        assert start is not None  # both kinds are dated
        following = changes[n + 1] if n + 1 < len(changes) else stopped
        end: date | None = None
        ended_by: list[int] = []
        if following is not None:
            next_day = subject.dated_on(following)
            assert next_day is not None
            end = next_day if following is stopped else max(start, next_day - timedelta(days=1))
            ended_by = _sources(following)
        values = _treatment(
            CYCLOSPORINE, entry["dose"], "", ORAL, _day(start), "" if end is None else _day(end)
        )
        if entry.kind == CyclosporineDoseAdjusted.kind():
            values["EXADJ"] = entry["reason"]
        found.append((values, start, end, _sources(entry, extra=ended_by)))
    return found


def _treatment(
    name: str, dose: Quantity, form: str, route: str, start: str, end: str
) -> dict[str, str]:
    return {
        "EXTRT": name,
        "EXDOSE": decimal_to_wire(dose.value),
        "EXDOSU": dose.unit,
        "EXDOSFRM": form,
        "EXROUTE": route,
        "EXSTDTC": start,
        "EXENDTC": end,
    }


# -- LB --------------------------------------------------------------------------------------------


def laboratory_results(subject: Subject) -> list[Row]:
    """SDTMIG LB: each analyte of each blood count, and each cyclosporine trough.

    Rules: results are kept as recorded (the protocol's units are the standard units, so
    LBSTRESC/LBSTRESN equal LBORRES); the reference range is the protocol's, and LBNRIND is
    the domain's flag against it (for troughs, against the protocol's trough target).
    """
    protocol = subject.protocol
    found: list[tuple[date, int, int, list[int], dict[str, str]]] = []
    order = list(LAB_TESTS)
    for entry in subject.live(BloodCountRecorded):
        results: Mapping[str, Quantity] = entry["results"]
        for analyte in sorted(results, key=order.index):
            code, name = LAB_TESTS[analyte]
            quantity = results[analyte]
            reference = protocol.labs[analyte].reference
            flags = () if reference is None else flag_value(quantity.value, reference, None)
            values = _result(code, name, HEMATOLOGY, quantity, reference, flags)
            values["LBSPEC"] = "BLOOD"
            if analyte == "reticulocytes":
                values["LBMETHOD"] = str(entry["reticulocyte_method"].value).upper()
            values["LBDTC"] = _day(entry["collected_on"])
            found.append(
                (
                    entry["collected_on"],
                    entry.version,
                    order.index(analyte),
                    _sources(entry),
                    values,
                )
            )
    target = protocol.cyclosporine.trough_target
    for entry in subject.live(CyclosporineTroughMeasured):
        level: Quantity = entry["level"]
        values = _result(
            *TROUGH_TEST,
            DRUG_MONITORING,
            level,
            ReferenceRange(target.low, target.high),
            flag_trough(level.value, target),
        )
        values["LBTPT"] = "TROUGH"
        values["LBDTC"] = _day(entry["collected_on"])
        found.append((entry["collected_on"], entry.version, len(order), _sources(entry), values))
    found.sort(key=lambda row: row[:3])
    return _numbered(subject, "LB", [(entries, values) for *_, entries, values in found])


def _result(
    code: str,
    name: str,
    category: str,
    quantity: Quantity,
    reference: ReferenceRange | None,
    flags: Iterable[LabFlag],
) -> dict[str, str]:
    value = decimal_to_wire(quantity.value)
    low = "" if reference is None or reference.low is None else decimal_to_wire(reference.low)
    high = "" if reference is None or reference.high is None else decimal_to_wire(reference.high)
    indicators = [REFERENCE_INDICATOR[f] for f in flags if f in REFERENCE_INDICATOR]
    return {
        "LBTESTCD": code,
        "LBTEST": name,
        "LBCAT": category,
        "LBORRES": value,
        "LBORRESU": quantity.unit,
        "LBORNRLO": low,
        "LBORNRHI": high,
        "LBSTRESC": value,
        "LBSTRESN": value,
        "LBSTRESU": quantity.unit,
        "LBSTNRLO": low,
        "LBSTNRHI": high,
        "LBNRIND": "" if reference is None else (indicators[0] if indicators else "NORMAL"),
    }


# -- AE --------------------------------------------------------------------------------------------


def adverse_events(subject: Subject) -> list[Row]:
    """SDTMIG AE: each adverse event as its report and follow-ups, in order, leave it.

    Rules: AETOXGR is the CTCAE grade; AEREL the relatedness to the MSC; the seriousness
    flags are Y for each recorded ICH E2A criterion and N otherwise.
    """
    found = []
    for name, event in subject.adverse_events().items():
        reported = subject.entries[event["reported_in"]]
        follow_ups = [subject.entries[v] for v in event["follow_ups"]]
        criteria = {_code(c) for c in event["seriousness"]}
        resolved = event.get("resolved_on")
        values = {
            "AEREFID": name,
            "AETERM": event["term"],
            "AEDECOD": "",
            "AECAT": _code(event["category"]).upper(),
            "AESER": _yes_no(bool(event["serious"])),
            "AETOXGR": str(event["grade"]),
            "AEREL": _code(event["relatedness_msc"]).upper(),
            "AEOUT": OUTCOMES[AdverseEventOutcome(_code(event["outcome"]))],
            **{flag: _yes_no(c.value in criteria) for flag, c in SERIOUSNESS_FLAGS.items()},
            "AESTDTC": _day(event["onset_on"]),
            "AEENDTC": "" if resolved is None else _day(resolved),
        }
        sources = _sources(reported, extra=[v for f in follow_ups for v in _sources(f)])
        found.append((event["onset_on"], reported.version, sources, values))
    found.sort(key=lambda row: row[:2])
    return _numbered(subject, "AE", [(entries, values) for *_, entries, values in found])


# -- DS --------------------------------------------------------------------------------------------


def disposition(subject: Subject) -> list[Row]:
    """SDTMIG DS: the subject's protocol milestones and disposition events.

    Rules: consent and enrolment are protocol milestones; a screen failure, a withdrawal
    (decoded by who decided it), a death, a completion and a loss to follow-up are disposition
    events; an end of study given for a death or a withdrawal is a milestone, END OF STUDY,
    so that each disposition is counted once.
    """
    found: list[tuple[date, int, list[int], dict[str, str]]] = []

    def add(entry: Entry, on: date, term: str, decode: str, category: str) -> None:
        values = {"DSTERM": term, "DSDECOD": decode, "DSCAT": category, "DSSTDTC": _day(on)}
        found.append((on, entry.version, _sources(entry), values))

    for entry in subject.live(ConsentObtained):
        add(
            entry,
            entry["consented_on"],
            f"INFORMED CONSENT OBTAINED, TCLE VERSION {entry['tcle_version']}",
            "INFORMED CONSENT OBTAINED",
            PROTOCOL_MILESTONE,
        )
    for entry in subject.live(Enrolled):
        add(entry, entry["enrolled_on"], "ENROLLED", "ENROLLED", PROTOCOL_MILESTONE)
    for entry in subject.live(ScreenFailed):
        add(entry, entry["failed_on"], entry["reason"], "SCREEN FAILURE", DISPOSITION_EVENT)
    for entry in subject.live(SubjectWithdrawn):
        decided_by = WithdrawalDecidedBy(_code(entry["decided_by"]))
        add(
            entry,
            entry["withdrawn_on"],
            entry["reason"],
            WITHDRAWAL_DECODES[decided_by],
            DISPOSITION_EVENT,
        )
    for entry in subject.live(SubjectDied):
        add(entry, entry["died_on"], entry["cause"], "DEATH", DISPOSITION_EVENT)
    for entry in subject.live(EndOfStudyRecorded):
        reason = EndOfStudyReason(_code(entry["reason"]))
        if reason in END_DECODES:
            add(
                entry,
                entry["ended_on"],
                END_DECODES[reason],
                END_DECODES[reason],
                DISPOSITION_EVENT,
            )
        else:
            term = f"{END_OF_STUDY}: {reason.value.upper()}"
            add(entry, entry["ended_on"], term, END_OF_STUDY, PROTOCOL_MILESTONE)
    found.sort(key=lambda row: row[:2])
    return _numbered(subject, "DS", [(entries, values) for *_, entries, values in found])


# -- datasets read from declarations ---------------------------------------------------------------


def findings(subject: Subject, domain: str) -> list[Row]:
    """A declared dataset: one row per record of the kinds mapping to it, as declared.

    Rules: rows in the order of the day each record is about, then the entry.
    """
    kinds = dict.fromkeys(source.kind for source in sources(domain))
    found = [
        (subject.dated_on(entry) or date.min, entry.version, _sources(entry), entry)
        for kind in kinds
        for entry in subject.live(kind)
    ]
    found.sort(key=lambda row: row[:2])
    time_zone = subject.protocol.time_zone
    return _numbered(
        subject,
        domain,
        [
            (entries, finding(domain, EVENT_CLASSES[entry.kind], entry.fields, time_zone))
            for *_, entries, entry in found
        ],
    )


# -- shared ----------------------------------------------------------------------------------------


def _identity(subject: Subject, domain: str) -> dict[str, str]:
    return {"STUDYID": subject.study_id, "DOMAIN": domain, "USUBJID": usubjid(subject)}


def _numbered(
    subject: Subject, domain: str, rows: Sequence[tuple[list[int], dict[str, str]]]
) -> list[Row]:
    """The subject's rows of a domain, in the order given, numbered and traced to entries."""
    dataset = next(d for d in EVERY_DATASET if d.domain == domain)
    return [
        _row(
            dataset.columns,
            **_identity(subject, domain),
            **{f"{domain}SEQ": str(n), f"{domain}SPID": ";".join(str(v) for v in entries)},
            **values,
        )
        for n, (entries, values) in enumerate(rows, start=1)
    ]


def _sources(entry: Entry, *, extra: Iterable[int] = ()) -> list[int]:
    """The entry, then ascending the corrections of it and any further entries given."""
    rest = {*entry.corrected_by, *extra} - {entry.version}
    return [entry.version, *sorted(rest)]


def _row(columns: Sequence[str], **values: str) -> Row:
    """Every column, empty unless given; a value for no column is kept, so writing refuses it."""
    return {**dict.fromkeys(columns, ""), **values}


def _csv(columns: Sequence[str], rows: Iterable[Row]) -> bytes:
    # The store's one CSV writer: formula-looking text quoted, numbers kept (csv_file.py).
    return csv_bytes(columns, rows)


def _day(value: date) -> str:
    return value.isoformat()


def _local_instant(subject: Subject, value: datetime) -> str:
    """An instant as the site's local date and time, ISO 8601 without offset (SDTM --DTC)."""
    return value.astimezone(subject.protocol.time_zone).strftime("%Y-%m-%dT%H:%M:%S")


def _code(value: Any) -> str:
    """A coded answer's value, whether it reads back as the enum or as its value."""
    return str(getattr(value, "value", value))


def _yes_no(value: bool) -> str:
    return "Y" if value else "N"
