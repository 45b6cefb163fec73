"""A site's form for each record kind, generated from the kind's one declaration.

``domain.subject`` declares each record kind once (:func:`domain.subject.declaration.form_of`:
each item's label, description, type, unit, required or not, choices, length); the API's schema
of its ``data`` is derived from the same declaration (:mod:`api.schemas.records`). Here each
item becomes the inputs a person fills in, as WTForms fields (so the CSRF token, the error
summary and what was typed kept come with them): a line of text, a number with its unit, yes or
no, one of the vocabulary's codes, several of them, or a group of named values the protocol
lists (a blood count's analytes and a vital sign each with its unit, the eligibility criteria
each answered yes or no, a follow-up's new values of the adverse event's fields).

What the person typed is turned into the ``data`` of the signed body exactly as the API takes it
(:func:`typed_data`), and checked by the API's own schema; nothing here decides whether a
value is right, only how what was typed is written (a whole number as a JSON integer, a decimal
comma as a point, a quantity with its declared unit). A schema's message is placed beside the
input it is about (:func:`place_errors`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import Field

from api.web.forms import MISSING, SignedBodyForm, kept_as_typed, shown_as_typed
from api.web.wording import gettext
from domain.account import Account
from domain.actions import Action
from domain.permissions import may
from domain.protocol import protocol_for
from domain.subject import SITE_RECORDS, Subject
from domain.subject.declaration import FormField, ValueType
from domain.wire import instant_to_wire

MISSING_FIELD = "Missing data for required field."
"""marshmallow's message for a required item left out: said as :data:`forms.MISSING`."""
YES, NO = "true", "false"
FEW_CHOICES = 6
"""Up to this many codes are offered as radios; more, as a list to choose from."""
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,15}")
"""A whole number as typed: longer ones are left as text for the schema to refuse (Python's
``int`` of thousands of digits is refused, and slow)."""
DECIMAL_COMMA = re.compile(r"-?[0-9]+,[0-9]+")
"""A decimal typed with a comma, as a Brazilian site writes it: ``7,4`` is ``"7.4"``."""
FORMATS = {
    ValueType.DATE.value: "YYYY-MM-DD",
    ValueType.INSTANT.value: "YYYY-MM-DD HH:MM at the site, or YYYY-MM-DDTHH:MM:SSZ in UTC",
}
"""How a date or an instant is typed: as the API takes it, or an instant as the site's clock
showed it."""
SITE_CLOCK = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")
"""An instant typed as the site's clock showed it (``2011-03-10 10:00``), in the protocol's
time zone: written in ``data`` as the API takes it, in UTC (``2011-03-10T13:00:00Z``)."""
SCREENED = Subject.Screened.kind()
SIGNING_FIELDS = frozenset({"csrf_token", "body", "signature"})
RESERVED = SIGNING_FIELDS | {"stage"}
"""Names the form's own fields take: no item's input may take one (nor a name of the form's
class, such as ``data`` or ``errors``)."""


@dataclass(frozen=True)
class Input:
    """One input of the form: the WTForms field's name, what it shows and how its value is
    written in ``data``."""

    name: str
    shown: FormField
    """The item (or the named value of an item) the input is for."""
    key: str
    """Its name in ``data`` (or in the item's mapping)."""
    role: str = ""
    """In a follow-up: ``""`` for a field's new value as typed; ``clear`` for the box that
    clears an optional field; ``change`` for the box that changes a list of codes (the
    seriousness criteria) to those ticked, each a ``choice`` (its key the code)."""


@dataclass(frozen=True)
class Item:
    """One item of the record as the form lays it out: its inputs (one, or a group)."""

    declared: FormField
    inputs: tuple[Input, ...]
    group: str = ""
    """``""`` for a single input; else how its inputs are grouped: ``named`` (named values, each
    an input), ``choices`` (a checkbox per code), ``follow_up`` (the fields it may change)."""

    @property
    def first(self) -> str:
        """The input a message about the whole item is shown beside."""
        return self.inputs[0].name


