"""How a record kind declares its items, once, in the trial's words.

A record kind is an event class (:class:`domain.subject.record.Record`); each of its fields is
declared with :func:`item`, beside its type annotation::

    collected_on: date = item("Day the sample was collected", sdtm=Sdtm("LB", "LBDTC"))

The annotation gives the value's type (and, for an :class:`~enum.Enum`, its coded vocabulary);
:class:`Item` gives what a reader needs besides: a description, the unit, a length, the
standard variables it maps to. Everything else is read from there (:func:`declared_items`): the
API's schema, the ODM ``ItemDef`` (OID, ``DataType``, ``Length``, ``CodeList``), the SDTM
mapping and the form a web page shows (:func:`form_of`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import MISSING, dataclass
from datetime import date, datetime
from enum import Enum
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from domain.quantities import Quantity

ITEM = "sealtrail.item"
"""The key of a dataclass field's metadata under which its :class:`Item` is kept."""


class ValueType(Enum):
    """What kind of value an item holds, as the author writes it in a signed ``data``."""

    DATE = "date"
    INSTANT = "instant"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    TEXT = "text"
    CODE = "code"
    """An identifier: letters, digits, dot, dash, underscore (a site, an adverse event id)."""
    KIND = "kind"
    """The name of a record kind (the kind of the entry a change or query names)."""
    QUANTITY = "quantity"
    QUANTITIES = "quantities"
    """Named quantities, each in the protocol's unit for its name (a blood count's results)."""
    ANSWERS = "answers"
    """Named yes/no answers (eligibility criteria by code)."""
    CHOICE = "choice"
    CHOICES = "choices"
    FOLLOW_UP = "follow_up"
    """New values of another record's fields, by field name (an adverse event's follow-up)."""
    CORRECTIONS = "corrections"
    """Each corrected field's old and new value, by field name."""
    COVERED_RECORDS = "covered_records"
    """The records a signature covers, each by entry and record hash."""


@dataclass(frozen=True)
class Sdtm:
    """Where an item goes in the SDTM-shaped datasets (SDTMIG 3.1.3).

    Attributes:
        domain: the dataset, e.g. ``LB``.
        variable: the variable the value fills, e.g. ``LBORRES``.
        test_codes: for named values (a blood count's results), each name's ``--TESTCD`` and
            ``--TEST``.
        part: what of the value fills the variable when not the value itself: ``"unit"``, a
            quantity's unit (``EXDOSU`` beside ``EXDOSE``); ``"day"``, the day an instant was
            at the site (an infusion's ``EXENDTC``, whose end time is not recorded).
    """

    domain: str
    variable: str
    test_codes: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    part: str = ""


@dataclass(frozen=True)
class Item:
    """What the trial says of one field of a record kind, beside its type.

    Attributes:
        description: what the value is, in the protocol's words.
        unit: the unit the protocol records it in, when it has one.
        max_length: the longest text accepted (ODM ``Length``).
        multiline: text that may hold line breaks.
        minimum: the smallest whole number accepted.
        example: a value shown in documents.
        value: the value's type when the annotation alone does not say it (a code, a kind
            name, an adverse event's changes).
        sdtm: the SDTM variables the item maps to.
        follows: for :attr:`ValueType.FOLLOW_UP`, the record kind whose fields it changes.
        names: for :attr:`ValueType.FOLLOW_UP`, the names of the fields it may change.
        named_in: for named values (:attr:`ValueType.QUANTITIES`, :attr:`ValueType.ANSWERS`),
            the protocol's list of the names they take (:data:`NAMED_IN`): a form asks each.
    """

    description: str = ""
    unit: str | None = None
    max_length: int | None = None
    multiline: bool = False
    minimum: int | None = None
    example: str | None = None
    value: ValueType | None = None
    sdtm: tuple[Sdtm, ...] = ()
    follows: type | None = None
    names: tuple[str, ...] = ()
    named_in: str = ""


