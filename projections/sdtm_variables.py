"""The variables of the SDTM-shaped datasets, and the trial's codes in them.

This is the data dictionary as data: each dataset's SDTM domain, what one row is, and for each
variable its SDTM name and label, its type, the controlled terms or units it takes, the
sealtrail record kind and field it comes from, and the rule that derives it. The derivations
themselves are in :mod:`projections.sdtm`, which writes exactly these columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.clinical import SeriousnessCriterion
from domain.clinical.lab_flags import LabFlag
from domain.subject import Record
from domain.subject.measurements import LAB_TESTS
from domain.subject.treatment import CyclosporineTroughMeasured
from domain.vocabulary import AdverseEventOutcome, EndOfStudyReason, WithdrawalDecidedBy

SDTMIG_VERSION = "3.1.3"
"""The SDTM Implementation Guide whose variable names and conventions the datasets follow."""


@dataclass(frozen=True)
class Variable:
    """One column of a dataset, as the data dictionary describes it.

    Attributes:
        name: the SDTM variable name (``USUBJID``, ``EXDOSE``).
        label: the SDTM label.
        type: ``Char`` or ``Num``.
        terms: the controlled terms or units its values take, empty when free.
        origin: the sealtrail record kind and field it comes from, or ``Assigned``.
        derivation: the rule that derives it, empty when copied as recorded.
    """

    name: str
    label: str
    type: str
    terms: str = ""
    origin: str = ""
    derivation: str = ""


@dataclass(frozen=True)
class Dataset:
    """One dataset: its SDTM domain, what a row is, and its variables in column order."""

    domain: str
    label: str
    structure: str
    variables: tuple[Variable, ...]
    sdtmig: str = SDTMIG_VERSION
    """The SDTM Implementation Guide version that defines the domain."""

    @property
    def file_name(self) -> str:
        """The dataset's file in the packet, e.g. ``DM.csv``."""
        return f"{self.domain}.csv"

    @property
    def columns(self) -> tuple[str, ...]:
        """The variable names, in column order."""
        return tuple(v.name for v in self.variables)


# -- the trial's codes -----------------------------------------------------------------------------

ARM_CODE, ARM = "MSCATGCS", "MSC + rATG + cyclosporine"
"""The study's single arm: MSC infusions after rabbit ATG, with oral cyclosporine."""
NOT_ASSIGNED = ("NOTASSGN", "Not Assigned")
SCREEN_FAILURE = ("SCRNFAIL", "Screen Failure")
NOT_TREATED = ("NOTTRT", "Not Treated")

ISO_3166_ALPHA_3 = {"BR": "BRA"}
"""SDTM's COUNTRY is ISO 3166-1 alpha-3; the protocols give alpha-2. Every served protocol's
country is here (a test checks it)."""

RATG = "ANTITHYMOCYTE GLOBULIN (RABBIT)"
CYCLOSPORINE = "CYCLOSPORINE"
MSC = "MESENCHYMAL STROMAL CELLS (ALLOGENEIC, BONE MARROW)"
INTRAVENOUS, ORAL = "INTRAVENOUS", "ORAL"
SUSPENSION = "SUSPENSION"


def _declared_test(kind: type[Record], name: str) -> tuple[str, str]:
    """The ``--TESTCD`` and ``--TEST`` a kind's declaration gives one of its items."""
    declared = next(d for d in kind.items() if d.name == name)
    return next(m.test_codes[name] for m in declared.about.sdtm if name in m.test_codes)


TROUGH_TEST = _declared_test(CyclosporineTroughMeasured, "level")
"""Sponsor-defined (CYCLOSPR): CDISC lab terminology leaves out therapeutic drug monitoring."""
HEMATOLOGY, DRUG_MONITORING = "HEMATOLOGY", "THERAPEUTIC DRUG MONITORING"

REFERENCE_INDICATOR = {
    LabFlag.LOW: "LOW",
    LabFlag.HIGH: "HIGH",
    LabFlag.BELOW_TARGET: "LOW",
    LabFlag.ABOVE_TARGET: "HIGH",
}
"""LBNRIND of the domain's flags: against a reference range, or against the trough target."""

OUTCOMES = {
    AdverseEventOutcome.RECOVERED: "RECOVERED/RESOLVED",
    AdverseEventOutcome.RECOVERING: "RECOVERING/RESOLVING",
    AdverseEventOutcome.NOT_RECOVERED: "NOT RECOVERED/NOT RESOLVED",
    AdverseEventOutcome.RECOVERED_WITH_SEQUELAE: "RECOVERED/RESOLVED WITH SEQUELAE",
    AdverseEventOutcome.FATAL: "FATAL",
    AdverseEventOutcome.UNKNOWN: "UNKNOWN",
}
"""sealtrail's outcomes (ICH E2B, in words) as the CDISC OUT codelist spells them."""

