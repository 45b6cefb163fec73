"""The text rules live in one place: every string a request schema loads is a PlainString.

``api/schemas/fields.py`` refuses control characters and lone surrogates and matches codes
whole; these tests hold every schema to it, so that a new field cannot slip past the rule.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

import marshmallow as ma
import pytest

import api.schemas
from api.schemas.fields import Code, Credential, FullMatch, PlainString, Text


def schema_classes() -> Iterator[type[ma.Schema]]:
    for module_info in pkgutil.iter_modules(api.schemas.__path__):
        module = importlib.import_module(f"api.schemas.{module_info.name}")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, ma.Schema) and value.__module__ == module.__name__:
                yield value


def fields_of(field: ma.fields.Field) -> Iterator[ma.fields.Field]:
    yield field
    if isinstance(field, ma.fields.Nested) and isinstance(field.schema, ma.Schema):
        for inner in field.schema.fields.values():
            yield from fields_of(inner)
    if isinstance(field, ma.fields.List):
        yield from fields_of(field.inner)
    if isinstance(field, ma.fields.Dict):
        for part in (field.key_field, field.value_field):
            if part is not None:
                yield from fields_of(part)


def test_every_string_field_of_every_schema_is_a_plain_string() -> None:
    bare = []
    for schema_class in schema_classes():
        for name, field in schema_class().fields.items():
            for each in fields_of(field):
                if isinstance(each, ma.fields.String) and not isinstance(
                    each, PlainString | Credential
                ):
                    bare.append(f"{schema_class.__name__}.{name}")
    assert bare == [], "use api.schemas.fields.PlainString (or Code, Text) for these strings"


@pytest.mark.parametrize("value", ["RP-50\n", "RP-50\r", "\nRP-50", "RP 50", "RP-50\0"])
def test_a_code_is_matched_whole(value: str) -> None:
    with pytest.raises(ma.ValidationError):
        Code().deserialize(value)


def test_a_full_match_refuses_what_re_match_with_a_dollar_would_take() -> None:
    assert FullMatch(r"^[a-z]+$")("abc") == "abc"
    with pytest.raises(ma.ValidationError):
        FullMatch(r"^[a-z]+$")("abc\n")


@pytest.mark.parametrize("character", ["\0", "\x1f", "\t", "\x7f", "\x9f", "\ud800", "\udfff"])
def test_one_line_text_refuses_control_characters_and_lone_surrogates(character: str) -> None:
    with pytest.raises(ma.ValidationError):
        Text().deserialize(f"a{character}b")


def test_multiline_text_takes_line_breaks_and_nothing_else() -> None:
    assert Text(multiline=True).deserialize("a\r\nb\nc") == "a\r\nb\nc"
    with pytest.raises(ma.ValidationError):
        Text(multiline=True).deserialize("a\tb")


def test_text_keeps_every_printable_character_as_typed() -> None:
    value = "Reação <script> 𝄞 ‮ \u00a0 ✓"

    assert Text().deserialize(value) == value
