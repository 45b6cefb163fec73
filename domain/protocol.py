"""A study protocol as data: who may enrol, what is recorded and in which units.

The core of the store is not specific to one study: a second protocol is a new
:class:`StudyProtocol` (and, where it records new things, new event kinds), not a fork.
NCT01297972 is the first, transcribed from its registry record (../shared/seeds/).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from domain.errors import UnknownStudy
from domain.quantities import BILLION_PER_LITRE, GRAMS_PER_DECILITRE, MILLION_CELLS_PER_KG


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion, answered yes or no at enrolment."""

    code: str
    text: str


@dataclass(frozen=True)
class StudyProtocol:
    """The rules of one study that the domain enforces."""

    study_id: str
    title: str
    ethics_reference: str
    min_age: int
    max_age: int
    inclusion: tuple[Criterion, ...]
    exclusion: tuple[Criterion, ...]
    max_msc_infusions: int
    msc_dose_unit: str
    lab_units: Mapping[str, str] = field(default_factory=dict)

    @property
    def criteria_codes(self) -> frozenset[str]:
        """Every criterion that must be answered at enrolment."""
        return frozenset(c.code for c in (*self.inclusion, *self.exclusion))


NCT01297972 = StudyProtocol(
    study_id="NCT01297972",
    title=(
        "Bone Marrow Mesenchymal Stem Cells in the Treatment of Refractory Severe Acquired "
        "Aplastic Anemia"
    ),
    ethics_reference="CONEP 16119",
    min_age=18,
    max_age=65,
    inclusion=(
        Criterion("IN1", "Diagnosis of acquired aplastic anemia"),
        Criterion(
            "IN2", "Relapsed or refractory to at least one first-line immunosuppressive treatment"
        ),
        Criterion("IN3", "Not eligible for allogeneic bone marrow transplantation"),
    ),
    exclusion=(
        Criterion("EX1", "Previous or current malignancy"),
        Criterion("EX2", "Active or latent infectious disease"),
        Criterion(
            "EX3", "Positive serology for HIV, HCV, HBV, HTLV-1 and 2, syphilis or Chagas disease"
        ),
        Criterion(
            "EX4",
            "Previous drug reaction to antithymocyte globulin, cyclosporine or corticosteroids",
        ),
        Criterion("EX5", "Severe organ impairment (renal, hepatic, cardiac, pulmonary)"),
        Criterion("EX6", "Uncontrolled hypertension or diabetes"),
        Criterion("EX7", "Pregnancy"),
        Criterion("EX8", "Previous allergic reaction to penicillin or streptomycin"),
        Criterion("EX9", "Severe psychiatric disorder"),
    ),
    max_msc_infusions=5,
    msc_dose_unit=MILLION_CELLS_PER_KG,
    lab_units=MappingProxyType(
        {
            "haemoglobin": GRAMS_PER_DECILITRE,
            "neutrophils": BILLION_PER_LITRE,
            "platelets": BILLION_PER_LITRE,
            "reticulocytes": BILLION_PER_LITRE,
            "leukocytes": BILLION_PER_LITRE,
        }
    ),
)

PROTOCOLS: Mapping[str, StudyProtocol] = MappingProxyType({NCT01297972.study_id: NCT01297972})


def protocol_for(study_id: str) -> StudyProtocol:
    """The protocol of a study this store serves."""
    try:
        return PROTOCOLS[study_id]
    except KeyError:
        raise UnknownStudy(f"this store serves no study {study_id!r}") from None