SERIOUSNESS_FLAGS = {
    "AESCONG": SeriousnessCriterion.CONGENITAL_ANOMALY,
    "AESDISAB": SeriousnessCriterion.DISABILITY,
    "AESDTH": SeriousnessCriterion.DEATH,
    "AESHOSP": SeriousnessCriterion.HOSPITALISATION,
    "AESLIFE": SeriousnessCriterion.LIFE_THREATENING,
    "AESMIE": SeriousnessCriterion.IMPORTANT_MEDICAL_EVENT,
}

PROTOCOL_MILESTONE, DISPOSITION_EVENT = "PROTOCOL MILESTONE", "DISPOSITION EVENT"
WITHDRAWAL_DECODES = {
    WithdrawalDecidedBy.SUBJECT: "WITHDRAWAL BY SUBJECT",
    WithdrawalDecidedBy.INVESTIGATOR: "PHYSICIAN DECISION",
    WithdrawalDecidedBy.SPONSOR: "STUDY TERMINATED BY SPONSOR",
}
END_DECODES = {
    EndOfStudyReason.COMPLETED: "COMPLETED",
    EndOfStudyReason.LOST_TO_FOLLOW_UP: "LOST TO FOLLOW-UP",
}
"""Ends of study that are the subject's disposition; a death or withdrawal already is one."""
END_OF_STUDY = "END OF STUDY"

SPID_RULE = (
    "The entries of the subject's stream (study/SUBJID; entry = the signed event's version) "
    "the row comes from, joined by ';': the record itself first, then, ascending, the entries "
    "that changed or complete what the row shows (its corrections; an adverse event's "
    "follow-ups and their corrections; the record whose date ends a cyclosporine dose)."
)


# -- the variables ---------------------------------------------------------------------------------


def identifiers(domain: str) -> tuple[Variable, ...]:
    return (
        Variable(
            "STUDYID",
            "Study Identifier",
            "Char",
            origin="Subject stream name (study part)",
            derivation="The study's registry id, e.g. NCT01297972.",
        ),
        Variable("DOMAIN", "Domain Abbreviation", "Char", domain, "Assigned"),
        Variable(
            "USUBJID",
            "Unique Subject Identifier",
            "Char",
            origin="Subject stream name",
            derivation="STUDYID and SUBJID joined by '-', e.g. NCT01297972-RP-01.",
        ),
    )


def sequence(domain: str) -> tuple[Variable, ...]:
    return (
        Variable(
            f"{domain}SEQ",
            "Sequence Number",
            "Num",
            origin="Derived",
            derivation="1, 2, ... within the subject, in the dataset's sort order.",
        ),
        Variable(
            f"{domain}SPID",
            "Sponsor-Defined Identifier",
            "Char",
            origin="Entry numbers of the subject's stream",
            derivation=SPID_RULE,
        ),
    )


