"""What a site submits: the signed body of one event, and the ``data`` of each kind.

The author signs the RFC 8785 canonical form of ``event`` exactly as sent (docs/signing.md).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Any

import marshmallow as ma

from api.schemas.fields import (
    SHA256_HEX,
    CalendarDate,
    Code,
    Credential,
    Instant,
    PlainString,
    QuantitySchema,
    StrictBoolean,
    StrictSchema,
    Text,
    WholeNumber,
    enum_field,
    signed_version,
)
from api.schemas.signed import check_data_fits, signature_field, signed_body_fields
from domain.subject import ABOUT_RECORDS, KINDS, SIGNED_IN_CEREMONY, Record, Subject
from domain.subject.declaration import TEXT_LENGTH, DeclaredItem, ValueType


def quantity(**kwargs: Any) -> ma.fields.Nested:
    """A value with its unit, e.g. ``{"value": "2.7", "unit": "10^6 cells/kg"}``."""
    return ma.fields.Nested(QuantitySchema, **kwargs)


def quantities(**kwargs: Any) -> ma.fields.Dict:
    """Named values with units, e.g. a blood count's results or the vital signs."""
    return ma.fields.Dict(keys=Code(), values=ma.fields.Nested(QuantitySchema), **kwargs)


class ChangeSchema(StrictSchema):
    """One field's change in a correction: the value it had and the value it gets."""

    old = ma.fields.Raw(required=True, allow_none=True)
    new = ma.fields.Raw(required=True, allow_none=True)


class CoveredRecordSchema(StrictSchema):
    """One record a signature covers: its entry and the hash of the record as it stands."""

    entry = WholeNumber(required=True, validate=ma.validate.Range(min=1))
    record_hash = PlainString(
        required=True,
        validate=SHA256_HEX,
        metadata={"description": "The entry's record_hash, as the subject's history shows it"},
    )


# How each type of value is written, as a field of a kind's ``data`` (domain/subject/declaration).
_FIELDS: dict[ValueType, Callable[[DeclaredItem, dict[str, Any]], ma.fields.Field[Any]]] = {
    ValueType.DATE: lambda _, kw: CalendarDate(**kw),
    ValueType.INSTANT: lambda _, kw: Instant(**kw),
    ValueType.BOOLEAN: lambda _, kw: StrictBoolean(**kw),
    ValueType.INTEGER: lambda d, kw: (
        WholeNumber(**kw)
        if d.about.minimum is None
        else WholeNumber(validate=ma.validate.Range(min=d.about.minimum), **kw)
    ),
    ValueType.TEXT: lambda d, kw: Text(
        d.about.max_length or TEXT_LENGTH, multiline=d.about.multiline, **kw
    ),
    ValueType.CODE: lambda _, kw: Code(**kw),
    ValueType.KIND: lambda _, kw: PlainString(**kw),
    ValueType.QUANTITY: lambda _, kw: quantity(**kw),
    ValueType.QUANTITIES: lambda _, kw: quantities(**kw),
    ValueType.ANSWERS: lambda _, kw: ma.fields.Dict(keys=Code(), values=StrictBoolean(), **kw),
    ValueType.CHOICE: lambda d, kw: enum_field(_vocabulary(d), **kw),
    ValueType.CHOICES: lambda d, kw: ma.fields.List(enum_field(_vocabulary(d)), **kw),
    ValueType.FOLLOW_UP: lambda d, kw: ma.fields.Dict(
        keys=PlainString(validate=ma.validate.OneOf(d.about.names)), **kw
    ),
    ValueType.CORRECTIONS: lambda _, kw: ma.fields.Dict(
        keys=PlainString(), values=ma.fields.Nested(ChangeSchema), **kw
    ),
    ValueType.COVERED_RECORDS: lambda d, kw: ma.fields.List(
        ma.fields.Nested(CoveredRecordSchema),
        validate=ma.validate.Length(min=1, max=_signature_kind(d).MAX_RECORDS),
        **kw,
    ),
}
_LISTS = frozenset({ValueType.CHOICES, ValueType.COVERED_RECORDS})
"""Lists the domain takes as tuples (a record's values are immutable)."""


