"""A record's values in a domain's variables, as its kind's declaration maps them.

Each declared item fills its variable with its value as signed, written as SDTM writes it (a
date or local instant in ISO 8601, a code upper case, a yes/no as Y or N, a quantity's value
or, where the mapping says ``part="unit"``, its unit; an instant's local day where it says
``part="day"``), and what the standard derives from it
beside it:

- an item whose mapping gives ``test_codes`` fills ``--TESTCD`` and ``--TEST`` with the code
  and name of its value (a scale's test);
- ``--ORRES`` is copied to ``--STRESC`` (and to ``--STRESN`` when it is a number): the
  protocol's units and scales are the standard ones; a quantity's unit fills ``--ORRESU``
  and ``--STRESU``.

The datasets derived by rules read the variables they copy from here too, and a kind whose
items map to such a dataset, but which no rule reads, gets its rows from here alone
(:func:`declared_rows`): declaring ``sdtm=Sdtm(...)`` is all it takes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from domain.quantities import Quantity
from domain.subject import EVENT_CLASSES, Record, Subject
from domain.subject.declaration import ValueType
from domain.wire import decimal_to_wire
from projections.sdtm.declared import Source, sources
from projections.sdtm.rows import traced

NAMED = ValueType.QUANTITIES
"""Named values (a blood count's results): a row each, its name's test codes."""
NUMBERS = frozenset({ValueType.INTEGER, ValueType.QUANTITY, ValueType.QUANTITIES})
"""Items whose result is also a number (``--STRESN``)."""
MEASURED = frozenset({ValueType.QUANTITY, ValueType.QUANTITIES})
"""Items whose result has a unit (``--ORRESU``, ``--STRESU``)."""

DeclaredRow = tuple[date, int, list[int], dict[str, str]]
"""A row read from a declaration: the day its record is about, its entry, its source entries
and its values."""


def suffix(domain: str, variable: str) -> str:
    """``RSORRES`` -> ``ORRES``; an unprefixed variable (``VISITNUM``) is its own suffix."""
    return variable[len(domain) :] if variable.startswith(domain) else variable


def variable_name(domain: str, name: str) -> str:
    """``ORRES`` -> ``RSORRES``; ``VISITNUM`` is unprefixed."""
    return name if name == "VISITNUM" else f"{domain}{name}"


def declared_values(
    domain: str, kind: type[Record], fields: Mapping[str, Any], time_zone: ZoneInfo
) -> dict[str, str]:
    """One record's values in a domain's variables, as its declaration maps them (but for
    named values, which :func:`declared_records` writes a row each)."""
    values: dict[str, str] = {}
    for source in sources(domain):
        value = fields.get(source.item.name)
        if source.kind is not kind or value is None or source.item.value_type is NAMED:
            continue
        for name, text in _filled(source, value, time_zone):
            values[variable_name(domain, name)] = text
    return values


def declared_records(
    domain: str, kind: type[Record], fields: Mapping[str, Any], time_zone: ZoneInfo
) -> list[dict[str, str]]:
    """A record's rows in a domain: one, or one per named value of an item holding several
    (a blood count's results), in the order of the mapping's test codes."""
    common = declared_values(domain, kind, fields, time_zone)
    named = [
        source
        for source in sources(domain)
        if source.kind is kind and source.item.value_type is NAMED and fields.get(source.item.name)
    ]
    if not named:
        return [common]
    return [
        {
            **common,
            **{
                variable_name(domain, variable): text
                for variable, text in _filled(source, values[name], time_zone, test=name)
            },
        }
        for source in named
        for values in (fields[source.item.name],)
        for name in source.mapping.test_codes
        if name in values
    ]


def declared_rows(
    subject: Subject, domain: str, ruled: Collection[type[Record]] = ()
) -> list[DeclaredRow]:
    """The rows of every record of the kinds mapping items to a domain, but those in ``ruled``
    (the kinds a rule of the domain reads itself), unsorted."""
    kinds = dict.fromkeys(source.kind for source in sources(domain) if source.kind not in ruled)
    time_zone = subject.protocol.time_zone
    return [
        (subject.dated_on(entry) or date.min, entry.version, traced(entry), values)
        for kind in kinds
        for entry in subject.live(kind)
        for values in declared_records(domain, EVENT_CLASSES[entry.kind], entry.fields, time_zone)
    ]


def _filled(
    source: Source, value: Any, time_zone: ZoneInfo, test: str | None = None
) -> Iterator[tuple[str, str]]:
    """The variables one item (or one ``test`` of its named values) fills: its own, and what
    the standard derives from it."""
    name = suffix(source.mapping.domain, source.mapping.variable)
    if source.item.value_type is ValueType.CHOICES:
        return  # several codes fill no one variable: a rule says which flag each sets
    if source.item.choices is not None and not isinstance(value, Enum):
        value = source.item.choices(value)  # a follow-up's new value, as its code
    if source.mapping.part == "unit" and isinstance(value, Quantity):
        yield name, value.unit
        return
    if source.mapping.part == "day" and isinstance(value, datetime):
        yield name, value.astimezone(time_zone).date().isoformat()
        return
    text = _text(value, time_zone)
    tests = source.mapping.test_codes
    if tests:
        # A named value's test, one for the item (a trough's level), or one per code (a scale).
        if test is None:
            coded = str(getattr(value, "value", value))
            test = source.item.name if source.item.name in tests else coded
        code, title = tests[test]
        yield from (("TESTCD", code), ("TEST", title))
        if name in ("TESTCD", "TEST"):
            return
    yield name, text
    if name == "ORRES":
        yield "STRESC", text
        if source.item.value_type in NUMBERS:
            yield "STRESN", text
        if isinstance(value, Quantity):
            yield from (("ORRESU", value.unit), ("STRESU", value.unit))


def _text(value: Any, time_zone: ZoneInfo) -> str:
    """A value as SDTM writes it: a date or local instant in ISO 8601, a code upper case."""
    if isinstance(value, Quantity):
        return decimal_to_wire(value.value)
    if isinstance(value, datetime):
        return value.astimezone(time_zone).strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Y" if value else "N"
    if hasattr(value, "value"):
        return str(value.value).upper()
    return str(value)
