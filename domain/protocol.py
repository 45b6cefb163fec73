"""A study protocol as data: who may enrol, what is given, what is recorded, in which units,
and the clocks and definitions its reports use.

The core of the store is not specific to one study: each protocol is a TOML file in
``domain/protocols/`` read into a :class:`StudyProtocol`; a second study is a second file (and,
where it records new things, new event kinds), not a fork. NCT01297972 is the first,
transcribed from its registry record (ClinicalTrials.gov NCT01297972) and its publication
(Cytotherapy 2015;17(12):1696-705, doi:10.1016/j.jcyt.2015.09.006).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, time
from decimal import Decimal, InvalidOperation
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.access_review import AccessReviewSchedule
from domain.clinical import (
    CyclosporineTroughTarget,
    PlausibleRange,
    ReferenceRange,
    ReportingClocks,
    ReportingRuleSet,
    ResponseCriteria,
    SeverityCriteria,
)
from domain.delegation import DelegationRule
from domain.errors import ProtocolDefinitionInvalid, UnknownStudy
from domain.review_settings import WEEKDAYS, AuditReviewSettings, WorkingWeek

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", PlausibleRange, ReferenceRange)
S = TypeVar("S", bound="DataclassInstance")
V = TypeVar("V")


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion, answered yes or no before enrolment."""

    code: str
    text: str


@dataclass(frozen=True)
class Measurement:
    """What a measured value is recorded in, its reference range and what is plausible."""

    unit: str
    plausible: PlausibleRange
    reference: ReferenceRange | None = None


@dataclass(frozen=True)
class RatgCourse:
    """Rabbit antithymocyte globulin: a daily dose for a fixed number of days."""

    dose_unit: str
    daily_dose: Decimal
    days: int
    plausible: PlausibleRange


@dataclass(frozen=True)
class CyclosporineCourse:
    """Oral cyclosporine: starting dose, trough target and how long it is given."""

    dose_unit: str
    starting_dose: Decimal
    plausible_dose: PlausibleRange
    trough_unit: str
    trough_target: CyclosporineTroughTarget
    plausible_trough: PlausibleRange
    treatment_months: int


@dataclass(frozen=True)
class MscSchedule:
    """Mesenchymal stromal cell infusions: how many, how far apart, in which unit."""

    dose_unit: str
    max_infusions: int
    min_days_between: int
    plausible_dose: PlausibleRange


