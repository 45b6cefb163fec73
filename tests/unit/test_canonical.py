"""RFC 8785 canonical form: what it must produce and what it must refuse."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from signatures.authorship import decode_signature
from signatures.canonical import canonicalize
from signatures.errors import CanonicalFormError, SignatureInvalid


def test_keys_are_sorted_and_whitespace_removed() -> None:
    assert canonicalize({"b": 1, "a": [True, None, "x"]}) == b'{"a":[true,null,"x"],"b":1}'


def test_non_ascii_text_is_written_as_utf8_not_escaped() -> None:
    assert canonicalize({"name": "Cl\u00e9"}) == '{"name":"Cl\u00e9"}'.encode()


def test_control_characters_are_escaped_as_rfc_8785_says() -> None:
    assert canonicalize({"t": "a\nb\u0001"}) == b'{"t":"a\\nb\\u0001"}'


def test_keys_sort_by_utf16_code_units_as_rfc_8785_section_3_2_3_says() -> None:
    # U+10000 is D800 DC00 in UTF-16, so it sorts before U+FB33 (unlike by code point).
    assert canonicalize({"\ufb33": 1, "\U00010000": 2}) == '{"\U00010000":2,"\ufb33":1}'.encode()


@pytest.mark.parametrize(
    "value",
    [1.5, float("nan"), float("inf"), {"dose": 2.7}, [0.1]],
    ids=["float", "nan", "infinity", "nested-float", "float-in-list"],
)
def test_floats_are_refused_so_every_signed_number_is_exact(value: object) -> None:
    with pytest.raises(CanonicalFormError):
        canonicalize(value)


def test_integers_beyond_what_json_holds_exactly_are_refused() -> None:
    with pytest.raises(CanonicalFormError):
        canonicalize({"n": 2**53 + 1})


def test_a_signature_of_the_wrong_length_is_refused_by_name() -> None:
    with pytest.raises(SignatureInvalid, match="64 bytes"):
        decode_signature(base64.b64encode(bytes(63)).decode())


def test_a_signature_that_is_not_base64_is_refused_by_name() -> None:
    with pytest.raises(SignatureInvalid, match="base64"):
        decode_signature("not base64!")


# -- the standard library's path gives RFC 8785's bytes ----------------------------------------

JSON_KEYS = st.text(alphabet=st.characters(codec="utf-8"), max_size=6)
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) - 2, max_value=2**53 + 2)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(JSON_KEYS, children, max_size=4)
    ),
    max_leaves=12,
)


def rfc8785_or_refusal(value: object) -> bytes | None:
    """The rfc8785 package's bytes, or None where it refuses the value."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeError):
        return None


@pytest.mark.requirement("P11-11.30-1")
@settings(max_examples=600, deadline=None)
@given(JSON_VALUES)
def test_canonical_bytes_are_those_of_the_rfc8785_package_for_any_json_without_floats(
    value: object,
) -> None:
    expected = rfc8785_or_refusal(value)
    if expected is None:
        with pytest.raises(CanonicalFormError):
            canonicalize(value)
    else:
        assert canonicalize(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "\U0001f600": 2},
        {"a": {"\uffff": [1], "\U00010000": [2]}},
        "every control: " + "".join(chr(c) for c in range(32)) + '"\\\x7f\u2028\u2029',
        {"n": 2**53 - 1, "m": -(2**53 - 1)},
        ("a", ("b",)),
    ],
    ids=["keys-beyond-the-bmp", "nested-keys-beyond-the-bmp", "escapes", "largest", "tuples"],
)
def test_canonical_bytes_match_rfc8785_where_the_two_orders_and_escapes_could_part(
    value: object,
) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [{1: "a"}, {"s": "\ud800"}, {"\udc00": 1}, {"d": Decimal("2.7")}, {"n": -(2**53)}],
    ids=["integer-key", "lone-surrogate", "lone-surrogate-key", "decimal", "smallest-inexact"],
)
def test_what_rfc8785_cannot_write_is_refused_on_either_path(value: object) -> None:
    with pytest.raises(CanonicalFormError):
        canonicalize(value)
