"""The trial's codes in the SDTM-shaped datasets: its arm, products, and CDISC decodes."""

from __future__ import annotations

from domain.clinical import SeriousnessCriterion
from domain.clinical.lab_flags import LabFlag
from domain.subject.treatment import CyclosporineTroughMeasured
from domain.vocabulary import AdverseEventOutcome, EndOfStudyReason, WithdrawalDecidedBy
from projections.sdtm.declared import declared_test

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


TROUGH_TEST = declared_test(CyclosporineTroughMeasured, "level")
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
