"""How values and three-valued answers read in a finding (private to ``domain.clinical``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from domain.quantities import BILLION_PER_LITRE, GRAMS_PER_DECILITRE

TIMES = "\u00d7"  # the multiplication sign the protocol writes: 0.5 x 10^9/L


def per_litre(value: Decimal) -> str:
    """A cell count as the protocol writes it: 0.5, the multiplication sign, 10^9/L."""
    return f"{value:f} {TIMES} {BILLION_PER_LITRE}"


def grams_per_decilitre(value: Decimal) -> str:
    """A haemoglobin concentration, e.g. ``10 g/dL``."""
    return f"{value:f} {GRAMS_PER_DECILITRE}"


def percent(value: Decimal) -> str:
    """A marrow cellularity, e.g. ``20%``."""
    return f"{value:f}%"


def on(day: date) -> str:
    """A date as ISO 8601, the form every record of the store uses."""
    return day.isoformat()


def at_least(required: int, answers: Iterable[bool | None]) -> bool | None:
    """Whether at least ``required`` answers are yes, when some answers are unknown (None).

    Yes when the known yeses already reach it, no when they cannot reach it even if every
    unknown were yes, unknown otherwise.
    """
    listed = list(answers)
    yes = sum(1 for answer in listed if answer is True)
    unknown = sum(1 for answer in listed if answer is None)
    if yes >= required:
        return True
    if yes + unknown < required:
        return False
    return None
