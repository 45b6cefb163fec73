"""Fields for the wire conventions of :mod:`domain.wire`, strict in what they accept.

A signed body is compared byte for byte with what the store renders from typed values, so each
field accepts exactly one spelling of a value: decimals as positional strings, instants in UTC
with a ``Z`` and whole seconds, integers as JSON integers (never ``true`` or ``1.0``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

import marshmallow as ma

from domain.quantities import Quantity
from domain.wire import instant_from_wire

DECIMAL_PATTERN = re.compile(r"-?(0|[1-9]\d{0,11})(\.\d{1,9})?")
INSTANT_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_SAFE_INTEGER = 2**53 - 1


class ExactDecimal(ma.fields.Field[Decimal]):
    """A decimal written as a string: ``"2.7"``; never a JSON number, never an exponent."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "pattern": DECIMAL_PATTERN.pattern, "example": "2.7"}
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, str) or not DECIMAL_PATTERN.fullmatch(value):
            raise ma.ValidationError('a decimal is a string such as "2.7" (no exponent)')
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise ma.ValidationError("not a decimal") from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else format(value, "f")


class Instant(ma.fields.Field[datetime]):
    """A point in time in UTC: ``"2011-03-01T09:30:00Z"``."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "format": "date-time", "example": "2011-03-01T09:30:00Z"}
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not INSTANT_PATTERN.fullmatch(value):
            raise ma.ValidationError(
                'an instant is UTC with a Z and whole seconds, e.g. "2011-03-01T09:30:00Z"'
            )
        try:
            return instant_from_wire(value)
        except ValueError:
            raise ma.ValidationError("not a real date and time") from None


class CalendarDate(ma.fields.Field[date]):
    """A calendar date: ``"2011-03-01"``."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "format": "date", "example": "2011-03-01"}
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value):
            raise ma.ValidationError('a date is written "YYYY-MM-DD"')
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ma.ValidationError("not a real date") from None


class WholeNumber(ma.fields.Integer):
    """A JSON integer within the range JSON numbers hold exactly (booleans refused)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "validate", ma.validate.Range(min=-MAX_SAFE_INTEGER, max=MAX_SAFE_INTEGER)
        )
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ma.ValidationError("an integer, not a boolean")
        result: int = super()._deserialize(value, attr, data, **kwargs)
        return result


class StrictBoolean(ma.fields.Boolean):
    """``true`` or ``false`` only (not ``"yes"`` nor ``1``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ma.ValidationError("true or false")
        return value


class Text(ma.fields.String):
    """Free text: non-empty, bounded, stored verbatim."""

    def __init__(self, max_length: int = 500, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(min=1, max=max_length))
        super().__init__(**kwargs)


class Code(ma.fields.String):
    """An identifier: letters, digits, dot, dash, underscore."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"))
        super().__init__(**kwargs)


class QuantitySchema(ma.Schema):
    """A value and its unit: ``{"value": "7.4", "unit": "g/dL"}``."""

    class Meta:
        unknown = ma.RAISE

    value = ExactDecimal(required=True)
    unit = Text(max_length=40, required=True)

    @ma.post_load
    def to_quantity(self, data: dict[str, Any], **_: Any) -> Quantity:
        return Quantity(data["value"], data["unit"])


def enum_field(enum_class: type[Enum], **kwargs: Any) -> ma.fields.Enum[Any]:
    """An enumeration written by its value."""
    return ma.fields.Enum(enum_class, by_value=True, **kwargs)