def _signature_kind(declared: DeclaredItem) -> type[Subject.RecordsSigned]:
    """The kind of signature whose covered records ``declared`` lists: each kind says how
    many it covers at most (a ceremony over chosen records, or a whole casebook)."""
    kind = KINDS[declared.kind]
    if not issubclass(kind, Subject.RecordsSigned):
        raise TypeError(f"{declared.kind}.{declared.name} lists records but signs none")
    return kind


def _vocabulary(declared: DeclaredItem) -> type[Enum]:
    if declared.choices is None:
        raise TypeError(f"{declared.kind}.{declared.name} names no vocabulary")
    return declared.choices


def _field(declared: DeclaredItem) -> ma.fields.Field[Any]:
    """The field that loads an item: its type's, required when the item is."""
    about = declared.about
    metadata: dict[str, Any] = {"description": about.description}
    if about.example is not None:
        metadata["example"] = about.example
    return _FIELDS[declared.value_type](
        declared, {"required": declared.required, "metadata": metadata}
    )


def _data_schema_class(kind: type[Record]) -> type[StrictSchema]:
    """A kind's ``data`` schema, read from its declaration: a field per item, in order."""
    items = kind.items()
    attributes: dict[str, Any] = {declared.name: _field(declared) for declared in items}
    attributes["__doc__"] = f"``{kind.kind()}``: {inspect.getdoc(kind)}"
    lists = tuple(declared.name for declared in items if declared.value_type in _LISTS)
    if lists:
        attributes["lists_as_tuples"] = ma.post_load(
            lambda self, data, **_: {**data, **{n: tuple(data[n]) for n in lists if n in data}}
        )
    by_type = {declared.value_type: declared.name for declared in items}
    if ValueType.CORRECTIONS in by_type:
        attributes.update(_correction_hooks(by_type[ValueType.CORRECTIONS]))
    elif ValueType.KIND in by_type:
        attributes["names_a_kind"] = ma.validates(by_type[ValueType.KIND])(_names_a_kind)
    follow_up = next((d for d in items if d.value_type is ValueType.FOLLOW_UP), None)
    if follow_up is not None:
        attributes.update(_follow_up_hooks(follow_up))
    return type(f"{kind.kind()}Data", (StrictSchema,), attributes)


def _names_a_kind(self: ma.Schema, kind: str, **_: Any) -> None:
    _schema_of(kind, field_name="entry_kind")


