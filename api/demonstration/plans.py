"""The nine synthetic subjects of the demonstration cohort, as planned: who, when, what was
given, what happened. The plans are data (``cohort.toml``, beside this module); the records a
site signs are made from them by :mod:`api.demonstration.records`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.resources import files
from typing import Any

STUDY = "NCT01297972"
SITE = "RP"
COORDINATOR = "coordinator"
"""Signs data entry."""
INVESTIGATOR = "investigator"
"""Signs eligibility, serious adverse events and their notifications, responses and deaths."""
MONITOR = "monitor"
"""Verifies records against the site's source documents, once the records are in."""
DATA_MANAGER = "data_manager"
"""The sponsor's data manager: freezes and locks the subjects, reviews the audit trail."""


@dataclass(frozen=True)
class Record:
    """One record as its author signs it: the kind, its ``data`` in wire form, and who signs."""

    kind: str
    data: dict[str, Any]
    signer: str


@dataclass(frozen=True)
class AdverseEvent:
    """An adverse event of the plan, its days counted from the first rATG dose.

    A serious event is reported when the site learns of it, notified, and followed up when it
    resolves; a non-serious one is reported once it has resolved.
    """

    name: str
    term: str
    category: str
    grade: int
    onset: int
    lasted: int
    seriousness: tuple[str, ...] = ()
    related: tuple[str, str, str] = ("unrelated", "unrelated", "unrelated")
    """Relatedness to MSC, rATG and cyclosporine."""
    expected: bool = True
    pathogen: str | None = None
    learned_after: int = 1
    notified_after: int = 3


@dataclass(frozen=True)
class Death:
    """A death, its cause, and the grade-5 adverse event that caused it."""

    day: int
    cause: str
    term: str
    category: str
    onset_before: int
    pathogen: str | None
    related: tuple[str, str, str]
    notified_after: int
    cyclosporine_stop_reason: str | None = None
    """Why cyclosporine stopped three days before a death inside the 6-month course."""


@dataclass(frozen=True)
class Deviation:
    """A protocol deviation the site recorded, on a study day."""

    day: int
    category: str
    description: str
    major: bool = False


@dataclass(frozen=True)
class Plan:
    """One synthetic subject: who, when, what was given, what happened."""

    code: str
    sex: str
    age: int
    screened_on: date
    doses: tuple[str, ...]
    cellularity: int
    responder: bool = False
    death: Death | None = None
    ended_on: date | None = None
    adverse_events: tuple[AdverseEvent, ...] = ()
    troughs_out_of_range: Mapping[int, int] = field(default_factory=dict)
    """Week -> trough (ng/mL) outside 150-250; each is followed by a dose adjustment."""
    missed_trough_weeks: tuple[int, ...] = ()
    infusion_gaps: tuple[int, ...] = (7, 7, 7, 7)
    deviations: tuple[Deviation, ...] = ()
    mistyped_haemoglobin_week: int | None = None
    """A weekly count whose haemoglobin was entered without its decimal point, then corrected."""
    duplicated_count_week: int | None = None
    """A weekly count entered twice; the second entry is voided."""

    @property
    def enrolled_on(self) -> date:
        """A week after screening."""
        return self.screened_on + timedelta(days=7)

    @property
    def start(self) -> date:
        """Day 0: the first rATG dose, a week after enrolment."""
        return self.screened_on + timedelta(days=14)

    @property
    def last_day(self) -> int:
        """The study day follow-up ends: death, else the end of study."""
        if self.death is not None:
            return self.death.day
        assert self.ended_on is not None
        return (self.ended_on - self.start).days


def _adverse_event(
    table: Mapping[str, Any], kinds: Mapping[str, Mapping[str, Any]]
) -> AdverseEvent:
    """An adverse event of ``cohort.toml``: its own fields over those of the kind it is ``like``."""
    fields = {**kinds.get(table.get("like", ""), {}), **table}
    fields.pop("like", None)
    for name in ("seriousness", "related"):
        if name in fields:
            fields[name] = tuple(fields[name])
    return AdverseEvent(**fields)


def _death(table: Mapping[str, Any]) -> Death:
    """A death of ``cohort.toml`` (no ``pathogen``: none was found)."""
    return Death(**{"pathogen": None, **table, "related": tuple(table["related"])})


def _plan(table: Mapping[str, Any], kinds: Mapping[str, Mapping[str, Any]]) -> Plan:
    """A subject of ``cohort.toml``."""
    fields = dict(table)
    fields["doses"] = tuple(fields["doses"])
    fields["adverse_events"] = tuple(
        _adverse_event(event, kinds) for event in fields.get("adverse_events", ())
    )
    fields["deviations"] = tuple(Deviation(**row) for row in fields.get("deviations", ()))
    fields["troughs_out_of_range"] = {
        int(week): trough for week, trough in fields.get("troughs_out_of_range", {}).items()
    }
    for name in ("missed_trough_weeks", "infusion_gaps"):
        if name in fields:
            fields[name] = tuple(fields[name])
    if "death" in fields:
        fields["death"] = _death(fields["death"])
    return Plan(**fields)


def read_plans(text: str) -> tuple[Plan, ...]:
    """The plans of a cohort file (TOML), in the order they are loaded."""
    document = tomllib.loads(text)
    kinds = document.get("adverse_event_kinds", {})
    return tuple(_plan(subject, kinds) for subject in document["subjects"])


PLANS: tuple[Plan, ...] = read_plans(
    files(__package__).joinpath("cohort.toml").read_text(encoding="utf-8")
)
"""The cohort, RP-01 first."""
