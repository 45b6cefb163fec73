"""RFC 8785 JSON Canonicalization Scheme (JCS).

The author signs the canonical bytes of the event body; the server and every verifier derive the
same bytes from the same JSON value. We delegate to the ``rfc8785`` package (Trail of Bits), a
maintained implementation of the RFC, rather than writing our own serialiser.

Event bodies never contain floats: decimals travel as strings, so the number-formatting rules of
RFC 8785 section 3.2.2.3 (the part implementations most often get wrong) never come into play.

Without floats, the standard library's ``json.dumps`` (sorted keys, no whitespace, UTF-8 rather
than ``\\u`` escapes) writes exactly the bytes RFC 8785 does, at about a fifth of the cost, as
long as three things hold: every key is a string, no key holds a character at or above U+D800
(RFC 8785 section 3.2.3 sorts keys by UTF-16 code units, which differs from code point order
only there), and every integer is one that an IEEE 754 double holds exactly. Both escape the same
characters the same way (section 3.2.2.2: ``\\b \\t \\n \\f \\r \\" \\\\`` and ``\\u00xx`` in lower
case for the other controls). :func:`canonicalize` takes that path when a value qualifies and
the ``rfc8785`` package otherwise; tests/unit/test_canonical.py holds the two to the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from signatures.errors import CanonicalFormError

LARGEST_EXACT_INTEGER = 2**53 - 1
"""RFC 8785 section 3.2.2.3 and I-JSON (RFC 7493): integers beyond this are not exact."""


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Raises:
        CanonicalFormError: the value holds something JCS cannot represent faithfully
            (a float, NaN or Infinity, an integer beyond 2**53, a lone surrogate, a non-str key).
    """
    if _written_alike(value):
        try:
            return json.dumps(
                value, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            ).encode("utf-8")
        except UnicodeError as error:  # a lone surrogate
            raise CanonicalFormError(str(error)) from None
    _refuse_floats(value)
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeError) as error:
        raise CanonicalFormError(str(error)) from None


def _written_alike(value: Any) -> bool:
    """True if ``json.dumps`` writes ``value`` exactly as RFC 8785 does (see the module)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-LARGEST_EXACT_INTEGER <= value <= LARGEST_EXACT_INTEGER)
    if kind is dict:
        return all(
            type(key) is str
            and (key.isascii() or all(ord(c) < 0xD800 for c in key))
            and _written_alike(item)
            for key, item in value.items()
        )
    if kind is list or kind is tuple:
        return all(_written_alike(item) for item in value)
    return False


def _refuse_floats(value: Any) -> None:
    # Floats are representable in JCS, but a clinical value that went through a binary float has
    # already lost its exactness; refusing them here keeps every signed number an integer.
    if isinstance(value, float):
        raise CanonicalFormError(
            "floats are not allowed in signed bodies; send decimals as strings"
        )
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)
