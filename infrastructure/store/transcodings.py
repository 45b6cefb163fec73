"""How domain value types are written into eventsourcing's JSON state of a stored event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Transcoding,
    UUIDAsHex,
)

from domain.account import Role
from domain.authorship import Authorship
from domain.quantities import Quantity
from domain.subject import KINDS

DOMAIN_ENUMS: tuple[type[Enum], ...] = (
    Role,
    *dict.fromkeys(
        declared.choices
        for kind in KINDS.values()
        for declared in kind.items()
        if declared.choices is not None
    ),
)
"""Every enumeration an event holds: an account's role, and each vocabulary a record kind's
declaration names (read from the declarations, so a new kind's vocabulary needs no line here).
Each is stored by its value and its class's name, wherever the class is declared."""


class AuthorshipAsDict(Transcoding):
    """The author's signed body text and signature, verbatim."""

    type = Authorship
    name = "authorship"

    def encode(self, obj: Authorship) -> dict[str, str]:
        return {"signed_body": obj.signed_body, "signature": obj.signature}

    def decode(self, data: dict[str, str]) -> Authorship:
        return Authorship(signed_body=data["signed_body"], signature=data["signature"])


class QuantityAsDict(Transcoding):
    """A value (exact decimal text) and its unit."""

    type = Quantity
    name = "quantity"

    def encode(self, obj: Quantity) -> dict[str, str]:
        return {"value": format(obj.value, "f"), "unit": obj.unit}

    def decode(self, data: dict[str, str]) -> Quantity:
        return Quantity(Decimal(data["value"]), data["unit"])


class DateAsISO(Transcoding):
    """A calendar date as ``YYYY-MM-DD``."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EnumAsValue(Transcoding):
    """A domain enumeration member as its value, named by its class."""

    def __init__(self, enum_class: type[Enum]) -> None:
        self.type = enum_class
        self.name = f"enum:{enum_class.__qualname__}"
        self.enum_class = enum_class

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        return self.enum_class(data)


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every value type that appears in sealtrail's events."""
    transcoder.register(AuthorshipAsDict())
    transcoder.register(QuantityAsDict())
    transcoder.register(DateAsISO())
    for enum_class in DOMAIN_ENUMS:
        transcoder.register(EnumAsValue(enum_class))


def domain_mapper() -> Mapper[Any]:
    """eventsourcing's mapper for sealtrail's events, as the application configures it.

    It needs no store: the log verifier's workers and the offline packet verifier decode
    stored events with it.
    """
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_domain_transcodings(transcoder)
    return Mapper(transcoder=transcoder)
