"""Values with units, kept exact.

Clinical values are Decimals, never floats: a dose of 2.7 x 10^6 cells/kg must read back as
2.7, not 2.7000000000000002. Every value carries its unit, and the protocol says which units
each measurement may be recorded in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.errors import ValueOutOfRange


@dataclass(frozen=True)
class Quantity:
    """A measured or prescribed amount and its unit (UCUM-like text, e.g. ``g/dL``)."""

    value: Decimal
    unit: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, Decimal) or not self.value.is_finite():
            raise ValueOutOfRange("%(self)r is not a finite decimal", self=self.value)

    def __str__(self) -> str:
        return f"{self.value} {self.unit}"


# The units of this protocol. Counts are in 10^9 cells per litre, haemoglobin in g/dL.
GRAMS_PER_DECILITRE = "g/dL"
BILLION_PER_LITRE = "10^9/L"
MILLION_CELLS_PER_KG = "10^6 cells/kg"
