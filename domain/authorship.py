"""Who wrote an event, carried verbatim from the author's signature.

The author signs the canonical bytes of the event body. Every event keeps those exact bytes and
the signature, so the record is its own evidence. Commands run inside :func:`authored`, and every
event they record picks the authorship up from a context variable, as eventsourcing's
content-management example does with its user id: a method cannot forget to pass it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from domain.errors import AuthorshipMissing


@dataclass(frozen=True)
class Authorship:
    """The author's signed body (RFC 8785 text) and Ed25519 signature (base64)."""

    signed_body: str
    signature: str

    @property
    def signed_bytes(self) -> bytes:
        """The exact bytes the signature covers."""
        return self.signed_body.encode("utf-8")

    def body(self) -> dict[str, Any]:
        """The signed body as a JSON object (parsed afresh on each call, never cached)."""
        parsed: dict[str, Any] = json.loads(self.signed_body)
        return parsed


_authorship_in_force: ContextVar[Authorship | None] = ContextVar("authorship", default=None)
_idempotency_key_in_force: ContextVar[str | None] = ContextVar("idempotency_key", default=None)


@contextmanager
def authored(authorship: Authorship, *, idempotency_key: str | None = None) -> Iterator[Authorship]:
    """Run a command so that every event it records carries ``authorship``.

    ``idempotency_key`` is the client's retry key (the ``Idempotency-Key`` header): the
    subject remembers it so that a retry answers with the first receipt and appends nothing.
    """
    token = _authorship_in_force.set(authorship)
    key_token = _idempotency_key_in_force.set(idempotency_key)
    try:
        yield authorship
    finally:
        _idempotency_key_in_force.reset(key_token)
        _authorship_in_force.reset(token)


def idempotency_key_in_force() -> str | None:
    """The retry key of the command being run, if the client sent one."""
    return _idempotency_key_in_force.get()


def authorship_in_force() -> Authorship:
    """The authorship of the command being run; refusing to make an unsigned event."""
    authorship = _authorship_in_force.get()
    if authorship is None:
        raise AuthorshipMissing("no signed authorship is in force for this command")
    return authorship
