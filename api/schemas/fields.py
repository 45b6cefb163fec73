"""Fields for the wire conventions of :mod:`domain.wire`, strict in what they accept.

A signed body is compared byte for byte with what the store renders from typed values, so each
field accepts exactly one spelling of a value: decimals as positional strings, instants in UTC
with a ``Z`` and whole seconds, integers as JSON integers (never ``true`` or ``1.0``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Generic, TypeVar, cast

import marshmallow as ma

from domain.account import Account
from domain.permissions import readable_subject
from domain.quantities import Quantity
from domain.subject import subject_stream
from domain.wire import instant_from_wire
from infrastructure.views.replay import end_of_day

DECIMAL_PATTERN = re.compile(r"-?(0|[1-9]\d{0,11})(\.\d{1,9})?")
INSTANT_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_SAFE_INTEGER = 2**53 - 1


def as_of_instant(value: Any) -> datetime:
    """The instant a past state is asked as of: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), or
    ``YYYY-MM-DD`` for the last instant of that UTC day (the API's ``as_of``, the pages'
    ``time``).

    Raises:
        ValueError: neither form, or not a real date and time (the message says which).
    """
    try:
        if isinstance(value, str) and INSTANT_PATTERN.fullmatch(value):
            return instant_from_wire(value)
        if isinstance(value, str) and DATE_PATTERN.fullmatch(value):
            return end_of_day(date.fromisoformat(value))
    except ValueError:
        raise ValueError("not a real date and time") from None
    raise ValueError('give "YYYY-MM-DDTHH:MM:SSZ" (UTC) or "YYYY-MM-DD"')


T = TypeVar("T")
Found = TypeVar("Found")


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


@dataclass(frozen=True)
class WrittenForm(Generic[T]):
    """How a value is written in JSON: a string of one ``pattern``, which ``read`` turns into
    the value; a string of another form and one that names nothing real (a 30 February) are
    refused with different messages."""

    pattern: re.Pattern[str]
    openapi: dict[str, str]
    read: Callable[[str], T]
    wrong_form: str
    not_real: str


class _Written(ma.fields.Field[T]):
    """A field whose value is written in its ``form``."""

    form: WrittenForm[T]

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string"} | self.form.openapi
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> T:
        if not isinstance(value, str) or not self.form.pattern.fullmatch(value):
            raise ma.ValidationError(self.form.wrong_form)
        try:
            return self.form.read(value)
        except ValueError:
            raise ma.ValidationError(self.form.not_real) from None


class Instant(_Written[datetime]):
    """A point in time in UTC: ``"2011-03-01T09:30:00Z"``."""

    form = WrittenForm(
        INSTANT_PATTERN,
        {"format": "date-time", "example": "2011-03-01T09:30:00Z"},
        instant_from_wire,
        'an instant is UTC with a Z and whole seconds, e.g. "2011-03-01T09:30:00Z"',
        "not a real date and time",
    )


class CalendarDate(_Written[date]):
    """A calendar date: ``"2011-03-01"``."""

    form = WrittenForm(
        DATE_PATTERN,
        {"format": "date", "example": "2011-03-01"},
        date.fromisoformat,
        'a date is written "YYYY-MM-DD"',
        "not a real date",
    )


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


LINE_BREAKS = frozenset("\n\r")
"""What a multi-line field takes beside printable text: LF, and CR for a CR LF pair."""


def refuse_unprintable(value: str, *, multiline: bool = False) -> None:
    """Refuse what is not text: control characters and lone surrogates.

    Control characters are Unicode's category Cc: C0 (U+0000-U+001F, tab included), DEL and C1
    (U+007F-U+009F). U+0000 cannot leave the archive at all (XML 1.0, so the ODM export,
    refuses it), the others are invisible on a page, a printout or a terminal, so a record
    holding them says something no reader sees. A lone surrogate (U+D800-U+DFFF alone, which
    JSON's ``\\u`` escapes can spell) is not a character: it has no UTF-8 form, so no
    signer can canonicalise it (RFC 8785) and no file can hold it. ``multiline`` admits LF and
    CR, for the fields documented as taking line breaks.

    Raises:
        marshmallow.ValidationError: naming the first offending character and where it is.
    """
    for index, character in enumerate(value):
        if multiline and character in LINE_BREAKS:
            continue
        category = unicodedata.category(character)
        if category == "Cc":
            raise ma.ValidationError(
                f"control character U+{ord(character):04X} at {index}: text only"
                + (" (line breaks allowed)" if multiline else "")
            )
        if category == "Cs":
            raise ma.ValidationError(
                f"lone surrogate U+{ord(character):04X} at {index}: not a character"
            )


class PlainString(ma.fields.String):
    """A string of text: never a control character nor a lone surrogate (one line).

    Every string field of a request is one of these (or a subclass), so the rule is kept here
    once; ``tests/unit/test_schema_fields.py`` walks the schemas to hold that.
    """

    multiline = False

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        refuse_unprintable(text, multiline=self.multiline)
        return text


def plain_strings(count: int) -> tuple[PlainString, ...]:
    """``count`` plain strings, for the fields of an answer that shows only text, declared in
    one line in the order the answer lists them."""
    return tuple(PlainString() for _ in range(count))


class FullMatch(ma.validate.Regexp):
    """A pattern the whole value must match (``re.fullmatch``).

    marshmallow's :class:`~marshmallow.validate.Regexp` uses ``re.match``, where ``$`` also
    matches before a final newline: ``"RP-50\\n"`` passed ``^...$`` and opened a second
    subject beside ``RP-50``. The pattern stays as written for the OpenAPI document (JSON
    Schema patterns have no ``\\Z``).
    """

    def __call__(self, value: Any) -> Any:
        pattern = cast("re.Pattern[str]", self.regex)  # always built here from a str pattern
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class Credential(ma.fields.String):
    """A user id or password as typed at sign-in, taken as it is (bounded, not filtered).

    The one exception to :class:`PlainString`, on purpose: a sign-in attempt is recorded
    whatever was typed (an attack is evidence too), so a user id with a control character is
    not a 422 but a failed attempt, recorded with the name escaped, that no account can match
    (user ids are codes). New passwords are :class:`PlainString`.
    """


CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_CODE = re.compile(CODE_PATTERN)


def is_code(value: str) -> bool:
    """Whether ``value`` is a code (a study, a subject, a site), matched whole."""
    return _CODE.fullmatch(value) is not None


def names_a_subject(study: str, subject: str) -> bool:
    """Whether a study and a subject code, as a person typed them, could name a subject at all.

    The API and the console ask it alike: a path or an option with a NUL, a newline or a study
    named like the store's own streams names no subject, and reads as one not found.
    """
    return is_code(study) and is_code(subject)


def readable_as_typed(
    actor: Account,
    study: str,
    subject: str,
    find: Callable[[str], Found | None],
    site_of: Callable[[Found], str],
) -> Found:
    """What ``find`` gives for the subject ``study``/``subject`` as a person typed them, once
    ``actor`` may read it (:func:`domain.permissions.readable_subject`): the API's and the
    pages' reads of a subject, so that a code that names no subject, a subject never screened
    and another site's subject answer alike."""
    return readable_subject(
        actor,
        subject_stream(study, subject),
        find,
        site_of,
        names_a_subject=names_a_subject(study, subject),
    )


class Text(PlainString):
    """Free text: non-empty, bounded, stored verbatim; one line unless ``multiline``.

    A multi-line field says so in the OpenAPI document (``x-multiline``) and in its description.
    """

    def __init__(self, max_length: int = 500, *, multiline: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(min=1, max=max_length))
        self.multiline = multiline
        if multiline:
            metadata = kwargs.pop("metadata", {})
            description = metadata.get("description", "")
            kwargs["metadata"] = metadata | {
                "x-multiline": True,
                "description": (description + " " if description else "")
                + "(may hold line breaks; no other control character)",
            }
        super().__init__(**kwargs)


class Code(PlainString):
    """An identifier: letters, digits, dot, dash, underscore; matched whole."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", FullMatch(CODE_PATTERN))
        super().__init__(**kwargs)


class StrictSchema(ma.Schema):
    """Unknown fields are an error, not silently dropped: the author signed them, or asked
    for something this API does not answer."""

    class Meta:
        unknown = ma.RAISE


class QuantitySchema(StrictSchema):
    """A value and its unit: ``{"value": "7.4", "unit": "g/dL"}``."""

    value = ExactDecimal(required=True)
    unit = Text(max_length=40, required=True)

    @ma.post_load
    def to_quantity(self, data: dict[str, Any], **_: Any) -> Quantity:
        return Quantity(data["value"], data["unit"])


def enum_field(enum_class: type[Enum], **kwargs: Any) -> ma.fields.Enum[Any]:
    """An enumeration written by its value."""
    return ma.fields.Enum(enum_class, by_value=True, **kwargs)


KEY_ID = FullMatch(r"^ed25519:[0-9a-f]{32}$")
"""A key id as docs/signing.md defines it."""

PUBLIC_KEY = FullMatch(r"^[A-Za-z0-9+/]{43}=$")
"""An Ed25519 public key in base64 (32 bytes)."""

SIGNATURE = FullMatch(r"^[A-Za-z0-9+/]{86}==$")
"""An Ed25519 signature in base64 (64 bytes), over a body's RFC 8785 canonical form."""

SHA256_HEX = FullMatch(r"^[0-9a-f]{64}$")
"""A SHA-256 digest in lowercase hexadecimal, as the history and the reports give it."""


def signed_version(stream: str, first: str, next_one: str, example: int) -> WholeNumber:
    """The ``version`` a signed body gives: the place its event takes in ``stream``.

    Not required by the schema, so that a body without it gets the store's own answer (422
    version-not-signed) rather than a field error; the store takes no body without it.
    """
    return WholeNumber(
        validate=ma.validate.Range(min=1, max=MAX_SAFE_INTEGER),
        metadata={
            "description": f"The version of the {stream} this event takes (1 for {first}; "
            f"{next_one}): signed, so that a copy elsewhere is named. Needed.",
            "example": example,
        },
    )