TEXT_LENGTH = 500
"""The longest text an item takes when it declares no ``max_length``."""
NAMED_IN = ("labs", "vital_signs", "criteria")
"""Where the protocol names the values of a named item: its laboratory analytes, its vital
signs (each with its unit) and its eligibility criteria (each with its text)."""


def item(
    description: str = "",
    *,
    optional: bool = False,
    sdtm: Sdtm | tuple[Sdtm, ...] = (),
    **about: Any,
) -> Any:
    """Declare a field of a record kind: a dataclass field carrying its :class:`Item`.

    Args:
        description: what the value is.
        optional: the author may leave it out (it is then absent from ``data``).
        sdtm: the SDTM variable (or variables) it maps to.
        about: the other attributes of :class:`Item`.
    """
    mappings = (sdtm,) if isinstance(sdtm, Sdtm) else sdtm
    declared = Item(description, sdtm=mappings, **about)
    if declared.named_in and declared.named_in not in NAMED_IN:
        raise ValueError(f"the protocol names no {declared.named_in!r}: one of {NAMED_IN}")
    return dataclasses.field(default=None if optional else MISSING, metadata={ITEM: declared})


@dataclass(frozen=True)
class DeclaredItem:
    """One item of a record kind: its name, type, vocabulary, and what :class:`Item` says."""

    kind: str
    name: str
    value_type: ValueType
    required: bool
    about: Item
    choices: type[Enum] | None = None

    def taken(self, value: Any) -> Any:
        """``value`` as a record keeps it: a mapping as a dict, a list as a tuple."""
        if value is None:
            return None
        if self.value_type is ValueType.CORRECTIONS:
            return {name: dict(change) for name, change in value.items()}
        if self.value_type in _MAPPINGS:
            return dict(value)
        if self.value_type in _SEQUENCES:
            return tuple(value)
        return value

    @property
    def label(self) -> str:
        """``sample_collected_on`` -> ``Sample collected on``."""
        return self.name.replace("_", " ").capitalize()

    @property
    def odm_oid(self) -> str:
        """The ODM ``ItemDef`` OID of a single-valued item (``IT.<kind>.<name>``)."""
        return f"IT.{self.kind}.{self.name}"

    @property
    def odm_data_type(self) -> str:
        """The ODM 1.3.2 ``DataType`` of the item's values (of each value, when named)."""
        if self.choices is not None:
            return odm_code_type(self.choices)
        return _ODM_DATA_TYPES.get(self.value_type, "text")

    @property
    def odm_code_list(self) -> str | None:
        """The OID of the item's ODM ``CodeList``, when it takes coded answers."""
        return None if self.choices is None else f"CL.{self.choices.__name__}"


def odm_code_type(vocabulary: type[Enum]) -> str:
    """The ODM ``DataType`` of a vocabulary's codes: ``integer`` when every code is a number."""
    numbered = all(isinstance(c.value, int) and not isinstance(c.value, bool) for c in vocabulary)
    return "integer" if numbered else "text"


_MAPPINGS = frozenset({ValueType.QUANTITIES, ValueType.ANSWERS, ValueType.FOLLOW_UP})
_SEQUENCES = frozenset({ValueType.CHOICES, ValueType.COVERED_RECORDS})

_ODM_DATA_TYPES = {
    ValueType.DATE: "date",
    ValueType.INSTANT: "datetime",
    ValueType.BOOLEAN: "boolean",
    ValueType.ANSWERS: "boolean",
    ValueType.INTEGER: "integer",
    ValueType.QUANTITY: "float",
    ValueType.QUANTITIES: "float",
}


