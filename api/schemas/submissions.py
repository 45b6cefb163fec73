"""Turning a site's signed JSON into a command for the application.

The API view and ``sealtrail demo`` both go through here, so the demonstration cohort takes
exactly the write path a site's submission takes.
"""

from __future__ import annotations

from typing import Any

from api.schemas.records import typed_fields
from domain.authorship import Authorship
from infrastructure.application.commands import Submission
from signatures.canonical import canonicalize


def submission_from(
    event: dict[str, Any],
    signature: str,
    *,
    idempotency_key: str | None = None,
    expected_version: int | None = None,
) -> Submission:
    """Build a submission from a validated signed body (the JSON object as received)."""
    return Submission(
        authorship=Authorship(canonicalize(event).decode("utf-8"), signature),
        body=event,
        fields=typed_fields(str(event["kind"]), event["data"]),
        idempotency_key=idempotency_key,
        expected_version=expected_version,
    )