class RecordForm(SignedBodyForm):
    """A record kind's form: its items' inputs (made by :func:`form_class`), and the body and
    signature the browser adds once the person signs."""

    kind: str = ""
    items: tuple[Item, ...] = ()
    time_zone: ZoneInfo = ZoneInfo("UTC")
    """The site's time zone (the protocol's), in which an instant typed without one is read."""

    def typed(self) -> list[tuple[str, str]]:
        """What the person typed, as the form sent it: carried by the signing form, so that a
        refusal shows the form again as it was filled in."""
        return [
            (field.name, str(value))
            for field in self
            if field.name not in SIGNING_FIELDS
            for value in (field.raw_data or ())
        ]


def described(kind: str) -> str:
    """The first line of a kind's declaration: what the record is, in the protocol's words."""
    return (SITE_RECORDS[kind].__doc__ or kind).strip().splitlines()[0]


def records_offered(account: Account, site: str) -> list[tuple[str, str]]:
    """The records ``account`` may enter for a subject of ``site`` (each kind and what it is),
    as the permission matrix says; none for anyone else. A screening opens a subject: it is
    offered on the subject list, not for a subject."""
    if not may(account, Action.RECORD_CLINICAL_DATA, site):
        return []
    return [(name, described(name)) for name in SITE_RECORDS if name != SCREENED]


def enters_records(account: Account) -> bool:
    """Whether ``account`` enters records at any site of theirs (the list offers a screening)."""
    return any(may(account, Action.RECORD_CLINICAL_DATA, site) for site in account.sites)


@cache
def form_class(kind: str, study: str) -> type[RecordForm]:
    """The form of record ``kind`` of ``study`` (whose protocol names the values of a named
    item), generated from the kind's declaration.

    Raises:
        KeyError: ``kind`` is not a record a site enters.
    """
    protocol = protocol_for(study)
    fields: dict[str, Any] = {}
    items: list[Item] = []
    for declared in SITE_RECORDS[kind].form():
        if declared.named_in:
            named = protocol.names_in(declared.named_in)
            inputs = tuple(
                _input(
                    fields,
                    f"{declared.name}-{value.name}",
                    _named(declared, value.name, value.unit, value.text),
                    value.name,
                )
                for value in named
            )
            items.append(Item(declared, inputs, "named"))
        elif declared.type == ValueType.CHOICES.value:
            inputs = tuple(
                _checkbox(fields, f"{declared.name}-{code}", declared, code)
                for code in declared.choices
            )
            items.append(Item(declared, inputs, "choices"))
        elif declared.follows:
            inputs = tuple(
                part
                for followed in declared.follows
                for part in _follow_up_inputs(fields, f"{declared.name}-{followed.name}", followed)
            )
            items.append(Item(declared, inputs, "follow_up"))
        else:
            items.append(Item(declared, (_input(fields, declared.name, declared, declared.name),)))
    taken = sorted((RESERVED | set(dir(RecordForm))) & set(fields))
    if taken:
        raise TypeError(f"{kind} declares an item the form itself names: {', '.join(taken)}")
    fields.update(kind=kind, items=tuple(items), time_zone=protocol.time_zone)
    return type(f"{kind}Form", (RecordForm,), fields)


def _follow_up_inputs(fields: dict[str, Any], name: str, followed: FormField) -> list[Input]:
    """The inputs of one field a follow-up may change: its new value, or for a list of codes a
    box that changes it and a box per code (none ticked: the list emptied); and for a field
    the report may leave out, a box that clears it."""
    key = followed.name
    if followed.type == ValueType.CHOICES.value:
        fields[name] = BooleanField(followed.label)
        parts = [Input(name, followed, key, "change")]
        for code in followed.choices:
            fields[f"{name}-{code}"] = BooleanField(code)
            parts.append(Input(f"{name}-{code}", followed, code, "choice"))
    else:
        parts = [_input(fields, name, followed, key)]
    if followed.clearable:
        fields[f"{name}-clear"] = BooleanField(followed.label)
        parts.append(Input(f"{name}-clear", followed, key, "clear"))
    return parts


def _named(declared: FormField, name: str, unit: str | None, text: str) -> FormField:
    """A named value of an item: an analyte with its unit, a criterion answered yes or no."""
    value_type = (
        ValueType.BOOLEAN if declared.type == ValueType.ANSWERS.value else ValueType.QUANTITY
    )
    label = f"{name}: {text}" if text else name.replace("_", " ").capitalize()
    return FormField(name=name, label=label, type=value_type.value, required=False, unit=unit)


