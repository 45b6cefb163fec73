"""The clinical records the facts are derived from, as the subject's events give them.

Plain frozen values with no behaviour beyond refusing what cannot be true (a negative count,
a cellularity above 100 %). Values are in the protocol's units: haemoglobin in g/dL;
neutrophils, platelets and reticulocytes in 10^9/L; marrow cellularity in %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from domain.errors import ValueOutOfRange

_HUNDRED = Decimal(100)


def _check_measured(name: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueOutOfRange("%(name)s %(value)r is not a finite decimal", name=name, value=value)
    if value < 0:
        raise ValueOutOfRange("%(name)s %(value)s cannot be negative", name=name, value=value)


class ReticulocyteMethod(Enum):
    """How the reticulocytes were counted; Camitta's threshold differs between the two."""

    MANUAL = "manual"
    AUTOMATED = "automated"


@dataclass(frozen=True)
class BloodCount:
    """One blood count as collected on a day; a value not measured is None.

    Attributes:
        collected_on: the day the sample was collected.
        haemoglobin: g/dL.
        neutrophils: absolute neutrophil count (ANC), 10^9/L.
        platelets: 10^9/L.
        reticulocytes: absolute reticulocyte count, 10^9/L.
        reticulocyte_method: manual or automated count (decides the Camitta threshold).
    """

    collected_on: date
    haemoglobin: Decimal | None
    neutrophils: Decimal | None
    platelets: Decimal | None
    reticulocytes: Decimal | None
    reticulocyte_method: ReticulocyteMethod

    def __post_init__(self) -> None:
        _check_measured("haemoglobin", self.haemoglobin)
        _check_measured("neutrophils", self.neutrophils)
        _check_measured("platelets", self.platelets)
        _check_measured("reticulocytes", self.reticulocytes)


class TransfusionProduct(Enum):
    """The blood product transfused."""

    RED_CELLS = "red_cells"
    PLATELETS = "platelets"


@dataclass(frozen=True)
class Transfusion:
    """Units of one blood product given on a day."""

    given_on: date
    product: TransfusionProduct
    units: int

    def __post_init__(self) -> None:
        if isinstance(self.units, bool) or not isinstance(self.units, int) or self.units < 1:
            raise ValueOutOfRange(
                "a transfusion is at least one unit, not %(units)r", units=self.units
            )


@dataclass(frozen=True)
class MarrowExam:
    """A bone marrow examination (biopsy) and the cellularity it found, in percent."""

    examined_on: date
    cellularity_percent: Decimal

    def __post_init__(self) -> None:
        _check_measured("marrow cellularity", self.cellularity_percent)
        if self.cellularity_percent > _HUNDRED:
            raise ValueOutOfRange(
                "marrow cellularity %(cellularity_percent)s%% is above 100%%",
                cellularity_percent=self.cellularity_percent,
            )
