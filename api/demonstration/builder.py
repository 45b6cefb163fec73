"""What every part of a subject's records is built on: the subject's plan, its study days, and
the records made so far, each with the day it is made on.

Values are made by plain arithmetic, with no randomness, so every run yields the same records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from api.demonstration.plans import COORDINATOR, Plan, Record

MONTH = 30

WOBBLE = (0, 3, -2, 5, -4, 1, -1, 4, -3, 2, -5, 2)
"""A fixed sequence that makes successive values differ the way real counts do (mean ~0)."""


def tenths(value: int) -> str:
    """A value kept in tenths, written as a decimal: 78 -> "7.8"."""
    return f"{value // 10}.{value % 10}"


def hundredths(value: int) -> str:
    """A value kept in hundredths, written as a decimal: 31 -> "0.31"."""
    return f"{value // 100}.{value % 100:02d}"


def quantity(value: str, unit: str) -> dict[str, str]:
    """A quantity in wire form."""
    return {"value": value, "unit": unit}


def wobble(subject: int, step: int) -> int:
    """The fixed variation of a subject's ``step``-th value."""
    return WOBBLE[(subject * 5 + step) % len(WOBBLE)]


@dataclass
class Item:
    """A record on its way into the subject's order: sorted by day, then as a site enters."""

    on: date
    record: Record
    key: str | None = None
    target: str | None = None
    """For a correction or a void: the key of the record it names (its entry number is known
    only once the records are in order)."""


class SubjectBuilder:
    """One subject's records on their way into the subject's order."""

    def __init__(self, plan: Plan, index: int) -> None:
        self.plan = plan
        self.index = index
        self.items: list[Item] = []

    def day(self, n: int) -> date:
        return self.plan.start + timedelta(days=n)

    def alive_on(self, n: int) -> bool:
        return n <= self.plan.last_day

    def add(
        self,
        on: date,
        kind: str,
        data: dict[str, Any],
        signer: str = COORDINATOR,
        *,
        key: str | None = None,
        target: str | None = None,
    ) -> None:
        self.items.append(Item(on, Record(kind, data, signer), key, target))