def _input(fields: dict[str, Any], name: str, shown: FormField, key: str) -> Input:
    fields[name] = _field(shown)
    return Input(name, shown, key)


def _checkbox(fields: dict[str, Any], name: str, declared: FormField, code: str) -> Input:
    fields[name] = BooleanField(code)
    return Input(name, declared, code)


def _field(shown: FormField) -> Field:
    """The WTForms field of one input: what was typed kept, a control character shown as
    U+FFFD (the value checked is the one sent, :func:`typed_data`)."""
    label, hint = shown.label, shown.description
    if shown.type == ValueType.BOOLEAN.value:
        return RadioField(
            label, description=hint, choices=[SelectChoice(YES, "Yes"), SelectChoice(NO, "No")],
            validate_choice=False,
        )  # fmt: skip
    if shown.type == ValueType.CHOICE.value:
        if len(shown.choices) <= FEW_CHOICES:
            return RadioField(
                label, description=hint, choices=[SelectChoice(c, c) for c in shown.choices],
                validate_choice=False,
            )  # fmt: skip
        return SelectField(
            label, description=hint,
            choices=[SelectChoice("", "Choose one"), *(SelectChoice(c, c) for c in shown.choices)],
            filters=[shown_as_typed], validate_choice=False,
        )  # fmt: skip
    if shown.multiline:
        return TextAreaField(
            label, description=hint, filters=[kept_as_typed], render_kw={"rows": 4}
        )
    numeric = shown.type in (ValueType.INTEGER.value, ValueType.QUANTITY.value)
    render: dict[str, Any] = {"spellcheck": "false", "autocomplete": "off"}
    if numeric:
        render["inputmode"] = "decimal" if shown.type == ValueType.QUANTITY.value else "numeric"
    return StringField(label, description=hint, filters=[shown_as_typed], render_kw=render)


def typed_data(form: RecordForm) -> dict[str, Any]:
    """The record's ``data`` as the API takes it, from what the form sent (as sent, never as
    shown): an item left empty is left out, so that the schema says it is missing."""
    data: dict[str, Any] = {}
    for item in form.items:
        if item.group == "choices":
            data[item.declared.name] = [i.key for i in item.inputs if form[i.name].data]
            continue
        if item.group == "follow_up":
            changes = _changes(form, item)
            if changes:
                data[item.declared.name] = changes
            continue
        values = {
            i.key: _written(i.shown, _sent(form, i.name), form.time_zone) for i in item.inputs
        }
        given = {key: value for key, value in values.items() if value is not None}
        if item.group:
            if given:
                data[item.declared.name] = given
        elif given:
            data[item.declared.name] = given[item.declared.name]
    return data


def _changes(form: RecordForm, item: Item) -> dict[str, Any]:
    """A follow-up's changes: each new value typed; a list of codes changed to those ticked;
    each field whose box says to clear it, ``None`` (what the API takes as cleared)."""
    changes: dict[str, Any] = {}
    for part in item.inputs:
        if part.role == "":
            value = _written(part.shown, _sent(form, part.name), form.time_zone)
            if value is not None:
                changes[part.key] = value
        elif part.role == "change" and form[part.name].data:
            ticked = [
                p.key
                for p in item.inputs
                if p.role == "choice" and p.shown.name == part.key and form[p.name].data
            ]
            changes[part.key] = ticked
        elif part.role == "clear" and form[part.name].data:
            changes[part.key] = None
    return changes


def _sent(form: RecordForm, name: str) -> str:
    raw = form[name].raw_data
    return str(raw[0]) if raw else ""


