"""Flags on laboratory values: outside the reference range, implausible, off the trough target.

A value is never refused for being unusual: it is recorded as measured and flagged, so the
monitor sees it and the investigator confirms or corrects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class LabFlag(StrEnum):
    """A flag on a laboratory value, as the listing prints it."""

    LOW = "low"
    HIGH = "high"
    IMPLAUSIBLE = "implausible"
    BELOW_TARGET = "below target"
    ABOVE_TARGET = "above target"


def _check_bounds(kind: str, low: Decimal | None, high: Decimal | None) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError(f"{kind} low {low} is above its high {high}")


@dataclass(frozen=True)
class ReferenceRange:
    """The laboratory's normal range, both ends normal; an open end is None."""

    low: Decimal | None
    high: Decimal | None

    def __post_init__(self) -> None:
        _check_bounds("reference range", self.low, self.high)


@dataclass(frozen=True)
class PlausibleRange:
    """The values a measurement can physiologically take, both ends included.

    Outside it a value is most likely a typing or unit error, but it is still recorded.
    """

    low: Decimal | None
    high: Decimal | None

    def __post_init__(self) -> None:
        _check_bounds("plausible range", self.low, self.high)


def flag_value(
    value: Decimal, reference: ReferenceRange | None, plausible: PlausibleRange | None
) -> tuple[LabFlag, ...]:
    """The flags of a laboratory value: "low"/"high" against the reference range, and
    "implausible" outside the plausible range. A value at a range's end is inside it.

    Returns:
        The flags in that order, empty when the value is unremarkable.
    """
    flags: list[LabFlag] = []
    if reference is not None:
        if reference.low is not None and value < reference.low:
            flags.append(LabFlag.LOW)
        if reference.high is not None and value > reference.high:
            flags.append(LabFlag.HIGH)
    if plausible is not None and (
        (plausible.low is not None and value < plausible.low)
        or (plausible.high is not None and value > plausible.high)
    ):
        flags.append(LabFlag.IMPLAUSIBLE)
    return tuple(flags)


@dataclass(frozen=True)
class CyclosporineTroughTarget:
    """The cyclosporine trough level the weekly dose correction aims at, in ng/mL.

    The protocol keeps the trough between 150 and 250, both ends on target.
    """

    low: Decimal = Decimal(150)
    high: Decimal = Decimal(250)
    unit: str = "ng/mL"

    def __post_init__(self) -> None:
        _check_bounds("trough target", self.low, self.high)


def flag_trough(level: Decimal, target: CyclosporineTroughTarget) -> tuple[LabFlag, ...]:
    """Whether a cyclosporine trough level (ng/mL) is below or above the protocol's target.

    Returns:
        ("below target",), ("above target",) or () when on target.
    """
    if level < target.low:
        return (LabFlag.BELOW_TARGET,)
    if level > target.high:
        return (LabFlag.ABOVE_TARGET,)
    return ()
