"""How an endpoint documents its answers: the success, and every refusal it may answer with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from flask_smorest import Blueprint

F = TypeVar("F", bound=Callable[..., Any])

NOT_AUTHENTICATED = "Not authenticated"
"""The 401 of an endpoint that needs a bearer token."""


def answers(
    blp: Blueprint, status: int, schema: Any = None, refusals: Mapping[int, str] | None = None
) -> Callable[[F], F]:
    """Document the answer ``status`` (with ``schema``, if it has a body) and each refusal of
    ``refusals``, by status in the order given, after a 401 that is :data:`NOT_AUTHENTICATED`
    unless ``refusals`` words it otherwise."""
    documented = {401: NOT_AUTHENTICATED, **(refusals or {})}

    def document(view: F) -> F:
        for status_refused, description in reversed(documented.items()):
            view = blp.alt_response(status_refused, description=description)(view)
        return cast(F, blp.response(status, schema)(view))

    return document


TOO_MANY_REQUESTS = "Too many requests from this address (SEALTRAIL_PUBLIC_RATE_LIMIT)"
"""The 429 of a public endpoint, counted per client address (:mod:`api.rate_limits`)."""


def public_answers(
    blp: Blueprint, status: int, schema: Any = None, refusals: Mapping[int, str] | None = None
) -> Callable[[F], F]:
    """Document a public endpoint: no token (``security: []``), the answer ``status`` and each
    refusal of ``refusals``, then the 429 of the rate limit."""
    documented = {**(refusals or {}), 429: TOO_MANY_REQUESTS}

    def document(view: F) -> F:
        for status_refused, description in reversed(documented.items()):
            view = blp.alt_response(status_refused, description=description)(view)
        view = blp.doc(security=[])(view)
        return cast(F, blp.response(status, schema)(view))

    return document