def _follow_up_hooks(follow_up: DeclaredItem) -> dict[str, Any]:
    """New values of another kind's fields: each loaded as that kind's field would be."""
    name = follow_up.name
    assert follow_up.about.follows is not None  # a FOLLOW_UP item names the kind it follows

    def followed() -> StrictSchema:
        return data_schema(follow_up.about.follows.__name__)  # type: ignore[union-attr]

    # An optional field of the report may be cleared (null): the adverse event recurred, and
    # the day it ended no longer holds. A required one may not.
    def changes_are_typed(self: ma.Schema, changes: dict[str, Any], **_: Any) -> None:
        _typed_values(followed(), changes, allow_none=True)

    def typed_changes(self: ma.Schema, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data[name] = _typed_values(followed(), data[name], allow_none=True)
        return data

    return {
        "changes_are_typed": ma.validates(name)(changes_are_typed),
        "typed_changes": ma.post_load(typed_changes),
    }


def _correction_hooks(name: str) -> dict[str, Any]:
    """Each corrected field's old and new value, loaded as the corrected kind's field."""

    def changes_are_typed(self: ma.Schema, data: dict[str, Any], **_: Any) -> None:
        schema = _schema_of(data.get("entry_kind"))
        for part in ("old", "new"):
            _typed_values(schema, _parts(data.get(name, {}), part), allow_none=True)

    def typed_changes(self: ma.Schema, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        schema = _schema_of(data["entry_kind"])
        old = _typed_values(schema, _parts(data[name], "old"), allow_none=True)
        new = _typed_values(schema, _parts(data[name], "new"), allow_none=True)
        data[name] = {field: {"old": old[field], "new": new[field]} for field in data[name]}
        return data

    return {
        "changes_are_typed": ma.validates_schema(changes_are_typed),
        "typed_changes": ma.post_load(typed_changes),
    }


def _schema_of(kind: Any, *, field_name: str = "entry_kind") -> StrictSchema:
    if not isinstance(kind, str) or kind not in DATA_SCHEMAS or kind in ABOUT_RECORDS:
        raise ma.ValidationError(f"{kind!r} is not a kind of record", field_name=field_name)
    return data_schema(kind)


def _parts(changes: dict[str, Any], part: str) -> dict[str, Any]:
    return {name: change[part] for name, change in changes.items()}


def _typed_values(
    schema: ma.Schema, values: dict[str, Any], *, allow_none: bool = False
) -> dict[str, Any]:
    """Load each value with the field of ``schema`` of the same name (errors by name)."""
    typed: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, value in values.items():
        field = schema.fields.get(name)
        if field is None:
            errors[name] = [f"not a field of {type(schema).__name__.removesuffix('Data')}"]
        elif value is None:
            if allow_none and not field.required:
                typed[name] = None
            else:
                errors[name] = ["may not be empty"]
        else:
            try:
                typed[name] = field.deserialize(value)
            except ma.ValidationError as error:
                errors[name] = error.messages
    if errors:
        raise ma.ValidationError(errors, field_name="changes")
    for name in tuple(typed):
        if isinstance(schema.fields[name], ma.fields.List) and typed[name] is not None:
            typed[name] = tuple(typed[name])
    return typed


DATA_SCHEMAS: dict[str, type[StrictSchema]] = {
    name: _data_schema_class(kind) for name, kind in KINDS.items()
}
"""The schema of each kind's ``data``, derived from its declaration."""


class SignedBodySchema(StrictSchema):
    """The event body the author signs."""

    study = Code(required=True, metadata={"example": "NCT01297972"})
    subject = Code(required=True, metadata={"example": "RP-101"})
    version = signed_version("subject's stream", Subject.Screened.kind(), "If-Match + 1", 4)
    kind, data, signer, key_id, signed_at, meaning = signed_body_fields(DATA_SCHEMAS)

    @ma.validates_schema
    def data_fits_kind(self, body: dict[str, Any], **_: Any) -> None:
        kind = body.get("kind", "")
        check_data_fits(body, data_schema(kind) if kind in DATA_SCHEMAS else None)


class SubmissionSchema(StrictSchema):
    """A signed event: the body and the author's Ed25519 signature (base64) over it."""

    event = ma.fields.Nested(SignedBodySchema, required=True)
    signature = signature_field()


class SignatureRequestSchema(StrictSchema):
    """An electronic signature over records, with the signing ceremony (21 CFR 11.200).

    ``event`` is a signed ``RecordsSigned`` body whose ``meaning`` is review, approval or
    responsibility, or a ``CasebookSigned`` one (approval or responsibility). The password is
    re-entered for every signature; the user id as well for the first signature of a session
    and the first after the inactivity timeout.
    """

    event = ma.fields.Nested(SignedBodySchema, required=True)
    signature = signature_field()
    password = Credential(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Re-entered for every signature"},
    )
    user_id = Credential(
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Needed for the first signature of a session, and after a lapse"},
    )

    @ma.validates("event")
    def signs_records(self, event: dict[str, Any], **_: Any) -> None:
        kind = event.get("kind")
        if kind not in SIGNED_IN_CEREMONY:
            raise ma.ValidationError(
                f"a signature over records is a {' or a '.join(sorted(SIGNED_IN_CEREMONY))}",
                "event",
            )
        meanings = KINDS[kind].MEANINGS
        if event.get("meaning") not in meanings:
            raise ma.ValidationError(f"a {kind} means one of {', '.join(meanings)}", "event")


def typed_fields(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The typed keyword arguments of the domain method that records ``kind``."""
    loaded: dict[str, Any] = data_schema(kind).load(data)
    return loaded


@cache
def data_schema(kind: str) -> StrictSchema:
    """The schema of ``kind``'s data, made once: a schema is stateless between loads, and
    making one (its fields copied and bound) costs more than loading a record with it.

    Raises:
        KeyError: ``kind`` is not a kind of record.
    """
    return DATA_SCHEMAS[kind]()