def _written(shown: FormField, typed: str, zone: ZoneInfo) -> Any:
    """How a typed value is written in ``data``; None when nothing was typed."""
    if typed == "":
        return None
    kind = shown.type
    if kind == ValueType.INSTANT.value and SITE_CLOCK.fullmatch(typed):
        try:
            at_the_site = datetime.strptime(typed, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
            return instant_to_wire(at_the_site)
        # Not a real date or time, or none in UTC (9999-12-31 23:00 at a site west of
        # Greenwich is in the year 10000): the schema says so of what was typed.
        except (ValueError, OverflowError):
            return typed
    if kind == ValueType.BOOLEAN.value:
        return {YES: True, NO: False}.get(typed, typed)
    if kind == ValueType.INTEGER.value:
        return int(typed) if WHOLE_NUMBER.fullmatch(typed) else typed
    if kind == ValueType.QUANTITY.value:
        value = typed.replace(",", ".") if DECIMAL_COMMA.fullmatch(typed) else typed
        return {"value": value, "unit": shown.unit or ""}
    if shown.multiline:
        # A browser sends a textarea's line breaks as CR LF (HTML's form encoding): the text
        # is signed with LF, as a person means it.
        return typed.replace("\r\n", "\n")
    return typed


def place_errors(form: RecordForm, messages: Mapping[str, Any]) -> None:
    """The schema's messages about ``data``, each beside the input it is about (the item's
    first input for one about the whole item), the others for the whole form."""
    item_of = {item.declared.name: item for item in form.items}
    for path, message in _leaves(messages, ()):
        said = MISSING if message == MISSING_FIELD else message
        target = _input_named(form, path) or (item_of[path[0]].first if path[0] in item_of else "")
        if target:
            errors = list(form[target].errors)
            if said not in errors:
                form[target].errors = [*errors, said]
        else:
            form.form_errors.append(f"{'.'.join(path)}: {said}")


def _input_named(form: RecordForm, path: tuple[str, ...]) -> str:
    """The input a message's path names (``results-haemoglobin`` for
    ``results.haemoglobin.value.value``), the longest that is one."""
    for end in range(len(path), 0, -1):
        name = "-".join(path[:end])
        if name in form._fields and name not in SIGNING_FIELDS:
            return name
    return ""


def _leaves(messages: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    if isinstance(messages, Mapping):
        return [
            leaf for key, nested in messages.items() for leaf in _leaves(nested, (*path, str(key)))
        ]
    if isinstance(messages, list | tuple):
        return [leaf for message in messages for leaf in _leaves(message, path)]
    return [(path or ("data",), str(messages))]


def in_words(form: RecordForm, data: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """The record about to be signed, item by item as the form labels it: each value (a
    quantity with its unit, each named value on a line of its own); an item left out, ``—``."""
    shown: list[tuple[str, list[str]]] = []
    for item in form.items:
        value = data.get(item.declared.name)
        if isinstance(value, Mapping) and item.group:
            units = {i.key: i.shown for i in item.inputs if i.role in ("", "change", "clear")}
            lines = [
                f"{key}: {_said(units.get(key, item.declared), v)}" for key, v in value.items()
            ]
        elif isinstance(value, list):
            lines = [_said(item.declared, value)]
        else:
            lines = [_said(item.declared, value)]
        shown.append((item.declared.label, lines))
    return shown


def _said(shown: FormField, value: Any) -> str:
    """A value as the page says it: a code of the vocabulary in the page's language (the body
    signed keeps the code)."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_said(shown, each) for each in value) or "—"
    if shown.choices and isinstance(value, str) and value in shown.choices:
        return gettext(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Mapping) and "value" in value:
        return f"{value['value']} {value.get('unit', '')}".strip()
    return f"{value} {shown.unit}" if shown.unit else str(value)


def phrases(study: str) -> set[str]:
    """Every English phrase the record forms of ``study`` show (the catalogue translates
    them): each kind's description, each input's label and hint, the choices' words."""
    said = {"Yes", "No", "Choose one", *FORMATS.values()}
    for kind in SITE_RECORDS:
        said.add(described(kind))
        for item in form_class(kind, study).items:
            said.update((item.declared.label, item.declared.description))
            # Each code offered is shown in the page's language (the record keeps the code).
            said.update(item.declared.choices)
            for part in item.inputs:
                said.update(part.shown.choices)
                # A criterion is named as the protocol words it (its code and text).
                if item.group != "choices":
                    said.update((part.shown.label, part.shown.description))
    return {phrase for phrase in said if phrase}
