"""The shortcuts verify takes for every event read exactly what the general paths read.

``instant_from_wire`` reads the canonical form without ``strptime``; ``event_leaf`` writes its
leaf directly, or with ``json.dumps`` without walking it first; ``recorded_instant`` writes a
recording time without ``strftime``; ``to_wire`` answers the commonest types before its general
rules. Each must accept, refuse and produce exactly what ``strptime``, RFC 8785 (the ``rfc8785``
package), ``strftime`` and the general rules do, or a stored event would verify differently from
how the store accepted it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.clinical.lab_flags import LabFlag
from domain.quantities import Quantity
from domain.wire import (
    INSTANT_FORMAT,
    RECORDED_FORMAT,
    instant_from_wire,
    recorded_instant,
    to_wire,
    wire_by_kind,
)
from signatures.canonical import LARGEST_EXACT_INTEGER
from signatures.errors import CanonicalFormError
from signatures.log_leaf import LEAF_FORMAT, event_leaf


def _by_strptime(text: str) -> datetime | str:
    try:
        return datetime.strptime(text, INSTANT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return "refused"


def _by_instant_from_wire(text: str) -> datetime | str:
    try:
        return instant_from_wire(text)
    except ValueError:
        return "refused"


@pytest.mark.requirement("P11-11.10a-1")
@pytest.mark.parametrize(
    "text",
    [
        "2011-01-03T12:34:56Z",
        "2012-02-29T23:59:59Z",
        "2011-1-3T1:2:3Z",  # strptime takes one-digit fields: so must verify
        "2011-02-29T00:00:00Z",
        "2011-01-03T24:00:00Z",
        "2011-01-03T00:00:60Z",
        "2011-13-03T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2011-01-03t00:00:00z",
        "2011-01-03T00:00:00",
        "2011-01-03T00:00:00+00:00",
        "2011-01-03T00:00:00Z\n",
        " 2011-01-03T00:00:00Z",
        "\u0662\u0660\u0661\u0661-01-03T00:00:00Z",  # Arabic-Indic digits
        "2011-01-03T00:00:00.5Z",
        "",
    ],
)
def test_an_instant_is_read_as_strptime_reads_it(text: str) -> None:
    assert _by_instant_from_wire(text) == _by_strptime(text)


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(
        st.integers(0, 10_000),
        *(st.integers(0, 99) for _ in range(5)),
    )
)
def test_any_two_digit_instant_is_read_as_strptime_reads_it(
    parts: tuple[int, int, int, int, int, int],
) -> None:
    year, month, day, hour, minute, second = parts
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
    assert _by_instant_from_wire(text) == _by_strptime(text)


LEAF_FIELDS = ("position", "version", "stream_id", "recorded_at", "event_hash")


def _rfc8785_leaf(*values: object) -> bytes | str:
    try:
        return rfc8785.dumps({"format": LEAF_FORMAT, **dict(zip(LEAF_FIELDS, values, strict=True))})
    except (rfc8785.CanonicalizationError, ValueError, UnicodeError):
        return "refused"


def _leaf(position: object, version: object, *texts: object) -> bytes | str:
    stream_id, recorded_at, event_hash = texts
    try:
        return event_leaf(
            position=position,  # type: ignore[arg-type]
            stream_id=stream_id,  # type: ignore[arg-type]
            version=version,  # type: ignore[arg-type]
            recorded_at=recorded_at,  # type: ignore[arg-type]
            event_hash=event_hash,  # type: ignore[arg-type]
        )
    except CanonicalFormError:
        return "refused"


@pytest.mark.requirement("P11-11.10a-1")
@settings(max_examples=150, deadline=None)
@given(
    st.integers(-(2**60), 2**60),
    st.integers(-(2**60), 2**60),
    st.text(),
    st.text(),
    st.text(),
)
def test_a_leaf_is_the_rfc_8785_form_of_its_fields(
    position: int, version: int, stream_id: str, recorded_at: str, event_hash: str
) -> None:
    assert _leaf(position, version, stream_id, recorded_at, event_hash) == _rfc8785_leaf(
        position, version, stream_id, recorded_at, event_hash
    )


@pytest.mark.parametrize(
    "position",
    [LARGEST_EXACT_INTEGER, LARGEST_EXACT_INTEGER + 1, -LARGEST_EXACT_INTEGER - 1, True, 0],
)
def test_a_leaf_at_the_edges_of_exact_integers_is_the_rfc_8785_form(position: object) -> None:
    fields = ("ab" * 16, "2011-01-03T00:00:00.000000Z", "cd" * 32)
    assert _leaf(position, 1, *fields) == _rfc8785_leaf(position, 1, *fields)


def test_a_leaf_with_a_lone_surrogate_is_refused_as_rfc_8785_refuses_it() -> None:
    fields = ("ab\ud800", "2011-01-03T00:00:00.000000Z", "cd" * 32)
    assert _leaf(1, 1, *fields) == "refused" == _rfc8785_leaf(1, 1, *fields)


ASCII = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F))
"""Every ASCII character, the escaped ones (``"``, ``\\``, the controls) among them: text the leaf
writes directly when nothing in it is escaped, through ``json.dumps`` otherwise."""


@pytest.mark.requirement("P11-11.10a-1")
@settings(max_examples=300, deadline=None)
@given(st.integers(-(2**54), 2**54), st.integers(-(2**54), 2**54), ASCII, ASCII, ASCII)
def test_a_leaf_of_ascii_fields_is_the_rfc_8785_form(
    position: int, version: int, stream_id: str, recorded_at: str, event_hash: str
) -> None:
    assert _leaf(position, version, stream_id, recorded_at, event_hash) == _rfc8785_leaf(
        position, version, stream_id, recorded_at, event_hash
    )


@pytest.mark.requirement("P11-11.10a-1")
@pytest.mark.parametrize(
    "stream_id",
    [
        "5d4e1b8e2f6c5a439d0e7c1a3b9f6e21",  # what the store writes: hex, written directly
        "",
        'a"b',
        "a\\b",
        "a\x7fb",
        "a\x1fb",
        "a\nb",
        "a/b <c> & 'd' ~",
        "é",
    ],
)
def test_a_leaf_written_directly_or_not_is_the_rfc_8785_form(stream_id: str) -> None:
    fields = (stream_id, "2011-01-03T00:00:00.000000Z", "cd" * 32)
    assert _leaf(1_000_008, 7, *fields) == _rfc8785_leaf(1_000_008, 7, *fields)


@pytest.mark.requirement("P11-11.10a-1")
@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),  # hypothesis takes naive bounds
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-3)), timezone(timedelta(hours=5, minutes=45))]
        ),
    )
)
def test_a_recording_time_is_written_as_strftime_writes_it(instant: datetime) -> None:
    assert recorded_instant(instant) == instant.astimezone(UTC).strftime(RECORDED_FORMAT)


@pytest.mark.parametrize(
    "instant",
    [
        datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # strftime writes "999"
        datetime(1000, 1, 1, tzinfo=UTC),
        datetime(1000, 1, 1, 2, tzinfo=timezone(timedelta(hours=3))),  # 999 once in UTC
        datetime(2011, 1, 3, 0, 0, 0, 5, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
)
def test_a_recording_time_at_the_edges_is_written_as_strftime_writes_it(instant: datetime) -> None:
    assert recorded_instant(instant) == instant.astimezone(UTC).strftime(RECORDED_FORMAT)


class _Answer(StrEnum):
    YES = "Y"


class _Count(IntEnum):
    TWO = 2


class _Precise(Decimal):
    pass


class _Named(str):
    pass


@pytest.mark.requirement("P11-11.10a-1")
@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**70),
        "",
        "RP-101",
        Decimal("2.70"),
        Decimal("1E+3"),
        Decimal("-0"),
        date(2011, 1, 3),
        datetime(2011, 1, 3, 12, tzinfo=UTC),  # a date too: written as an instant, not a day
        Quantity(Decimal("7.4"), "g/dL"),
        LabFlag.HIGH,
        _Answer.YES,  # a str: written as itself, as before
        _Count.TWO,
        _Precise("3.10"),
        _Named("x"),
        {"a": [Decimal("1.0"), date(2011, 1, 3)], 2: (None, _Answer.YES)},
    ],
)
def test_a_field_is_written_as_the_general_rules_write_it(value: object) -> None:
    fast, general = to_wire(value), wire_by_kind(value)
    assert fast == general
    assert type(fast) is type(general)