@dataclass(frozen=True)
class StudySchedule:
    """When the protocol looks: chimerism days, response months, the safety follow-up."""

    chimerism_days: tuple[int, ...]
    response_months: tuple[int, ...]
    safety_follow_up_months: int
    assessment_months: Mapping[str, tuple[int, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """The visits of each further scheduled assessment, by the name its record kind's
    declaration reads (month 0: screening): ``[schedule.assessment_months]``, so that a new
    assessment's schedule is the protocol file's alone."""


@dataclass(frozen=True)
class StudyProtocol:
    """The rules of one study that the domain enforces and its reports apply."""

    study_id: str
    title: str
    ethics_committee: str
    ethics_reference: str
    sponsor: str
    country: str
    time_zone: ZoneInfo
    min_age: int
    max_age: int
    inclusion: tuple[Criterion, ...]
    exclusion: tuple[Criterion, ...]
    ratg: RatgCourse
    cyclosporine: CyclosporineCourse
    msc: MscSchedule
    labs: Mapping[str, Measurement]
    vital_signs: Mapping[str, Measurement]
    schedule: StudySchedule
    severity: SeverityCriteria
    response: ResponseCriteria
    reporting: ReportingClocks
    access_review: AccessReviewSchedule
    """How often each account's access is reviewed, and how early a role's end is announced."""
    publication: Mapping[str, str]
    """What the study's publication reported, by measure: shown beside computed figures."""
    audit_review: AuditReviewSettings
    """What an audit-trail review flags, and each site's working week (``[audit_review]``)."""
    delegation: DelegationRule = field(default_factory=DelegationRule)
    """From which day writes need a delegation of their task (``[delegation]``, optional)."""
    source_verification: tuple[str, ...] = ()
    """The record kinds risk-based monitoring verifies against source, by their declared names
    (``[source_verification] kinds``); none named, every record is."""
    site_time_zones: Mapping[str, ZoneInfo] = field(default_factory=lambda: MappingProxyType({}))
    """Each site's own time zone, by site code (``[sites.<code>] time_zone``, optional); a site
    not listed keeps the study's."""

    def zone_of(self, site: str | None) -> ZoneInfo:
        """The time zone of ``site``'s clocks and calendar: its own, else the study's."""
        return self.site_time_zones.get(site, self.time_zone) if site else self.time_zone

    @property
    def criteria_codes(self) -> frozenset[str]:
        """Every criterion that must be answered before enrolment."""
        return frozenset(c.code for c in (*self.inclusion, *self.exclusion))

    @property
    def lab_units(self) -> Mapping[str, str]:
        """Each analyte of the blood count and the unit it is recorded in."""
        return {analyte: m.unit for analyte, m in self.labs.items()}

    def names_in(self, table: str) -> tuple[Named, ...]:
        """The names a named item takes, from the list its declaration names (``named_in``):
        ``labs`` and ``vital_signs`` each with its unit, ``criteria`` each with its text.

        Raises:
            KeyError: the protocol keeps no such list.
        """
        if table == "criteria":
            return tuple(Named(c.code, text=c.text) for c in (*self.inclusion, *self.exclusion))
        measured: Mapping[str, Measurement] = {"labs": self.labs, "vital_signs": self.vital_signs}[
            table
        ]
        return tuple(Named(name, unit=m.unit) for name, m in measured.items())


@dataclass(frozen=True)
class Named:
    """One name a named item takes (an analyte, a vital sign, a criterion)."""

    name: str
    unit: str | None = None
    text: str = ""


def load_protocol(text: str) -> StudyProtocol:
    """Read a protocol definition (TOML, as in ``domain/protocols/``).

    Raises:
        ProtocolDefinitionInvalid: the text is not TOML or misses or mistypes a setting; the
            message names the setting.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProtocolDefinitionInvalid("not TOML: %(error)s", error=error) from None
    return _ProtocolReader(document).protocol()


class _ProtocolReader:
    """Reads the sections of a protocol document, naming the setting at fault."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def protocol(self) -> StudyProtocol:
        study = self.section("study")
        eligibility = self.section("eligibility")
        return StudyProtocol(
            study_id=self.text(study, "study.id"),
            title=self.text(study, "study.title"),
            ethics_committee=self.text(study, "study.ethics_committee"),
            ethics_reference=self.text(study, "study.ethics_reference"),
            sponsor=self.text(study, "study.sponsor"),
            country=self.text(study, "study.country"),
            time_zone=self.zone(study, "study.time_zone"),
            min_age=self.integer(eligibility, "eligibility.min_age"),
            max_age=self.integer(eligibility, "eligibility.max_age"),
            inclusion=self.criteria(eligibility, "eligibility.inclusion"),
            exclusion=self.criteria(eligibility, "eligibility.exclusion"),
            ratg=self.ratg(),
            cyclosporine=self.cyclosporine(),
            msc=self.msc(),
            labs=self.measurements("labs"),
            vital_signs=self.measurements("vital_signs"),
            schedule=self.schedule(),
            severity=self.severity(),
            response=self.response(),
            reporting=self.reporting(),
            access_review=self.settings(
                self.section("access_review"), "access_review", AccessReviewSchedule
            ),
            publication=self.publication(),
            audit_review=self.audit_review(self.zone(study, "study.time_zone")),
            delegation=self.delegation(),
            source_verification=self.source_verification(),
            site_time_zones=self.site_time_zones(),
        )

    def site_time_zones(self) -> Mapping[str, ZoneInfo]:
        table = self.document.get("sites", {})
        if not isinstance(table, dict):
            raise ProtocolDefinitionInvalid("sites: a table of sites")
        return MappingProxyType(
            {
                site: self.zone(
                    self.table(table, site, where=f"sites.{site}"), f"sites.{site}.time_zone"
                )
                for site in table
            }
        )

    def delegation(self) -> DelegationRule:
        table = self.document.get("delegation", {})
        if not isinstance(table, dict):
            raise ProtocolDefinitionInvalid("delegation: a table")
        if "required_from" not in table:
            return DelegationRule()
        return DelegationRule(required_from=self.day(table, "delegation.required_from"))

    def source_verification(self) -> tuple[str, ...]:
        """The kinds verified against source (the domain checks that each names a kind)."""
        where = "source_verification.kinds"
        table = self.document.get("source_verification", {"kinds": []})
        if not isinstance(table, dict):
            raise ProtocolDefinitionInvalid("source_verification: a table")
        kinds = self._value(table, where)
        if (
            not isinstance(kinds, list)
            or not all(isinstance(k, str) and k.isidentifier() for k in kinds)
            or len(set(kinds)) != len(kinds)
        ):
            raise ProtocolDefinitionInvalid(
                "%(where)s: a list of record kinds, each once", where=where
            )
        return tuple(kinds)

    def publication(self) -> Mapping[str, str]:
        published = self.document.get("publication", {})
        if not isinstance(published, dict) or not all(
            isinstance(v, str) for v in published.values()
        ):
            raise ProtocolDefinitionInvalid("publication: a table of texts")
        return MappingProxyType(dict(published))

    def ratg(self) -> RatgCourse:
        return self.settings(self.section("ratg"), "ratg", RatgCourse)

    def cyclosporine(self) -> CyclosporineCourse:
        s = self.section("cyclosporine")
        target = self.table(s, "cyclosporine.trough_target")
        # The trough target is in the unit the troughs are recorded in, said once.
        unit = self.text(s, "cyclosporine.trough_unit")
        return self.settings(
            s,
            "cyclosporine",
            CyclosporineCourse,
            trough_target=self.settings(
                target, "cyclosporine.trough_target", CyclosporineTroughTarget, unit=unit
            ),
        )

    def msc(self) -> MscSchedule:
        return self.settings(self.section("msc"), "msc", MscSchedule)

    def measurements(self, name: str) -> Mapping[str, Measurement]:
        s = self.section(name)
        measured = {}
        for item in s:
            where = f"{name}.{item}"
            table = self.table(s, item, where=where)
            reference = (
                self.range(table, f"{where}.reference", ReferenceRange)
                if "reference" in table
                else None
            )
            measured[item] = Measurement(
                unit=self.text(table, f"{where}.unit"),
                plausible=self.plausible(table, f"{where}.plausible"),
                reference=reference,
            )
        return MappingProxyType(measured)

    def schedule(self) -> StudySchedule:
        s = self.section("schedule")
        return self.settings(
            s, "schedule", StudySchedule, assessment_months=self.assessment_months(s)
        )

    def assessment_months(self, schedule: dict[str, Any]) -> Mapping[str, tuple[int, ...]]:
        where = "schedule.assessment_months"
        table = schedule.get("assessment_months", {})
        if not isinstance(table, dict) or not all(
            isinstance(months, list)
            and all(isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in months)
            for months in table.values()
        ):
            raise ProtocolDefinitionInvalid(
                "%(where)s: lists of months, 0 (screening) or more", where=where
            )
        return MappingProxyType({name: tuple(months) for name, months in table.items()})

    def severity(self) -> SeverityCriteria:
        return self.settings(self.section("severity"), "severity", SeverityCriteria)

    def response(self) -> ResponseCriteria:
        return self.settings(self.section("response"), "response", ResponseCriteria)

    def reporting(self) -> ReportingClocks:
        s = self.section("reporting")
        rule_sets = s.get("rule_sets")
        if not isinstance(rule_sets, list) or not rule_sets:
            raise ProtocolDefinitionInvalid("reporting.rule_sets: at least one rule set")
        read = []
        for n, rule_set in enumerate(rule_sets):
            where = f"reporting.rule_sets[{n}]"
            if not isinstance(rule_set, dict):
                raise ProtocolDefinitionInvalid("%(where)s: a table", where=where)
            read.append(self.settings(rule_set, where, ReportingRuleSet))
        return ReportingClocks(rule_sets=tuple(read))

    def audit_review(self, study_zone: ZoneInfo) -> AuditReviewSettings:
        s = self.section("audit_review")
        sites = self._value(s, "audit_review.sites") if "sites" in s else {}
        if not isinstance(sites, dict):
            raise ProtocolDefinitionInvalid("audit_review.sites: a table of sites")
        return AuditReviewSettings(
            entry_lag_days=self.integer(s, "audit_review.entry_lag_days"),
            correction_rate_percent=self.decimal(s, "audit_review.correction_rate_percent"),
            void_rate_percent=self.decimal(s, "audit_review.void_rate_percent"),
            dormant_days=self.integer(s, "audit_review.dormant_days"),
            working_week=self.working_week(s, "audit_review", study_zone),
            sites=MappingProxyType(
                {
                    site: self.working_week(
                        self.table(sites, site, where=f"audit_review.sites.{site}"),
                        f"audit_review.sites.{site}",
                        None,
                    )
                    for site in sites
                }
            ),
        )

    def working_week(self, table: dict[str, Any], where: str, zone: ZoneInfo | None) -> WorkingWeek:
        """A working week; a listed site names its time zone, the study's week takes the
        study's."""
        days = self._value(table, f"{where}.working_days")
        if not isinstance(days, list) or not days or not set(days) <= set(WEEKDAYS):
            raise ProtocolDefinitionInvalid(
                "%(where)s.working_days: a list of %(join)s", where=where, join=", ".join(WEEKDAYS)
            )
        hours = self.table(table, "working_hours", where=f"{where}.working_hours")
        start = self.clock(hours, f"{where}.working_hours.start")
        end = self.clock(hours, f"{where}.working_hours.end")
        if start >= end:
            raise ProtocolDefinitionInvalid(
                "%(where)s.working_hours: start %(start)s is not before end",
                where=where,
                start=start,
            )
        return WorkingWeek(
            time_zone=zone or self.zone(table, f"{where}.time_zone"),
            days=frozenset(days),
            start=start,
            end=end,
        )

    def clock(self, table: dict[str, Any], where: str) -> time:
        value = self._value(table, where)
        try:
            if isinstance(value, str) and len(value) == 5:
                return time.fromisoformat(value)
        except ValueError:
            pass
        raise ProtocolDefinitionInvalid('%(where)s: a time of day written "HH:MM"', where=where)

    # -- typed settings ----------------------------------------------------------------------

    def settings(self, table: dict[str, Any], where: str, shape: type[S], **given: Any) -> S:
        """A table read into ``shape``: each of its fields (but those ``given``, read otherwise)
        is the setting of the same name, read as its type says; every one is required, whatever
        default the class has."""
        types = get_type_hints(shape)
        read = {
            each.name: _READERS[types[each.name]](self, table, f"{where}.{each.name}")
            for each in fields(shape)
            if each.name not in given
        }
        return shape(**read, **given)

    def section(self, name: str) -> dict[str, Any]:
        return self.table(self.document, name)

    @staticmethod
    def _value(table: dict[str, Any], where: str) -> Any:
        key = where.rsplit(".", 1)[-1]
        if key not in table:
            raise ProtocolDefinitionInvalid("%(where)s: missing", where=where)
        return table[key]

    def _setting(
        self,
        table: dict[str, Any],
        where: str,
        kind: type[V],
        wanted: str,
        holds: Callable[[V], bool] = lambda _: True,
        *,
        key: str | None = None,
    ) -> V:
        """The setting at ``where`` (looked up by ``key``, by default the last part of
        ``where``) if it is a ``kind`` that ``holds``; otherwise an error that it must be
        ``wanted``. TOML's true and false are never numbers, though Python's bools are ints."""
        value = self._value(table, key or where)
        if (
            not isinstance(value, kind)
            or (isinstance(value, bool) and kind is not bool)
            or not holds(value)
        ):
            raise ProtocolDefinitionInvalid("%(where)s: %(wanted)s", where=where, wanted=wanted)
        return value

    def table(self, table: dict[str, Any], key: str, *, where: str | None = None) -> dict[str, Any]:
        return self._setting(table, where or key, dict, "a table", key=key)

    def text(self, table: dict[str, Any], where: str) -> str:
        return self._setting(table, where, str, "non-empty text", lambda text: bool(text.strip()))

    def integer(self, table: dict[str, Any], where: str) -> int:
        return self._setting(table, where, int, "a whole number, not negative", lambda n: n >= 0)

    def integers(self, table: dict[str, Any], where: str) -> tuple[int, ...]:
        listed = self._setting(
            table,
            where,
            list,
            "a list of positive whole numbers",
            lambda numbers: all(
                isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in numbers
            ),
        )
        return tuple(listed)

    def boolean(self, table: dict[str, Any], where: str) -> bool:
        return self._setting(table, where, bool, "true or false")

    def decimal(self, table: dict[str, Any], where: str) -> Decimal:
        # Strings only: a TOML float would carry binary rounding into a clinical threshold.
        value = self._setting(table, where, str, 'a decimal written as a string, e.g. "3.5"')
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ProtocolDefinitionInvalid(
                "%(where)s: %(value)r is not a decimal", where=where, value=value
            ) from None
        if not number.is_finite():
            raise ProtocolDefinitionInvalid(
                "%(where)s: %(value)r is not a finite decimal", where=where, value=value
            )
        return number

    def day(self, table: dict[str, Any], where: str) -> date:
        value = self._value(table, where)
        try:
            return date.fromisoformat(value) if isinstance(value, str) else _not_a_date()
        except ValueError:
            raise ProtocolDefinitionInvalid(
                '%(where)s: a date written "YYYY-MM-DD"', where=where
            ) from None

    def zone(self, table: dict[str, Any], where: str) -> ZoneInfo:
        name = self.text(table, where)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ProtocolDefinitionInvalid(
                "%(where)s: %(name)r is not an IANA time zone", where=where, name=name
            ) from None

    def criteria(self, table: dict[str, Any], where: str) -> tuple[Criterion, ...]:
        value = self._setting(
            table, where, list, "a list of {code, text} tables", lambda listed: len(listed) > 0
        )
        read = []
        for n, item in enumerate(value):
            if not isinstance(item, dict):
                raise ProtocolDefinitionInvalid(
                    "%(where)s[%(n)s]: a {code, text} table", where=where, n=n
                )
            read.append(
                Criterion(
                    self.text(item, f"{where}[{n}].code"), self.text(item, f"{where}[{n}].text")
                )
            )
        return tuple(read)

    def plausible(self, table: dict[str, Any], where: str) -> PlausibleRange:
        return self.range(table, where, PlausibleRange)

    def range(self, table: dict[str, Any], where: str, kind: type[R]) -> R:
        bounds = self.table(table, where.rsplit(".", 1)[-1], where=where)
        low = self.decimal(bounds, f"{where}.low")
        high = self.decimal(bounds, f"{where}.high")
        if low > high:
            raise ProtocolDefinitionInvalid(
                "%(where)s: low %(low)s is above high %(high)s", where=where, low=low, high=high
            )
        return kind(low=low, high=high)


_READERS: dict[Any, Callable[[_ProtocolReader, dict[str, Any], str], Any]] = {
    str: _ProtocolReader.text,
    int: _ProtocolReader.integer,
    tuple[int, ...]: _ProtocolReader.integers,
    bool: _ProtocolReader.boolean,
    Decimal: _ProtocolReader.decimal,
    date: _ProtocolReader.day,
    PlausibleRange: _ProtocolReader.plausible,
}
"""How a setting of each type of a settings class is read (:meth:`_ProtocolReader.settings`)."""


def _not_a_date() -> date:
    raise ValueError("not a date")


def _served_protocols() -> dict[str, StudyProtocol]:
    served = {}
    for entry in resources.files("domain.protocols").iterdir():
        if entry.name.endswith(".toml"):
            protocol = load_protocol(entry.read_text(encoding="utf-8"))
            served[protocol.study_id] = protocol
    return served


PROTOCOLS: dict[str, StudyProtocol] = _served_protocols()
"""The studies this store serves, by study id: one per file in ``domain/protocols/``."""

NCT01297972 = PROTOCOLS["NCT01297972"]


def serve_protocol(protocol: StudyProtocol) -> None:
    """Serve one more study (a protocol read with :func:`load_protocol`) from now on."""
    PROTOCOLS[protocol.study_id] = protocol


def protocol_for(study_id: str) -> StudyProtocol:
    """The protocol of a study this store serves."""
    try:
        return PROTOCOLS[study_id]
    except KeyError:
        raise UnknownStudy("this store serves no study %(study_id)r", study_id=study_id) from None
