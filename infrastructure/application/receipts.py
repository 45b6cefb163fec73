"""The server's signed receipt for a stored event, of a subject or of an account: one builder.

A receipt names the event's log position and Merkle leaf, its stream (``study`` and
``subject``, or ``account``), version, kind, chain hashes and the server's time, signed with
the server's key (``signatures/receipts.py``); a site keeps it as proof of what was stored.
"""

from __future__ import annotations

from typing import Any

from domain.account import Account
from domain.wire import instant_to_wire
from infrastructure.application.sealtrail import SealTrail, StoredRecord
from signatures.receipts import seal_receipt

Receipt = dict[str, Any]


class Receipts:
    """Signs receipts with the server's key, placing each event in the Merkle log."""

    def __init__(self, app: SealTrail) -> None:
        self.app = app

    def of(self, record: StoredRecord) -> Receipt:
        """The signed receipt of one stored event."""
        event = record.event
        owner, name = event.stream.split("/", 1)
        # An account's stream is ``accounts/<user id>``; a subject's ``<study>/<code>``.
        stream = (
            {"account": name}
            if isinstance(event, Account.Event)
            else {
                "study": owner,
                "subject": name,
            }
        )
        return seal_receipt(
            self.app.server_key.private_key,
            {
                "position": record.position,
                "leaf_index": self.app.leaf_index(record.position),
                **stream,
                "version": event.originator_version,
                "kind": event.kind(),
                "event_hash": event.event_hash,
                "previous_hash": event.previous_hash,
                "server_time": instant_to_wire(event.recorded_at),
            },
            server_key_id=self.app.server_key.key_id,
        )

    def seal_checkpoint_if_due(self, receipts: list[Receipt]) -> None:
        """Seal a checkpoint if the log has grown enough since the last (after a write)."""
        self.app.checkpoints.seal_if_due(tree_size=max(r["leaf_index"] for r in receipts) + 1)