@dataclass(frozen=True)
class FormField:
    """What a web form shows for one item: a label, an input, its unit and its choices, the
    bounds the API's schema holds it to, the protocol's list that names its values, and for a
    follow-up the fields of the record it changes (each optional)."""

    name: str
    label: str
    type: str
    required: bool
    description: str = ""
    unit: str | None = None
    choices: tuple[str, ...] = ()
    multiline: bool = False
    max_length: int | None = None
    minimum: int | None = None
    named_in: str = ""
    follows: tuple[FormField, ...] = ()
    clearable: bool = False
    """For a field a follow-up changes: optional in the record it follows, so a follow-up
    may clear it (its new value ``null``)."""


@cache
def declared_items(event_class: type) -> tuple[DeclaredItem, ...]:
    """A record kind's items in declared order (the order of its signed ``data``).

    Raises:
        TypeError: a field is not declared with :func:`item`, or its type is none of
            :class:`ValueType`'s.
    """
    hints = get_type_hints(event_class)
    bookkeeping: frozenset[str] = getattr(event_class, "BOOKKEEPING", frozenset())
    found = []
    for field in dataclasses.fields(event_class):
        if field.name in bookkeeping:
            continue
        about = field.metadata.get(ITEM)
        if not isinstance(about, Item):
            raise TypeError(f"{event_class.__name__}.{field.name} is not declared with item()")
        value_type, choices = _value_type(hints[field.name])
        found.append(
            DeclaredItem(
                kind=event_class.__name__,
                name=field.name,
                value_type=about.value or value_type,
                required=field.default is MISSING and field.default_factory is MISSING,
                about=about,
                choices=choices,
            )
        )
    return tuple(found)


def form_of(event_class: type) -> tuple[FormField, ...]:
    """The form for a record kind: one field per item, in declared order."""
    return tuple(_form_field(declared) for declared in declared_items(event_class))


def _form_field(declared: DeclaredItem) -> FormField:
    about = declared.about
    follows: tuple[FormField, ...] = ()
    if about.follows is not None:
        followed = {field.name: field for field in form_of(about.follows)}
        follows = tuple(
            dataclasses.replace(
                followed[name], required=False, clearable=not followed[name].required
            )
            for name in about.names
        )
    return FormField(
        name=declared.name,
        label=declared.label,
        type=declared.value_type.value,
        required=declared.required,
        description=about.description,
        unit=about.unit,
        choices=tuple(str(c.value) for c in declared.choices) if declared.choices else (),
        multiline=about.multiline,
        max_length=about.max_length
        or (TEXT_LENGTH if declared.value_type is ValueType.TEXT else None),
        minimum=about.minimum,
        named_in=about.named_in,
        follows=follows,
    )


def _value_type(hint: Any) -> tuple[ValueType, type[Enum] | None]:
    """The value type of an annotation, and its vocabulary when it is coded."""
    origin = get_origin(hint)
    if origin in (Union, UnionType):
        present = [arg for arg in get_args(hint) if arg is not type(None)]
        return _value_type(present[0])
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        values = get_args(hint)[1]
        if values is Quantity:
            return ValueType.QUANTITIES, None
        if values is bool:
            return ValueType.ANSWERS, None
        return ValueType.FOLLOW_UP, None
    if origin is tuple:
        member = get_args(hint)[0]
        if isinstance(member, type) and issubclass(member, Enum):
            return ValueType.CHOICES, member
        return ValueType.COVERED_RECORDS, None
    if isinstance(hint, type) and issubclass(hint, Enum):
        return ValueType.CHOICE, hint
    for python_type, value_type in _PLAIN_TYPES:
        if isinstance(hint, type) and issubclass(hint, python_type):
            return value_type, None
    raise TypeError(f"no value type for a field of type {hint!r}")


# Order matters: bool is an int, and datetime is a date.
_PLAIN_TYPES: tuple[tuple[type, ValueType], ...] = (
    (bool, ValueType.BOOLEAN),
    (int, ValueType.INTEGER),
    (Quantity, ValueType.QUANTITY),
    (datetime, ValueType.INSTANT),
    (date, ValueType.DATE),
    (str, ValueType.TEXT),
)
