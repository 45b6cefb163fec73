"""The items of a record kind, read from its declaration: the ``ItemDef`` of each field, and
its value as signed (ODM 1.3.2 section 3.1.4 and ``ItemData``).

A quantity is its value with a unit, a mapping one item per key, a list one item per place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any

from domain.subject import EVENT_CLASSES
from domain.subject.declaration import DeclaredItem, ValueType
from projections.errors import OdmExportRefused


@dataclass(frozen=True)
class Leaf:
    """One ODM item: its ``DataType``, its code list, and whether it is a quantity."""

    data_type: str
    code_list: type[Enum] | None = None
    quantity: bool = False


@dataclass(frozen=True)
class _Keyed:
    """A mapping whose keys the author chose (analytes, vital signs, criteria): an item a key."""

    value: Shape


@dataclass(frozen=True)
class _Named:
    """A mapping of another record's fields (an adverse event's follow-up changes)."""

    fields: Mapping[str, Shape]


@dataclass(frozen=True)
class _Listed:
    """A sequence: an item per place, numbered from 1."""

    item: Shape


Shape = Leaf | _Keyed | _Named | _Listed


def _shape_of(declared: DeclaredItem) -> Shape:
    """The shape of a declared item: one ODM item, or one per key, per place or per field.

    Raises:
        TypeError: an item whose type no record kind had when this was written (a change's
            corrections, a signature's records): it needs its shape here before it is written.
    """
    value_type = declared.value_type
    if value_type is ValueType.FOLLOW_UP and declared.about.follows is not None:
        # A follow-up's changes are new values of the adverse event's own fields
        # (Subject.adverse_events applies them over the report).
        return _Named(field_shapes(declared.about.follows.__name__))
    leaf = Leaf(
        declared.odm_data_type,
        code_list=declared.choices,
        quantity=value_type in (ValueType.QUANTITY, ValueType.QUANTITIES),
    )
    if value_type in (ValueType.QUANTITIES, ValueType.ANSWERS):
        return _Keyed(leaf)
    if value_type is ValueType.CHOICES:
        return _Listed(leaf)
    if value_type in _SINGLE_VALUES:
        return leaf
    raise TypeError(f"no ODM item shape for {declared.kind}.{declared.name} ({value_type.value})")


_SINGLE_VALUES = frozenset(
    {
        ValueType.DATE,
        ValueType.INSTANT,
        ValueType.BOOLEAN,
        ValueType.INTEGER,
        ValueType.TEXT,
        ValueType.CODE,
        ValueType.KIND,
        ValueType.QUANTITY,
        ValueType.CHOICE,
    }
)


def _is_quantity(wire: Any) -> bool:
    return isinstance(wire, Mapping) and set(wire) == {"value", "unit"}


@cache
def field_shapes(kind: str) -> Mapping[str, Shape]:
    """Each item of a kind and its shape, in the order its declaration gives them."""
    return {declared.name: _shape_of(declared) for declared in EVENT_CLASSES[kind].items()}


@cache
def required_fields(kind: str) -> frozenset[str]:
    """The items every record of a kind answers (not optional): ``Mandatory="Yes"``."""
    return frozenset(declared.name for declared in EVENT_CLASSES[kind].items() if declared.required)


Path = tuple[str, ...]


def leaves(shape: Shape, path: Path, wire: Any) -> Iterator[tuple[Path, Leaf, Any]]:
    """The items a signed value flattens to, each with its path and its signed value."""
    if wire is None:
        return
    if isinstance(shape, Leaf):
        yield path, shape, wire
        return
    if isinstance(shape, _Listed):
        if not isinstance(wire, list | tuple):
            raise OdmExportRefused(f"{dotted(path)} is not a list: {wire!r}")
        for place, item in enumerate(wire, 1):
            yield from leaves(shape.item, (*path, str(place)), item)
        return
    if not isinstance(wire, Mapping):
        raise OdmExportRefused(f"{dotted(path)} is not a mapping: {wire!r}")
    for key in sorted(wire, key=lambda key: path_order((str(key),))):
        part = shape.value if isinstance(shape, _Keyed) else shape.fields.get(key)
        if part is None:
            raise OdmExportRefused(f"{dotted(path)} names {key!r}, which is no field it may change")
        yield from leaves(part, (*path, str(key)), wire[key])


def value_of(leaf: Leaf, wire: Any, path: Path) -> tuple[str, str | None]:
    """An item's ``Value`` and, for a quantity, its unit."""
    if leaf.quantity:
        if not _is_quantity(wire):
            raise OdmExportRefused(f"{dotted(path)} is not a quantity: {wire!r}")
        return str(wire["value"]), str(wire["unit"])
    if isinstance(wire, bool):
        return ("true" if wire else "false"), None
    if isinstance(wire, int | str):
        return str(wire), None
    raise OdmExportRefused(f"{dotted(path)} is not a single value: {wire!r}")


def dotted(path: Path) -> str:
    return ".".join(path)


def path_order(path: Path) -> tuple[tuple[int, int, str], ...]:
    """Paths in reading order: places of a list by number (2 before 10), keys by name."""
    return tuple(
        (0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part) for part in path
    )


@dataclass
class ItemDef:
    """An item of a record kind, with the units its values were recorded in."""

    path: Path
    leaf: Leaf
    units: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ItemValue:
    """One ``ItemData``: the item, its own transaction type (if not its group's), value, unit."""

    oid: str
    transaction: str | None
    value: str | None
    unit: str | None
