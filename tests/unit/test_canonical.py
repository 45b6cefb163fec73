"""RFC 8785 canonical form: what it must produce and what it must refuse."""

from __future__ import annotations

import base64

import pytest

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
