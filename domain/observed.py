"""Events the server records of what it observed, which the server alone signs.

An authentication attempt or a copy of data handed out is nobody's statement but the server's:
a body that names another signer is not such an event, whoever's valid key signed it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from domain.account import SYSTEM_USER
from domain.signed import SignedAggregate
from signatures.errors import ContentMismatch


class ObservedByServer(SignedAggregate.Event):
    """An event of a log the server keeps of what it observed."""

    OBSERVATION: ClassVar[str] = "an observation"
    """What the event records, as a refusal names it ("an authentication attempt")."""

    def check_matches_body(self, body: dict[str, Any]) -> None:
        super().check_matches_body(body)
        signer = body.get("signer")
        if not isinstance(signer, dict) or signer.get("user_id") != SYSTEM_USER:
            raise ContentMismatch(
                "%(observation)s is recorded by the server alone", observation=self.OBSERVATION
            )
