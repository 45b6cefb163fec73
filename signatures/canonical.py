"""RFC 8785 JSON Canonicalization Scheme (JCS).

The author signs the canonical bytes of the event body; the server and every verifier derive the
same bytes from the same JSON value. We delegate to the ``rfc8785`` package (Trail of Bits), a
maintained implementation of the RFC, rather than writing our own serialiser.

Event bodies never contain floats: decimals travel as strings, so the number-formatting rules of
RFC 8785 section 3.2.2.3 (the part implementations most often get wrong) never come into play.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from signatures.errors import CanonicalFormError


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Raises:
        CanonicalFormError: the value holds something JCS cannot represent faithfully
            (a float, NaN or Infinity, an integer beyond 2**53, a lone surrogate, a non-str key).
    """
    _refuse_floats(value)
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeError) as error:
        raise CanonicalFormError(str(error)) from None


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
