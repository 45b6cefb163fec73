"""Clinical facts the store derives from a subject's records.

Pure functions over plain frozen values: Camitta severity, hematologic response (NIH) beside
the investigator's, serious adverse event notification clocks, and lab value flags. Every
threshold and clock is a setting the study's protocol carries; the defaults are those of
NCT01297972 (domain/protocols/NCT01297972.toml). Values are exact Decimals in the protocol's units.
"""

from __future__ import annotations

from domain.clinical.lab_flags import (
    CyclosporineTroughTarget,
    LabFlag,
    PlausibleRange,
    ReferenceRange,
    flag_trough,
    flag_value,
)
from domain.clinical.notification import (
    ClockStatus,
    NotificationClock,
    ReportingClocks,
    ReportingRuleSet,
    SeriousnessCriterion,
    notification_clock,
)
from domain.clinical.records import (
    BloodCount,
    MarrowExam,
    ReticulocyteMethod,
    Transfusion,
    TransfusionProduct,
)
from domain.clinical.response import (
    Agreement,
    ResponseCategory,
    ResponseComparison,
    ResponseCriteria,
    ResponseFinding,
    compare_with_investigator,
    hematologic_response,
)
from domain.clinical.severity import (
    CamittaCriterion,
    Severity,
    SeverityAssessment,
    SeverityCriteria,
    camitta_severity,
    meets_severe_blood_criteria,
)

__all__ = [
    "Agreement",
    "BloodCount",
    "CamittaCriterion",
    "ClockStatus",
    "CyclosporineTroughTarget",
    "LabFlag",
    "MarrowExam",
    "NotificationClock",
    "PlausibleRange",
    "ReferenceRange",
    "ReportingClocks",
    "ReportingRuleSet",
    "ResponseCategory",
    "ResponseComparison",
    "ResponseCriteria",
    "ResponseFinding",
    "ReticulocyteMethod",
    "SeriousnessCriterion",
    "Severity",
    "SeverityAssessment",
    "SeverityCriteria",
    "Transfusion",
    "TransfusionProduct",
    "camitta_severity",
    "compare_with_investigator",
    "flag_trough",
    "flag_value",
    "hematologic_response",
    "meets_severe_blood_criteria",
    "notification_clock",
]
