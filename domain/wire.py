"""How event fields are written in a signed body.

The author signs JSON; the store keeps typed Python values. This module is the one place that
says how each type is written, so that the store and every verifier can check that a stored
event says exactly what its author signed:

- decimals as plain strings (``"2.7"``, never an exponent, never a JSON number);
- quantities as ``{"value": "7.4", "unit": "g/dL"}``;
- dates as ``YYYY-MM-DD``; instants in UTC as ``YYYY-MM-DDTHH:MM:SSZ`` (whole seconds);
- integers, booleans and strings as themselves; mappings and sequences element by element.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from domain.quantities import Quantity

INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
RECORDED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


_AS_THEMSELVES = frozenset({bool, int, str, type(None)})


def to_wire(value: Any) -> Any:
    """Render a typed field value as the JSON value the author signed.

    The commonest types, taken exactly (not a subclass of them), are answered first: each is
    answered as the general rules below answer it (``verify`` renders every field of every event
    to compare it with what was signed).
    """
    kind = type(value)
    if kind in _AS_THEMSELVES:
        return value
    if kind is Decimal:
        return decimal_to_wire(value)
    if kind is date:
        return value.isoformat()
    return wire_by_kind(value)


def wire_by_kind(value: Any) -> Any:
    """:func:`to_wire`'s general rules, by ``isinstance``: what every value is written by."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Decimal):
        return decimal_to_wire(value)
    if isinstance(value, Quantity):
        return {"value": decimal_to_wire(value.value), "unit": value.unit}
    if isinstance(value, datetime):
        return instant_to_wire(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_wire(value.value)
    if isinstance(value, Mapping):
        return {str(key): to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    raise TypeError(f"no wire form for {type(value).__name__}")


def decimal_to_wire(value: Decimal) -> str:
    """A decimal as positional text, keeping the author's trailing zeros."""
    return format(value, "f")


def instant_to_wire(value: datetime) -> str:
    """An aware datetime in UTC, whole seconds, with a ``Z``."""
    if value.tzinfo is None:
        raise ValueError("an instant must carry a time zone")
    return value.astimezone(UTC).strftime(INSTANT_FORMAT)


def recorded_instant(value: datetime) -> str:
    """The server's recording time, to the microsecond, in UTC with a ``Z``.

    What ``strftime`` with :data:`RECORDED_FORMAT` writes, written directly for a year of four
    digits (every field zero-padded to its width, as ``strftime`` pads them); ``strftime`` itself
    writes the others (it writes year 999 as ``999``). Every leaf has one: ``verify`` writes one
    an event, ``strftime`` takes about twice as long.
    """
    utc = value.astimezone(UTC)
    if utc.year < 1000:
        return utc.strftime(RECORDED_FORMAT)
    return (
        f"{utc.year}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond:06d}Z"
    )


_CANONICAL_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z"
)
"""The form every client writes, ASCII digits two to a field: read without ``strptime``."""


def instant_from_wire(text: str) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SSZ``; any other form is a ValueError.

    What ``strptime`` with :data:`INSTANT_FORMAT` accepts, and only that: the canonical form
    (every field its full width in ASCII digits) is read directly, ``datetime`` refusing what is
    out of range as ``strptime`` does; anything else (a one-digit month, which ``strptime``
    takes, or a form it refuses) goes through ``strptime`` itself (verify must accept exactly
    what the store accepted). ``verify`` reads one for every event: ``strptime`` is ~8x slower.
    """
    match = _CANONICAL_INSTANT.fullmatch(text) if type(text) is str else None
    if match is None:
        return datetime.strptime(text, INSTANT_FORMAT).replace(tzinfo=UTC)
    year, month, day, hour, minute, second = map(int, match.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
