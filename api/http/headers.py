"""Request headers with meaning for a write: ``Idempotency-Key`` and ``If-Match``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import request
from flask_smorest import Blueprint, abort

from api.schemas.submissions import submission_from
from infrastructure.application.commands import Submission

F = TypeVar("F", bound=Callable[..., Any])

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


def idempotency_key_header(description: str) -> dict[str, Any]:
    """The OpenAPI description of ``Idempotency-Key`` on a write."""
    return {
        "in": "header",
        "name": "Idempotency-Key",
        "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
        "description": description,
    }


def if_match_header(description: str) -> dict[str, Any]:
    """The OpenAPI description of ``If-Match`` (the subject version the writer saw)."""
    return {
        "in": "header",
        "name": "If-Match",
        "schema": {"type": "string"},
        "description": description,
    }


def one_signed_event(blp: Blueprint, version_seen: str) -> Callable[[F], F]:
    """The OpenAPI answers and headers of a write of one signed event: a body too large or not
    JSON, a retry key, and ``If-Match`` (``version_seen`` says which version it names)."""

    def document(view: F) -> F:
        view = blp.doc(
            parameters=[
                idempotency_key_header("A retry with the same key returns the first receipt."),
                if_match_header(version_seen),
            ]
        )(view)
        view = blp.alt_response(415, description="Not application/json")(view)
        return cast(F, blp.alt_response(413, description="Body too large")(view))

    return document


def signed_submission(signature: str) -> Submission:
    """The request's signed event, with its retry key and the version its author saw."""
    return submission_from(
        request.get_json()["event"],
        signature,
        idempotency_key=idempotency_key(),
        expected_version=version_precondition(),
    )


def idempotency_key() -> str | None:
    """The client's retry key, if sent; a malformed one is a 422."""
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, value):
        abort(422, errors={"Idempotency-Key": ["1-128 of letters, digits and . _ : -"]})
    return value


def version_precondition() -> int | None:
    """The subject version named by ``If-Match`` (``"3"`` or ``3``), if sent."""
    value = request.headers.get("If-Match")
    if value is None:
        return None
    digits = value.strip().strip('"')
    if not digits.isdigit() or len(digits) > 15:
        abort(422, errors={"If-Match": ['the subject version, e.g. "3" (0 for a new subject)']})
    return int(digits)