DM = Dataset(
    "DM",
    "Demographics",
    "One record per screened subject, sorted by USUBJID. DM has no --SPID: its values come "
    "from the Screened entry (entry 1 of the subject's stream) and from the records the "
    "subject's DS and EX rows name.",
    (
        *identifiers("DM"),
        Variable("SUBJID", "Subject Identifier for the Study", "Char", origin="Screened: subject"),
        Variable(
            "RFSTDTC",
            "Subject Reference Start Date/Time",
            "Char",
            "ISO 8601",
            "MscInfusionGiven: given_at; else Enrolled: enrolled_on",
            "The first MSC infusion that counts (the investigational product), in the site's "
            "local time; for a subject enrolled but never infused, the enrolment date; empty "
            "when not enrolled.",
        ),
        Variable(
            "RFENDTC",
            "Subject Reference End Date/Time",
            "Char",
            "ISO 8601",
            "EndOfStudyRecorded: ended_on; else SubjectDied: died_on; else SubjectWithdrawn: "
            "withdrawn_on",
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
            "ConsentObtained: consented_on",
            "The earliest consent that counts (a re-consent does not move it).",
        ),
        Variable("DTHDTC", "Date/Time of Death", "Char", "ISO 8601", "SubjectDied: died_on"),
        Variable(
            "DTHFL",
            "Subject Death Flag",
            "Char",
            "Y or empty",
            "SubjectDied",
            "Y when a death record counts.",
        ),
        Variable("SITEID", "Study Site Identifier", "Char", origin="Screened: site"),
        Variable("AGE", "Age", "Num", origin="Screened: age", derivation="Age at screening."),
        Variable("AGEU", "Age Units", "Char", "YEARS", "Assigned"),
        Variable("SEX", "Sex", "Char", "F, M, U", "Screened: sex"),
        Variable(
            "ARMCD",
            "Planned Arm Code",
            "Char",
            f"{ARM_CODE}, {SCREEN_FAILURE[0]}, {NOT_ASSIGNED[0]}",
            "Enrolled; ScreenFailed",
            f"{ARM_CODE} when enrolled; {SCREEN_FAILURE[0]} after a screen failure; "
            f"{NOT_ASSIGNED[0]} otherwise (screened or consented, not yet enrolled).",
        ),
        Variable(
            "ARM",
            "Description of Planned Arm",
            "Char",
            f"{ARM}; {SCREEN_FAILURE[1]}; {NOT_ASSIGNED[1]}",
            "Enrolled; ScreenFailed",
            "The description of ARMCD.",
        ),
        Variable(
            "ACTARMCD",
            "Actual Arm Code",
            "Char",
            f"{ARM_CODE}, {SCREEN_FAILURE[0]}, {NOT_ASSIGNED[0]}, {NOT_TREATED[0]}",
            "Enrolled; ScreenFailed; EX",
            f"ARMCD, except {NOT_TREATED[0]} for an enrolled subject with no EX row.",
        ),
        Variable(
            "ACTARM",
            "Description of Actual Arm",
            "Char",
            f"{ARM}; {SCREEN_FAILURE[1]}; {NOT_ASSIGNED[1]}; {NOT_TREATED[1]}",
            "Enrolled; ScreenFailed; EX",
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

EX = Dataset(
    "EX",
    "Exposure",
    "One record per rATG dose, per cyclosporine dosing interval and per MSC infusion, sorted "
    "by USUBJID, then the day of EXSTDTC and the entry.",
    (
        *identifiers("EX"),
        *sequence("EX"),
        Variable(
            "EXTRT",
            "Name of Actual Treatment",
            "Char",
            f"{RATG}; {CYCLOSPORINE}; {MSC}",
            "RatgDoseGiven; CyclosporineStarted, CyclosporineDoseAdjusted; MscInfusionGiven",
            "Named after the record kind.",
        ),
        Variable(
            "EXDOSE",
            "Dose per Administration",
            "Num",
            origin="RatgDoseGiven, CyclosporineStarted, CyclosporineDoseAdjusted, "
            "MscInfusionGiven: dose.value",
            derivation="The decimal as recorded (its digits kept).",
        ),
        Variable(
            "EXDOSU",
            "Dose Units",
            "Char",
            "mg/kg (rATG); mg/kg/day (cyclosporine); 10^6 cells/kg (MSC)",
            "As EXDOSE: dose.unit",
            "As recorded (the protocol fixes each product's unit).",
        ),
        Variable(
            "EXDOSFRM",
            "Dose Form",
            "Char",
            SUSPENSION,
            "Assigned",
            f"{SUSPENSION} for MSC (cells are infused in suspension); empty for rATG and "
            "cyclosporine, whose form sealtrail does not record.",
        ),
        Variable(
            "EXROUTE",
            "Route of Administration",
            "Char",
            f"{INTRAVENOUS}, {ORAL}",
            "Assigned",
            f"{INTRAVENOUS} for rATG and MSC, {ORAL} for cyclosporine, as the protocol gives them.",
        ),
        Variable(
            "EXLOT",
            "Lot Number",
            "Char",
            origin="MscInfusionGiven: product_lot",
            derivation="The MSC product lot; empty for rATG and cyclosporine (not recorded).",
        ),
        Variable(
            "EXADJ",
            "Reason for Dose Adjustment",
            "Char",
            origin="CyclosporineDoseAdjusted: reason",
        ),
        Variable(
            "EXSTDTC",
            "Start Date/Time of Treatment",
            "Char",
            "ISO 8601",
            "RatgDoseGiven: given_on; CyclosporineStarted: started_on; "
            "CyclosporineDoseAdjusted: effective_on; MscInfusionGiven: given_at",
            "An MSC infusion's instant in the site's local time (YYYY-MM-DDThh:mm:ss, no "
            "offset); the other records' dates.",
        ),
        Variable(
            "EXENDTC",
            "End Date/Time of Treatment",
            "Char",
            "ISO 8601",
            "RatgDoseGiven: given_on; MscInfusionGiven: given_at; the next "
            "CyclosporineDoseAdjusted: effective_on; CyclosporineStopped: stopped_on",
            "rATG: the day of the dose; MSC: the day of the infusion (its end time is not "
            "recorded); cyclosporine: the day before the next adjustment takes effect (the "
            "start day if that is the same day), else the day it stopped, else empty (ongoing "
            "or not recorded).",
        ),
    ),
)

LB = Dataset(
    "LB",
    "Laboratory Test Results",
    "One record per analyte of each blood count, and one per cyclosporine trough, sorted by "
    "USUBJID, then LBDTC, the entry and the order HGB, NEUT, PLAT, RETI, WBC.",
    (
        *identifiers("LB"),
        *sequence("LB"),
        Variable(
            "LBTESTCD",
            "Lab Test or Examination Short Name",
            "Char",
            ", ".join([*(code for code, _ in LAB_TESTS.values()), TROUGH_TEST[0]]),
            "BloodCountRecorded: results (the analyte); CyclosporineTroughMeasured",
            f"CDISC LBTESTCD of the analyte; {TROUGH_TEST[0]} is sponsor-defined (CDISC lab "
            "terminology does not cover therapeutic drug monitoring).",
        ),
        Variable(
            "LBTEST",
            "Lab Test or Examination Name",
            "Char",
            ", ".join([*(name for _, name in LAB_TESTS.values()), TROUGH_TEST[1]]),
            "As LBTESTCD",
            "The name of LBTESTCD.",
        ),
        Variable(
            "LBCAT",
            "Category for Lab Test",
            "Char",
            f"{HEMATOLOGY}, {DRUG_MONITORING}",
            "Assigned",
            f"{HEMATOLOGY} for blood counts, {DRUG_MONITORING} for troughs.",
        ),
        Variable(
            "LBORRES",
            "Result or Finding in Original Units",
            "Char",
            origin="BloodCountRecorded: results.<analyte>.value; "
            "CyclosporineTroughMeasured: level.value",
            derivation="The decimal as recorded (its digits kept).",
        ),
        Variable(
            "LBORRESU",
            "Original Units",
            "Char",
            "g/dL (HGB); 10^9/L (NEUT, PLAT, RETI, WBC); ng/mL (CYCLOSPR)",
            "results.<analyte>.unit; level.unit",
        ),
        Variable(
            "LBORNRLO",
            "Reference Range Lower Limit in Orig Unit",
            "Char",
            origin="Study protocol: labs.<analyte>.reference.low; cyclosporine.trough_target.low",
            derivation="The protocol's adult reference range; for CYCLOSPR the protocol's "
            "trough target, the range the dose is corrected to.",
        ),
        Variable(
            "LBORNRHI",
            "Reference Range Upper Limit in Orig Unit",
            "Char",
            origin="Study protocol: labs.<analyte>.reference.high; cyclosporine.trough_target.high",
            derivation="As LBORNRLO.",
        ),
        Variable(
            "LBSTRESC",
            "Character Result/Finding in Std Format",
            "Char",
            origin="As LBORRES",
            derivation="LBORRES unchanged: the protocol's units are the standard units.",
        ),
        Variable(
            "LBSTRESN",
            "Numeric Result/Finding in Standard Units",
            "Num",
            origin="As LBORRES",
            derivation="LBORRES unchanged.",
        ),
        Variable(
            "LBSTRESU",
            "Standard Units",
            "Char",
            "As LBORRESU",
            "As LBORRESU",
            "LBORRESU unchanged (no conversion).",
        ),
        Variable("LBSTNRLO", "Reference Range Lower Limit-Std Units", "Num", "", "As LBORNRLO"),
        Variable("LBSTNRHI", "Reference Range Upper Limit-Std Units", "Num", "", "As LBORNRHI"),
        Variable(
            "LBNRIND",
            "Reference Range Indicator",
            "Char",
            "LOW, NORMAL, HIGH",
            "Derived (domain.clinical.flag_value, flag_trough)",
            "LOW below LBORNRLO, HIGH above LBORNRHI, NORMAL between them (both ends normal); "
            "empty when the protocol gives no range.",
        ),
        Variable(
            "LBSPEC",
            "Specimen Type",
            "Char",
            "BLOOD",
            "Assigned",
            "BLOOD for blood counts; empty for troughs (the specimen is not recorded).",
        ),
        Variable(
            "LBMETHOD",
            "Method of Test or Examination",
            "Char",
            "MANUAL, AUTOMATED",
            "BloodCountRecorded: reticulocyte_method",
            "For RETI only: how the reticulocytes were counted, as recorded, upper case.",
        ),
        Variable(
            "LBTPT",
            "Planned Time Point Name",
            "Char",
            "TROUGH",
            "Assigned",
            "TROUGH for cyclosporine levels; empty for blood counts.",
        ),
        Variable(
            "LBDTC",
            "Date/Time of Specimen Collection",
            "Char",
            "ISO 8601",
            "BloodCountRecorded: collected_on; CyclosporineTroughMeasured: collected_on",
        ),
    ),
)

AE = Dataset(
    "AE",
    "Adverse Events",
    "One record per adverse event, as its report and every follow-up leave it, sorted by "
    "USUBJID, then AESTDTC and the report's entry.",
    (
        *identifiers("AE"),
        *sequence("AE"),
        Variable(
            "AEREFID",
            "Reference ID",
            "Char",
            origin="AdverseEventReported: adverse_event",
            derivation="The site's id of the adverse event (e.g. AE-01), unique per subject.",
        ),
        Variable(
            "AETERM",
            "Reported Term for the Adverse Event",
            "Char",
            "CTCAE v5 terms",
            "AdverseEventReported: term",
        ),
        Variable(
            "AEDECOD",
            "Dictionary-Derived Term",
            "Char",
            "MedDRA",
            "Not recorded",
            "Empty: sealtrail records CTCAE v5 terms, not MedDRA codes.",
        ),
        Variable(
            "AECAT",
            "Category for Adverse Event",
            "Char",
            "INFECTION, FEBRILE_NEUTROPENIA, INFUSION_REACTION, ALLERGIC_REACTION, "
            "ORGAN_DYSFUNCTION, HAEMORRHAGE, OTHER",
            "AdverseEventReported: category",
            "The recorded category, upper case.",
        ),
        Variable(
            "AESER",
            "Serious Event",
            "Char",
            "Y, N",
            "AdverseEventReported: serious (after follow-ups)",
        ),
        Variable(
            "AETOXGR",
            "Standard Toxicity Grade",
            "Char",
            "1-5 (CTCAE v5)",
            "AdverseEventReported: grade (after follow-ups)",
        ),
        Variable(
            "AEREL",
            "Causality",
            "Char",
            "UNRELATED, UNLIKELY, POSSIBLE, PROBABLE, DEFINITE (WHO-UMC)",
            "AdverseEventReported: relatedness_msc (after follow-ups)",
            "Relatedness to the MSC, the investigational product, upper case. Relatedness to "
            "rATG and cyclosporine is recorded (relatedness_ratg, relatedness_cyclosporine) "
            "but not in this dataset (SDTM would put it in SUPPAE).",
        ),
        Variable(
            "AEOUT",
            "Outcome of Adverse Event",
            "Char",
            "; ".join(OUTCOMES.values()),
            "AdverseEventReported: outcome (after follow-ups)",
            "The recorded outcome in the CDISC OUT codelist's words.",
        ),
        *(
            Variable(
                name,
                label,
                "Char",
                "Y, N",
                "AdverseEventReported: seriousness (after follow-ups)",
                f"Y when the seriousness criteria include {SERIOUSNESS_FLAGS[name].value}.",
            )
            for name, label in (
                ("AESCONG", "Congenital Anomaly or Birth Defect"),
                ("AESDISAB", "Persist or Signif Disability/Incapacity"),
                ("AESDTH", "Results in Death"),
                ("AESHOSP", "Requires or Prolongs Hospitalization"),
                ("AESLIFE", "Is Life Threatening"),
                ("AESMIE", "Other Medically Important Serious Event"),
            )
        ),
        Variable(
            "AESTDTC",
            "Start Date/Time of Adverse Event",
            "Char",
            "ISO 8601",
            "AdverseEventReported: onset_on (after follow-ups)",
        ),
        Variable(
            "AEENDTC",
            "End Date/Time of Adverse Event",
            "Char",
            "ISO 8601",
            "AdverseEventReported: resolved_on (after follow-ups)",
            "Empty while the event has not ended.",
        ),
    ),
)

DS = Dataset(
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
            origin="ConsentObtained: tcle_version; ScreenFailed: reason; SubjectWithdrawn: "
            "reason; SubjectDied: cause; EndOfStudyRecorded: reason",
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
            "Record kind; SubjectWithdrawn: decided_by; EndOfStudyRecorded: reason",
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
            "Record kind; EndOfStudyRecorded: reason",
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
)

DATASETS: tuple[Dataset, ...] = (DM, EX, LB, AE, DS)
"""The datasets, in the order the dictionary lists them."""

DICTIONARY_COLUMNS = (
    "dataset",
    "variable",
    "label",
    "type",
    "controlled_terms_or_units",
    "origin",
    "derivation",
)
