"""The body signed for one event, in the one form of docs/signing.md.

Whoever signs (a site's person, an administrator, the server for its authentication log) signs
the same fields: the stream the event goes to, the version of the stream it takes, its kind
and data, who signs with which key, when, and what the signature means. The stream is named
by its own keys (``study`` and ``subject``, ``account``, ``authentication``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack

from domain.wire import instant_to_wire


class EventFields(TypedDict):
    """What every body says of its event: the version of the stream it takes, its kind, its
    ``data`` as on the wire, and who signs as (user id, printed name)."""

    version: int
    kind: str
    data: dict[str, Any]
    signer: tuple[str, str]


def signed_event_body(
    stream: dict[str, str],
    *,
    key_id: str,
    signed_at: datetime | None = None,
    **event: Unpack[EventFields],
) -> dict[str, Any]:
    """The body to sign for one event, signed with ``key_id`` now unless ``signed_at`` says
    when."""
    return {
        **body_to_sign(stream, **event),
        "key_id": key_id,
        "signed_at": instant_to_wire(signed_at or datetime.now(UTC)),
    }


def body_to_sign(
    stream: dict[str, str], *, meaning: str = "authorship", **event: Unpack[EventFields]
) -> dict[str, Any]:
    """Every field of the body but the two its signer adds when signing: ``key_id`` (of the
    key they sign with) and ``signed_at`` (their own clock). A page that signs in the browser
    offers this and the browser adds them (docs/pages.md)."""
    user_id, printed_name = event["signer"]
    return {
        **stream,
        "version": event["version"],
        "kind": event["kind"],
        "data": event["data"],
        "signer": {"user_id": user_id, "printed_name": printed_name},
        "meaning": meaning,
    }
