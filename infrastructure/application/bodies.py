"""The body signed for one event, in the one form of docs/signing.md.

Whoever signs (a site's person, an administrator, the server for its authentication log) signs
the same fields: the stream the event goes to, the version of the stream it takes, its kind
and data, who signs with which key, when, and what the signature means. The stream is named
by its own keys (``study`` and ``subject``, ``account``, ``authentication``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.wire import instant_to_wire


def signed_event_body(
    stream: dict[str, str],
    *,
    version: int,
    kind: str,
    data: dict[str, Any],
    signer: tuple[str, str],
    key_id: str,
    signed_at: datetime | None = None,
) -> dict[str, Any]:
    """The body to sign for one event: ``data`` as on the wire, ``signer`` as (user id,
    printed name), signed now unless ``signed_at`` says when."""
    return {
        **body_to_sign(stream, version=version, kind=kind, data=data, signer=signer),
        "key_id": key_id,
        "signed_at": instant_to_wire(signed_at or datetime.now(UTC)),
    }


def body_to_sign(
    stream: dict[str, str],
    *,
    version: int,
    kind: str,
    data: dict[str, Any],
    signer: tuple[str, str],
    meaning: str = "authorship",
) -> dict[str, Any]:
    """Every field of the body but the two its signer adds when signing: ``key_id`` (of the
    key they sign with) and ``signed_at`` (their own clock). A page that signs in the browser
    offers this and the browser adds them (docs/pages.md)."""
    user_id, printed_name = signer
    return {
        **stream,
        "version": version,
        "kind": kind,
        "data": data,
        "signer": {"user_id": user_id, "printed_name": printed_name},
        "meaning": meaning,
    }
